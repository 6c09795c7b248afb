package face

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/stretchr/testify/require"
)

// captureAzcoreLog collects every azcore log line for the duration of the test. The listener is
// process-global, so tests using it must not run in parallel.
func captureAzcoreLog(t *testing.T) func() string {
	t.Helper()
	var mu sync.Mutex
	var b strings.Builder
	azlog.SetEvents() // all events
	azlog.SetListener(func(_ azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		b.WriteString(msg)
		b.WriteByte('\n')
	})
	t.Cleanup(func() { azlog.SetListener(nil) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	const (
		apiKey      = "SECRET-api-key-7f3a9c"
		authToken   = "eyJSECRET-session-token-91b2"
		bearerToken = "SECRET-bearer-token-5d6e"
	)
	body := `{"sessionId":"s-9","authToken":"` + authToken + `","status":"NotStarted","results":{"attempts":[],"verifyReferences":[]}}`
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 2 {
			respond(w, 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
			return
		}
		respond(w, 200, body)
	})
	logs := captureAzcoreLog(t)

	c := newTestClient(t, srv.URL, func(o *Options) { o.APIKey = apiKey })
	s, err := c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
	require.NoError(t, err)
	require.Equal(t, authToken, s.AuthToken)
	v, err := c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: "Passive"},
		VerifyImage:                  []byte("img"),
	})
	require.NoError(t, err)
	require.Equal(t, authToken, v.AuthToken)
	_, err = c.GetLivenessSessionResult(context.Background(), "s-9") // 503 then retried
	require.NoError(t, err)

	bc := newTestClient(t, srv.URL, func(o *Options) { o.APIKey = ""; o.Credential = &fakeCredential{token: bearerToken} })
	_, err = bc.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
	require.NoError(t, err)

	out := logs()
	require.Contains(t, out, "detectLiveness-sessions", "the listener captured the calls")
	require.Contains(t, out, "Ocp-Apim-Subscription-Key: REDACTED")
	require.Contains(t, out, "Authorization: REDACTED")
	require.NotContains(t, out, apiKey)
	require.NotContains(t, out, authToken)
	require.NotContains(t, out, bearerToken)
	require.NotContains(t, out, "eyJ")
}

func TestStringersRedactSecrets(t *testing.T) {
	o := Options{Endpoint: "https://x", APIKey: "SECRET-k"}
	s := LivenessSession{SessionID: "s", AuthToken: "SECRET-t"}
	v := &LivenessWithVerifySession{SessionID: "v", AuthToken: "SECRET-t"}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		for _, x := range []any{o, &o, s, &s, v, *v} {
			out := sprintf(format, x)
			require.NotContains(t, out, "SECRET", "%s of %T", format, x)
		}
	}
	require.Contains(t, sprintf("%v", s), "SessionID:s")
}

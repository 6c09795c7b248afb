package face

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
)

const testAPIKey = "test-key-0123456789abcdef"

// recordedRequest is what the fake server saw, captured before the handler answers.
type recordedRequest struct {
	Method      string
	Path        string // decoded path
	EscapedPath string // path as sent on the wire
	Query       map[string][]string
	Header      http.Header
	Body        []byte
}

// fakeServer is an httptest server that records every request and answers through handler;
// n is the 0-based index of the request.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recordedRequest
}

func newFakeServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, n int)) *fakeServer {
	t.Helper()
	s := &fakeServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, recordedRequest{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		})
		s.mu.Unlock()
		handler(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) requests() []recordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recordedRequest(nil), s.reqs...)
}

// respond writes a JSON (or empty) answer.
func respond(w http.ResponseWriter, status int, body string) {
	if body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// hijackAndClose drops the connection after the request was read: the client sees a
// connection reset/EOF while waiting for the response.
func hijackAndClose(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// testOptions keeps retries fast so the whole suite runs in a few seconds.
func testOptions(endpoint string) Options {
	return Options{
		Endpoint:      endpoint,
		APIKey:        testAPIKey,
		Timeout:       5 * time.Second,
		MaxRetries:    3,
		RetryDelay:    time.Millisecond,
		MaxRetryDelay: 5 * time.Second,
	}
}

func newTestClient(t *testing.T, endpoint string, mods ...func(*Options)) *HTTPClient {
	t.Helper()
	o := testOptions(endpoint)
	for _, m := range mods {
		m(&o)
	}
	c, err := NewClient(o)
	require.NoError(t, err)
	return c
}

// fakeCredential records the scopes it is asked for.
type fakeCredential struct {
	mu     sync.Mutex
	scopes [][]string
	token  string
	err    error
}

func (f *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = append(f.scopes, append([]string(nil), opts.Scopes...))
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: f.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (f *fakeCredential) recordedScopes() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.scopes...)
}

func ptr[T any](v T) *T { return &v }

// sessionJSON is a minimal valid session body.
const sessionJSON = `{"sessionId":"s-1","authToken":"tok","status":"NotStarted","modelVersion":"2024-11-15","results":{"attempts":[]}}`

// verifySessionJSON is a minimal valid with-verify session body.
const verifySessionJSON = `{"sessionId":"v-1","authToken":"tok","status":"NotStarted","results":{"attempts":[],"verifyReferences":[]}}`

type policyRequest = policy.Request

// policyFunc adapts a function to policy.Policy.
type policyFunc func(*policy.Request) (*http.Response, error)

func (f policyFunc) Do(req *policy.Request) (*http.Response, error) { return f(req) }

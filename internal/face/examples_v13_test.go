package face

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// v13ExamplesDir is the repository's copy of the v1.3-preview.1 examples (see the README one
// level up).
var v13ExamplesDir = filepath.Join(examplesDir, v13DirName)

func v13Client(t *testing.T, url string) *HTTPClient {
	return newTestClient(t, url, func(o *Options) { o.APIVersion = APIVersionV13Preview1 })
}

// replayV13 serves the example's response to exactly one request of a v1.3 client.
func replayV13(t *testing.T, name string) (example, *fakeServer, *HTTPClient) {
	t.Helper()
	ex := loadExample(t, filepath.Join(v13ExamplesDir, name))
	status, body := ex.only(t)
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { respond(w, status, string(body)) })
	return ex, srv, v13Client(t, srv.URL)
}

func TestV13ExampleCreateLivenessSession(t *testing.T) {
	ex, srv, c := replayV13(t, "LivenessSessionOperations_CreateLivenessSession.json")
	var req CreateLivenessSessionRequest
	ex.param(t, "body", &req)
	require.Equal(t, ptr[int32](1), req.NumberOfClientAttemptsAllowed)
	s, err := c.CreateLivenessSession(context.Background(), req)
	require.NoError(t, err)
	r := srv.requests()[0]
	require.Equal(t, "/face/v1.3-preview.1/detectLiveness-sessions", r.Path)
	require.JSONEq(t, string(ex.Parameters["body"]), string(r.Body), "the client sends exactly the example's body")
	require.Equal(t, ptr(true), s.IsAbuseMonitoringEnabled)
	require.Empty(t, s.Results.Attempts)
}

func TestV13ExampleGetResults(t *testing.T) {
	check := func(t *testing.T, attempts []struct {
		id     int32
		ips    []ClientInformation
		abuse  *AbuseMonitoringResult
		status OperationState
	}) {
		require.Len(t, attempts, 2)
		require.Equal(t, int32(2), attempts[0].id)
		require.Equal(t, []ClientInformation{{IP: "73.21.34.122"}}, attempts[0].ips)
		require.NotNil(t, attempts[0].abuse)
		require.True(t, attempts[0].abuse.IsAbuseDetected)
		require.Equal(t, []OtherFlaggedSession{{AttemptID: 1, SessionID: "b12e033e-bda7-4b83-a211-e721c661f30e",
			SessionImageID: "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I"}}, attempts[0].abuse.OtherFlaggedSessions)
		require.Nil(t, attempts[1].abuse, "the failed attempt has no abuse verdict")
		require.Equal(t, []ClientInformation{{IP: "73.21.34.122"}}, attempts[1].ips)
	}
	type view = struct {
		id     int32
		ips    []ClientInformation
		abuse  *AbuseMonitoringResult
		status OperationState
	}
	t.Run("liveness", func(t *testing.T) {
		_, srv, c := replayV13(t, "LivenessSessionOperations_GetLivenessSessionResult.json")
		s, err := c.GetLivenessSessionResult(context.Background(), "b12e033e-bda7-4b83-a211-e721c661f30e")
		require.NoError(t, err)
		require.Equal(t, "/face/v1.3-preview.1/detectLiveness-sessions/b12e033e-bda7-4b83-a211-e721c661f30e", srv.requests()[0].Path)
		require.Equal(t, ptr(true), s.IsAbuseMonitoringEnabled)
		var vs []view
		for _, a := range s.Results.Attempts {
			vs = append(vs, view{a.AttemptID, a.ClientInformation, a.AbuseMonitoringResult, a.AttemptStatus})
		}
		check(t, vs)
		v := s.Verdict(VerdictOptions{AttemptsAllowed: 2})
		require.True(t, v.Final)
		require.False(t, v.Passed, "realface with abuse detected must not pass")
		require.True(t, v.AbuseDetected)
		require.Equal(t, int32(2), v.AttemptsUsed)
	})
	for _, name := range []string{"LivenessSessionOperations_GetLivenessWithVerifySessionResult.json", "variants/LivenessSessionOperations_GetLivenessWithVerifySessionResult.json"} {
		t.Run(name, func(t *testing.T) {
			_, _, c := replayV13(t, name)
			s, err := c.GetLivenessWithVerifySessionResult(context.Background(), "b12e033e-bda7-4b83-a211-e721c661f30e")
			require.NoError(t, err)
			var vs []view
			for _, a := range s.Results.Attempts {
				vs = append(vs, view{a.AttemptID, a.ClientInformation, a.AbuseMonitoringResult, a.AttemptStatus})
			}
			check(t, vs)
			require.Len(t, s.Results.VerifyReferences, 1)
		})
	}
}

func TestV13ExampleCreateLivenessWithVerifySession(t *testing.T) {
	ex, srv, c := replayV13(t, "LivenessSessionOperations_CreateLivenessWithVerifySession.json")
	var mode, dev string
	ex.param(t, "livenessOperationMode", &mode)
	ex.param(t, "deviceCorrelationId", &dev)
	s, err := c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{
			LivenessOperationMode: LivenessOperationMode(mode), DeviceCorrelationID: dev,
			NumberOfClientAttemptsAllowed: ptr[int32](2), UserCorrelationID: "user-1",
		},
		VerifyImage: []byte("img"),
	})
	require.NoError(t, err)
	require.Nil(t, s.IsAbuseMonitoringEnabled, "the example's response has no v1.3 field")
	parts := formParts(t, srv.requests()[0])
	require.Equal(t, "2", parts["numberOfClientAttemptsAllowed"])
	require.Equal(t, "user-1", parts["userCorrelationId"])
	require.NotContains(t, parts, "userCorrelationIdSetInClient")
	require.NotContains(t, parts, "expectedClientIpAddress")
}

// formParts reads a recorded multipart request's parts by name.
func formParts(t *testing.T, r recordedRequest) map[string]string {
	t.Helper()
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err)
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		out[p.FormName()] = string(b)
	}
}

func TestV13ExampleSettings(t *testing.T) {
	t.Run("get", func(t *testing.T) {
		_, srv, c := replayV13(t, "LivenessSessionOperations_GetSettings.json")
		st, err := c.GetSettings(context.Background())
		require.NoError(t, err)
		require.True(t, st.LivenessAbuseMonitoring.Enabled)
		require.Equal(t, http.MethodGet, srv.requests()[0].Method)
		require.Equal(t, "/face/v1.3-preview.1/settings", srv.requests()[0].Path)
	})
	t.Run("patch: schema shape sent, the example's flat answer read", func(t *testing.T) {
		_, srv, c := replayV13(t, "LivenessSessionOperations_PatchSettings.json")
		st, err := c.PatchSettings(context.Background(), SettingsUpdate{LivenessAbuseMonitoring: &LivenessAbuseMonitoringSettingUpdate{Enabled: ptr(true)}})
		require.NoError(t, err)
		require.True(t, st.LivenessAbuseMonitoring.Enabled)
		r := srv.requests()[0]
		require.Equal(t, http.MethodPatch, r.Method)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":true}}`, string(r.Body))
	})
	t.Run("client assets token, cached", func(t *testing.T) {
		ex, srv, c := replayV13(t, "LivenessSessionOperations_GetClientAssetsAccessToken.json")
		_, body := ex.only(t)
		var want ClientAssetsAccessToken
		require.NoError(t, json.Unmarshal(body, &want))
		c.now = func() time.Time { return want.Expiry.Add(-time.Hour) }
		tok, err := c.GetClientAssetsAccessToken(context.Background())
		require.NoError(t, err)
		require.Equal(t, want, *tok)
		require.NotContains(t, tok.String(), want.AccessToken)
		require.NotContains(t, fmt.Sprintf("%v %#v", *tok, *tok), want.Base64AccessToken)
		_, err = c.GetClientAssetsAccessToken(context.Background())
		require.NoError(t, err)
		require.Len(t, srv.requests(), 1, "the second call is served from the cache")
		c.now = func() time.Time { return want.Expiry.Add(-30 * time.Second) }
		_, err = c.GetClientAssetsAccessToken(context.Background())
		require.NoError(t, err)
		require.Len(t, srv.requests(), 2, "a token about to expire is fetched again")
		require.Equal(t, "/face/v1.3-preview.1/settings/getClientAssetsAccessToken", srv.requests()[1].Path)
	})
}

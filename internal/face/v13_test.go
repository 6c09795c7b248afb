package face

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAPIVersionOption(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { respond(w, 200, sessionJSON) })
	for _, tc := range []struct{ version, endpointSuffix, path string }{
		{"", "", "/face/v1.2/detectLiveness-sessions/x"},
		{APIVersionV12, "/face/v1.2/", "/face/v1.2/detectLiveness-sessions/x"},
		{APIVersionV13Preview1, "", "/face/v1.3-preview.1/detectLiveness-sessions/x"},
		{APIVersionV13Preview1, "/face/v1.2", "/face/v1.3-preview.1/detectLiveness-sessions/x"},
		{APIVersionV13Preview1, "/face/v1.3-preview.1/", "/face/v1.3-preview.1/detectLiveness-sessions/x"},
	} {
		c := newTestClient(t, srv.URL+tc.endpointSuffix, func(o *Options) { o.APIVersion = tc.version })
		_, err := c.GetLivenessSessionResult(context.Background(), "x")
		require.NoError(t, err)
		reqs := srv.requests()
		require.Equal(t, tc.path, reqs[len(reqs)-1].Path)
		want := tc.version
		if want == "" {
			want = APIVersionV12
		}
		require.Equal(t, want, c.APIVersion())
	}
	_, err := NewClient(Options{Endpoint: srv.URL, APIKey: testAPIKey, APIVersion: "v1.3"})
	require.ErrorContains(t, err, "unsupported Options.APIVersion")
}

func TestV12ClientRefusesV13Fields(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { respond(w, 200, sessionJSON) })
	c := newTestClient(t, srv.URL)
	base := CreateLivenessSessionRequest{LivenessOperationMode: LivenessOperationModePassive, DeviceCorrelationID: "d"}
	for name, mod := range map[string]func(*CreateLivenessSessionRequest){
		"numberOfClientAttemptsAllowed": func(r *CreateLivenessSessionRequest) { r.NumberOfClientAttemptsAllowed = ptr[int32](2) },
		"userCorrelationId":             func(r *CreateLivenessSessionRequest) { r.UserCorrelationID = "u" },
		"userCorrelationIdSetInClient":  func(r *CreateLivenessSessionRequest) { r.UserCorrelationIDSetInClient = ptr(false) },
		"expectedClientIpAddress":       func(r *CreateLivenessSessionRequest) { r.ExpectedClientIPAddress = "10.0.0.0/8" },
	} {
		t.Run(name, func(t *testing.T) {
			req := base
			mod(&req)
			_, err := c.CreateLivenessSession(context.Background(), req)
			require.ErrorIs(t, err, ErrUnsupportedByAPIVersion)
			require.True(t, IsInvalidRequest(err), "terminal")
			require.False(t, IsRetryable(err))
			require.ErrorContains(t, err, name)
			require.ErrorContains(t, err, "v1.2")
			_, err = c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{CreateLivenessSessionRequest: req, VerifyImage: []byte("i")})
			require.ErrorIs(t, err, ErrUnsupportedByAPIVersion)
		})
	}
	_, err := c.GetSettings(context.Background())
	require.ErrorIs(t, err, ErrUnsupportedByAPIVersion)
	_, err = c.PatchSettings(context.Background(), SettingsUpdate{})
	require.ErrorIs(t, err, ErrUnsupportedByAPIVersion)
	_, err = c.GetClientAssetsAccessToken(context.Background())
	require.ErrorIs(t, err, ErrUnsupportedByAPIVersion)
	require.Empty(t, srv.requests(), "nothing is sent")
}

func TestV13CreateRules(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { respond(w, 200, sessionJSON) })
	c := v13Client(t, srv.URL)
	base := CreateLivenessSessionRequest{LivenessOperationMode: LivenessOperationModePassive, DeviceCorrelationID: "d", UserCorrelationID: "u"}
	bad := map[string]func(*CreateLivenessSessionRequest){
		"attempts 0":            func(r *CreateLivenessSessionRequest) { r.NumberOfClientAttemptsAllowed = ptr[int32](0) },
		"attempts 4":            func(r *CreateLivenessSessionRequest) { r.NumberOfClientAttemptsAllowed = ptr[int32](4) },
		"user id and in-client": func(r *CreateLivenessSessionRequest) { r.UserCorrelationIDSetInClient = ptr(true) },
		"malformed ip":          func(r *CreateLivenessSessionRequest) { r.ExpectedClientIPAddress = "10.0.0.300" },
		"malformed cidr":        func(r *CreateLivenessSessionRequest) { r.ExpectedClientIPAddress = "10.0.0.0/33" },
	}
	for name, mod := range bad {
		req := base
		mod(&req)
		_, err := c.CreateLivenessSession(context.Background(), req)
		require.True(t, IsInvalidRequest(err), "%s: %v", name, err)
		require.False(t, errors.Is(err, ErrUnsupportedByAPIVersion), name)
	}
	require.Empty(t, srv.requests())

	req := base
	req.NumberOfClientAttemptsAllowed = ptr[int32](3)
	req.ExpectedClientIPAddress = "2001:db8::/32"
	_, err := c.CreateLivenessSession(context.Background(), req)
	require.NoError(t, err)
	require.JSONEq(t, `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","numberOfClientAttemptsAllowed":3,
		"userCorrelationId":"u","expectedClientIpAddress":"2001:db8::/32"}`, string(srv.requests()[0].Body))

	// The multipart create has no part for these two: refused, not dropped.
	for name, mod := range map[string]func(*CreateLivenessSessionRequest){
		"in-client": func(r *CreateLivenessSessionRequest) {
			r.UserCorrelationID, r.UserCorrelationIDSetInClient = "", ptr(true)
		},
		"ip": func(r *CreateLivenessSessionRequest) { r.ExpectedClientIPAddress = "10.0.0.1" },
	} {
		r := base
		mod(&r)
		_, err := c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{CreateLivenessSessionRequest: r, VerifyImage: []byte("i")})
		require.True(t, IsInvalidRequest(err), "%s: %v", name, err)
		require.ErrorContains(t, err, "liveness-with-verify create has no")
	}
	require.Len(t, srv.requests(), 1)
}

func TestCheckClientIPs(t *testing.T) {
	ips := func(v ...string) []ClientInformation {
		out := []ClientInformation{}
		for _, s := range v {
			out = append(out, ClientInformation{IP: s})
		}
		return out
	}
	for _, tc := range []struct {
		expected string
		seen     []ClientInformation
		ok       bool
	}{
		{"", nil, true},
		{"10.0.0.0/8", ips("10.1.2.3"), true},
		{"10.0.0.0/8", ips("10.1.2.3", "11.0.0.1"), false},
		{"10.0.0.0/8", ips("::ffff:10.9.9.9"), true},
		{"10.0.0.0/8", ips("10.1.2.3:4431"), true},
		{"203.0.113.7", ips("203.0.113.7"), true},
		{"203.0.113.7", ips("203.0.113.8"), false},
		{"2001:db8::/32", ips("2001:db8::1"), true},
		{"2001:db8::/32", ips("10.0.0.1"), false},
		{"10.0.0.0/8", nil, false}, // fail closed: no IP reported
		{"10.0.0.0/8", ips("nonsense"), false},
		{"not-an-ip", ips("10.0.0.1"), false},
	} {
		err := CheckClientIPs(tc.expected, tc.seen)
		require.Equal(t, tc.ok, err == nil, "%q %v: %v", tc.expected, tc.seen, err)
	}
}

func TestVerdict(t *testing.T) {
	att := func(id int32, state OperationState, decision LivenessDecision, ip string, abuse bool) LivenessSessionAttempt {
		a := LivenessSessionAttempt{AttemptID: id, AttemptStatus: state, ClientInformation: []ClientInformation{{IP: ip}}}
		if decision != "" {
			a.Result = &LivenessResult{LivenessDecision: decision}
		}
		if abuse {
			a.AbuseMonitoringResult = &AbuseMonitoringResult{IsAbuseDetected: true}
		}
		return a
	}
	sess := func(a ...LivenessSessionAttempt) *LivenessSession {
		return &LivenessSession{SessionID: "s", Results: LivenessSessionResults{Attempts: a}}
	}
	failed := func(id int32) LivenessSessionAttempt { return att(id, OperationStateFailed, "", "10.0.0.1", false) }

	v := sess().Verdict(VerdictOptions{AttemptsAllowed: 3})
	require.Equal(t, Verdict{AttemptsRemaining: 3}, v)

	v = sess(failed(1), failed(2)).Verdict(VerdictOptions{AttemptsAllowed: 3})
	require.False(t, v.Final)
	require.Equal(t, int32(1), v.AttemptsRemaining)

	v = sess(att(3, OperationStateSucceeded, "realFace", "10.0.0.1", false), failed(1), failed(2)).Verdict(VerdictOptions{AttemptsAllowed: 3})
	require.True(t, v.Final)
	require.True(t, v.Passed)
	require.Zero(t, v.AttemptsRemaining)

	v = sess(failed(1), failed(2)).Verdict(VerdictOptions{AttemptsAllowed: 2})
	require.True(t, v.Final, "all allowed attempts used")
	require.False(t, v.Passed)

	v = sess(failed(1)).Verdict(VerdictOptions{})
	require.True(t, v.Final, "the default is one attempt")

	v = sess(att(1, OperationStateSucceeded, LivenessDecisionSpoofFace, "10.0.0.1", false), att(2, OperationStateSucceeded, LivenessDecisionRealFace, "10.0.0.1", false)).Verdict(VerdictOptions{AttemptsAllowed: 3})
	require.True(t, v.SpoofDetected)
	require.False(t, v.Passed, "a spoof anywhere in the session never passes")

	v = sess(att(1, OperationStateSucceeded, LivenessDecisionRealFace, "10.0.0.1", true)).Verdict(VerdictOptions{})
	require.False(t, v.Passed, "abuse detected never passes")

	v = sess(failed(1)).Verdict(VerdictOptions{AttemptsAllowed: 3, ExpectedClientIPAddress: "192.168.0.0/16"})
	require.True(t, v.Final, "an IP mismatch ends the session")
	require.True(t, strings.Contains(v.ClientIPMismatch, "attempt 1"), v.ClientIPMismatch)

	s := sess(att(1, OperationStateSucceeded, LivenessDecisionRealFace, "10.0.0.1", false))
	s.ExpectedClientIPAddress = "192.168.0.0/16"
	v = s.Verdict(VerdictOptions{})
	require.False(t, v.Passed, "the session's echoed expectation is checked when the caller gives none")
	require.NotEmpty(t, v.ClientIPMismatch)

	var nilSession *LivenessWithVerifySession
	require.False(t, nilSession.Verdict(VerdictOptions{}).Final)
}

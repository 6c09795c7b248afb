package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// The HTTP contract end to end: create, the end user's attempt (through the stand-in SDK's
// pass-through), completed, outcome, release.
func TestPlainSessionFlow(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, true)
	created := e.call(t, http.MethodPost, "/api/liveness-sessions", nil)
	require.Equal(t, http.StatusCreated, created.status, created.raw)
	require.Equal(t, "no-store", created.header.Get("Cache-Control"), "a token must not be cached")
	name, _ := created.body["name"].(string)
	token, _ := created.body["authToken"].(string)
	sessionID, _ := created.body["sessionId"].(string)
	require.True(t, strings.HasPrefix(name, "web-"), name)
	cloud, ok := e.emu.Session(sessionID)
	require.True(t, ok)
	require.Equal(t, cloud.AuthToken, token)
	require.Equal(t, "PassiveActive", cloud.LivenessOperationMode, "a web session")
	expires, err := time.Parse(time.RFC3339, created.body["expiresAt"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(600*time.Second), expires, 10*time.Second)

	pending := e.call(t, http.MethodGet, "/api/liveness-sessions/"+name, nil)
	require.Equal(t, http.StatusOK, pending.status, pending.raw)
	require.Equal(t, "Pending", pending.body["outcome"])
	require.Equal(t, []any{}, pending.body["attempts"])

	attempt := e.call(t, http.MethodPost, emulatorPassThroughPath, []byte(`{"livenessDecision":"realface"}`),
		"Authorization", "Bearer "+token, "Content-Type", "application/json")
	require.Equal(t, http.StatusOK, attempt.status, attempt.raw)

	completed := e.call(t, http.MethodPost, "/api/liveness-sessions/"+name+"/completed", nil)
	require.Equal(t, http.StatusAccepted, completed.status, completed.raw)
	outcome := e.call(t, http.MethodGet, "/api/liveness-sessions/"+name+"?wait=10s", nil)
	require.Equal(t, http.StatusOK, outcome.status, outcome.raw)
	require.Equal(t, "Live", outcome.body["outcome"])
	require.Equal(t, "realface", outcome.body["livenessDecision"])
	require.Len(t, outcome.body["attempts"], 1)
	require.ElementsMatch(t, []string{"outcome", "livenessDecision", "attempts"}, keys(outcome.body))

	deleted := e.call(t, http.MethodDelete, "/api/liveness-sessions/"+name, nil)
	require.Equal(t, http.StatusNoContent, deleted.status, deleted.raw)
	cloud, _ = e.emu.Session(sessionID)
	require.True(t, cloud.Deleted, "the cloud session is gone before the 204")
	require.Equal(t, http.StatusNotFound, e.call(t, http.MethodGet, "/api/liveness-sessions/"+name, nil).status)

	// The log has every request and never the token.
	log := e.log.String()
	require.Contains(t, log, "path=/api/liveness-sessions/"+name)
	require.Contains(t, log, sessionID)
	require.NotContains(t, log, token)
}

func TestVerifySessionFlow(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, true)
	img := referenceFace(t)
	b64 := base64.StdEncoding.EncodeToString(img)
	created := e.callJSON(t, http.MethodPost, "/api/liveness-sessions", map[string]any{"verify": true, "referenceImage": b64})
	require.Equal(t, http.StatusCreated, created.status, created.raw)
	name, token := created.body["name"].(string), created.body["authToken"].(string)
	cloud, _ := e.emu.Session(created.body["sessionId"].(string))
	require.Equal(t, "livenessWithVerify", cloud.Kind)

	attempt := e.call(t, http.MethodPost, emulatorPassThroughPath, []byte(`{"livenessDecision":"realface","matchConfidence":0.91}`),
		"Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, attempt.status, attempt.raw)
	require.Equal(t, http.StatusAccepted, e.call(t, http.MethodPost, "/api/liveness-sessions/"+name+"/completed", nil).status)
	outcome := e.call(t, http.MethodGet, "/api/liveness-sessions/"+name+"?wait=10s", nil)
	require.Equal(t, "Verified", outcome.body["outcome"], outcome.raw)
	a := outcome.body["attempts"].([]any)[0].(map[string]any)
	require.Equal(t, "0.91", a["matchConfidence"])
	require.Equal(t, true, a["isIdentical"])
	require.Equal(t, http.StatusNoContent, e.call(t, http.MethodDelete, "/api/liveness-sessions/"+name, nil).status)
	require.NotContains(t, e.log.String(), b64[:64], "no image bytes in the log")
	require.NotContains(t, e.log.String(), token)
}

// A session the operator stalls is a 5xx that carries the operator's reason and message.
func TestStalledSessionIsBadGatewayWithTheOperatorsReason(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, true)
	created := e.callJSON(t, http.MethodPost, "/api/liveness-sessions",
		map[string]any{"verify": true, "referenceImage": base64.StdEncoding.EncodeToString(tinyPNG(t))})
	require.Equal(t, http.StatusBadGateway, created.status, created.raw)
	require.Equal(t, facev1.ReasonInvalidReferenceImage, created.errorCode())
	require.Contains(t, created.errorMessage(), "Face needs at least 1 KB")
	require.Contains(t, e.log.String(), "reason="+facev1.ReasonInvalidReferenceImage)
}

// Without an operator the token never comes: 504, saying the operator never reported.
func TestNoOperatorIsGatewayTimeout(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, false)
	// A first request discovers the API, so the timed one below spends its time waiting.
	require.Equal(t, http.StatusNotFound, e.call(t, http.MethodGet, "/api/liveness-sessions/nobody", nil).status)
	e.srv.timeouts.start = 3 * time.Second
	created := e.call(t, http.MethodPost, "/api/liveness-sessions", nil)
	require.Equal(t, http.StatusGatewayTimeout, created.status, created.raw)
	require.Equal(t, "Timeout", created.errorCode())
	require.Contains(t, created.errorMessage(), "the operator has not reported on it yet")
}

// ?wait= ends with the outcome so far when the end user has not finished.
func TestWaitEndsPending(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, true)
	created := e.call(t, http.MethodPost, "/api/liveness-sessions", nil)
	require.Equal(t, http.StatusCreated, created.status, created.raw)
	start := time.Now()
	got := e.call(t, http.MethodGet, "/api/liveness-sessions/"+created.body["name"].(string)+"?wait=300ms", nil)
	require.Equal(t, http.StatusOK, got.status, got.raw)
	require.Equal(t, "Pending", got.body["outcome"])
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, false)
	png := tinyPNG(t)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	big := append(append([]byte{}, png...), make([]byte, 2<<20)...) // a PNG header: an image to a format check
	cases := []struct {
		name, method, path, body, contentType string
		status                                int
		code, message                         string
	}{
		{"bad JSON", "POST", "/api/liveness-sessions", `{"verify": tru`, "application/json", 400, "InvalidJSON", ""},
		{"unknown field", "POST", "/api/liveness-sessions", `{"verfy": true}`, "application/json", 400, "InvalidJSON", "verfy"},
		{"two objects", "POST", "/api/liveness-sessions", `{} {}`, "", 400, "InvalidJSON", ""},
		{"not JSON", "POST", "/api/liveness-sessions", `verify=true`, "application/x-www-form-urlencoded", 415, "UnsupportedMediaType", ""},
		{"verify without image", "POST", "/api/liveness-sessions", `{"verify": true}`, "application/json", 400, "InvalidRequest", "referenceImage"},
		{"image without verify", "POST", "/api/liveness-sessions", `{"referenceImage": "` + b64(png) + `"}`, "", 400, "InvalidRequest", `"verify": true`},
		{"not base64", "POST", "/api/liveness-sessions", `{"verify": true, "referenceImage": "%%%"}`, "", 400, "InvalidRequest", "base64"},
		{"not an image", "POST", "/api/liveness-sessions", `{"verify": true, "referenceImage": "` + b64([]byte(strings.Repeat("text ", 400))) + `"}`, "", 400, "NotAnImage", "PNG, JPEG, BMP or GIF"},
		{"over 6 MB", "POST", "/api/liveness-sessions", `{"verify": true, "referenceImage": "` + b64(make([]byte, 6<<20+1)) + `"}`, "", 413, "ReferenceImageTooLarge", "at most 6 MB"},
		{"body too large", "POST", "/api/liveness-sessions", `{"verify": true, "referenceImage": "` + strings.Repeat("A", maxCreateBodyBytes) + `"}`, "", 413, "RequestTooLarge", ""},
		{"too large for a Secret", "POST", "/api/liveness-sessions", `{"verify": true, "referenceImage": "` + b64(big) + `"}`, "", 413, "ReferenceImageTooLarge", "Secret"},
		{"bad wait", "GET", "/api/liveness-sessions/x?wait=soon", "", "", 400, "InvalidWait", ""},
		{"wait too long", "GET", "/api/liveness-sessions/x?wait=10m", "", "", 400, "InvalidWait", ""},
		{"unknown session", "GET", "/api/liveness-sessions/nobody", "", "", 404, "NotFound", "nobody"},
		{"complete unknown", "POST", "/api/liveness-sessions/nobody/completed", "", "", 404, "NotFound", ""},
		{"delete unknown", "DELETE", "/api/liveness-sessions/nobody", "", "", 404, "NotFound", ""},
		{"unknown endpoint", "GET", "/api/sessions", "", "", 404, "NotFound", "/api/sessions"},
	}
	for _, tc := range cases {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		headers := []string{}
		if tc.contentType != "" {
			headers = append(headers, "Content-Type", tc.contentType)
		}
		got := e.call(t, tc.method, tc.path, body, headers...)
		require.Equal(t, tc.status, got.status, "%s: %s", tc.name, got.raw)
		require.Equal(t, tc.code, got.errorCode(), "%s: %s", tc.name, got.raw)
		require.Contains(t, got.errorMessage(), tc.message, tc.name)
		require.Equal(t, "application/json", got.header.Get("Content-Type"), tc.name)
	}
	list := &facev1.LivenessSessionList{}
	require.NoError(t, admin.List(context.Background(), list))
	for _, ls := range list.Items {
		require.NotEqual(t, e.ns, ls.Namespace, "bad input creates nothing")
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

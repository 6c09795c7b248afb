package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// startServe runs the serve subcommand and returns its URL and a stop function that
// returns the exit code.
func startServe(t *testing.T, args []string, vars map[string]string) (string, *harness.SyncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &harness.SyncBuffer{}, &harness.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdout, stderr, env(vars)) }()
	var first string
	require.Eventually(t, func() bool {
		s := stdout.String()
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			first = s[:i]
			return true
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		default:
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	url, ok := strings.CutPrefix(first, "face-emulator listening on ")
	require.True(t, ok, "first stdout line: %q", first)
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"))
	require.NotEqual(t, "http://127.0.0.1:0", url, "port 0 is replaced by the real port")
	stop := func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { cancel() })
	return url, stderr, stop
}

func request(t *testing.T, method, url, key string, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

func TestServeCreateGetDeleteAndShutdown(t *testing.T) {
	url, _, stop := startServe(t, []string{"--listen", "127.0.0.1:0", "--api-key", "k1,k2", "--api-key", "k3"}, nil)
	status, body := request(t, http.MethodPost, url+"/face/v1.2/detectLiveness-sessions", "k3",
		[]byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"d"}`))
	require.Equal(t, http.StatusOK, status, "body: %s", body)
	var created map[string]any
	require.NoError(t, json.Unmarshal(body, &created))
	id := created["sessionId"].(string)
	status, _ = request(t, http.MethodGet, url+"/face/v1.2/detectLiveness-sessions/"+id, "k1", nil)
	require.Equal(t, http.StatusOK, status)
	status, _ = request(t, http.MethodDelete, url+"/face/v1.2/detectLiveness-sessions/"+id, "k2", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _ = request(t, http.MethodGet, url+"/face/v1.2/detectLiveness-sessions/"+id, "nope", nil)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, 0, stop())
}

func TestServeKeyFromEnvAndFlags(t *testing.T) {
	url, _, stop := startServe(t, []string{"serve", "--rps", "1", "--burst", "1", "--latency", "1ms", "--seed", "7"},
		map[string]string{"FACE_APIKEY": "env-a, env-b"})
	status, _ := request(t, http.MethodGet, url+"/face/v1.2/detectLiveness-sessions/x", "env-b", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, body := request(t, http.MethodGet, url+"/face/v1.2/detectLiveness-sessions/x", "env-b", nil)
	require.Equal(t, http.StatusTooManyRequests, status, "--rps applies: %s", body)
	status, body = request(t, http.MethodGet, url+"/emulator/quota", "", nil)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"requestsPerSecond":1,"burst":1,"requestsPerMinute":0}`, string(body))
	require.Equal(t, 0, stop())
}

func TestServeFaultFlags(t *testing.T) {
	url, _, stop := startServe(t, []string{"--api-key", "k", "--error-rate-503", "1", "--retry-after-503", "3", "--verbose"}, nil)
	status, _ := request(t, http.MethodGet, url+"/face/v1.2/detectLiveness-sessions/x", "k", nil)
	require.Equal(t, http.StatusServiceUnavailable, status)
	status, body := request(t, http.MethodGet, url+"/emulator/faults", "", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"errorRate503":1`)
	require.Equal(t, 0, stop())
}

func TestServeUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no key":         {[]string{"--listen", "127.0.0.1:0"}, "no credentials"},
		"bad rate":       {[]string{"--api-key", "k", "--error-rate-500", "2"}, "errorRate500"},
		"rates over one": {[]string{"--api-key", "k", "--error-rate-500", "0.6", "--drop-rate", "0.6"}, "must not exceed 1"},
		"bad quota":      {[]string{"--api-key", "k", "--rps", "-1"}, "requestsPerSecond"},
		"unknown flag":   {[]string{"--api-key", "k", "--nope"}, "nope"},
		"stray argument": {[]string{"--api-key", "k", "extra"}, "unexpected argument"},
		"unlistenable":   {[]string{"--api-key", "k", "--listen", "256.0.0.1:1"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr, env(nil))
			require.NotZero(t, code)
			require.Contains(t, stderr.String(), tc.want)
			require.Empty(t, stdout.String())
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"help"}, &stdout, &stderr, env(nil)))
	require.Contains(t, stdout.String(), "attempt")
	stdout.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"serve", "-h"}, &stdout, &stderr, env(nil)))
	for _, f := range []string{"--api-key", "FACE_APIKEY", "-rps", "-burst", "-per-minute", "-error-rate-500", "-error-rate-503", "-latency",
		"-drop-rate", "-commit-then-drop-rate", "-session-lifetime", "-seed", "-bearer-token", "-listen"} {
		require.Contains(t, stderr.String(), f)
	}
	stderr.Reset()
	require.Equal(t, 0, run(context.Background(), []string{"attempt", "-h"}, &stdout, &stderr, env(nil)))
	for _, f := range []string{"-endpoint", "-token", "-decision", "-match-confidence", "-error-code", "Examples"} {
		require.Contains(t, stderr.String(), f)
	}
}

// attemptEnv is an in-process emulator with one plain and one verify session.
func attemptEnv(t *testing.T) (*httptest.Server, *emulator.Server) {
	srv := emulator.New(emulator.Config{APIKeys: []string{"k"}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, srv
}

func createSession(t *testing.T, url string) (id, token string) {
	status, body := request(t, http.MethodPost, url+"/face/v1.2/detectLiveness-sessions", "k",
		[]byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"d","enableSessionImage":true}`))
	require.Equal(t, http.StatusOK, status)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	return m["sessionId"].(string), m["authToken"].(string)
}

func TestAttemptSubcommand(t *testing.T) {
	ts, srv := attemptEnv(t)
	id, token := createSession(t, ts.URL)
	var stdout, stderr bytes.Buffer
	code := attempt(context.Background(), []string{"--endpoint", ts.URL + "/", "--token", token, "--decision", "realface"},
		&stdout, &stderr, env(nil), ts.Client())
	require.Equal(t, 0, code, stderr.String())
	var out map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &out))
	require.Equal(t, id, out["sessionId"])
	require.Equal(t, "Succeeded", out["status"])
	require.Equal(t, "realface", out["attempt"].(map[string]any)["result"].(map[string]any)["livenessDecision"])
	info, _ := srv.Session(id)
	require.Equal(t, 1, info.Attempts)

	// A second attempt is refused and reported on stderr with exit code 1.
	stdout.Reset()
	code = attempt(context.Background(), []string{"--endpoint", ts.URL, "--token", token, "--decision", "realface"},
		&stdout, &stderr, env(nil), ts.Client())
	require.Equal(t, 1, code)
	require.Contains(t, stderr.String(), "AttemptLimitReached")
	require.Empty(t, stdout.String())
}

func TestAttemptSubcommandErrorCodeAndEnv(t *testing.T) {
	ts, _ := attemptEnv(t)
	_, token := createSession(t, ts.URL)
	var stdout, stderr bytes.Buffer
	code := attempt(context.Background(), []string{"--error-code", "FaceWithMaskDetected"},
		&stdout, &stderr, env(map[string]string{"FACE_ENDPOINT": ts.URL, "FACE_SESSION_TOKEN": token}), ts.Client())
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stdout.String(), `"Mask detected on face image."`)
	require.Contains(t, stdout.String(), `"Failed"`)
}

func TestAttemptSubcommandUsage(t *testing.T) {
	ts, _ := attemptEnv(t)
	_, token := createSession(t, ts.URL)
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no endpoint":      {[]string{"--token", "t", "--decision", "realface"}, 2, "--endpoint"},
		"no token":         {[]string{"--endpoint", ts.URL, "--decision", "realface"}, 2, "--token"},
		"no outcome":       {[]string{"--endpoint", ts.URL, "--token", token}, 2, "exactly one"},
		"two outcomes":     {[]string{"--endpoint", ts.URL, "--token", token, "--decision", "realface", "--error-code", "X"}, 2, "exactly one"},
		"bad confidence":   {[]string{"--endpoint", ts.URL, "--token", token, "--decision", "realface", "--match-confidence", "hi"}, 2, "match-confidence"},
		"confidence plain": {[]string{"--endpoint", ts.URL, "--token", token, "--decision", "realface", "--match-confidence", "0.9"}, 1, "liveness-with-verify"},
		"unknown token":    {[]string{"--endpoint", ts.URL, "--token", "nope", "--decision", "realface"}, 1, "InvalidAuthToken"},
		"unreachable":      {[]string{"--endpoint", "http://127.0.0.1:1", "--token", token, "--decision", "realface"}, 1, "127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := attempt(context.Background(), tc.args, &stdout, &stderr, env(nil), ts.Client())
			require.Equal(t, tc.code, code, stderr.String())
			require.Contains(t, stderr.String(), tc.want)
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func createV13Session(t *testing.T, url, body string) (id, token string) {
	status, b := request(t, http.MethodPost, url+"/face/v1.3-preview.1/detectLiveness-sessions", "k", []byte(body))
	require.Equal(t, http.StatusOK, status, string(b))
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m["sessionId"].(string), m["authToken"].(string)
}

func TestAttemptSubcommandV13(t *testing.T) {
	ts, srv := attemptEnv(t)
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := attempt(context.Background(), append([]string{"--endpoint", ts.URL}, args...), &stdout, &stderr, env(nil), ts.Client())
		return code, stdout.String(), stderr.String()
	}
	id, token := createV13Session(t, ts.URL, `{"livenessOperationMode":"passive","deviceCorrelationId":"d","userCorrelationId":"alice","numberOfClientAttemptsAllowed":2}`)
	code, out, stderr := run("--token", token, "--error-code", "FaceNotDetected")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, `"ip": "127.0.0.1"`, "the default client IP")
	code, out, stderr = run("--token", token, "--decision", "realface", "--client-ip", "203.0.113.7,2001:db8::1", "--face-id", "face-1")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, `"ip": "2001:db8::1"`)
	info, _ := srv.Session(id)
	require.Equal(t, []string{"203.0.113.7", "2001:db8::1"}, info.AttemptLog[1].ClientIPs)
	require.Equal(t, "id:face-1", info.AttemptLog[1].FaceKey)
	code, _, stderr = run("--token", token, "--decision", "realface")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "AttemptLimitReached")

	// The same face image under another user, set in the client: flagged.
	img := filepath.Join(t.TempDir(), "face.png")
	require.NoError(t, os.WriteFile(img, []byte("face bytes"), 0o600))
	_, tokA := createV13Session(t, ts.URL, `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"alice"}`)
	code, _, stderr = run("--token", tokA, "--decision", "realface", "--face-image", img)
	require.Equal(t, 0, code, stderr)
	_, tokB := createV13Session(t, ts.URL, `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationIdSetInClient":true}`)
	code, _, stderr = run("--token", tokB, "--decision", "realface", "--face-image", img)
	require.Equal(t, 1, code, "in-client sessions need the user id from the device")
	require.Contains(t, stderr, "userCorrelationId")
	code, out, stderr = run("--token", tokB, "--decision", "realface", "--face-image", img, "--user-correlation-id", "mallory")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, `"isAbuseDetected": true`)

	code, _, stderr = run("--token", tokB, "--decision", "realface", "--face-id", "x", "--face-image", img)
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "at most one")
	code, _, stderr = run("--token", tokB, "--decision", "realface", "--face-image", filepath.Join(t.TempDir(), "missing"))
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--face-image")

	// A v1.2 session refuses the v1.3 flags.
	_, tok12 := createSession(t, ts.URL)
	code, _, stderr = run("--token", tok12, "--decision", "realface", "--client-ip", "10.0.0.1")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "v1.2")
}

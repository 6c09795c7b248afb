package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPageIsServed(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, false)
	page := e.call(t, http.MethodGet, "/", nil)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.raw, "Start liveness check")
	require.Contains(t, page.header.Get("Content-Security-Policy"), "default-src 'self'")
	sdk := e.call(t, http.MethodGet, "/sdk.js", nil)
	require.Equal(t, http.StatusOK, sdk.status)
	require.Contains(t, sdk.raw, "export async function performLivenessCheck(container, authToken")
	require.Contains(t, sdk.header.Get("Content-Type"), "javascript")
	for _, f := range []string{"/app.js", "/style.css"} {
		require.Equal(t, http.StatusOK, e.call(t, http.MethodGet, f, nil).status, f)
	}
}

// The seam is one function in one module: app.js calls only performLivenessCheck of sdk.js,
// and only sdk.js knows about the emulator pass-through.
func TestSDKSeamIsOneFunction(t *testing.T) {
	t.Parallel()
	app, err := os.ReadFile(filepath.Join("web", "app.js"))
	require.NoError(t, err)
	require.Regexp(t, regexp.MustCompile(`(?m)^import \{ performLivenessCheck \} from "./sdk.js";$`), string(app))
	require.NotContains(t, string(app), "/dev/face-emulator")
	require.NotContains(t, string(app), "emulator/attempts")
	sdk, err := os.ReadFile(filepath.Join("web", "sdk.js"))
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(sdk), "\nexport "), "sdk.js exports the seam and nothing else")
}

func TestWithoutPassThroughThereIsNoEmulatorRoute(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, false)
	srv, err := newServer(e.srv.sessions, e.srv.log, "")
	require.NoError(t, err)
	e.srv.handler = srv.handler
	got := e.call(t, http.MethodPost, emulatorPassThroughPath, []byte(`{}`))
	require.Equal(t, http.StatusNotFound, got.status)
	require.Equal(t, "StandInUnavailable", got.errorCode())
	require.Contains(t, got.errorMessage(), "--face-emulator-endpoint")
	_, err = newServer(e.srv.sessions, e.srv.log, "not a url")
	require.Error(t, err)
}

// run: flags, the kubeconfig, the first stdout line, and a clean stop.
func TestRun(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, false)
	kc, err := e.user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, kc, 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--kubeconfig", path, "--namespace", e.ns, "--listen", "127.0.0.1:0"}, stdout, stderr)
	}()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`^example-app-server listening on (http://\S+)\n`).FindStringSubmatch(stdout.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 10*time.Second, 20*time.Millisecond, "stderr: %s", stderr)
	resp, err := http.Get(url + "/api/liveness-sessions/nobody")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	cancel()
	require.Equal(t, 0, <-code, stderr.String())

	require.Equal(t, 2, run(context.Background(), []string{"--no-such-flag"}, stdout, stderr))
	require.Equal(t, 2, run(context.Background(), []string{"--kubeconfig", path, "--face-emulator-endpoint", "ftp://x"}, stdout, stderr))
	require.Equal(t, 1, run(context.Background(), []string{"--kubeconfig", filepath.Join(t.TempDir(), "missing")}, stdout, stderr))
}

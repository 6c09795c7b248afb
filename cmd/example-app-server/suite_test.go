package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// One control plane for the package; each test has its own namespace, emulator, operator and
// app server, which runs as a user holding only the documented app server Role.
var (
	admin  client.Client
	shared = harness.SharedControlPlane{OnStart: func(_ *harness.ControlPlane, a client.Client) { admin = a }}
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(shared.Run(m))
}

// syncBuffer collects the app server's log while handlers write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// appEnv is one test's app server and what it runs against.
type appEnv struct {
	ns   string
	emu  *harness.Emulator
	srv  *server
	url  string
	log  *syncBuffer
	user *envtest.AuthenticatedUser
}

func newAppEnv(t *testing.T, withOperator bool) *appEnv {
	t.Helper()
	a := shared.AppServerNamespace(t, "app", "app-", withOperator)
	e := &appEnv{ns: a.Name, emu: a.Emulator, user: a.User, log: &syncBuffer{}}
	sessions, err := livenessclient.New(e.user.Config(), e.ns)
	require.NoError(t, err)
	e.srv, err = newServer(sessions, slog.New(slog.NewTextHandler(e.log, nil)), e.emu.URL)
	require.NoError(t, err)
	hs := httptest.NewServer(e.srv)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

// answer is an HTTP answer with its JSON body decoded (nil when empty).
type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// errorCode is the code of an error answer.
func (a answer) errorCode() string {
	e, _ := a.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (a answer) errorMessage() string {
	e, _ := a.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// call sends a request with an optional raw body and headers (key, value pairs).
func (e *appEnv) call(t *testing.T, method, path string, body []byte, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &a.body), "%s %s: %s", method, path, raw)
	}
	return a
}

// callJSON sends v as JSON.
func (e *appEnv) callJSON(t *testing.T, method, path string, v any) answer {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return e.call(t, method, path, b, "Content-Type", "application/json")
}

func referenceFace(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "samples", "verify", "reference-face.png"))
	require.NoError(t, err)
	return b
}

// tinyPNG is a PNG that any format check accepts but Face refuses (under 1 KB, 20x20 px).
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20, 20))))
	return buf.Bytes()
}

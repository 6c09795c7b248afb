package emulator_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

const testKey = "test-key-0123456789"

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is an emulator behind a real loopback HTTP server.
type env struct {
	t   *testing.T
	srv *emulator.Server
	ts  *httptest.Server
	key string
}

func newEnv(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	if cfg.APIKeys == nil {
		cfg.APIKeys = []string{testKey}
	}
	srv := emulator.New(cfg)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: srv, ts: ts, key: cfg.APIKeys[0]}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// errorCode asserts the FaceErrorResponse shape and returns error.code.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	m := r.json(t)
	require.Len(t, m, 1, "error body must only have 'error': %s", r.body)
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, "body: %s", r.body)
	require.Len(t, e, 2, "error must have only code and message: %s", r.body)
	code, _ := e["code"].(string)
	msg, _ := e["message"].(string)
	require.NotEmpty(t, code)
	require.NotEmpty(t, msg)
	require.Equal(t, code, r.header.Get("x-ms-error-code"))
	return code
}

func (r response) message(t *testing.T) string {
	t.Helper()
	return r.json(t)["error"].(map[string]any)["message"].(string)
}

// do sends a request with the Face key unless headers override it.
func (e *env) do(method, path string, body []byte, contentType string, headers ...string) response {
	e.t.Helper()
	resp, err := e.send(method, path, body, contentType, headers...)
	require.NoError(e.t, err)
	return resp
}

func (e *env) send(method, path string, body []byte, contentType string, headers ...string) (response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", e.key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (e *env) postJSON(path string, v any) response {
	e.t.Helper()
	b, err := json.Marshal(v)
	require.NoError(e.t, err)
	return e.do(http.MethodPost, path, b, "application/json")
}

const (
	livenessPath = "/face/v1.2/detectLiveness-sessions"
	verifyPath   = "/face/v1.2/detectLivenessWithVerify-sessions"
)

// validCreate is a minimal valid CreateLivenessSessionContent.
func validCreate() map[string]any {
	return map[string]any{"livenessOperationMode": "Passive", "deviceCorrelationId": "device-1"}
}

// createLiveness creates a plain session and returns the response body.
func (e *env) createLiveness(extra map[string]any) map[string]any {
	e.t.Helper()
	body := validCreate()
	for k, v := range extra {
		body[k] = v
	}
	r := e.postJSON(livenessPath, body)
	require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(e.t)
}

// part is one multipart part; file parts carry a filename.
type part struct {
	name, value, filename string
	data                  []byte
}

func multipartBody(t *testing.T, parts []part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.data != nil {
			h.Set("Content-Type", "application/octet-stream")
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		if p.data != nil {
			_, err = w.Write(p.data)
		} else {
			_, err = w.Write([]byte(p.value))
		}
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return buf.Bytes(), mw.FormDataContentType()
}

// validVerifyParts are the minimal valid multipart parts with the given image.
func validVerifyParts(img []byte) []part {
	return []part{
		{name: "livenessOperationMode", value: "PassiveActive"},
		{name: "deviceCorrelationId", value: "device-1"},
		{name: "verifyImage", filename: "face.png", data: img},
	}
}

func (e *env) createVerify(parts []part) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts)
	return e.do(http.MethodPost, verifyPath, body, ct)
}

// pngCache memoizes noisyPNG: generating large noisy images is slow under -race.
var pngCache sync.Map // [2]int -> []byte

// noisyPNG returns a w x h PNG with enough seeded noise not to compress below the
// 1 KB minimum.
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	if b, ok := pngCache.Load([2]int{w, h}); ok {
		return b.([]byte)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	// Noise in the first 4096 pixels is enough to stay above 1 KB; the rest is flat
	// so that big images stay cheap to encode and decode.
	for i := 0; i < w*h; i++ {
		c := color.RGBA{128, 128, 128, 255}
		if i < 4096 {
			c = color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		}
		img.SetRGBA(i%w, i/w, c)
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	pngCache.Store([2]int{w, h}, buf.Bytes())
	return buf.Bytes()
}

// attempt plays the end user over HTTP.
func (e *env) attempt(token string, body any) response {
	e.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(e.t, err)
	return e.do(http.MethodPost, "/emulator/attempts", b, "application/json",
		"Ocp-Apim-Subscription-Key", "", "Authorization", "Bearer "+token)
}

// path walks nested maps/arrays: path(m, "results", "attempts", 0, "result").
func path(t *testing.T, v any, keys ...any) any {
	t.Helper()
	for _, k := range keys {
		switch kk := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "not an object at %v", k)
			v, ok = m[kk]
			require.True(t, ok, "missing key %q", kk)
		case int:
			a, ok := v.([]any)
			require.True(t, ok, "not an array at %v", k)
			require.Greater(t, len(a), kk)
			v = a[kk]
		}
	}
	return v
}

func pngDecode(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }

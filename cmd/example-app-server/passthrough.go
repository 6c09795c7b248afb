package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// emulatorPassThroughPath is where the page's stand-in SDK plays the end user's attempt.
const emulatorPassThroughPath = "/dev/face-emulator/attempts"

// maxAttemptBodyBytes bounds an attempt's JSON (a decision and perhaps an error code).
const maxAttemptBodyBytes = 16 << 10

// emulatorPassThrough is DEVELOPMENT ONLY. The real Face web SDK calls Face from the browser
// with the session's auth token; the page's stand-in does the same against the Face emulator
// (POST /emulator/attempts), which a browser cannot reach from this page's origin (the
// emulator sends no CORS headers). So the app server forwards exactly that one request, with
// the browser's Authorization header, and nothing else. Production app servers have no such
// route: the real SDK talks to Face directly.
type emulatorPassThrough struct {
	target string
	client *http.Client
}

func newEmulatorPassThrough(endpoint string) (*emulatorPassThrough, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--face-emulator-endpoint %q is not an http(s) URL", endpoint)
	}
	return &emulatorPassThrough{
		target: strings.TrimRight(endpoint, "/") + "/emulator/attempts",
		client: &http.Client{Timeout: 10 * time.Second},
	}, nil
}

// ServeHTTP forwards the attempt and copies the emulator's answer back.
func (p *emulatorPassThrough) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAttemptBodyBytes))
	if err != nil {
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, "RequestTooLarge", "an attempt is a small JSON object"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target, bytes.NewReader(body))
	if err != nil {
		writeError(w, &apiError{http.StatusInternalServerError, "InternalError", "could not build the emulator request"})
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if auth := r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		writeError(w, &apiError{http.StatusBadGateway, "FaceEmulatorUnreachable", "the Face emulator did not answer"})
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

package main

import (
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// maxOutcomeWait caps ?wait=, so a request ends before typical load balancer timeouts (60 s).
const maxOutcomeWait = 50 * time.Second

// timeouts say how long the handlers wait for the operator.
type timeouts struct {
	start, completed, release time.Duration
}

// defaultTimeouts are generous for a cluster under load, and still end before typical load
// balancer timeouts.
var defaultTimeouts = timeouts{start: 30 * time.Second, completed: 10 * time.Second, release: 30 * time.Second}

// server is the app server: the JSON API over pkg/livenessclient and the embedded page.
type server struct {
	sessions *livenessclient.Client
	log      *slog.Logger
	timeouts timeouts
	handler  http.Handler
}

// ServeHTTP serves the API and the page.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// newServer routes the API, the page and, when emulatorEndpoint is set, the development-only
// pass-through to the Face emulator.
func newServer(sessions *livenessclient.Client, log *slog.Logger, emulatorEndpoint string) (*server, error) {
	s := &server{sessions: sessions, log: log, timeouts: defaultTimeouts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/liveness-sessions", s.create)
	mux.HandleFunc("POST /api/liveness-sessions/{name}/completed", s.completed)
	mux.HandleFunc("GET /api/liveness-sessions/{name}", s.get)
	mux.HandleFunc("DELETE /api/liveness-sessions/{name}", s.release)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "NotFound", "no API endpoint " + r.Method + " " + r.URL.Path})
	})
	if emulatorEndpoint != "" {
		proxy, err := newEmulatorPassThrough(emulatorEndpoint)
		if err != nil {
			return nil, err
		}
		mux.Handle("POST "+emulatorPassThroughPath, proxy)
		log.Warn("DEVELOPMENT ONLY: forwarding the stand-in SDK's attempts to the Face emulator",
			"path", emulatorPassThroughPath, "emulator", emulatorEndpoint)
	} else {
		mux.HandleFunc(emulatorPassThroughPath, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, &apiError{http.StatusNotFound, "StandInUnavailable",
				"this app server has no Face emulator pass-through for the stand-in SDK: start it with --face-emulator-endpoint"})
		})
	}
	page, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	mux.Handle("/", pageHeaders(http.FileServerFS(page)))
	s.handler = s.logRequests(mux)
	return s, nil
}

// pageHeaders serves the page for GET and HEAD only, and keeps it to its own origin's scripts
// and styles.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// logRequests writes one line per request: method, path, status and duration. Never headers
// (the stand-in SDK's requests carry the token) and never bodies (tokens, images).
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start).Round(time.Millisecond))
	})
}

package perf

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// faceKey is the emulator's key for the manager and the baseline app server.
const faceKey = "perf-face-key-5b1e9c07"

// faceEmulator is the Face emulator served over loopback from the benchmark process, with every
// Face call recorded per session id, so calls can be attributed to the resource that made them
// (through the inventory's deviceCorrelationId).
type faceEmulator struct {
	*emulator.Server
	// URL is the endpoint for Face clients.
	URL string

	mu    sync.Mutex
	calls map[string][]faceCall // session id -> its get and delete calls, in order

	// throttleRate (float64 bits) is the share of Face calls answered 429 with Retry-After: 1
	// before the emulator sees them (see serve); throttled counts those answers.
	throttleRate atomic.Uint64
	throttled    atomic.Int64
	rngMu        sync.Mutex
	rng          *rand.Rand
}

// faceCall is one GET or DELETE of a session.
type faceCall struct {
	Method string
	Status string
	At     time.Time
}

// startFace serves the emulator until the benchmark ends.
func startFace(tb testing.TB) *faceEmulator {
	tb.Helper()
	fe := &faceEmulator{calls: map[string][]faceCall{}, rng: rand.New(rand.NewPCG(7, 7))}
	fe.Server = emulator.New(emulator.Config{APIKeys: []string{faceKey}, RequestLog: fe.record})
	hs := httptest.NewServer(http.HandlerFunc(fe.serve))
	tb.Cleanup(hs.Close)
	fe.URL = hs.URL
	return fe
}

// setThrottleRate sets the share of Face calls answered 429 (0 stops it).
func (fe *faceEmulator) setThrottleRate(rate float64) { fe.throttleRate.Store(math.Float64bits(rate)) }

// serve answers a share of Face calls 429 with Retry-After: 1, the way Face's quota answers,
// and hands everything else to the emulator. The emulator's own quota throttles by load, so
// its share of 429s would depend on the machine; a drawn share keeps a chaos run's fault mix
// at the rate it states.
func (fe *faceEmulator) serve(w http.ResponseWriter, r *http.Request) {
	if rate := math.Float64frombits(fe.throttleRate.Load()); rate > 0 && strings.HasPrefix(r.URL.Path, "/face/") {
		fe.rngMu.Lock()
		hit := fe.rng.Float64() < rate
		fe.rngMu.Unlock()
		if hit {
			fe.throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("x-ms-error-code", "429")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"429","message":"Rate limit is exceeded. Try again in 1 seconds."}}`)
			return
		}
	}
	fe.Server.ServeHTTP(w, r)
}

// record parses the emulator's request log line "METHOD /face/v1.2/<kind>-sessions/<id> -> STATUS (DUR)".
func (fe *faceEmulator) record(line string) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return
	}
	path := f[1]
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if !strings.Contains(path, "-sessions/") {
		return
	}
	id := path[strings.LastIndexByte(path, '/')+1:]
	fe.mu.Lock()
	fe.calls[id] = append(fe.calls[id], faceCall{Method: f[0], Status: f[3], At: time.Now()})
	fe.mu.Unlock()
}

// callsOf returns the recorded calls of one session.
func (fe *faceEmulator) callsOf(id string) []faceCall {
	fe.mu.Lock()
	defer fe.mu.Unlock()
	return append([]faceCall(nil), fe.calls[id]...)
}

// sessionsByDevice groups the emulator's inventory by deviceCorrelationId.
func (fe *faceEmulator) sessionsByDevice() map[string][]emulator.SessionInfo {
	out := map[string][]emulator.SessionInfo{}
	for _, s := range fe.Sessions() {
		out[s.DeviceCorrelationID] = append(out[s.DeviceCorrelationID], s)
	}
	return out
}

// opDelta is how many calls of an operation were made between two stats snapshots.
func opDelta(before, after emulator.Stats, op string) int64 {
	return after.ByOperation[op].Total - before.ByOperation[op].Total
}

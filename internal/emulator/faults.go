package emulator

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// faultKind is the outcome of one fault draw for a request.
type faultKind uint8

const (
	faultNone faultKind = iota
	fault500
	fault503
	faultDrop
)

// faultEngine holds the current Faults and the seeded random source behind them.
// The configuration is read lock-free; the RNG is locked only when a rate is set,
// so the default (no faults) costs one atomic load per request.
type faultEngine struct {
	cfg atomic.Pointer[Faults]
	mu  sync.Mutex
	rng *rand.Rand
}

func newFaultEngine(f Faults, seed uint64) *faultEngine {
	fe := &faultEngine{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	fe.cfg.Store(&f)
	return fe
}

func (fe *faultEngine) current() Faults { return *fe.cfg.Load() }

func (fe *faultEngine) set(f Faults) { fe.cfg.Store(&f) }

func (fe *faultEngine) float() float64 {
	fe.mu.Lock()
	v := fe.rng.Float64()
	fe.mu.Unlock()
	return v
}

// delay is the injected latency for one request.
func (fe *faultEngine) delay(f Faults) time.Duration {
	d := f.Latency
	if f.LatencyJitter > 0 {
		d += time.Duration(fe.float() * float64(f.LatencyJitter))
	}
	return d
}

// draw picks at most one of 500, 503 or drop for a request, with one random number
// so that the configured rates are exact proportions.
func (fe *faultEngine) draw(f Faults) faultKind {
	if f.ErrorRate500 == 0 && f.ErrorRate503 == 0 && f.DropRate == 0 {
		return faultNone
	}
	u := fe.float()
	switch {
	case u < f.ErrorRate500:
		return fault500
	case u < f.ErrorRate500+f.ErrorRate503:
		return fault503
	case u < f.ErrorRate500+f.ErrorRate503+f.DropRate:
		return faultDrop
	}
	return faultNone
}

// commitThenDrop decides whether a create that has just been stored loses its answer.
func (fe *faultEngine) commitThenDrop(f Faults) bool {
	return f.CommitThenDropRate > 0 && fe.float() < f.CommitThenDropRate
}

// sleepCtx waits d or until the client goes away; it reports whether the full wait
// happened.
func sleepCtx(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConnection closes the client's connection without writing a response, the way
// a load balancer reset or a crashed backend looks to the client. Hijacking closes
// the TCP connection at once; where hijacking is impossible (HTTP/2) the handler
// aborts, which resets the stream.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func injected500() *apiError {
	return newAPIError(http.StatusInternalServerError, codeInternalServerError,
		"An internal server error occurred (injected by the emulator's errorRate500 fault).")
}

func injected503(retryAfter int) *apiError {
	e := newAPIError(http.StatusServiceUnavailable, codeServiceUnavailable,
		"The service is temporarily unavailable (injected by the emulator's errorRate503 fault).")
	e.retryAfter = retryAfter
	return e
}

package emulator

import (
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// quotaEngine enforces Quota per key and remembers the Retry-After windows it has
// handed out, so stats can count clients that do not wait them out.
type quotaEngine struct {
	cfg atomic.Pointer[Quota]
	// windows is set once any Retry-After was given; until then the per-key state
	// is not touched when the quota is off (the common, fast case).
	windows atomic.Bool
	keys    sync.Map // identity -> *keyQuota
}

// keyQuota is one key's token bucket, per-minute window and Retry-After deadline.
type keyQuota struct {
	mu          sync.Mutex
	primed      bool
	tokens      float64
	last        time.Time
	windowStart time.Time
	windowCount int
	retryUntil  time.Time
}

func newQuotaEngine(q Quota) *quotaEngine {
	qe := &quotaEngine{}
	qe.cfg.Store(&q)
	return qe
}

func (qe *quotaEngine) current() Quota { return *qe.cfg.Load() }

// set applies a new quota and refills every key's bucket and window, as a tier
// change would. Retry-After deadlines already given stay, because clients were told
// to wait them out.
func (qe *quotaEngine) set(q Quota) {
	qe.cfg.Store(&q)
	qe.keys.Range(func(_, v any) bool {
		k := v.(*keyQuota)
		k.mu.Lock()
		k.primed, k.windowStart, k.windowCount = false, time.Time{}, 0
		k.mu.Unlock()
		return true
	})
}

// reset forgets every key's state, Retry-After deadlines included.
func (qe *quotaEngine) reset() {
	qe.keys.Range(func(k, _ any) bool { qe.keys.Delete(k); return true })
	qe.windows.Store(false)
}

// admit decides one request of key id at now. insideRetryAfter reports that the key
// was still inside a Retry-After window given earlier; retryAfter > 0 means the
// request is refused and the client must wait that many whole seconds.
func (qe *quotaEngine) admit(id string, now time.Time) (insideRetryAfter bool, retryAfter int) {
	q := qe.cfg.Load()
	limited := q.RequestsPerSecond > 0 || q.RequestsPerMinute > 0
	if !limited && !qe.windows.Load() {
		return false, 0
	}
	v, ok := qe.keys.Load(id)
	if !ok {
		v, _ = qe.keys.LoadOrStore(id, &keyQuota{})
	}
	k := v.(*keyQuota)
	k.mu.Lock()
	defer k.mu.Unlock()
	insideRetryAfter = now.Before(k.retryUntil)
	if !limited {
		return insideRetryAfter, 0
	}
	var wait time.Duration
	if q.RequestsPerSecond > 0 {
		burst := q.effectiveBurst()
		if !k.primed {
			k.primed, k.tokens, k.last = true, burst, now
		}
		if now.After(k.last) {
			k.tokens = math.Min(burst, k.tokens+now.Sub(k.last).Seconds()*q.RequestsPerSecond)
			k.last = now
		}
		if k.tokens < 1 {
			wait = max(wait, time.Duration((1-k.tokens)/q.RequestsPerSecond*float64(time.Second)))
		}
	}
	if q.RequestsPerMinute > 0 {
		if k.windowStart.IsZero() || !now.Before(k.windowStart.Add(time.Minute)) {
			k.windowStart, k.windowCount = now, 0
		}
		if k.windowCount >= q.RequestsPerMinute {
			wait = max(wait, k.windowStart.Add(time.Minute).Sub(now))
		}
	}
	if wait > 0 {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		if until := now.Add(time.Duration(secs) * time.Second); until.After(k.retryUntil) {
			k.retryUntil = until
		}
		qe.windows.Store(true)
		return insideRetryAfter, secs
	}
	if q.RequestsPerSecond > 0 {
		k.tokens--
	}
	if q.RequestsPerMinute > 0 {
		k.windowCount++
	}
	return insideRetryAfter, 0
}

// noteRetryAfter records a Retry-After given to key id outside the quota (an injected
// 503 with Retry-After), so requests inside that window are counted too.
func (qe *quotaEngine) noteRetryAfter(id string, now time.Time, secs int) {
	if secs <= 0 {
		return
	}
	v, _ := qe.keys.LoadOrStore(id, &keyQuota{})
	k := v.(*keyQuota)
	k.mu.Lock()
	if until := now.Add(time.Duration(secs) * time.Second); until.After(k.retryUntil) {
		k.retryUntil = until
	}
	k.mu.Unlock()
	qe.windows.Store(true)
}

// rateLimited is the Cognitive Services 429 body with its Retry-After.
func rateLimited(secs int) *apiError {
	return &apiError{
		status:     http.StatusTooManyRequests,
		code:       codeRateLimited,
		message:    fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs),
		retryAfter: secs,
	}
}

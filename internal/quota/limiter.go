package quota

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Priority orders callers waiting for a token.
type Priority int

const (
	// High is for calls that change something or that someone is waiting on: creates,
	// deletes, session images and detect. A waiting High caller gets the next token.
	High Priority = iota
	// Low is for result polling, which is repeatable and can be late without harm.
	Low
)

// numPriorities sizes the per-priority arrays.
const numPriorities = 2

// String names the priority for logs and metric labels.
func (p Priority) String() string {
	switch p {
	case High:
		return "high"
	case Low:
		return "low"
	}
	return fmt.Sprintf("Priority(%d)", int(p))
}

// clamp maps an out-of-range priority to Low: an unknown kind of call must not jump the queue.
func (p Priority) clamp() Priority {
	if p == High {
		return High
	}
	return Low
}

// ErrWaitAborted is in the chain of Acquire's error when the caller's context ended, or would
// have ended during a pause, before a token was granted. The context's own error is in the chain
// too, so errors.Is(err, context.DeadlineExceeded) works as usual. No request was sent.
var ErrWaitAborted = errors.New("quota: gave up waiting for a Face request token")

// ErrAccountBusy is in the chain (with ErrWaitAborted) when the account already had
// MaxConcurrentCalls calls in flight for CallSlotWait: the call was not sent.
var ErrAccountBusy = errors.New("quota: the Face account has too many calls in flight")

// Limiter is one account's request quota, shared by every worker that calls that account. It is
// safe for concurrent use. See the package documentation for the design.
type Limiter struct {
	clock clock.WithDelayedExecution
	// slots holds one token per call in flight (Limits.MaxConcurrentCalls).
	slots chan struct{}

	mu     sync.Mutex
	limits Limits        // with defaults applied
	every  time.Duration // time between two tokens
	tau    time.Duration // burst tolerance (see Limits.tolerance); negative when Margin exceeds the burst
	// tat is GCRA's "theoretical arrival time": the bucket is full when tat <= now, and a token
	// is available when tat-tau <= now. Taking one advances tat by every.
	tat         time.Time
	pausedUntil time.Time

	queues [numPriorities]list.List // of *waiter, oldest first

	timer    clock.Timer // wakes dispatch when the next token or the end of a pause is due
	timerAt  time.Time
	timerGen uint64

	stats Stats
}

// waiter is one blocked Acquire.
type waiter struct {
	prio    Priority
	since   time.Time
	ready   chan struct{} // closed when granted
	granted bool
	waited  time.Duration // set when granted
	elem    *list.Element
}

// NewLimiter returns a limiter with a full bucket. Zero fields of limits take their defaults.
// clk is the time source; nil means the real clock (tests pass k8s.io/utils/clock/testing's
// FakeClock). It panics if limits.Validate fails: validate values that come from users first.
func NewLimiter(limits Limits, clk clock.WithDelayedExecution) *Limiter {
	if err := limits.Validate(); err != nil {
		panic(err)
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	slots := limits.MaxConcurrentCalls
	if slots == 0 {
		slots = DefaultMaxConcurrentCalls
	}
	l := &Limiter{clock: clk, slots: make(chan struct{}, slots)}
	l.applyLocked(limits.withDefaults())
	return l
}

// applyLocked installs limits (already validated and defaulted).
func (l *Limiter) applyLocked(lim Limits) {
	l.limits = lim
	l.every = lim.interval()
	l.tau = lim.tolerance()
}

// CallSlots is how many calls of the account may be in flight at once.
func (l *Limiter) CallSlots() int { return cap(l.slots) }

// Limits returns the limits in force, with defaults filled in.
func (l *Limiter) Limits() Limits {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limits
}

// SetLimits changes the quota at run time, for when an account's quota is edited. The tokens
// saved up so far are kept (capped at the new burst) rather than refilled, because Face's own
// bucket does not refill when we learn about a new tier. Waiters are re-examined at once, so a
// raised quota helps them immediately. Invalid limits are refused and the old ones stay.
func (l *Limiter) SetLimits(limits Limits) error {
	if err := limits.Validate(); err != nil {
		return err
	}
	lim := limits.withDefaults()
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	tokens := l.tokensLocked(now)
	l.applyLocked(lim)
	tokens = math.Min(tokens, float64(lim.Burst))
	debt := time.Duration(math.Ceil((float64(lim.Burst) - tokens) * float64(l.every)))
	l.tat = now.Add(debt)
	l.dispatchLocked(now)
	return nil
}

// tokensLocked is the (fractional) number of tokens in the bucket at now.
func (l *Limiter) tokensLocked(now time.Time) float64 {
	debt := l.tat.Sub(now)
	if debt <= 0 {
		return float64(l.limits.Burst)
	}
	return float64(l.limits.Burst) - float64(debt)/float64(l.every)
}

// tokenReadyLocked reports whether a token can be taken at now (pauses aside).
func (l *Limiter) tokenReadyLocked(now time.Time) bool {
	return !now.Before(l.tat.Add(-l.tau))
}

// takeLocked spends one token; the caller has checked tokenReadyLocked.
func (l *Limiter) takeLocked(now time.Time) {
	if l.tat.Before(now) {
		l.tat = now
	}
	l.tat = l.tat.Add(l.every)
}

// refundLocked puts back a token granted to a caller that left before using it.
func (l *Limiter) refundLocked(now time.Time) {
	l.tat = l.tat.Add(-l.every)
	if l.tat.Before(now) {
		l.tat = now // a full bucket; never more than Burst
	}
}

// idleLocked reports that nobody is queued, so a newcomer may take a token directly without
// overtaking anyone.
func (l *Limiter) idleLocked() bool {
	return l.queues[High].Len() == 0 && l.queues[Low].Len() == 0
}

// Acquire waits for a token for one request of priority p and returns nil when the request may
// be sent. It returns an error wrapping ErrWaitAborted and the context's error when ctx ends
// first; a caller whose deadline falls before the end of a current pause gets that error at
// once, since no token can come in time. A token granted at the moment ctx ended is given back
// to the next waiter.
func (l *Limiter) Acquire(ctx context.Context, p Priority) error {
	p = p.clamp()
	if err := ctx.Err(); err != nil {
		l.mu.Lock()
		l.stats.byPriority(p).Aborted++
		l.mu.Unlock()
		return abortError(err)
	}
	l.mu.Lock()
	now := l.clock.Now()
	if l.idleLocked() && !now.Before(l.pausedUntil) && l.tokenReadyLocked(now) {
		l.takeLocked(now)
		l.stats.byPriority(p).Granted++
		l.checkGrantLocked(now)
		l.mu.Unlock()
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && dl.Before(l.pausedUntil) {
		until := l.pausedUntil
		l.stats.byPriority(p).Aborted++
		l.mu.Unlock()
		return fmt.Errorf("%w: the account is paused until %s, after the deadline: %w",
			ErrWaitAborted, until.Format(time.RFC3339Nano), context.DeadlineExceeded)
	}
	w := &waiter{prio: p, since: now, ready: make(chan struct{})}
	w.elem = l.queues[p].PushBack(w)
	l.stats.byPriority(p).Waited++
	l.dispatchLocked(now)
	l.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now = l.clock.Now()
	if w.granted {
		// Granted while ctx was ending: the select chose Done. Hand the token on.
		l.refundLocked(now)
		l.stats.byPriority(p).Granted--
		l.stats.byPriority(p).WaitTime -= w.waited
	} else {
		l.queues[p].Remove(w.elem)
	}
	l.stats.byPriority(p).Aborted++
	l.dispatchLocked(now)
	return abortError(ctx.Err())
}

func abortError(ctxErr error) error {
	return fmt.Errorf("%w: %w", ErrWaitAborted, ctxErr)
}

// Pause stops every grant, for every worker, until d from now, and returns the end of the
// pause in force (a longer pause already running is kept, never shortened). It is what the
// wrapped client calls on a 429 with Face's Retry-After; d <= 0 means DefaultPause and d is
// capped at MaxPause. It also empties the bucket, because a 429 shows that Face's bucket is
// empty, so after the pause tokens come back at the quota's rate as Face's do.
func (l *Limiter) Pause(d time.Duration) time.Time {
	if d <= 0 {
		d = DefaultPause
	}
	d = min(d, MaxPause)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if empty := now.Add(l.tau + l.every); l.tat.Before(empty) {
		l.tat = empty
	}
	l.stats.Pauses++
	if until := now.Add(d); until.After(l.pausedUntil) {
		l.stats.PausedTime += until.Sub(laterOf(l.pausedUntil, now))
		l.pausedUntil = until
	}
	l.dispatchLocked(now)
	return l.pausedUntil
}

// PausedUntil returns when the current pause ends, or the zero time when the account is not
// paused, so a controller can say "throttled until ..." in a condition.
func (l *Limiter) PausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clock.Now().Before(l.pausedUntil) {
		return l.pausedUntil
	}
	return time.Time{}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// dispatchLocked grants every token that is due, in priority order, then arms the timer for the
// next moment something can change (end of the pause or next token). It is the only place that
// grants to queued callers, which is what makes the order strict.
func (l *Limiter) dispatchLocked(now time.Time) {
	for !l.idleLocked() {
		if now.Before(l.pausedUntil) {
			l.armLocked(l.pausedUntil, now)
			return
		}
		if !l.tokenReadyLocked(now) {
			l.armLocked(l.tat.Add(-l.tau), now)
			return
		}
		w := l.pickLocked()
		l.queues[w.prio].Remove(w.elem)
		l.takeLocked(now)
		w.granted, w.waited = true, now.Sub(w.since)
		ps := l.stats.byPriority(w.prio)
		ps.Granted++
		ps.WaitTime += w.waited
		l.checkGrantLocked(now)
		close(w.ready)
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// pickLocked chooses the next waiter to serve: the oldest High one, else the oldest Low one.
// Strict priority cannot starve polls for long: each session is created once and deleted once.
func (l *Limiter) pickLocked() *waiter {
	if high := l.queues[High].Front(); high != nil {
		return high.Value.(*waiter)
	}
	return l.queues[Low].Front().Value.(*waiter)
}

// armLocked makes sure dispatch runs again at (or before) at. An earlier timer is kept: it will
// dispatch, find nothing to do yet and re-arm.
func (l *Limiter) armLocked(at, now time.Time) {
	if l.timer != nil && !l.timerAt.After(at) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timerGen++
	gen := l.timerGen
	l.timerAt = at
	// The callback starts a goroutine because the fake clock runs AfterFunc callbacks while
	// holding its own lock, and wake reads the clock; the real clock does not care.
	l.timer = l.clock.AfterFunc(at.Sub(now), func() { go l.wake(gen) })
}

// wake is the timer's work: grant whatever has become due.
func (l *Limiter) wake(gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen == l.timerGen {
		l.timer = nil
	}
	l.dispatchLocked(l.clock.Now())
}

// Stats are a limiter's counters since it was created, for metrics and reports.
type Stats struct {
	// Limits are the limits in force.
	Limits Limits
	// High and Low count acquisitions per priority.
	High, Low PriorityStats
	// Pauses counts Pause calls, i.e. throttling answers seen.
	Pauses int64
	// PausedTime is the total time the account was paused (overlapping pauses counted once),
	// including the rest of a pause still running.
	PausedTime time.Duration
	// PausedUntil is the end of the current pause, or the zero time.
	PausedUntil time.Time
	// GrantedDuringPause counts tokens granted while a pause was in force; see checkGrantLocked.
	GrantedDuringPause int64
}

// PriorityStats count one priority's acquisitions.
type PriorityStats struct {
	// Granted counts tokens handed out (directly or after waiting).
	Granted int64
	// Waited counts acquisitions that found no token at once and queued.
	Waited int64
	// WaitTime is the total time granted callers spent queued.
	WaitTime time.Duration
	// Aborted counts acquisitions that gave up because their context ended.
	Aborted int64
	// Waiting is the number of callers queued right now.
	Waiting int
}

func (s *Stats) byPriority(p Priority) *PriorityStats {
	if p == High {
		return &s.High
	}
	return &s.Low
}

// Stats returns a snapshot of the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Limits = l.limits
	s.High.Waiting = l.queues[High].Len()
	s.Low.Waiting = l.queues[Low].Len()
	if l.clock.Now().Before(l.pausedUntil) {
		s.PausedUntil = l.pausedUntil
	}
	return s
}

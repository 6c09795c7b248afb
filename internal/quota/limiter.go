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

	// queue holds the waiting calls, in a lane per flow and priority (fair_queue.go).
	queue fairQueue
	// flowCaps caps each flow at Limits.FlowShare of the account (none by default).
	flowCaps flowCaps
	// tickets are the non-blocking callers' places and held tokens by owner id, held the
	// granted ones oldest first (tickets.go).
	tickets map[string]*ticket
	held    list.List // of *ticket

	timer    clock.Timer // wakes dispatch when the next token or the end of a pause is due
	timerAt  time.Time
	timerGen uint64

	stats Stats
}

// waiter is one queued call: a blocked Acquire, or a ticket.
type waiter struct {
	prio    Priority
	flow    string
	since   time.Time
	ready   chan struct{} // a blocked Acquire's: closed when granted
	ticket  *ticket       // a ticket's (tickets.go); nil for a blocked Acquire
	granted bool
	waited  time.Duration // set when granted
	elem    *list.Element // in its lane while queued
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
	l.flowCaps.configure(lim.FlowShare, lim.RequestsPerSecond, lim.Burst)
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
	return l.queue.len() == 0
}

// grantNowLocked takes a token at once for a call of flow at priority p when nobody is queued,
// the account is not paused, a token is ready and the flow's cap allows it, and reports
// whether it did.
func (l *Limiter) grantNowLocked(flow string, p Priority, now time.Time) bool {
	if !l.idleLocked() || now.Before(l.pausedUntil) || !l.tokenReadyLocked(now) || !l.flowCaps.ready(flow, now) {
		return false
	}
	l.takeLocked(now)
	l.flowCaps.take(flow, now)
	ps := l.stats.byPriority(p)
	ps.Granted++
	ps.GrantedAlone++
	l.stats.WaitHistogram[p].observe(0)
	l.checkGrantLocked(now)
	return true
}

// Acquire waits for a token for one request of priority p and returns nil when the request may
// be sent. It returns an error wrapping ErrWaitAborted and the context's error when ctx ends
// first; a caller whose deadline falls before the end of a current pause gets that error at
// once, since no token can come in time. A token granted at the moment ctx ended is given back
// to the next waiter.
//
// The call queues in the lane of its flow (WithFlow; the account's fair queue gives every
// flow its turn). With a ticket owner in ctx (WithTicket) Acquire never blocks: see tickets.go.
func (l *Limiter) Acquire(ctx context.Context, p Priority) error {
	p = p.clamp()
	flow := flowOf(ctx)
	if owner := ticketOf(ctx); owner != nil {
		return l.acquireTicket(owner, flow, p)
	}
	if err := ctx.Err(); err != nil {
		l.mu.Lock()
		l.stats.byPriority(p).Aborted++
		l.mu.Unlock()
		return abortError(err)
	}
	l.mu.Lock()
	now := l.clock.Now()
	if l.grantNowLocked(flow, p, now) {
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
	w := &waiter{prio: p, flow: flow, since: now, ready: make(chan struct{})}
	l.queue.push(w)
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
		l.flowCaps.refund(flow, now)
		l.stats.byPriority(p).Granted--
		l.stats.byPriority(p).WaitTime -= w.waited
	} else {
		l.queue.remove(w)
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

// dispatchLocked grants every token that is due, in priority order and in turn across the
// flows' lanes (fair_queue.go), then arms the timer for the next moment something can change
// (end of the pause, next token, a capped flow's next token). It is the only place that
// grants to queued callers, which is what makes the order strict.
func (l *Limiter) dispatchLocked(now time.Time) {
	l.expireHeldLocked(now)
	for !l.idleLocked() {
		if now.Before(l.pausedUntil) {
			l.armLocked(l.pausedUntil, now)
			return
		}
		if !l.tokenReadyLocked(now) {
			l.armLocked(l.tat.Add(-l.tau), now)
			return
		}
		w, shared := l.queue.pick(func(flow string) bool { return l.flowCaps.ready(flow, now) })
		if w == nil {
			// Every waiting flow is at its cap: the next one's token.
			l.armLocked(l.nextCapReadyLocked(now), now)
			return
		}
		l.takeLocked(now)
		l.flowCaps.take(w.flow, now)
		w.granted, w.waited = true, now.Sub(w.since)
		ps := l.stats.byPriority(w.prio)
		ps.Granted++
		ps.WaitTime += w.waited
		if shared {
			ps.GrantedShared++
		} else {
			ps.GrantedAlone++
		}
		l.stats.WaitHistogram[w.prio].observe(w.waited)
		l.checkGrantLocked(now)
		if w.ticket != nil {
			l.grantTicketLocked(w.ticket, now)
		} else {
			close(w.ready)
		}
	}
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.flowCaps.capped() {
		l.flowCaps.forgetFull(now)
	}
}

// nextCapReadyLocked is the earliest moment a capped flow with queued calls may take a token.
func (l *Limiter) nextCapReadyLocked(now time.Time) time.Time {
	next := time.Time{}
	for p := range l.queue.levels {
		for flow := range l.queue.levels[p].lanes {
			if at := l.flowCaps.readyAt(flow); next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	if next.Before(now) {
		return now
	}
	return next
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
	// WaitHistogram is, per priority, how long granted calls waited for their token.
	WaitHistogram [numPriorities]WaitHistogram
}

// PriorityStats count one priority's acquisitions.
type PriorityStats struct {
	// Granted counts tokens handed out (directly or after waiting).
	Granted int64
	// Waited counts acquisitions that found no token at once and queued.
	Waited int64
	// WaitTime is the total time granted callers spent queued.
	WaitTime time.Duration
	// Aborted counts acquisitions that gave up because their context ended, and tickets
	// dropped before their turn (Forget).
	Aborted int64
	// GrantedAlone and GrantedShared split Granted by whether other lanes (flows) were
	// waiting at the moment of the grant: shared grants are the ones fair queuing decided.
	GrantedAlone, GrantedShared int64
	// Expired counts tickets' tokens that went back unused (TicketHold passed).
	Expired int64
	// Lanes is the number of flows with calls queued right now.
	Lanes int
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
	s.High.Waiting, s.High.Lanes = l.queue.waitingAt(High), l.queue.lanesAt(High)
	s.Low.Waiting, s.Low.Lanes = l.queue.waitingAt(Low), l.queue.lanesAt(Low)
	if l.clock.Now().Before(l.pausedUntil) {
		s.PausedUntil = l.pausedUntil
	}
	return s
}

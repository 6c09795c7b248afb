package quota

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"
)

// t0 is far in the future so that contexts with deadlines taken from the fake clock never
// expire in real time.
var t0 = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// exact drops the margin, for tests of the bucket arithmetic itself.
func exact(l Limits) Limits {
	l.Margin = NoMargin
	return l
}

func newTestLimiter(t *testing.T, lim Limits) (*Limiter, *testingclock.FakeClock) {
	t.Helper()
	fc := testingclock.NewFakeClock(t0)
	return NewLimiter(lim, fc), fc
}

// grant is the outcome of one background Acquire.
type grant struct {
	id  string
	err error
}

// acquireAsync starts Acquire in the background and waits until it is queued (it must not get a
// token at once), so that callers started one after the other are queued in that order.
func acquireAsync(t *testing.T, l *Limiter, ctx context.Context, p Priority, id string, out chan<- grant) {
	t.Helper()
	waited := func() int64 { s := l.Stats(); return s.byPriority(p).Waited }
	before := waited()
	go func() { out <- grant{id: id, err: l.Acquire(ctx, p)} }()
	require.Eventually(t, func() bool { return waited() == before+1 }, 5*time.Second, time.Millisecond, "%s never queued", id)
}

// step advances the fake clock and makes every due grant synchronously.
func step(fc *testingclock.FakeClock, l *Limiter, d time.Duration) {
	fc.Step(d)
	l.Poke()
}

func receive(t *testing.T, out <-chan grant) grant {
	t.Helper()
	select {
	case g := <-out:
		return g
	case <-time.After(5 * time.Second):
		t.Fatal("no grant arrived")
		return grant{}
	}
}

// requireWaiting asserts the queue lengths; after Poke they are exact, so "not granted" is
// proven without sleeping.
func requireWaiting(t *testing.T, l *Limiter, high, low int) {
	t.Helper()
	s := l.Stats()
	require.Equal(t, high, s.High.Waiting, "high waiting")
	require.Equal(t, low, s.Low.Waiting, "low waiting")
}

func TestDefaults(t *testing.T) {
	l := NewLimiter(Limits{}, nil)
	require.Equal(t, DefaultLimits(), l.Limits())
	require.Equal(t, Limits{RequestsPerSecond: 10, Burst: 10, Margin: 100 * time.Millisecond}, DefaultLimits())
	require.Equal(t, 100*time.Millisecond, DefaultLimits().interval())
	require.Equal(t, 800*time.Millisecond, DefaultLimits().tolerance(), "9 tokens at once, one kept in hand")
	require.Equal(t, 900*time.Millisecond, exact(DefaultLimits()).tolerance())

	f0 := NewLimiter(PerMinute(20), nil).Limits()
	require.InDelta(t, 1.0/3, f0.RequestsPerSecond, 1e-12)
	require.Equal(t, 1, f0.Burst)
	require.Equal(t, 3*time.Second, f0.interval(), "60s/20 must be exact, not rounded up a nanosecond")
	require.Equal(t, DefaultMargin, f0.Margin)
	require.Equal(t, -100*time.Millisecond, f0.tolerance(), "a burst of 1 pays the margin in spacing")
	// The default margin stays cheap: no more than the saved-up burst, or a tenth of the rate.
	require.Equal(t, 40*time.Millisecond, Limits{RequestsPerSecond: 100, Burst: 5}.withDefaults().Margin)
	require.Equal(t, 10*time.Millisecond, Limits{RequestsPerSecond: 10, Burst: 1}.withDefaults().Margin)
	require.Equal(t, NoMargin, Limits{Margin: -time.Hour}.withDefaults().Margin)
	require.Equal(t, 1, NewLimiter(Limits{RequestsPerSecond: 0.5}, nil).Limits().Burst, "default burst for a slow rate")
	require.Equal(t, 142857143*time.Nanosecond, Limits{RequestsPerSecond: 7}.interval(), "rounded up: never faster than the quota")
}

func TestValidate(t *testing.T) {
	for _, bad := range []Limits{
		{RequestsPerSecond: -1},
		{RequestsPerSecond: MinRequestsPerSecond / 2},
		{Burst: -1},
		{Burst: MaxBurst + 1},
		PerMinute(-5),
		{Margin: MaxMargin + 1},
	} {
		require.Error(t, bad.Validate(), "%+v", bad)
		require.Panics(t, func() { NewLimiter(bad, nil) }, "%+v", bad)
	}
	for _, good := range []Limits{{}, DefaultLimits(), PerMinute(20), {RequestsPerSecond: 0.5, Burst: 3}} {
		require.NoError(t, good.Validate(), "%+v", good)
	}
}

func TestBurstThenSteadyRate(t *testing.T) {
	l, fc := newTestLimiter(t, exact(DefaultLimits()))
	ctx := context.Background()
	for i := range 10 {
		require.NoError(t, l.Acquire(ctx, High), "burst token %d", i)
	}
	require.Zero(t, l.Stats().High.Waited, "the burst is granted without queueing")
	require.False(t, l.TryAcquire(High), "the bucket is empty")

	out := make(chan grant, 4)
	acquireAsync(t, l, ctx, High, "a", out)
	step(fc, l, 99*time.Millisecond)
	requireWaiting(t, l, 1, 0)
	step(fc, l, time.Millisecond)
	require.Equal(t, "a", receive(t, out).id)
	requireWaiting(t, l, 0, 0)

	acquireAsync(t, l, ctx, Low, "b", out)
	step(fc, l, 99*time.Millisecond)
	requireWaiting(t, l, 0, 1)
	step(fc, l, time.Millisecond)
	g := receive(t, out)
	require.Equal(t, "b", g.id)
	require.NoError(t, g.err)

	// After a long idle period the bucket holds Burst tokens, not more.
	fc.Step(time.Hour)
	for i := range 10 {
		require.True(t, l.TryAcquire(Low), "token %d", i)
	}
	require.False(t, l.TryAcquire(Low))

	s := l.Stats()
	require.Equal(t, int64(11), s.High.Granted)
	require.Equal(t, int64(11), s.Low.Granted)
	require.Equal(t, int64(1), s.High.Waited)
	require.Equal(t, 100*time.Millisecond, s.High.WaitTime)
	require.Equal(t, 100*time.Millisecond, s.Low.WaitTime)
}

// The per-minute form never lets more than n calls into any 60 s window, which is what Face's
// minute window requires, and still gives all n of them.
func TestPerMinuteArithmetic(t *testing.T) {
	schedule := func(lim Limits) []time.Duration {
		l, fc := newTestLimiter(t, lim)
		var at []time.Duration
		for s := 0; s < 1800; s++ {
			for l.TryAcquire(High) {
				at = append(at, fc.Now().Sub(t0))
			}
			fc.Step(100 * time.Millisecond)
		}
		return at
	}
	maxInWindow := func(at []time.Duration) int {
		most := 0
		for i := range at {
			n := 0
			for j := i; j < len(at) && at[j] < at[i]+time.Minute; j++ {
				n++
			}
			most = max(most, n)
		}
		return most
	}

	at := schedule(exact(PerMinute(20)))
	require.Len(t, at, 60, "20 per minute for 3 minutes")
	for i, d := range at {
		require.Equal(t, time.Duration(i)*3*time.Second, d, "grant %d", i)
	}
	require.Equal(t, 20, maxInWindow(at))

	// Why the burst must be 1: with 2, a minute window sees 21 calls.
	require.Equal(t, 21, maxInWindow(schedule(exact(Limits{RequestsPerSecond: 20.0 / 60, Burst: 2}))))

	// With the default margin the 21st call comes 2 s after the minute, not on its edge.
	at = schedule(PerMinute(20))
	require.Equal(t, 62*time.Second, at[20])
	require.Equal(t, 20, maxInWindow(at))
	require.Len(t, at, 59, "3.1 s apart: 97 % of the quota")
}

func TestPauseGrantsNothingInsideTheWindow(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	ctx := context.Background()

	require.Equal(t, t0.Add(2*time.Second), l.Pause(2*time.Second))
	require.Equal(t, t0.Add(2*time.Second), l.PausedUntil())
	require.False(t, l.TryAcquire(High), "no token during a pause, although the bucket was full")

	out := make(chan grant, 8)
	acquireAsync(t, l, ctx, High, "h1", out)
	acquireAsync(t, l, ctx, High, "h2", out)
	acquireAsync(t, l, ctx, Low, "l1", out)
	step(fc, l, time.Second)
	// A second 429 inside the window, with a shorter Retry-After, does not shorten it.
	require.Equal(t, t0.Add(2*time.Second), l.Pause(500*time.Millisecond))
	step(fc, l, 999*time.Millisecond)
	requireWaiting(t, l, 2, 1)
	require.Equal(t, int64(0), l.Stats().High.Granted+l.Stats().Low.Granted)

	step(fc, l, time.Millisecond)
	requireWaiting(t, l, 0, 0)
	ids := map[string]bool{}
	for range 3 {
		ids[receive(t, out).id] = true
	}
	require.Equal(t, map[string]bool{"h1": true, "h2": true, "l1": true}, ids)
	require.True(t, l.PausedUntil().IsZero(), "the pause is over")

	s := l.Stats()
	require.Equal(t, int64(2), s.Pauses)
	require.Equal(t, 2*time.Second, s.PausedTime, "overlapping pauses count once")
	require.True(t, s.PausedUntil.IsZero())
	require.Equal(t, 4*time.Second, s.High.WaitTime, "two callers waited 2 s each")
}

func TestPauseDefaultsCapsAndEmptiesTheBucket(t *testing.T) {
	l, fc := newTestLimiter(t, exact(DefaultLimits()))
	require.Equal(t, t0.Add(DefaultPause), l.Pause(0), "no Retry-After: default pause")
	fc.Step(DefaultPause)
	// The 429 showed Face's bucket was empty; after 1 s at 10/s it holds 10 again, not more.
	for i := range 10 {
		require.True(t, l.TryAcquire(High), "token %d", i)
	}
	require.False(t, l.TryAcquire(High))

	// A short pause leaves room for only what the quota refilled during it.
	fc.Step(time.Hour)
	l.Pause(100 * time.Millisecond)
	fc.Step(100 * time.Millisecond)
	require.True(t, l.TryAcquire(High))
	require.False(t, l.TryAcquire(High))

	now := fc.Now()
	require.Equal(t, now.Add(MaxPause), l.Pause(24*time.Hour), "an absurd Retry-After is capped")
}

// When both kinds wait, High gets every token first; each kind is served in arrival order.
func TestHighPriorityGoesFirst(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	ctx := context.Background()
	require.True(t, l.TryAcquire(High))

	out := make(chan grant, 8)
	acquireAsync(t, l, ctx, Low, "l1", out)
	acquireAsync(t, l, ctx, Low, "l2", out)
	acquireAsync(t, l, ctx, Low, "l3", out)
	acquireAsync(t, l, ctx, High, "h1", out)
	acquireAsync(t, l, ctx, High, "h2", out)
	require.False(t, l.TryAcquire(High), "TryAcquire never overtakes queued callers")

	var order []string
	for range 5 {
		step(fc, l, 100*time.Millisecond)
		order = append(order, receive(t, out).id)
	}
	require.Equal(t, []string{"h1", "h2", "l1", "l2", "l3"}, order)
	require.Equal(t, int64(3), l.Stats().High.Granted)
	require.Equal(t, int64(3), l.Stats().Low.Granted)
}

// A high-priority caller that arrives while polls are queued overtakes them all.
func TestLateHighOvertakesQueuedLows(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	ctx := context.Background()
	require.True(t, l.TryAcquire(Low))
	out := make(chan grant, 8)
	acquireAsync(t, l, ctx, Low, "l1", out)
	acquireAsync(t, l, ctx, Low, "l2", out)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "l1", receive(t, out).id)
	acquireAsync(t, l, ctx, High, "h1", out)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "h1", receive(t, out).id)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "l2", receive(t, out).id)
}

func TestCancelWhileWaiting(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	require.True(t, l.TryAcquire(High))

	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan grant, 4)
	acquireAsync(t, l, ctx, High, "cancelled", out)
	acquireAsync(t, l, context.Background(), Low, "poll", out)
	cancel()
	g := receive(t, out)
	require.Equal(t, "cancelled", g.id)
	require.ErrorIs(t, g.err, ErrWaitAborted)
	require.ErrorIs(t, g.err, context.Canceled)
	requireWaiting(t, l, 0, 1)

	// The cancelled caller's place is not held: the poll gets the next token.
	step(fc, l, 100*time.Millisecond)
	g = receive(t, out)
	require.Equal(t, "poll", g.id)
	require.NoError(t, g.err)

	s := l.Stats()
	require.Equal(t, int64(1), s.High.Aborted)
	require.Equal(t, int64(1), s.High.Granted, "only the TryAcquire")
	require.Equal(t, int64(1), s.Low.Granted)

	// An already-ended context takes no token.
	fc.Step(time.Hour)
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	require.ErrorIs(t, l.Acquire(done, High), context.Canceled)
	require.True(t, l.TryAcquire(High), "the token is still there")
}

func TestDeadlineBeforePauseEndFailsAtOnce(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	l.Pause(2 * time.Second)

	ctx, cancel := context.WithDeadline(context.Background(), fc.Now().Add(time.Second))
	defer cancel()
	err := l.Acquire(ctx, High)
	require.ErrorIs(t, err, ErrWaitAborted)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "paused until")
	requireWaiting(t, l, 0, 0)

	// A deadline after the end of the pause waits for it.
	ctx2, cancel2 := context.WithDeadline(context.Background(), fc.Now().Add(3*time.Second))
	defer cancel2()
	out := make(chan grant, 1)
	acquireAsync(t, l, ctx2, High, "patient", out)
	step(fc, l, 2*time.Second)
	require.NoError(t, receive(t, out).err)
}

func TestRefundedTokenIsNotLost(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 2}))
	require.True(t, l.TryAcquire(High))
	l.mu.Lock()
	l.refundLocked(fc.Now())
	l.refundLocked(fc.Now()) // never more than Burst
	l.mu.Unlock()
	require.True(t, l.TryAcquire(High))
	require.True(t, l.TryAcquire(High))
	require.False(t, l.TryAcquire(High))
}

func TestSetLimitsAtRunTime(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 1, Burst: 1}))
	ctx := context.Background()
	require.True(t, l.TryAcquire(High))
	out := make(chan grant, 4)
	acquireAsync(t, l, ctx, High, "a", out)

	// The account moves to S0: the waiter no longer needs a whole second.
	require.NoError(t, l.SetLimits(exact(DefaultLimits())))
	require.Equal(t, exact(DefaultLimits()), l.Limits())
	step(fc, l, 99*time.Millisecond)
	requireWaiting(t, l, 1, 0)
	step(fc, l, time.Millisecond)
	require.Equal(t, "a", receive(t, out).id)

	// Saved tokens are kept but capped at the new burst: down to F0, one call now, the next 3 s later.
	fc.Step(time.Hour)
	require.NoError(t, l.SetLimits(exact(PerMinute(20))))
	require.True(t, l.TryAcquire(High))
	require.False(t, l.TryAcquire(High))
	fc.Step(3*time.Second - time.Nanosecond)
	require.False(t, l.TryAcquire(High))
	fc.Step(time.Nanosecond)
	require.True(t, l.TryAcquire(High))

	// Invalid limits are refused and the old ones stay.
	err := l.SetLimits(Limits{RequestsPerSecond: -3})
	require.Error(t, err)
	require.Equal(t, exact(PerMinute(20)).withDefaults(), l.Limits())
	require.Equal(t, exact(PerMinute(20)).withDefaults(), l.Stats().Limits)

	// Back to S0 with the default margin: the margin is applied at once.
	fc.Step(time.Hour)
	require.NoError(t, l.SetLimits(DefaultLimits()))
	require.Zero(t, drain(l), "tokens are kept, not refilled: the one saved up is the one the margin keeps in hand")
	fc.Step(100 * time.Millisecond)
	require.Equal(t, 1, drain(l))
	fc.Step(time.Hour)
	require.Equal(t, 9, drain(l))
}

func TestSetLimitsKeepsAPause(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	l.Pause(time.Second)
	require.NoError(t, l.SetLimits(Limits{RequestsPerSecond: 100, Burst: 100}))
	require.Equal(t, t0.Add(time.Second), l.PausedUntil(), "a new quota does not lift Face's Retry-After")
	fc.Step(time.Second)
	require.True(t, l.TryAcquire(High))
}

// drain takes every token available now.
func drain(l *Limiter) int {
	n := 0
	for l.TryAcquire(High) {
		n++
	}
	return n
}

// The default margin keeps one S0 token in hand and costs nothing in rate.
func TestDefaultMarginAtS0(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	require.Equal(t, 9, drain(l))
	for range 20 {
		fc.Step(100 * time.Millisecond)
		require.Equal(t, 1, drain(l), "still one token per 100 ms")
	}
	fc.Step(time.Hour)
	require.Equal(t, 9, drain(l))
}

func TestUnknownPriorityIsLow(t *testing.T) {
	l, _ := newTestLimiter(t, DefaultLimits())
	require.NoError(t, l.Acquire(context.Background(), Priority(7)))
	require.Equal(t, int64(1), l.Stats().Low.Granted)
	require.Equal(t, "low", Low.String())
	require.Equal(t, "high", High.String())
	require.Equal(t, "Priority(7)", Priority(7).String())
}

// Many goroutines against a real clock: nothing is granted faster than the quota allows, and
// every caller eventually gets a token. Mostly a race-detector exercise.
func TestConcurrentRealClock(t *testing.T) {
	l := NewLimiter(exact(Limits{RequestsPerSecond: 200, Burst: 5}), nil)
	const workers, each = 8, 10
	start := time.Now()
	errs := make(chan error, workers*each)
	for w := range workers {
		go func() {
			for range each {
				p := High
				if w%2 == 0 {
					p = Low
				}
				errs <- l.Acquire(context.Background(), p)
			}
		}()
	}
	for range workers * each {
		require.NoError(t, <-errs)
	}
	elapsed := time.Since(start)
	// 80 tokens at 200/s with 5 saved up: at least 75 intervals of 5 ms.
	require.GreaterOrEqual(t, elapsed, 75*5*time.Millisecond-time.Millisecond)
	s := l.Stats()
	require.Equal(t, int64(workers*each), s.High.Granted+s.Low.Granted)
	require.True(t, errors.Is(abortError(context.Canceled), ErrWaitAborted))
}

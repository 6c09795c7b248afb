package quota

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"
)

// wakes counts each ticket owner's wake-ups; the limiter calls wake from its own goroutine.
type wakes chan string

func (w wakes) ctx(flow, id string) context.Context {
	return WithTicket(WithFlow(context.Background(), flow), id, func() { w <- id })
}

func (w wakes) next(t *testing.T) string {
	t.Helper()
	select {
	case id := <-w:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up")
		return ""
	}
}

// drainedTicketLimiter is a 10/s limiter with a burst of 1 whose one token is taken, so the
// next ticket waits for the clock, and the channel its tickets' owners are woken on.
func drainedTicketLimiter(t *testing.T) (*Limiter, *testingclock.FakeClock, wakes) {
	t.Helper()
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	require.True(t, l.TryAcquire(High))
	return l, fc, make(wakes, 64)
}

// A call with a ticket never blocks: with no token free it returns ErrQueued (and
// ErrWaitAborted: nothing may be sent) at once, and its owner is woken when its turn comes;
// the owner's next call consumes the token held for it.
func TestTicketQueuesWithoutBlockingAndWakesItsOwner(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	w := make(wakes, 8)
	ctx := w.ctx("a", "a/s1")
	require.NoError(t, l.Acquire(ctx, High), "the free token is taken at once")

	err := l.Acquire(ctx, High)
	require.ErrorIs(t, err, ErrQueued)
	require.ErrorIs(t, err, ErrWaitAborted)
	since, ok := QueuedSince(err)
	require.True(t, ok)
	require.Equal(t, t0, since)
	require.GreaterOrEqual(t, QueuedRetryAfter(err), minQueuedRetry)
	require.ErrorIs(t, l.Acquire(ctx, High), ErrQueued, "a second call keeps the same place")

	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "a/s1", w.next(t))
	require.NoError(t, l.Acquire(ctx, High), "the held token is the owner's")
	require.False(t, l.TryAcquire(High), "and nobody else's")
}

// Tickets keep the fair queue's round robin: a quiet flow's ticket is granted after one of a
// noisy flow's, not after its backlog.
func TestTicketsAreServedRoundRobinAcrossFlows(t *testing.T) {
	l, fc, w := drainedTicketLimiter(t)
	for i := range 20 {
		require.ErrorIs(t, l.Acquire(w.ctx("noisy", fmt.Sprintf("noisy/%d", i)), High), ErrQueued)
	}
	require.ErrorIs(t, l.Acquire(w.ctx("quiet", "quiet/0"), High), ErrQueued)
	var order []string
	for range 3 {
		step(fc, l, 100*time.Millisecond)
		order = append(order, w.next(t))
	}
	require.Equal(t, []string{"noisy/0", "quiet/0", "noisy/1"}, order)
}

// A granted token whose owner never comes back is not lost: after TicketHold it goes back to
// the bucket for the next caller.
func TestHeldTokenExpiresBackToTheBucket(t *testing.T) {
	l, fc, w := drainedTicketLimiter(t)
	require.ErrorIs(t, l.Acquire(w.ctx("a", "a/gone"), High), ErrQueued)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "a/gone", w.next(t))
	require.False(t, l.TryAcquire(High), "held for its owner")
	step(fc, l, TicketHold)
	require.True(t, l.TryAcquire(High), "the unused token went back")
	require.Equal(t, int64(1), l.Stats().High.Expired)
}

// Forget gives a deleted owner's place back: a waiting ticket leaves its lane (the next flow
// is served instead) and a held token returns to the bucket at once.
func TestForgetGivesThePlaceBack(t *testing.T) {
	l, fc, w := drainedTicketLimiter(t)
	require.ErrorIs(t, l.Acquire(w.ctx("a", "a/deleted"), High), ErrQueued)
	require.ErrorIs(t, l.Acquire(w.ctx("b", "b/kept"), High), ErrQueued)
	l.Forget("a/deleted")
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "b/kept", w.next(t), "the forgotten ticket was not served")

	require.ErrorIs(t, l.Acquire(w.ctx("a", "a/held"), High), ErrQueued)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "a/held", w.next(t))
	l.Forget("a/held")
	require.True(t, l.TryAcquire(High), "the held token went back at once")
	l.Forget("never-queued") // no-op
}

// A poll's ticket whose owner then needs a delete moves to the High level: it is served before
// other flows' polls.
func TestTicketRaisedToAHigherPriority(t *testing.T) {
	l, fc, w := drainedTicketLimiter(t)
	require.ErrorIs(t, l.Acquire(w.ctx("a", "a/poll"), Low), ErrQueued)
	require.ErrorIs(t, l.Acquire(w.ctx("b", "b/deleting"), Low), ErrQueued)
	require.ErrorIs(t, l.Acquire(w.ctx("b", "b/deleting"), High), ErrQueued)
	step(fc, l, 100*time.Millisecond)
	require.Equal(t, "b/deleting", w.next(t))
}

// During a Retry-After pause no ticket is granted: nothing can be sent inside the window.
func TestNoTicketGrantedWhilePaused(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	w := make(wakes, 8)
	l.Pause(2 * time.Second)
	err := l.Acquire(w.ctx("a", "a/s"), High)
	require.True(t, errors.Is(err, ErrQueued))
	require.GreaterOrEqual(t, QueuedRetryAfter(err), 2*time.Second, "the fallback re-check is not inside the pause")
	for range 19 {
		step(fc, l, 100*time.Millisecond)
	}
	select {
	case id := <-w:
		t.Fatalf("%s woken inside the Retry-After window", id)
	default:
	}
	step(fc, l, 200*time.Millisecond)
	require.Equal(t, "a/s", w.next(t))
}

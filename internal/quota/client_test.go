package quota

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/face"
)

// fakeFace answers every call with err (nil by default) and counts calls per operation.
type fakeFace struct {
	mu    sync.Mutex
	err   error
	calls map[string]int
}

func (f *fakeFace) record(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	return f.err
}

func (f *fakeFace) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeFace) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeFace) CreateLivenessSession(context.Context, face.CreateLivenessSessionRequest) (*face.LivenessSession, error) {
	return &face.LivenessSession{SessionID: "s"}, f.record("create")
}
func (f *fakeFace) GetLivenessSessionResult(context.Context, string) (*face.LivenessSession, error) {
	return &face.LivenessSession{SessionID: "s"}, f.record("get")
}
func (f *fakeFace) DeleteLivenessSession(context.Context, string) error { return f.record("delete") }
func (f *fakeFace) CreateLivenessWithVerifySession(context.Context, face.CreateLivenessWithVerifySessionRequest) (*face.LivenessWithVerifySession, error) {
	return &face.LivenessWithVerifySession{SessionID: "v"}, f.record("createVerify")
}
func (f *fakeFace) GetLivenessWithVerifySessionResult(context.Context, string) (*face.LivenessWithVerifySession, error) {
	return &face.LivenessWithVerifySession{SessionID: "v"}, f.record("getVerify")
}
func (f *fakeFace) DeleteLivenessWithVerifySession(context.Context, string) error {
	return f.record("deleteVerify")
}
func (f *fakeFace) GetSessionImage(context.Context, string) ([]byte, error) {
	return []byte("img"), f.record("image")
}
func (f *fakeFace) DetectFromSessionImageID(context.Context, string, face.DetectOptions) ([]face.FaceDetectionResult, error) {
	return []face.FaceDetectionResult{{}}, f.record("detect")
}

func throttled(retryAfter time.Duration) error {
	return fmt.Errorf("wrapped: %w", &face.ResponseError{Operation: "GetLivenessSessionResult", StatusCode: 429, RetryAfter: retryAfter})
}

func TestWrapPriorities(t *testing.T) {
	l, _ := newTestLimiter(t, Limits{RequestsPerSecond: 100, Burst: 100})
	f := &fakeFace{}
	c := l.Wrap(f)
	ctx := context.Background()

	s, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{})
	require.NoError(t, err)
	require.Equal(t, "s", s.SessionID, "results pass through")
	_, err = c.GetLivenessSessionResult(ctx, "s")
	require.NoError(t, err)
	require.NoError(t, c.DeleteLivenessSession(ctx, "s"))
	v, err := c.CreateLivenessWithVerifySession(ctx, face.CreateLivenessWithVerifySessionRequest{})
	require.NoError(t, err)
	require.Equal(t, "v", v.SessionID)
	_, err = c.GetLivenessWithVerifySessionResult(ctx, "v")
	require.NoError(t, err)
	require.NoError(t, c.DeleteLivenessWithVerifySession(ctx, "v"))
	img, err := c.GetSessionImage(ctx, "i")
	require.NoError(t, err)
	require.Equal(t, []byte("img"), img)
	faces, err := c.DetectFromSessionImageID(ctx, "i", face.DetectOptions{})
	require.NoError(t, err)
	require.Len(t, faces, 1)

	st := l.Stats()
	require.Equal(t, int64(6), st.High.Granted, "creates, deletes, image and detect")
	require.Equal(t, int64(2), st.Low.Granted, "the two result reads")
	require.Zero(t, st.Pauses)
}

// A 429 returns to its caller and pauses everyone else for its Retry-After.
func TestWrapPausesTheAccountOnThrottle(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	f := &fakeFace{err: throttled(2 * time.Second)}
	c := l.Wrap(f)
	ctx := context.Background()

	_, err := c.GetLivenessSessionResult(ctx, "s")
	require.True(t, face.IsThrottled(err), "the 429 reaches its caller unchanged")
	require.Equal(t, 2*time.Second, face.RetryAfter(err))
	require.Equal(t, t0.Add(2*time.Second), l.PausedUntil())

	// Another worker's create waits for the end of the window; nothing reaches Face inside it.
	f.setErr(nil)
	done := make(chan error, 1)
	go func() {
		_, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{})
		done <- err
	}()
	require.Eventually(t, func() bool { return l.Stats().High.Waiting == 1 }, 5*time.Second, time.Millisecond)
	step(fc, l, 2*time.Second-time.Millisecond)
	requireWaiting(t, l, 1, 0)
	require.Zero(t, f.count("create"))
	step(fc, l, time.Millisecond)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("create never ran after the pause")
	}
	require.Equal(t, 1, f.count("create"))
	require.True(t, l.PausedUntil().IsZero())
	require.Equal(t, int64(1), l.Stats().Pauses)
}

func TestObserve(t *testing.T) {
	l, fc := newTestLimiter(t, DefaultLimits())
	require.True(t, l.Observe(throttled(0)))
	require.Equal(t, t0.Add(DefaultPause), l.PausedUntil(), "a 429 without Retry-After pauses for the default")

	fc.Step(time.Hour)
	now := fc.Now()
	require.True(t, l.Observe(&face.ResponseError{StatusCode: 503, RetryAfter: 3 * time.Second}))
	require.Equal(t, now.Add(3*time.Second), l.PausedUntil(), "a 503 with Retry-After asks for the same silence")

	fc.Step(time.Hour)
	for _, err := range []error{
		nil,
		errors.New("boom"),
		&face.ResponseError{StatusCode: 503},
		&face.ResponseError{StatusCode: 404},
		&face.ResponseError{StatusCode: 500, RetryAfter: time.Second},
		&face.TransportError{Operation: "x", Err: context.DeadlineExceeded},
	} {
		require.False(t, l.Observe(err), "%v", err)
	}
	require.True(t, l.PausedUntil().IsZero())
}

// A call whose context ends while waiting is never sent.
func TestWrapDoesNotSendAbortedCalls(t *testing.T) {
	l, _ := newTestLimiter(t, DefaultLimits())
	f := &fakeFace{}
	c := l.Wrap(f)
	l.Pause(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(time.Second))
	defer cancel()
	err := c.DeleteLivenessSession(ctx, "s")
	require.ErrorIs(t, err, ErrWaitAborted)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.False(t, face.IsThrottled(err))
	_, err = c.GetLivenessWithVerifySessionResult(ctx, "v")
	require.ErrorIs(t, err, ErrWaitAborted)
	require.Zero(t, f.count("delete")+f.count("getVerify"))
	require.Equal(t, int64(1), l.Stats().High.Aborted)
	require.Equal(t, int64(1), l.Stats().Low.Aborted)
}

// TestHangingAccountHoldsAtMostItsCallSlots: calls to an account whose endpoint hangs take at
// most MaxConcurrentCalls slots; the next call is refused with ErrAccountBusy (never sent, no
// quota spent) within CallSlotWait instead of holding another worker until its timeout.
func TestHangingAccountHoldsAtMostItsCallSlots(t *testing.T) {
	release := make(chan struct{})
	hanging := &hangingClient{release: release, started: make(chan struct{}, 8)}
	l := NewLimiter(Limits{RequestsPerSecond: 1000, Burst: 1000, MaxConcurrentCalls: 2}, nil)
	c := l.Wrap(hanging)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.GetLivenessSessionResult(context.Background(), "s")
			done <- err
		}()
		<-hanging.started
	}
	start := time.Now()
	_, err := c.GetLivenessSessionResult(context.Background(), "s")
	require.ErrorIs(t, err, ErrAccountBusy)
	require.ErrorIs(t, err, ErrWaitAborted)
	require.Less(t, time.Since(start), CallSlotWait+time.Second)
	require.Equal(t, int64(2), hanging.calls.Load(), "the refused call was never sent")
	close(release)
	for range 2 {
		require.NoError(t, <-done)
	}
	_, err = c.GetLivenessSessionResult(context.Background(), "s")
	require.NoError(t, err, "slots come back when calls end")
}

// hangingClient blocks every result read until release is closed.
type hangingClient struct {
	face.Client
	release chan struct{}
	started chan struct{}
	calls   atomic.Int64
}

func (h *hangingClient) GetLivenessSessionResult(ctx context.Context, id string) (*face.LivenessSession, error) {
	h.calls.Add(1)
	h.started <- struct{}{}
	<-h.release
	return &face.LivenessSession{SessionID: id}, nil
}

// TestReserveHandsItsTokenToTheNextCall: a reserved token and slot are used by the next call
// (which then waits for nothing), and an unused reservation is given back to the bucket.
func TestReserveHandsItsTokenToTheNextCall(t *testing.T) {
	fc := &countingClient{}
	l := NewLimiter(exact(Limits{RequestsPerSecond: 1, Burst: 1}), nil)
	c := l.Wrap(fc)
	ctx, release, err := Reserve(context.Background(), c, High)
	require.NoError(t, err)
	require.False(t, l.TryAcquire(High), "the one token is held by the reservation")
	start := time.Now()
	_, err = c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 500*time.Millisecond, "the call used the reserved token")
	release() // used: nothing to give back
	require.False(t, l.TryAcquire(High), "the bucket stays empty: the token was spent")

	l2 := NewLimiter(exact(Limits{RequestsPerSecond: 1, Burst: 1}), nil)
	c2 := l2.Wrap(fc)
	_, release2, err := Reserve(context.Background(), c2, High)
	require.NoError(t, err)
	release2()
	require.True(t, l2.TryAcquire(High), "an unused reservation is refunded")
}

// countingClient answers every create.
type countingClient struct {
	face.Client
	creates atomic.Int64
}

func (c *countingClient) CreateLivenessSession(context.Context, face.CreateLivenessSessionRequest) (*face.LivenessSession, error) {
	c.creates.Add(1)
	return &face.LivenessSession{SessionID: "s"}, nil
}

package quota_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// cycle runs one session's life through c: create (High), read the result (Low), delete (High).
// It reports how many calls succeeded and how many were throttled, and whether the limiter
// gave up waiting (the run's context is over, or will be before the account's pause ends).
func cycle(ctx context.Context, c face.Client, correlationID string) (ok, throttled int, aborted bool) {
	count := func(err error) bool {
		switch {
		case err == nil:
			ok++
		case face.IsThrottled(err):
			throttled++
		case errors.Is(err, quota.ErrWaitAborted):
			aborted = true
		}
		return err == nil
	}
	s, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{
		LivenessOperationMode: face.LivenessOperationModePassive,
		DeviceCorrelationID:   correlationID,
	})
	if !count(err) {
		return ok, throttled, aborted
	}
	_, err = c.GetLivenessSessionResult(ctx, s.SessionID)
	count(err)
	count(c.DeleteLivenessSession(ctx, s.SessionID))
	return ok, throttled, aborted
}

func twoXX(st emulator.Stats) int64 {
	var n int64
	for status, c := range st.ByStatus {
		if code, err := strconv.Atoi(status); err == nil && code >= 200 && code < 300 {
			n += c
		}
	}
	return n
}

// Sixteen workers share one S0 account through one limiter: the emulator sees no request inside
// a Retry-After window and (almost) no 429, and the useful throughput is the quota. The second
// case runs the limiter at exactly the quota, with no margin, and only reports what happens
// (429s from network-delay variation): it is the measurement behind Limits.Margin. The third
// does the same with a client that does not retry, to show what the client's own 429 retries
// (which the limiter cannot see) cost. Both take 3 s and assert nothing, so they only run with
// QUOTA_MEASURE=1.
func TestEmulatorS0SharedByWorkers(t *testing.T) {
	const (
		workers  = 16
		duration = 3 * time.Second
		rps      = 10
		burst    = 10
	)
	noMargin := quota.Limits{RequestsPerSecond: rps, Burst: burst, Margin: quota.NoMargin}
	for _, tc := range []struct {
		name    string
		limits  quota.Limits
		noRetry bool // build the client with MaxRetries < 0
		measure bool // report only
	}{
		{"default limits", quota.DefaultLimits(), false, false},
		{"no margin", noMargin, false, true},
		{"no margin, client without retries", noMargin, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.measure && os.Getenv("QUOTA_MEASURE") == "" {
				t.Skip("measurement only: set QUOTA_MEASURE=1 to run it")
			}
			emu := harness.StartEmulator(t, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: rps, Burst: burst}})
			lim := quota.NewLimiter(tc.limits, nil)
			var inner face.Client = harness.FaceClient(t, emu.URL, harness.TestAPIKey)
			if tc.noRetry {
				fc, err := face.NewClient(face.Options{Endpoint: emu.URL, APIKey: harness.TestAPIKey, Timeout: 5 * time.Second, MaxRetries: -1})
				require.NoError(t, err)
				inner = fc
			}
			c := lim.Wrap(inner)

			ctx, cancel := context.WithTimeout(context.Background(), duration)
			defer cancel()
			start := time.Now()
			var ok, throttled atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := 0; ctx.Err() == nil; i++ {
						o, th, aborted := cycle(ctx, c, fmt.Sprintf("w%d-%d", w, i))
						ok.Add(int64(o))
						throttled.Add(int64(th))
						if aborted {
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)

			st := emu.Stats()
			ls := lim.Stats()
			// The most Face can accept in the run: its full bucket plus the rate.
			ideal := float64(burst) + rps*duration.Seconds()
			emu2xx := twoXX(st)
			t.Logf("%d workers for %s: %d useful calls (emulator 2xx %d) of at most %.0f (%.1f%%), %.2f/s after the burst; "+
				"emulator: %d requests, %d throttled (%d seen by callers), %d inside Retry-After; limiter: high %+v low %+v, %d pauses, paused %s",
				workers, elapsed.Round(time.Millisecond), ok.Load(), emu2xx, ideal, 100*float64(emu2xx)/ideal,
				float64(emu2xx-burst)/duration.Seconds(), st.TotalRequests, st.Throttled, throttled.Load(),
				st.RequestsInsideRetryAfter, ls.High, ls.Low, ls.Pauses, ls.PausedTime)
			if tc.measure {
				return
			}
			require.Zero(t, st.RequestsInsideRetryAfter, "no worker may call inside a Retry-After window")
			require.LessOrEqual(t, st.Throttled, int64(1), "the limiter keeps the account (almost) free of 429s")
			require.GreaterOrEqual(t, float64(emu2xx), 0.9*ideal, "useful throughput must be at least 90%% of the quota")
			require.Positive(t, ls.Low.Granted, "polls ran too")
			require.Positive(t, ls.High.Waited+ls.Low.Waited, "the workers really contended")
		})
	}
}

// F0's per-minute quota against the real emulator and client, on a fake clock shared by both so
// three simulated minutes take a fraction of a second. The clock only moves when every worker
// is queued in the limiter, i.e. no request is in flight, so the emulator sees exactly the
// times the limiter granted.
func TestEmulatorPerMinuteQuota(t *testing.T) {
	for _, tc := range []struct {
		name          string
		limits        quota.Limits
		wantThrottled bool
	}{
		{"PerMinute(20)", quota.PerMinute(20), false},
		// The control: a burst of 2 lets a 21st call into a minute window, and Face says 429.
		{"burst 2", quota.Limits{RequestsPerSecond: 20.0 / 60, Burst: 2, Margin: quota.NoMargin}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const workers = 4
			fc := testingclock.NewFakeClock(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
			emu := harness.StartEmulator(t, emulator.Config{Now: fc.Now, Quota: emulator.Quota{RequestsPerMinute: 20}})
			lim := quota.NewLimiter(tc.limits, fc)
			c := lim.Wrap(harness.FaceClient(t, emu.URL, harness.TestAPIKey))

			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var ok, throttled atomic.Int64
			for w := range workers {
				wg.Go(func() {
					for i := 0; ctx.Err() == nil; i++ {
						o, th, aborted := cycle(ctx, c, fmt.Sprintf("w%d-%d", w, i))
						ok.Add(int64(o))
						throttled.Add(int64(th))
						if aborted {
							return
						}
					}
				})
			}
			allQueued := func() bool {
				s := lim.Stats()
				return s.High.Waiting+s.Low.Waiting == workers
			}
			for range 1800 {
				require.Eventually(t, allQueued, 10*time.Second, 100*time.Microsecond)
				fc.Step(100 * time.Millisecond)
				lim.Poke()
			}
			require.Eventually(t, allQueued, 10*time.Second, 100*time.Microsecond)
			cancel()
			wg.Wait()

			st := emu.Stats()
			t.Logf("3 simulated minutes: %d useful calls, emulator 2xx %d, %d throttled, %d inside Retry-After, limiter pauses %d",
				ok.Load(), twoXX(st), st.Throttled, st.RequestsInsideRetryAfter, lim.Stats().Pauses)
			require.Zero(t, st.RequestsInsideRetryAfter)
			if !tc.wantThrottled {
				require.Zero(t, st.Throttled)
				// Grants every 3.1 s (3 s plus the margin) from 0 to 179.8 s: 59 calls, each 2xx.
				require.Equal(t, int64(59), ok.Load())
				require.Equal(t, int64(59), twoXX(st))
				return
			}
			require.Positive(t, st.Throttled, "the control must hit the minute window")
			require.Equal(t, st.Throttled, lim.Stats().Pauses, "every 429 paused the account")
		})
	}
}

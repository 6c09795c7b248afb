package face

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGetRetriedAfter503(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			respond(w, 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
			return
		}
		respond(w, 200, sessionJSON)
	})
	c := newTestClient(t, srv.URL)
	s, err := c.GetLivenessSessionResult(context.Background(), "s-1")
	require.NoError(t, err)
	require.Equal(t, "s-1", s.SessionID)
	require.Len(t, srv.requests(), 2)
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	cases := []struct {
		name    string
		header  string
		value   string
		minWait time.Duration
	}{
		{"Retry-After seconds", "Retry-After", "1", time.Second},
		{"retry-after-ms", "retry-after-ms", "200", 200 * time.Millisecond},
		{"x-ms-retry-after-ms", "x-ms-retry-after-ms", "150", 150 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Handler timestamps travel over a channel so the race detector sees the hand-off.
			stamps := make(chan time.Time, 2)
			srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				stamps <- time.Now()
				if n == 0 {
					w.Header().Set(tc.header, tc.value)
					respond(w, 429, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
					return
				}
				respond(w, 200, verifySessionJSON)
			})
			// RetryDelay is 1ms, so any wait near minWait comes from the header.
			c := newTestClient(t, srv.URL)
			_, err := c.GetLivenessWithVerifySessionResult(context.Background(), "v-1")
			require.NoError(t, err)
			require.Len(t, srv.requests(), 2)
			first, second := <-stamps, <-stamps
			gap := second.Sub(first)
			require.GreaterOrEqual(t, gap, tc.minWait)
			require.Less(t, gap, tc.minWait+2*time.Second)
		})
	}
}

func TestRetryAfterBeyondMaxRetryDelayIsReturnedNotWaited(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "30")
		respond(w, 429, `{"error":{"code":"TooManyRequests","message":"slow down"}}`)
	})
	c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetryDelay = 100 * time.Millisecond })
	start := time.Now()
	_, err := c.GetLivenessSessionResult(context.Background(), "s-1")
	require.Less(t, time.Since(start), 5*time.Second)
	require.True(t, IsThrottled(err))
	require.Equal(t, 30*time.Second, RetryAfter(err), "the caller can requeue after the server's delay")
	require.Len(t, srv.requests(), 1)
}

func TestRetriesAreBounded(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 500, "") })
	c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 2 })
	_, err := c.GetSessionImage(context.Background(), "img")
	require.Len(t, srv.requests(), 3, "one try + MaxRetries")
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 500, re.StatusCode)
	require.True(t, IsRetryable(err))

	srv2 := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 502, "") })
	c2 := newTestClient(t, srv2.URL, func(o *Options) { o.MaxRetries = -1 })
	_, err = c2.GetSessionImage(context.Background(), "img")
	require.Error(t, err)
	require.Len(t, srv2.requests(), 1, "negative MaxRetries disables retries")
}

func TestRetryStatusCodes(t *testing.T) {
	for status, retried := range map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 409: false, 501: false} {
		srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, status, "") })
		c := newTestClient(t, srv.URL, func(o *Options) { o.MaxRetries = 1 })
		err := c.DeleteLivenessSession(context.Background(), "s-1")
		require.Error(t, err)
		want := 1
		if retried {
			want = 2
		}
		require.Len(t, srv.requests(), want, "status %d", status)
	}
}

func TestDeleteRetriedAfter500(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			respond(w, 500, "")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newTestClient(t, srv.URL)
	require.NoError(t, c.DeleteLivenessWithVerifySession(context.Background(), "v-1"))
	require.Len(t, srv.requests(), 2)
}

func TestCreatesAndDetectAreNeverRetried(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "2")
		respond(w, 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
	})
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	calls := map[string]func() error{
		"CreateLivenessSession": func() error {
			_, err := c.CreateLivenessSession(ctx, CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
			return err
		},
		"CreateLivenessWithVerifySession": func() error {
			_, err := c.CreateLivenessWithVerifySession(ctx, CreateLivenessWithVerifySessionRequest{
				CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: "Passive"},
				VerifyImage:                  []byte("img"),
			})
			return err
		},
		"DetectFromSessionImageId": func() error {
			_, err := c.DetectFromSessionImageID(ctx, "img", DetectOptions{})
			return err
		},
	}
	for op, fn := range calls {
		before := len(srv.requests())
		start := time.Now()
		err := fn()
		require.Less(t, time.Since(start), time.Second, "%s: no Retry-After wait", op)
		require.Len(t, srv.requests(), before+1, "%s: exactly one request", op)
		var re *ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, op, re.Operation)
		require.Equal(t, 503, re.StatusCode)
		require.Equal(t, 2*time.Second, re.RetryAfter)
		require.True(t, IsRetryable(err))
		require.False(t, errors.Is(err, ErrOutcomeUnknown), "%s: a 503 is a definite answer: nothing was created", op)
	}
}

func TestDeleteSemantics(t *testing.T) {
	for _, status := range []int{200, 202, 204} {
		srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
			if status == 200 {
				respond(w, status, `{}`)
				return
			}
			w.WriteHeader(status)
		})
		c := newTestClient(t, srv.URL)
		require.NoError(t, c.DeleteLivenessSession(context.Background(), "s-1"), "status %d", status)
		require.NoError(t, c.DeleteLivenessWithVerifySession(context.Background(), "v-1"), "status %d", status)
	}

	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		respond(w, 404, `{"error":{"code":"SessionNotFound","message":"Session does not exist."}}`)
	})
	c := newTestClient(t, srv.URL)
	for _, err := range []error{
		c.DeleteLivenessSession(context.Background(), "gone"),
		c.DeleteLivenessWithVerifySession(context.Background(), "gone"),
	} {
		require.Error(t, err)
		require.True(t, IsNotFound(err), "callers treat 404 on delete as done")
		require.False(t, IsRetryable(err))
		require.False(t, IsInvalidRequest(err))
		var re *ResponseError
		require.ErrorAs(t, err, &re)
		require.Equal(t, "SessionNotFound", re.Code)
	}
	require.Len(t, srv.requests(), 2, "404 is not retried")
}

func TestGetRetriedAfterConnectionDropAndTimeout(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			hijackAndClose(w)
			return
		}
		respond(w, 200, sessionJSON)
	})
	c := newTestClient(t, srv.URL)
	_, err := c.GetLivenessSessionResult(context.Background(), "s-1")
	require.NoError(t, err)
	require.Len(t, srv.requests(), 2)

	slow := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		respond(w, 200, sessionJSON)
	})
	c = newTestClient(t, slow.URL, func(o *Options) { o.Timeout = 100 * time.Millisecond })
	_, err = c.GetLivenessSessionResult(context.Background(), "s-1")
	require.NoError(t, err, "the per-try timeout ends the hung try and the retry succeeds")
	require.Len(t, slow.requests(), 2)
}

// With NoThrottleRetries a GET's 429 reaches the caller at once (for an account-wide limiter
// to pause every worker), while 503s are still retried.
func TestNoThrottleRetriesLeaves429ToTheCaller(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":{"code":"429","message":"Rate limit is exceeded."}}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := NewClient(Options{Endpoint: srv.URL, APIKey: "k", NoThrottleRetries: true, MaxRetries: 2, RetryDelay: time.Millisecond})
	require.NoError(t, err)

	_, err = c.GetLivenessSessionResult(context.Background(), "s")
	require.True(t, IsThrottled(err), "%v", err)
	require.Equal(t, time.Second, RetryAfter(err))
	require.Equal(t, int32(1), calls.Load(), "the 429 is not retried inside the client")

	_, err = c.GetLivenessSessionResult(context.Background(), "s")
	require.Error(t, err)
	require.Equal(t, int32(4), calls.Load(), "503s are still retried (1 try + 2 retries)")
}

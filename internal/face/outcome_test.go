package face

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func createSession(c *HTTPClient, ctx context.Context) error {
	_, err := c.CreateLivenessSession(ctx, CreateLivenessSessionRequest{LivenessOperationMode: "Passive", DeviceCorrelationID: "d"})
	return err
}

func createVerifySession(c *HTTPClient, ctx context.Context) error {
	_, err := c.CreateLivenessWithVerifySession(ctx, CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: "Passive"},
		VerifyImage:                  []byte("img"),
	})
	return err
}

func requireOutcomeUnknown(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	require.True(t, IsRetryable(err))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.True(t, te.OutcomeUnknown)
}

func requireNeverSent(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrOutcomeUnknown)
	require.True(t, IsRetryable(err))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	require.False(t, te.OutcomeUnknown)
}

// The server reads the whole request and then drops the connection: the session may exist.
func TestCreateConnectionDroppedAfterSendIsOutcomeUnknown(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hijackAndClose(w) })
	c := newTestClient(t, srv.URL)

	requireOutcomeUnknown(t, createSession(c, context.Background()))
	requireOutcomeUnknown(t, createVerifySession(c, context.Background()))
	require.Len(t, srv.requests(), 2, "one request each, never replayed")
}

func TestCreatePerTryTimeoutIsOutcomeUnknown(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	c := newTestClient(t, srv.URL, func(o *Options) { o.Timeout = 100 * time.Millisecond })
	start := time.Now()
	err := createSession(c, context.Background())
	require.Less(t, time.Since(start), 2*time.Second)
	requireOutcomeUnknown(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, srv.requests(), 1)
}

func TestCreateCallerCancelledInFlightIsOutcomeUnknown(t *testing.T) {
	got := make(chan struct{})
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		close(got)
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	requireOutcomeUnknown(t, createSession(c, ctx))
}

// A closed port refuses the connection: nothing was sent, so creating again is safe.
func TestCreateConnectionRefusedIsNotOutcomeUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	c := newTestClient(t, "http://"+addr)
	err = createSession(c, context.Background())
	requireNeverSent(t, err)
	require.ErrorContains(t, err, "refused")
	requireNeverSent(t, createVerifySession(c, context.Background()))

	// GETs to a closed port are retried (transport errors) and end with a TransportError.
	c = newTestClient(t, "http://"+addr, func(o *Options) { o.MaxRetries = 1 })
	_, err = c.GetLivenessSessionResult(context.Background(), "s-1")
	requireNeverSent(t, err)
}

func TestCreateWithCancelledContextIsNotOutcomeUnknown(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := createSession(c, ctx)
	requireNeverSent(t, err)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, srv.requests())
}

func TestDetectTransportFailureIsNotOutcomeUnknown(t *testing.T) {
	// Detect is not a create: losing its answer leaks nothing, so it is a plain transport error.
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hijackAndClose(w) })
	c := newTestClient(t, srv.URL)
	_, err := c.DetectFromSessionImageID(context.Background(), "img", DetectOptions{})
	requireNeverSent(t, err)
	require.Len(t, srv.requests(), 1, "POSTs are not retried")
}

func TestCreateUnusable2xxIsOutcomeUnknown(t *testing.T) {
	for _, body := range []string{`not json`, `{"authToken":"t"}`, ``} {
		srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, body) })
		c := newTestClient(t, srv.URL)
		err := createSession(c, context.Background())
		require.ErrorIs(t, err, ErrOutcomeUnknown, "body %q: the session exists but its id is unknown", body)
		require.NotContains(t, err.Error(), `"t"`)
	}
}

// transportFunc is a policy.Transporter that fires no httptrace hooks.
type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// With a custom transport the client has no connection events; only a dial error proves the
// request never left.
func TestCustomTransportClassification(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	for name, tc := range map[string]struct {
		err     error
		unknown bool
	}{
		"dial error":     {dialErr, false},
		"dns error":      {&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, false},
		"unexpected EOF": {io.ErrUnexpectedEOF, true},
		"read reset":     {&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, "http://127.0.0.1:1", func(o *Options) {
				o.Transport = transportFunc(func(*http.Request) (*http.Response, error) { return nil, tc.err })
			})
			err := createSession(c, context.Background())
			if tc.unknown {
				requireOutcomeUnknown(t, err)
			} else {
				requireNeverSent(t, err)
			}
		})
	}
}

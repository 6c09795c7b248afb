package face

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
)

// Every try is counted with the account given to the client, the operation and the status
// class; a retried 503 is two requests, and the histogram gets one observation per try.
func TestMetricsCountEveryTryByAccountOperationAndClass(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case n == 0:
			respond(w, 503, `{"error":{"code":"ServiceUnavailable","message":"busy"}}`)
		case r.Method == http.MethodDelete:
			respond(w, 404, `{"error":{"code":"SessionNotFound","message":"gone"}}`)
		case r.Method == http.MethodPost:
			respond(w, 429, `{"error":{"code":"429","message":"slow down"}}`)
		default:
			respond(w, 200, sessionJSON)
		}
	})
	reg := prometheus.NewRegistry()
	m := NewCallMetrics(reg)
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.Metrics, o.AccountLabel = m, "FaceAccount/team-a/main"
		o.NoThrottleRetries = true
	})
	ctx := context.Background()
	_, err := c.GetLivenessSessionResult(ctx, "s-1")
	require.NoError(t, err)
	require.True(t, IsNotFound(c.DeleteLivenessSession(ctx, "s-1")))
	_, err = c.CreateLivenessSession(ctx, CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
	require.True(t, IsThrottled(err))

	account := "FaceAccount/team-a/main"
	for _, tc := range []struct {
		op, code string
		want     float64
	}{
		{opGetLivenessSessionResult, "5xx", 1},
		{opGetLivenessSessionResult, "2xx", 1},
		{opDeleteLivenessSession, "4xx", 1},
		{opCreateLivenessSession, "429", 1},
	} {
		require.Equal(t, tc.want, testutil.ToFloat64(m.Requests.WithLabelValues(account, tc.op, tc.code)), "%s %s", tc.op, tc.code)
	}
	require.Equal(t, 4, testutil.CollectAndCount(m.Requests))
	require.Equal(t, 3, testutil.CollectAndCount(m.Duration), "one histogram per account and operation")
	count, err := testutil.GatherAndCount(reg, "liveness_operator_face_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 3, count)
}

// A request that gets no answer is class "error"; labels never carry the session id, the path
// or the key, whatever the request holds.
func TestMetricsTransportErrorAndBoundedLabels(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hijackAndClose(w) })
	m := NewCallMetrics(nil)
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.Metrics, o.AccountLabel = m, "default"
		o.MaxRetries = -1
	})
	_, err := c.GetLivenessSessionResult(context.Background(), "secret-session-id")
	var te *TransportError
	require.True(t, errors.As(err, &te))
	require.Equal(t, 1.0, testutil.ToFloat64(m.Requests.WithLabelValues("default", opGetLivenessSessionResult, "error")))

	out, err := testutil.CollectAndFormat(m.Requests, expfmt.TypeTextPlain)
	require.NoError(t, err)
	require.NotContains(t, string(out), "secret-session-id")
	require.NotContains(t, string(out), testAPIKey)

	m.Forget("default")
	require.Equal(t, 0, testutil.CollectAndCount(m.Requests), "a removed account's series go")
}

func TestStatusClass(t *testing.T) {
	for code, want := range map[int]string{200: "2xx", 204: "2xx", 302: "3xx", 400: "4xx", 404: "4xx", 429: "429", 500: "5xx", 503: "5xx", 600: "error", 100: "error"} {
		require.Equal(t, want, StatusClass(&http.Response{StatusCode: code}, nil), code)
	}
	require.Equal(t, "error", StatusClass(nil, errors.New("reset")))
}

// Without Options.Metrics the pipeline has no metrics policy at all.
func TestNoMetricsPolicyWithoutMetrics(t *testing.T) {
	require.Nil(t, newMetricsPolicy(nil, "default"))
}

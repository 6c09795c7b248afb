package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// The quota collector reports the pause in force, the configured quota and the requests let go
// during a pause (0: a request queued behind a pause is granted only once it is over).
func TestQuotaMetricsPauseAndGrantedDuringPause(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := NewRegistry(face.Options{}, clk)
	_, err := r.Set(DefaultKey, Config{Endpoint: "http://127.0.0.1:1", Credential: Credential{APIKey: "k-not-in-metrics"},
		Limits: quota.Limits{RequestsPerSecond: 10, Burst: 10}})
	require.NoError(t, err)
	_, lim, ok := r.Get(DefaultKey)
	require.True(t, ok)

	lim.Pause(10 * time.Second)
	granted := make(chan error, 1)
	go func() { granted <- lim.Acquire(context.Background(), quota.High) }()
	require.Eventually(t, func() bool { return lim.Stats().High.Waiting == 1 }, 5*time.Second, time.Millisecond)
	require.InDelta(t, 10, gaugeOf(t, r, "liveness_operator_quota_pause_remaining_seconds"), 0.001)
	clk.Step(11 * time.Second)
	require.NoError(t, <-granted)

	require.Equal(t, 0.0, gaugeOf(t, r, "liveness_operator_quota_pause_remaining_seconds"))
	require.Equal(t, 0.0, gaugeOf(t, r, "liveness_operator_quota_granted_during_pause_total"))
	require.Equal(t, 1.0, gaugeOf(t, r, "liveness_operator_quota_pauses_total"))
	require.Equal(t, 10.0, gaugeOf(t, r, "liveness_operator_quota_requests_per_second"))
	require.Equal(t, 10.0, gaugeOf(t, r, "liveness_operator_quota_burst"))
	problems, err := testutil.CollectAndLint(r)
	require.NoError(t, err)
	require.Empty(t, problems)
	out, err := testutil.CollectAndFormat(r, expfmt.TypeTextPlain)
	require.NoError(t, err)
	require.NotContains(t, string(out), "k-not-in-metrics")
}

// Each account's client labels its Face requests with the account key, and removing the
// account drops its series.
func TestRegistryLabelsClientsWithTheAccountKey(t *testing.T) {
	m := face.NewCallMetrics(nil)
	r := NewRegistry(face.Options{Metrics: m, MaxRetries: -1, Timeout: time.Second}, nil)
	key := Key{Kind: "FaceAccount", Namespace: "team-a", Name: "main"}
	_, err := r.Set(key, Config{Endpoint: "http://127.0.0.1:1", Credential: Credential{APIKey: "k"}})
	require.NoError(t, err)
	c, _, _ := r.Get(key)
	_, err = c.GetLivenessSessionResult(context.Background(), "s-1")
	require.Error(t, err, "nothing listens on port 1")
	require.Equal(t, 1.0, testutil.ToFloat64(m.Requests.WithLabelValues("FaceAccount/team-a/main", "GetLivenessSessionResult", "error")))
	r.Remove(key)
	require.Equal(t, 0, testutil.CollectAndCount(m.Requests))
}

// gaugeOf is the value of the registry's only series of a metric (one account).
func gaugeOf(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		require.Len(t, f.Metric, 1, name)
		if g := f.Metric[0].GetGauge(); g != nil {
			return g.GetValue()
		}
		return f.Metric[0].GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

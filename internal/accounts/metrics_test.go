package accounts

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
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

// Two namespaces queued behind a pause show as two lanes; once the pause ends the fair queue
// grants between them (contention "shared") and the wait histogram holds every grant, the one
// granted at once in its first bucket and the queued ones in the 10 s bucket.
func TestQuotaMetricsFairQueue(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := NewRegistry(face.Options{}, clk)
	_, err := r.Set(DefaultKey, Config{Endpoint: "http://127.0.0.1:1", Credential: Credential{APIKey: "k"},
		Limits: quota.Limits{RequestsPerSecond: 10, Burst: 10}})
	require.NoError(t, err)
	_, lim, ok := r.Get(DefaultKey)
	require.True(t, ok)
	require.NoError(t, lim.Acquire(quota.WithFlow(context.Background(), "quiet"), quota.High))

	lim.Pause(10 * time.Second)
	granted := make(chan error, 3)
	for _, ns := range []string{"noisy", "noisy", "quiet"} {
		go func() { granted <- lim.Acquire(quota.WithFlow(context.Background(), ns), quota.High) }()
	}
	require.Eventually(t, func() bool { return lim.Stats().High.Waiting == 3 }, 5*time.Second, time.Millisecond)
	require.Equal(t, 2.0, seriesOf(t, r, "liveness_operator_quota_lanes", map[string]string{"priority": "high"}))
	clk.Step(10 * time.Second)
	for range 3 {
		require.NoError(t, <-granted)
	}
	require.Equal(t, 0.0, seriesOf(t, r, "liveness_operator_quota_lanes", map[string]string{"priority": "high"}))
	alone := seriesOf(t, r, "liveness_operator_quota_grants_by_contention_total", map[string]string{"priority": "high", "contention": "alone"})
	shared := seriesOf(t, r, "liveness_operator_quota_grants_by_contention_total", map[string]string{"priority": "high", "contention": "shared"})
	require.Equal(t, 4.0, alone+shared)
	require.GreaterOrEqual(t, shared, 1.0, "the first grant after the pause chose between two lanes")

	h := histogramOf(t, r, "liveness_operator_quota_wait_duration_seconds", map[string]string{"priority": "high"})
	require.EqualValues(t, 4, h.GetSampleCount())
	require.InDelta(t, 30, h.GetSampleSum(), 0.001, "three waits of 10 s")
	for _, b := range h.GetBucket() {
		switch b.GetUpperBound() {
		case 0.01:
			require.EqualValues(t, 1, b.GetCumulativeCount(), "the grant at once")
		case 5:
			require.EqualValues(t, 1, b.GetCumulativeCount())
		case 10:
			require.EqualValues(t, 4, b.GetCumulativeCount())
		}
	}
	problems, err := testutil.CollectAndLint(r)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// seriesOf is the value (gauge or counter) of the series of a metric with those labels.
func seriesOf(t *testing.T, c prometheus.Collector, name string, want map[string]string) float64 {
	t.Helper()
	m := metricOf(t, c, name, want)
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

// histogramOf is the histogram series of a metric with those labels.
func histogramOf(t *testing.T, c prometheus.Collector, name string, want map[string]string) *dto.Histogram {
	t.Helper()
	return metricOf(t, c, name, want).GetHistogram()
}

func metricOf(t *testing.T, c prometheus.Collector, name string, want map[string]string) *dto.Metric {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.Metric {
			for _, l := range m.GetLabel() {
				if v, ok := want[l.GetName()]; ok && v != l.GetValue() {
					continue series
				}
			}
			return m
		}
	}
	t.Fatalf("no series of %s with %v", name, want)
	return nil
}

package accounts

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// Quota metrics, one series per account (the account label is Key.String(), bounded by the
// number of accounts) and, where it applies, per priority (high: creates, deletes, images;
// low: result polls).
var (
	quotaGrantedDesc = prometheus.NewDesc("liveness_operator_quota_granted_total",
		"Face requests the account's quota limiter let go.", []string{"account", "priority"}, nil)
	quotaWaitedDesc = prometheus.NewDesc("liveness_operator_quota_waits_total",
		"Face requests that found no quota token at once and queued.", []string{"account", "priority"}, nil)
	quotaWaitSecondsDesc = prometheus.NewDesc("liveness_operator_quota_wait_seconds_total",
		"Time granted requests spent queued for a quota token.", []string{"account", "priority"}, nil)
	quotaAbortedDesc = prometheus.NewDesc("liveness_operator_quota_aborted_total",
		"Face requests that gave up waiting for a quota token (never sent).", []string{"account", "priority"}, nil)
	quotaWaitingDesc = prometheus.NewDesc("liveness_operator_quota_waiting",
		"Face requests queued for a quota token right now.", []string{"account", "priority"}, nil)
	quotaPausesDesc = prometheus.NewDesc("liveness_operator_quota_pauses_total",
		"Throttling answers (429, or 503 with Retry-After) that paused the whole account.", []string{"account"}, nil)
	quotaPausedSecondsDesc = prometheus.NewDesc("liveness_operator_quota_paused_seconds_total",
		"Time the account was paused by throttling.", []string{"account"}, nil)
	quotaPauseRemainingDesc = prometheus.NewDesc("liveness_operator_quota_pause_remaining_seconds",
		"Time left in the account's current throttling pause; 0 when it is not paused.", []string{"account"}, nil)
	quotaGrantedDuringPauseDesc = prometheus.NewDesc("liveness_operator_quota_granted_during_pause_total",
		"Face requests the limiter let go while its own throttling pause (Face's Retry-After) was in force. Must stay 0.", []string{"account"}, nil)
	quotaWaitDurationDesc = prometheus.NewDesc("liveness_operator_quota_wait_duration_seconds",
		"How long granted Face requests waited for a quota token (0 for those granted at once).", []string{"account", "priority"}, nil)
	quotaLanesDesc = prometheus.NewDesc("liveness_operator_quota_lanes",
		"Flows (namespaces) with Face requests queued for the account's quota right now; the fair queue serves them in turn.", []string{"account", "priority"}, nil)
	quotaGrantsByContentionDesc = prometheus.NewDesc("liveness_operator_quota_grants_by_contention_total",
		"Quota tokens granted, by whether other flows were queued at the time (shared: the fair queue chose between flows) or not (alone).",
		[]string{"account", "priority", "contention"}, nil)
	quotaRateDesc = prometheus.NewDesc("liveness_operator_quota_requests_per_second",
		"The account's configured request quota (sustained rate).", []string{"account"}, nil)
	quotaBurstDesc = prometheus.NewDesc("liveness_operator_quota_burst",
		"The account's configured request burst.", []string{"account"}, nil)
)

// Describe sends the quota metrics' descriptions: the Registry is a Prometheus collector of its
// limiters' counters (quota.Stats).
func (r *Registry) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{quotaGrantedDesc, quotaWaitedDesc, quotaWaitSecondsDesc,
		quotaAbortedDesc, quotaWaitingDesc, quotaPausesDesc, quotaPausedSecondsDesc,
		quotaPauseRemainingDesc, quotaGrantedDuringPauseDesc, quotaRateDesc, quotaBurstDesc,
		quotaWaitDurationDesc, quotaLanesDesc, quotaGrantsByContentionDesc} {
		ch <- d
	}
}

// Collect sends every account's quota counters.
func (r *Registry) Collect(ch chan<- prometheus.Metric) {
	r.mu.RLock()
	stats := make(map[Key]quota.Stats, len(r.accounts))
	for key, a := range r.accounts {
		stats[key] = a.limiter.Stats()
	}
	r.mu.RUnlock()
	now := r.clock.Now()
	for key, s := range stats {
		account := key.String()
		for prio, ps := range map[string]quota.PriorityStats{"high": s.High, "low": s.Low} {
			ch <- prometheus.MustNewConstMetric(quotaGrantedDesc, prometheus.CounterValue, float64(ps.Granted), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaWaitedDesc, prometheus.CounterValue, float64(ps.Waited), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaWaitSecondsDesc, prometheus.CounterValue, ps.WaitTime.Seconds(), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaAbortedDesc, prometheus.CounterValue, float64(ps.Aborted), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaWaitingDesc, prometheus.GaugeValue, float64(ps.Waiting), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaLanesDesc, prometheus.GaugeValue, float64(ps.Lanes), account, prio)
			ch <- prometheus.MustNewConstMetric(quotaGrantsByContentionDesc, prometheus.CounterValue, float64(ps.GrantedAlone), account, prio, "alone")
			ch <- prometheus.MustNewConstMetric(quotaGrantsByContentionDesc, prometheus.CounterValue, float64(ps.GrantedShared), account, prio, "shared")
		}
		for prio, h := range map[string]quota.WaitHistogram{"high": s.WaitHistogram[quota.High], "low": s.WaitHistogram[quota.Low]} {
			ch <- waitHistogram(h, account, prio)
		}
		ch <- prometheus.MustNewConstMetric(quotaPausesDesc, prometheus.CounterValue, float64(s.Pauses), account)
		ch <- prometheus.MustNewConstMetric(quotaPausedSecondsDesc, prometheus.CounterValue, s.PausedTime.Seconds(), account)
		remaining := 0.0
		if !s.PausedUntil.IsZero() {
			remaining = max(s.PausedUntil.Sub(now).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(quotaPauseRemainingDesc, prometheus.GaugeValue, remaining, account)
		ch <- prometheus.MustNewConstMetric(quotaGrantedDuringPauseDesc, prometheus.CounterValue, float64(s.GrantedDuringPause), account)
		ch <- prometheus.MustNewConstMetric(quotaRateDesc, prometheus.GaugeValue, s.Limits.RequestsPerSecond, account)
		ch <- prometheus.MustNewConstMetric(quotaBurstDesc, prometheus.GaugeValue, float64(s.Limits.Burst), account)
	}
}

// waitHistogram is a limiter's wait histogram as a Prometheus one: quota.WaitHistogram counts
// each bucket alone, Prometheus wants them cumulative.
func waitHistogram(h quota.WaitHistogram, account, priority string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(quota.WaitHistogramBounds))
	var cumulative uint64
	for i, bound := range quota.WaitHistogramBounds {
		cumulative += h.Counts[i]
		buckets[bound.Seconds()] = cumulative
	}
	return prometheus.MustNewConstHistogram(quotaWaitDurationDesc, h.Count, h.Sum.Seconds(), buckets, account, priority)
}

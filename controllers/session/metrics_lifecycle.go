package session

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// LifecycleMetrics time a session's milestones from metadata.creationTimestamp, as a user of
// the resource experiences them: each is observed once per session, when the status write that
// makes the milestone visible succeeds (a write that conflicts is retried and observed then).
// creationTimestamp has a resolution of one second, so the values are too.
type LifecycleMetrics struct {
	// TimeToToken is creation to the first status write naming the cloud session and its token
	// Secret (status.sessionId): from then on a consumer following status finds the token.
	TimeToToken prometheus.Histogram
	// TimeToReady is creation to the first Ready=True. Ready is set in the same write as the
	// session id today, so it matches TimeToToken unless Ready comes to need more.
	TimeToReady prometheus.Histogram
	// TimeToCompleted is creation to the final outcome, by outcome; it includes the end user's
	// time, so it is a product metric more than an operator one (Expired sits at the token TTL).
	TimeToCompleted *prometheus.HistogramVec
}

// lifecycleBuckets span a fast create (well under a second past the creationTimestamp's
// rounding) to a session completing near the longest token TTL (86400s).
var (
	tokenBuckets     = []float64{0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600}
	completedBuckets = []float64{5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400}
)

func newLifecycleMetrics() *LifecycleMetrics {
	return &LifecycleMetrics{
		TimeToToken: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "liveness_operator_session_time_to_token_seconds",
			Help:    "Seconds from a LivenessSession's creation to the status write that records its cloud session and token Secret.",
			Buckets: tokenBuckets,
		}),
		TimeToReady: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "liveness_operator_session_time_to_ready_seconds",
			Help:    "Seconds from a LivenessSession's creation to its first Ready=True.",
			Buckets: tokenBuckets,
		}),
		TimeToCompleted: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "liveness_operator_session_time_to_completed_seconds",
			Help:    "Seconds from a LivenessSession's creation to its final outcome (Completed=True), by outcome.",
			Buckets: completedBuckets,
		}, []string{"outcome"}),
	}
}

func (m *LifecycleMetrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.TimeToToken, m.TimeToReady, m.TimeToCompleted)
}

// lifecycleChange is which milestones a pending status write reaches for the first time.
type lifecycleChange struct {
	token, ready, completed bool
}

// lifecycleChanges compares what the server holds (stored) with the status about to be
// written. "First time" is read from status itself, so it survives restarts: the session id is
// never cleared once recorded, Ready is counted only in the write that records the session id
// (a Ready regained later, after a lost Secret, is not a new milestone), and an outcome, once
// final, never changes.
func lifecycleChanges(stored facev1.LivenessSessionStatus, ls *facev1.LivenessSession) lifecycleChange {
	firstSession := stored.SessionID == "" && ls.Status.SessionID != ""
	return lifecycleChange{
		token:     firstSession && ls.Status.TokenSecretName != "",
		ready:     firstSession && meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady),
		completed: !isFinal(stored.Outcome) && isFinal(ls.Status.Outcome),
	}
}

// observeLifecycle records the milestones of a status write that succeeded (err is the write's
// error; nil also when there was nothing to write, and then there is no change either).
func (r *Reconciler) observeLifecycle(ls *facev1.LivenessSession, c lifecycleChange, err error) {
	m := r.Metrics.Lifecycle
	if err != nil || m == nil || ls.CreationTimestamp.IsZero() {
		return
	}
	// The API server stamped creationTimestamp with its clock; a manager clock running behind
	// must not produce negative durations.
	age := max(r.Clock.Now().Sub(ls.CreationTimestamp.Time).Seconds(), 0)
	if c.token {
		m.TimeToToken.Observe(age)
	}
	if c.ready {
		m.TimeToReady.Observe(age)
	}
	if c.completed {
		m.TimeToCompleted.WithLabelValues(string(ls.Status.Outcome)).Observe(age)
	}
}

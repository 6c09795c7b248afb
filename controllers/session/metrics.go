package session

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the operator's own Prometheus metrics, served with controller-runtime's.
type Metrics struct {
	// SessionsCreated counts cloud sessions created and published.
	SessionsCreated prometheus.Counter
	// SessionsCompleted counts sessions whose outcome became final, by outcome.
	SessionsCompleted *prometheus.CounterVec
	// CreateOutcomeUnknown counts creates that may have made a session the operator could not
	// record (the one unavoidable window); each is also a Warning event and a status count.
	CreateOutcomeUnknown prometheus.Counter
	// Lifecycle times each session's first token, Ready and Completed (metrics_lifecycle.go).
	Lifecycle *LifecycleMetrics
}

// NewMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager); a nil reg leaves them unregistered, for tests.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		SessionsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "liveness_operator_sessions_created_total",
			Help: "Face liveness sessions created and published in a token Secret.",
		}),
		SessionsCompleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveness_operator_sessions_completed_total",
			Help: "Sessions whose outcome became final, by outcome.",
		}, []string{"outcome"}),
		CreateOutcomeUnknown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "liveness_operator_create_outcome_unknown_total",
			Help: "Face creates whose session may exist but could not be recorded (crash or lost answer after sending).",
		}),
		Lifecycle: newLifecycleMetrics(),
	}
	if reg != nil {
		reg.MustRegister(m.SessionsCreated, m.SessionsCompleted, m.CreateOutcomeUnknown)
		m.Lifecycle.register(reg)
	}
	return m
}

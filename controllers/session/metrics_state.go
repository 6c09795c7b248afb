package session

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Session phases of liveness_operator_sessions. Each session is in exactly one, checked in
// this order: deleting, stalled, completed, ready, pending_creation.
const (
	// PhaseDeleting: deletion requested; the cloud session is being deleted (finalizer).
	PhaseDeleting = "deleting"
	// PhaseStalled: Stalled=True; a human must act (the condition's reason says what).
	PhaseStalled = "stalled"
	// PhaseCompleted: the outcome is final.
	PhaseCompleted = "completed"
	// PhaseReady: Ready=True and waiting for the end user's attempt.
	PhaseReady = "ready"
	// PhasePendingCreation: no published cloud session yet (creating, waiting for the account,
	// the reference image, Face's quota...).
	PhasePendingCreation = "pending_creation"
)

var (
	sessionPhases   = []string{PhasePendingCreation, PhaseReady, PhaseCompleted, PhaseStalled, PhaseDeleting}
	sessionOutcomes = []facev1.Outcome{facev1.OutcomePending, facev1.OutcomeLive, facev1.OutcomeVerified,
		facev1.OutcomeNotVerified, facev1.OutcomeSpoof, facev1.OutcomeUncertain, facev1.OutcomeFailed, facev1.OutcomeExpired}

	sessionsDesc = prometheus.NewDesc("liveness_operator_sessions",
		"LivenessSessions that exist now, by phase (pending_creation, ready, completed, stalled, deleting).", []string{"phase"}, nil)
	sessionsByOutcomeDesc = prometheus.NewDesc("liveness_operator_sessions_by_outcome",
		"LivenessSessions that exist now, by status.outcome (sessions without a cloud session yet have none).", []string{"outcome"}, nil)
)

// listTimeout bounds a scrape-time list: the cache answers from memory, so only a cache that is
// not started yet can make it wait, and a scrape must not hang on that.
const listTimeout = 5 * time.Second

// StateCollector reports the LivenessSessions that exist, by phase and outcome, from the
// manager's cache at scrape time: a scrape costs one in-memory list and no API call, and the
// numbers can never drift from the objects the way counters kept on the side could. Labels are
// the operator's own enumerations only (no name, namespace or account reference: those come
// from users). In a replica that is not the leader the cache is filled too, so every replica
// reports the same numbers: aggregate with max, not sum.
type StateCollector struct {
	// Reader lists LivenessSessions; the manager's client (its cache).
	Reader client.Reader
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	ch <- sessionsByOutcomeDesc
}

// Collect implements prometheus.Collector. A list that fails (cache not started) reports
// nothing rather than zeros, so a dashboard shows a gap, not an empty cluster.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	var list facev1.LivenessSessionList
	if err := c.Reader.List(ctx, &list); err != nil {
		return
	}
	phases := map[string]int{}
	outcomes := map[facev1.Outcome]int{}
	for i := range list.Items {
		ls := &list.Items[i]
		phases[phaseOf(ls)]++
		if ls.Status.Outcome != "" {
			outcomes[ls.Status.Outcome]++
		}
	}
	for _, p := range sessionPhases {
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, float64(phases[p]), p)
	}
	for _, o := range sessionOutcomes {
		ch <- prometheus.MustNewConstMetric(sessionsByOutcomeDesc, prometheus.GaugeValue, float64(outcomes[o]), string(o))
	}
}

// phaseOf is the session's phase (see the Phase constants).
func phaseOf(ls *facev1.LivenessSession) string {
	switch {
	case !ls.DeletionTimestamp.IsZero():
		return PhaseDeleting
	case meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionStalled):
		return PhaseStalled
	case isFinal(ls.Status.Outcome):
		return PhaseCompleted
	case isReady(ls):
		return PhaseReady
	default:
		return PhasePendingCreation
	}
}

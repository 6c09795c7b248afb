package account

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
)

var (
	accountReadyDesc = prometheus.NewDesc("liveness_operator_account_ready",
		"1 when the FaceAccount or ClusterFaceAccount is Ready (its credentials were accepted by Face), else 0; reason is the Ready condition's reason.",
		[]string{"account", "reason"}, nil)
	accountsDesc = prometheus.NewDesc("liveness_operator_accounts",
		"FaceAccounts and ClusterFaceAccounts that exist now, by kind and Ready status (True, False, Unknown).",
		[]string{"kind", "ready"}, nil)
)

// listTimeout bounds a scrape-time list; see StateCollector.
const listTimeout = 5 * time.Second

// StateCollector reports every FaceAccount and ClusterFaceAccount's readiness from the
// manager's cache at scrape time (one in-memory list per kind, no API call). The account label
// is accounts.Key.String(), bounded by the number of account resources; reason is one of the
// operator's condition reasons. The default account (FACE_ENDPOINT) is no resource and has no
// readiness to report. Every replica reports the same values: aggregate with max, not sum.
type StateCollector struct {
	// Reader lists accounts; the manager's client (its cache).
	Reader client.Reader
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accountReadyDesc
	ch <- accountsDesc
}

// Collect implements prometheus.Collector. A kind whose list fails (cache not started) is left
// out rather than reported as having no accounts.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	var namespaced facev1.FaceAccountList
	if err := c.Reader.List(ctx, &namespaced); err == nil {
		conds := make([]accountConditions, 0, len(namespaced.Items))
		for i := range namespaced.Items {
			a := &namespaced.Items[i]
			key := accounts.Key{Kind: facev1.AccountKindFaceAccount, Namespace: a.Namespace, Name: a.Name}
			conds = append(conds, accountConditions{key: key, conditions: a.Status.Conditions})
		}
		emitAccounts(ch, facev1.AccountKindFaceAccount, conds)
	}
	var cluster facev1.ClusterFaceAccountList
	if err := c.Reader.List(ctx, &cluster); err == nil {
		conds := make([]accountConditions, 0, len(cluster.Items))
		for i := range cluster.Items {
			a := &cluster.Items[i]
			key := accounts.Key{Kind: facev1.AccountKindClusterFaceAccount, Name: a.Name}
			conds = append(conds, accountConditions{key: key, conditions: a.Status.Conditions})
		}
		emitAccounts(ch, facev1.AccountKindClusterFaceAccount, conds)
	}
}

// accountConditions is one account's key and status conditions.
type accountConditions struct {
	key        accounts.Key
	conditions []metav1.Condition
}

// emitAccounts sends one kind's per-account readiness and its counts by Ready status (zeros
// included, so "no account is ready" is a value, not an absent series).
func emitAccounts(ch chan<- prometheus.Metric, kind facev1.AccountKind, list []accountConditions) {
	counts := map[metav1.ConditionStatus]int{}
	for _, a := range list {
		status, reason := metav1.ConditionUnknown, "NotReconciled"
		if c := meta.FindStatusCondition(a.conditions, facev1.ConditionReady); c != nil {
			status, reason = c.Status, c.Reason
		}
		counts[status]++
		ready := 0.0
		if status == metav1.ConditionTrue {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(accountReadyDesc, prometheus.GaugeValue, ready, a.key.String(), reason)
	}
	for _, s := range []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown} {
		ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.GaugeValue, float64(counts[s]), string(kind), string(s))
	}
}

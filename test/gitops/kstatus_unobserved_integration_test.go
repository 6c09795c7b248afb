package gitops

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// States the operator passes through too fast to catch, held still in a namespace no operator
// watches: the API server is real (it sets generation and deletionTimestamp); the test plays
// the operator that has not caught up yet.
func TestVerdictsBeforeTheOperatorCatchesUp(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()

	// Just created, before the operator's first status write. kstatus knows nothing of the
	// resource without a condition or observedGeneration and calls it Current.
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "fresh")))
	snap := readLive(t, sessionGVK, ns, "fresh")
	require.NotContains(t, snap.Object, "status")
	requireVerdict(t, verdict{status.CurrentStatus, kstatusNoStatus,
		healthStatus{"Progressing", "waiting for the operator to report status"}}, snap, "without status")

	// Ready at generation 1, then the spec changes (deletionPolicy, the one mutable field):
	// the API server makes it generation 2, which the operator has not observed.
	ls := newSession(ns, "changed")
	require.NoError(t, k8sClient.Create(ctx, ls))
	ls.Status = facev1.LivenessSessionStatus{
		ObservedGeneration: ls.Generation,
		Outcome:            facev1.OutcomePending,
		Conditions: []metav1.Condition{{
			Type: facev1.ConditionReady, Status: metav1.ConditionTrue, Reason: facev1.ReasonSessionReady,
			Message: "cloud session s-1 exists; its auth token is in Secret changed", ObservedGeneration: ls.Generation,
			LastTransitionTime: metav1.Now(),
		}},
	}
	require.NoError(t, k8sClient.Status().Update(ctx, ls))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady,
		healthStatus{"Healthy", "cloud session s-1 exists; its auth token is in Secret changed"}},
		readLive(t, sessionGVK, ns, "changed"), "Ready at generation 1")
	base := ls.DeepCopy()
	ls.Spec.DeletionPolicy = facev1.DeletionPolicyOrphan
	require.NoError(t, k8sClient.Patch(ctx, ls, client.MergeFrom(base)))
	snap = readLive(t, sessionGVK, ns, "changed")
	require.Equal(t, int64(2), snap.GetGeneration())
	requireVerdict(t, verdict{status.InProgressStatus, "LivenessSession generation is 2, but latest observed generation is 1",
		healthStatus{"Progressing", "waiting for the operator to observe generation 2"}}, snap, "after a spec change")

	// Deleted while a finalizer holds it (the operator's holds it while it deletes the cloud
	// session): both tools say so before looking at conditions.
	held := newSession(ns, "held")
	controllerutil.AddFinalizer(held, "gitops.test/hold")
	require.NoError(t, k8sClient.Create(ctx, held))
	require.NoError(t, k8sClient.Delete(ctx, held))
	snap = readLive(t, sessionGVK, ns, "held")
	require.NotNil(t, snap.GetDeletionTimestamp())
	requireVerdict(t, verdict{status.TerminatingStatus, "Resource scheduled for deletion",
		healthStatus{"Progressing", "Pending deletion"}}, snap, "while deleting")
	base = held.DeepCopy()
	controllerutil.RemoveFinalizer(held, "gitops.test/hold")
	require.NoError(t, k8sClient.Patch(ctx, held, client.MergeFrom(base)))
}

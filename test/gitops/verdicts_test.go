package gitops

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// The kinds as Argo CD and Flux address them.
var (
	sessionGVK            = facev1.GroupVersion.WithKind("LivenessSession")
	faceAccountGVK        = facev1.GroupVersion.WithKind("FaceAccount")
	clusterFaceAccountGVK = facev1.GroupVersion.WithKind("ClusterFaceAccount")
)

// snapshotTimeout bounds every wait for an operator-written state.
const snapshotTimeout = 30 * time.Second

// verdict is what kstatus (Flux, kstatus-based waiting) and Argo CD (with the Lua health
// checks of config/argocd) say about one snapshot of an object.
type verdict struct {
	// Kstatus is kstatus' status: Current, InProgress, Failed, Terminating.
	Kstatus status.Status
	// KstatusMessage is kstatus' message.
	KstatusMessage string
	// Argo is Argo CD's health.
	Argo healthStatus
}

// readLive reads an object from the API server as the GitOps tools see it: unstructured JSON.
func readLive(t *testing.T, gvk schema.GroupVersionKind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, u))
	return u
}

// verdictOf computes both tools' verdicts on one snapshot: kstatus with
// sigs.k8s.io/cli-utils' status.Compute, Argo CD with its resource-health path and the
// repository's health.lua for the object's kind.
func verdictOf(t *testing.T, u *unstructured.Unstructured) verdict {
	t.Helper()
	res, err := status.Compute(u)
	require.NoError(t, err)
	gk := u.GroupVersionKind().GroupKind()
	script := readFile(t, filepath.Join(customizationsDir(), gk.Group, gk.Kind, "health.lua"))
	argo, err := argoResourceHealth(u, script)
	require.NoError(t, err)
	return verdict{Kstatus: res.Status, KstatusMessage: res.Message, Argo: argo}
}

// waitSnapshot reads the object until check accepts a snapshot, and returns that snapshot:
// the verdicts are then asserted on the very state check described.
func waitSnapshot(t *testing.T, gvk schema.GroupVersionKind, namespace, name string, check func(*unstructured.Unstructured) string) *unstructured.Unstructured {
	t.Helper()
	var snap *unstructured.Unstructured
	harness.Eventually(t, snapshotTimeout, func() string {
		snap = readLive(t, gvk, namespace, name)
		return check(snap)
	})
	return snap
}

// condition returns the condition of a type from an unstructured object, or nil.
func condition(u *unstructured.Unstructured, conditionType string) map[string]any {
	conditions, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == conditionType {
			return m
		}
	}
	return nil
}

// conditionMessage is the message of a condition, "" when it is absent.
func conditionMessage(u *unstructured.Unstructured, conditionType string) string {
	msg, _ := condition(u, conditionType)["message"].(string)
	return msg
}

// hasCondition accepts a snapshot whose condition has the status and reason.
func hasCondition(conditionType, wantStatus, wantReason string) func(*unstructured.Unstructured) string {
	return func(u *unstructured.Unstructured) string {
		c := condition(u, conditionType)
		if c == nil {
			return fmt.Sprintf("%s %s has no %s condition yet", u.GetKind(), u.GetName(), conditionType)
		}
		if c["status"] != wantStatus || c["reason"] != wantReason {
			return fmt.Sprintf("%s %s: %s is %v/%v (%v), want %s/%s", u.GetKind(), u.GetName(), conditionType, c["status"], c["reason"], c["message"], wantStatus, wantReason)
		}
		return ""
	}
}

// requireVerdict asserts both tools' verdicts on a snapshot, naming the state it was taken in.
func requireVerdict(t *testing.T, want verdict, snap *unstructured.Unstructured, state string) {
	t.Helper()
	require.Equal(t, want, verdictOf(t, snap), "%s %s/%s %s", snap.GetKind(), snap.GetNamespace(), snap.GetName(), state)
}

// requireNoCondition asserts that a snapshot has no condition of the type (a Current object
// keeps no Stalled or Reconciling beside a True Ready).
func requireNoCondition(t *testing.T, snap *unstructured.Unstructured, conditionType string) {
	t.Helper()
	require.Nil(t, condition(snap, conditionType), "%s %s/%s has a %s condition", snap.GetKind(), snap.GetNamespace(), snap.GetName(), conditionType)
}

package gitops

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// sessionActionsDir holds the LivenessSession's Argo CD actions.
func sessionActionsDir() string {
	return filepath.Join(customizationsDir(), "face.liveness-operator.io", "LivenessSession", "actions")
}

// runSyncNow does what Argo CD's server does for the sync-now action on a live object: run the
// action, then patch the object with the JSON merge patch from the live object to the result.
// It returns the patch.
func runSyncNow(t *testing.T, live *unstructured.Unstructured) []byte {
	t.Helper()
	out, err := argoAction(live.Object, readFile(t, filepath.Join(sessionActionsDir(), "sync-now", "action.lua")))
	require.NoError(t, err)
	require.Len(t, out, 1)
	require.Equal(t, "patch", out[0].Operation)
	liveJSON, err := json.Marshal(live.Object)
	require.NoError(t, err)
	newJSON, err := json.Marshal(out[0].Object)
	require.NoError(t, err)
	patch, err := jsonpatch.CreateMergePatch(liveJSON, newJSON)
	require.NoError(t, err)
	require.NoError(t, k8sClient.Patch(context.Background(), live, client.RawPatch(types.MergePatchType, patch)))
	return patch
}

// syncNowOffered runs discovery.lua on an object and says whether sync-now is enabled.
func syncNowOffered(t *testing.T, u *unstructured.Unstructured) bool {
	t.Helper()
	actions, err := argoDiscovery(u.Object, readFile(t, filepath.Join(sessionActionsDir(), "discovery.lua")))
	require.NoError(t, err)
	require.Len(t, actions, 1)
	require.Equal(t, "sync-now", actions[0].Name)
	return !actions[0].Disabled
}

// The sync-now action on a real session makes the real operator read the result at once. The
// operator's clock is frozen, so its own poll schedule never comes due: only the action can
// make it poll. The action's patch touches nothing but the annotation, although the live
// object went through Lua and back (managedFields, integers, empty objects).
func TestSyncNowActionOnARealSession(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	frozen := clocktesting.NewFakePassiveClock(time.Now())
	harness.StartManager(t, cp.Config, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey, Clock: frozen})
	ctx := context.Background()

	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "login")))
	snap := waitSnapshot(t, sessionGVK, ns, "login", hasCondition(facev1.ConditionReady, "True", facev1.ReasonSessionReady))
	require.True(t, syncNowOffered(t, snap), "sync-now is offered while the result is pending")
	_, err := emu.Attempt(sessionToken(t, ns, "login"), emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)

	// Without a request the frozen schedule never polls: the attempt stays unseen.
	time.Sleep(3 * time.Second)
	require.Zero(t, emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total, "no poll before the action")
	live := readLive(t, sessionGVK, ns, "login")
	outcome, _, _ := unstructured.NestedString(live.Object, "status", "outcome")
	require.Equal(t, string(facev1.OutcomePending), outcome)

	before := time.Now().Truncate(time.Second)
	patch := runSyncNow(t, live)
	var got map[string]any
	require.NoError(t, json.Unmarshal(patch, &got))
	requested := readLive(t, sessionGVK, ns, "login")
	requireSyncRequestedWithin(t, requested, before, time.Now())
	require.Equal(t, map[string]any{"metadata": map[string]any{"annotations": map[string]any{
		facev1.AnnotationSyncRequestedAt: requested.GetAnnotations()[facev1.AnnotationSyncRequestedAt],
	}}}, got, "the action changes only the sync-requested-at annotation")

	snap = waitSnapshot(t, sessionGVK, ns, "login", hasCondition(facev1.ConditionCompleted, "True", string(facev1.OutcomeLive)))
	require.Equal(t, int64(1), emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total, "one poll, for the one request")
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady,
		healthStatus{"Healthy", "outcome Live: " + conditionMessage(snap, facev1.ConditionCompleted)}}, snap, "after sync-now")
	require.False(t, syncNowOffered(t, snap), "sync-now is not offered once the outcome is final")
}

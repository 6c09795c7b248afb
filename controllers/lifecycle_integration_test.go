package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// startOperator runs an emulator and a manager for one namespace.
func startOperator(t *testing.T, ns string, cfg emulator.Config) *harness.Emulator {
	t.Helper()
	emu := harness.StartEmulator(t, cfg)
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	return emu
}

// tokenSecret reads the session's token Secret.
func tokenSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, s))
	return s
}

// waitGone waits until the LivenessSession no longer exists.
func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	harness.Eventually(t, 20*time.Second, func() string {
		err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, &facev1.LivenessSession{})
		if apierrors.IsNotFound(err) {
			return ""
		}
		return "LivenessSession still exists"
	})
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ctx := context.Background()

	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "login")))
	ls := waitCondition(t, ns, "login", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)

	// The token Secret follows its documented contract.
	secret := tokenSecret(t, ns, "login")
	require.Equal(t, corev1.SecretType(facev1.SecretType), secret.Type)
	require.True(t, *secret.Immutable)
	require.Equal(t, facev1.ManagedByValue, secret.Labels[facev1.LabelManagedBy])
	require.Equal(t, "login", secret.Labels[facev1.LabelSessionName])
	require.True(t, metav1.IsControlledBy(secret, ls), "token Secret must be controlled by its LivenessSession")
	require.Equal(t, ls.Status.SessionID, string(secret.Data[facev1.SecretKeySessionID]))
	require.Equal(t, ls.Status.SessionID, secret.Annotations[facev1.AnnotationSessionID])
	expiresAt, err := time.Parse(time.RFC3339, string(secret.Data[facev1.SecretKeyExpiresAt]))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(600*time.Second), expiresAt, 30*time.Second)
	require.NotEmpty(t, secret.Data[facev1.SecretKeyAuthToken])

	// Status reports the session; the outcome waits for the end user.
	require.Equal(t, "login", ls.Status.TokenSecretName)
	require.Equal(t, facev1.OutcomePending, ls.Status.Outcome)
	require.Equal(t, ls.Generation, ls.Status.ObservedGeneration)
	require.Empty(t, conditionIs(ls, facev1.ConditionCompleted, metav1.ConditionFalse, facev1.ReasonWaitingForAttempt))
	require.NotContains(t, ls.Annotations, facev1.AnnotationSyncRequestedAt)
	sessions := emu.SessionsFor(ns + "-login")
	require.Len(t, sessions, 1, "exactly one cloud session per resource")
	require.Equal(t, ls.Status.SessionID, sessions[0].SessionID)

	// The end user's attempt, with the token the frontend got from the Secret.
	_, err = emu.Attempt(string(secret.Data[facev1.SecretKeyAuthToken]), emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err, "the published token must be the session's real token")
	requestSync(t, ns, "login")
	ls = waitCondition(t, ns, "login", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeLive))
	require.Equal(t, facev1.OutcomeLive, ls.Status.Outcome)
	require.Equal(t, "realface", ls.Status.LivenessDecision)
	require.Len(t, ls.Status.Attempts, 1)
	require.Equal(t, int32(1), ls.Status.Attempts[0].AttemptID)
	require.Len(t, ls.Status.Attempts[0].Digest, 64)
	require.NotNil(t, ls.Status.Attempts[0].FaceRectangle)
	require.NotNil(t, ls.Status.CompletedAt)
	require.True(t, isReadyTrue(ls), "Ready stays True after completion")

	// Deleting the resource deletes the cloud session, then the resource goes.
	require.NoError(t, k8sClient.Delete(ctx, ls))
	waitGone(t, ns, "login")
	gone, ok := emu.Session(ls.Status.SessionID)
	require.True(t, ok)
	require.True(t, gone.Deleted, "cloud session must be deleted with the resource")
	require.Len(t, emu.SessionsFor(ns+"-login"), 1, "no second session was ever created")
}

func isReadyTrue(ls *facev1.LivenessSession) bool {
	return conditionIs(ls, facev1.ConditionReady, metav1.ConditionTrue, "") == ""
}

func TestResultIsPolledWithoutSyncRequest(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "s")))
	waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	token := string(tokenSecret(t, ns, "s").Data[facev1.SecretKeyAuthToken])

	_, err := emu.Attempt(token, emulator.AttemptRequest{LivenessDecision: "spoofface"})
	require.NoError(t, err)
	// No annotation: the poll schedule (1 s, 3 s, 7 s, 15 s after creation) finds it.
	ls := waitCondition(t, ns, "s", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeSpoof))
	require.Equal(t, "spoofface", ls.Status.LivenessDecision)
}

func TestFailedAttemptIsReported(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "masked")))
	waitCondition(t, ns, "masked", facev1.ConditionReady, metav1.ConditionTrue, "")
	token := string(tokenSecret(t, ns, "masked").Data[facev1.SecretKeyAuthToken])

	_, err := emu.Attempt(token, emulator.AttemptRequest{ErrorCode: "FaceWithMaskDetected", ErrorMessage: "Mask detected on face image."})
	require.NoError(t, err)
	requestSync(t, ns, "masked")
	ls := waitCondition(t, ns, "masked", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeFailed))
	require.Equal(t, "FaceWithMaskDetected", ls.Status.Attempts[0].ErrorCode)
	require.Contains(t, conditionMessage(ls, facev1.ConditionCompleted), "FaceWithMaskDetected")
}

func TestOrphanPolicyLeavesCloudSession(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ls := newSession(ns, "kept")
	ls.Spec.DeletionPolicy = facev1.DeletionPolicyOrphan
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	ls = waitCondition(t, ns, "kept", facev1.ConditionReady, metav1.ConditionTrue, "")

	require.NoError(t, k8sClient.Delete(context.Background(), ls))
	waitGone(t, ns, "kept")
	s, ok := emu.Session(ls.Status.SessionID)
	require.True(t, ok)
	require.False(t, s.Deleted, "Orphan must leave the cloud session alone")
}

func TestDeletionPolicyMayChange(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ls := newSession(ns, "switch")
	ls.Spec.DeletionPolicy = facev1.DeletionPolicyOrphan
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	ls = waitCondition(t, ns, "switch", facev1.ConditionReady, metav1.ConditionTrue, "")

	base := ls.DeepCopy()
	ls.Spec.DeletionPolicy = facev1.DeletionPolicyDelete
	require.NoError(t, k8sClient.Patch(context.Background(), ls, clientMergeFrom(base)))
	harness.Eventually(t, 10*time.Second, func() string {
		if got := get(t, ns, "switch"); got.Status.ObservedGeneration != got.Generation {
			return "observedGeneration not updated"
		}
		return ""
	})
	require.NoError(t, k8sClient.Delete(context.Background(), ls))
	waitGone(t, ns, "switch")
	s, _ := emu.Session(ls.Status.SessionID)
	require.True(t, s.Deleted, "the changed policy (Delete) must apply")
}

func TestDeleteToleratesSessionAlreadyGone(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "gone")))
	ls := waitCondition(t, ns, "gone", facev1.ConditionReady, metav1.ConditionTrue, "")

	// Someone deletes the cloud session behind the operator's back.
	require.NoError(t, harness.FaceClient(t, emu.URL, harness.TestAPIKey).DeleteLivenessSession(context.Background(), ls.Status.SessionID))
	require.NoError(t, k8sClient.Delete(context.Background(), ls))
	waitGone(t, ns, "gone") // Face's 404 on delete counts as done
}

func TestForeignSecretIsNeverTouched(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ctx := context.Background()
	foreign := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"},
		StringData: map[string]string{"password": "hunter2"},
	}
	require.NoError(t, k8sClient.Create(ctx, foreign))
	before := tokenSecret(t, ns, "taken")

	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "taken")))
	ls := waitCondition(t, ns, "taken", facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonSecretConflict)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), `Secret "taken" already exists and is not owned`)
	require.Empty(t, conditionIs(ls, facev1.ConditionReady, metav1.ConditionFalse, facev1.ReasonSecretConflict))

	after := tokenSecret(t, ns, "taken")
	require.Equal(t, before.ResourceVersion, after.ResourceVersion, "the foreign Secret must not be written")
	require.Empty(t, emu.SessionsFor(ns+"-taken"), "no cloud session may be created when its token has nowhere to go")

	// The resource can still be deleted.
	require.NoError(t, k8sClient.Delete(ctx, ls))
	waitGone(t, ns, "taken")
	require.Equal(t, before.ResourceVersion, tokenSecret(t, ns, "taken").ResourceVersion)
}

func TestTokenSecretDeletedIsReported(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "lost")))
	waitCondition(t, ns, "lost", facev1.ConditionReady, metav1.ConditionTrue, "")

	require.NoError(t, k8sClient.Delete(context.Background(), tokenSecret(t, ns, "lost")))
	ls := waitCondition(t, ns, "lost", facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonTokenSecretLost)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), "recreate the LivenessSession")
}

func TestFaceValidationErrorStallsWithoutRetrying(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ls := newSession(ns, "future-model")
	ls.Spec.LivenessModelVersion = "2099-01-01" // well-formed, so admission accepts it; Face does not know it
	require.NoError(t, k8sClient.Create(context.Background(), ls))

	ls = waitCondition(t, ns, "future-model", facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonFaceRejected)
	msg := conditionMessage(ls, facev1.ConditionReady)
	require.Contains(t, msg, "HTTP 400")
	require.Contains(t, msg, "livenessModelVersion")
	require.Empty(t, ls.Status.SessionID)
	creates := emu.Stats().ByOperation["CreateLivenessSession"].Total
	time.Sleep(2 * time.Second)
	require.Equal(t, creates, emu.Stats().ByOperation["CreateLivenessSession"].Total, "a rejected create must not be retried")
	got := get(t, ns, "future-model")
	require.Equal(t, got.Annotations[facev1.AnnotationCreatePending], got.Status.ResolvedCreateClaim,
		"a create with a known outcome leaves its claim resolved")
	require.Zero(t, got.Status.UnconfirmedCreates)
}

func TestWrongKeyIsACredentialsProblem(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: "not-the-key"})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "denied")))
	ls := waitCondition(t, ns, "denied", facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonCredentialsRejected)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), "HTTP 401")
	require.NotContains(t, conditionMessage(ls, facev1.ConditionReady), "not-the-key", "a key never appears in status")
}

func conditionMessage(ls *facev1.LivenessSession, condType string) string {
	for _, c := range ls.Status.Conditions {
		if c.Type == condType {
			return c.Message
		}
	}
	return ""
}

// A resource name over 63 characters whose cut lands on '-' must still give a valid label value:
// the token Secret is accepted, and the session is created exactly once.
func TestLongNameWithDashAtTheLabelCut(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	name := strings.Repeat("a", 62) + "-" + "-tail-xyz"
	require.Greater(t, len(name), 63)
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, name)))
	waitCondition(t, ns, name, facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	require.Len(t, emu.SessionsFor(ns+"-"+name), 1, "one billed create")
}

// sync-requested-at is the tenant's to write at any rate: forced polls are limited to one per
// second per session, however many new values arrive.
func TestSyncRequestsForceAtMostOnePollPerSecond(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "chatty")))
	waitCondition(t, ns, "chatty", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	before := emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total
	start := time.Now()
	for range 40 {
		requestSync(t, ns, "chatty")
	}
	time.Sleep(time.Second)
	elapsed := time.Since(start)
	polls := emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total - before
	// One poll per started second, plus the schedule's own polls in that window (at 1 s, 3 s,
	// 7 s after creation) and the poll answering the last request.
	require.LessOrEqual(t, polls, int64(elapsed/time.Second)+4, "%d polls in %s for 40 sync requests", polls, elapsed)
	require.Positive(t, polls, "sync requests are still answered")
}

// spec.tokenSecretTemplate's labels and annotations land on the token Secret, beside the
// operator's own, so tools that select Secrets find it.
func TestTokenSecretTemplate(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	ls := newSession(ns, "templated")
	ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{
		Labels:      map[string]facev1.LabelValue{"app": "checkout", "reloader.example/watch": "true"},
		Annotations: map[string]facev1.AnnotationValue{"reloader.example/match": "true"},
	}
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	waitCondition(t, ns, "templated", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	secret := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "templated"}, secret))
	require.Equal(t, "checkout", secret.Labels["app"])
	require.Equal(t, "true", secret.Labels["reloader.example/watch"])
	require.Equal(t, "true", secret.Annotations["reloader.example/match"])
	require.Equal(t, facev1.ManagedByValue, secret.Labels[facev1.LabelManagedBy], "the operator's own label stays")
	require.NotEmpty(t, secret.Annotations[facev1.AnnotationSignature])
}

// A finished session is removed after spec.ttlSecondsAfterFinished: status says when, then the
// resource goes and its cloud session is deleted (the finalizer's ordinary work).
func TestFinishedSessionIsRemovedAfterItsTTL(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ls := newSession(ns, "short-lived")
	ls.Spec.TTLSecondsAfterFinished = ptr.To[int32](2)
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	waitCondition(t, ns, "short-lived", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	_, err := emu.Attempt(string(tokenSecret(t, ns, "short-lived").Data[facev1.SecretKeyAuthToken]), emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	requestSync(t, ns, "short-lived")
	done := waitCondition(t, ns, "short-lived", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeLive))
	require.NotNil(t, done.Status.RemoveAfter)
	require.Equal(t, done.Status.CompletedAt.Add(2*time.Second), done.Status.RemoveAfter.Time)
	harness.Eventually(t, 20*time.Second, func() string {
		err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "short-lived"}, &facev1.LivenessSession{})
		if !apierrors.IsNotFound(err) {
			return "the finished session is still there"
		}
		return ""
	})
	sessions := emu.SessionsFor(ns + "-short-lived")
	require.Len(t, sessions, 1)
	require.True(t, sessions[0].Deleted, "its cloud session was deleted")
	// Deleted right after the finalizer, by the operator (not left to a garbage collector,
	// which envtest does not run).
	harness.Eventually(t, 10*time.Second, func() string {
		err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "short-lived"}, &corev1.Secret{})
		if !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the token Secret is still there (%v)", err)
		}
		return ""
	})
}

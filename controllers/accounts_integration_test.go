package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

func keySecret(ns, name, key string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"apikey": key}}
}

func faceAccount(ns, name, endpoint, secret string) *facev1.FaceAccount {
	return &facev1.FaceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: facev1.FaceAccountSpec{
			Endpoint:    endpoint,
			Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: secret, Key: "apikey"}},
			Quota:       &facev1.FaceQuota{RequestsPerSecond: ptr.To[int32](100), Burst: ptr.To[int32](100)},
		},
	}
}

func sessionWithAccount(ns, name string, ref facev1.AccountReference) *facev1.LivenessSession {
	ls := newSession(ns, name)
	ls.Spec.AccountRef = &ref
	return ls
}

// waitAccount waits until a FaceAccount's Ready condition has the status and reason.
func waitAccount(t *testing.T, ns, name string, status metav1.ConditionStatus, reason string) *facev1.FaceAccount {
	t.Helper()
	fa := &facev1.FaceAccount{}
	harness.Eventually(t, 20*time.Second, func() string {
		if err := k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, fa); err != nil {
			return err.Error()
		}
		for _, c := range fa.Status.Conditions {
			if c.Type == facev1.ConditionReady && c.Status == status && c.Reason == reason {
				return ""
			}
		}
		return fmt.Sprintf("account conditions: %+v", fa.Status.Conditions)
	})
	return fa
}

// Two teams, each with its own Face resource key, in their own namespaces: each session goes to
// its own account, and status records which.
func TestTwoNamespacesWithTheirOwnAccounts(t *testing.T) {
	t.Parallel()
	nsA, nsB := newNamespace(t), newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{APIKeys: []string{"team-a-key", "team-b-key"}})
	harness.StartManager(t, cpConfig, nsA, harness.ManagerOptions{ExtraNamespaces: []string{nsB}})
	ctx := context.Background()
	for ns, key := range map[string]string{nsA: "team-a-key", nsB: "team-b-key"} {
		require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", key)))
		require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
		require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})))
	}
	waitAccount(t, nsA, "face", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
	for ns, identity := range map[string]string{nsA: "key#0", nsB: "key#1"} {
		ls := waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
		require.Equal(t, &facev1.AccountReference{Kind: facev1.AccountKindFaceAccount, Name: "face"}, ls.Status.Account)
		sessions := emu.SessionsFor(ns + "-s")
		require.Len(t, sessions, 1)
		require.Equal(t, identity, sessions[0].APIKey, "namespace %s must use its own key", ns)
	}
}

func TestClusterFaceAccountAdmitsOnlySelectedNamespaces(t *testing.T) {
	t.Parallel()
	operatorNS, blue, red := newNamespace(t), newNamespace(t), newNamespace(t)
	ctx := context.Background()
	nsObj := &corev1.Namespace{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Name: blue}, nsObj))
	nsObj.Labels = map[string]string{"team": "blue"}
	require.NoError(t, k8sClient.Update(ctx, nsObj))

	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, blue, harness.ManagerOptions{OperatorNamespace: operatorNS, ExtraNamespaces: []string{red}, ClusterFaceAccounts: true})
	require.NoError(t, k8sClient.Create(ctx, keySecret(operatorNS, "shared-face-key", harness.TestAPIKey)))
	cfa := &facev1.ClusterFaceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-" + blue},
		Spec: facev1.ClusterFaceAccountSpec{
			FaceAccountSpec: facev1.FaceAccountSpec{
				Endpoint:    emu.URL,
				Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: "shared-face-key", Key: "apikey"}},
			},
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"team": "blue"}},
		},
	}
	require.NoError(t, k8sClient.Create(ctx, cfa))
	ref := facev1.AccountReference{Kind: facev1.AccountKindClusterFaceAccount, Name: cfa.Name}
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(blue, "admitted", ref)))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(red, "refused", ref)))

	waitCondition(t, blue, "admitted", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	ls := waitCondition(t, red, "refused", facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonNamespaceNotAllowed)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), fmt.Sprintf("does not admit namespace %q", red))
	require.Empty(t, emu.SessionsFor(red+"-refused"))

	// The admitted namespace loses admission: its running session stops calling Face (no more
	// polls, even when asked) and says why.
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Name: blue}, nsObj))
	nsObj.Labels = map[string]string{"team": "gone"}
	require.NoError(t, k8sClient.Update(ctx, nsObj))
	harness.Eventually(t, 20*time.Second, func() string {
		requestSync(t, blue, "admitted")
		return conditionIs(get(t, blue, "admitted"), facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonNamespaceNotAllowed)
	})
	polls := emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total
	requestSync(t, blue, "admitted")
	time.Sleep(2 * time.Second)
	require.Equal(t, polls, emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total, "no poll for a namespace that lost admission")
}

// A wrong key: the account is not Ready, its session waits with a credentials reason, and both
// recover once the key Secret is fixed, without a restart.
func TestWrongAccountKeyRecoversWhenFixed(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", "wrong-key")))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})))

	waitAccount(t, ns, "face", metav1.ConditionFalse, facev1.ReasonCredentialsRejected)
	ls := waitCondition(t, ns, "s", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonCredentialsRejected)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), `FaceAccount "face" is not Ready`)
	require.NotContains(t, conditionMessage(ls, facev1.ConditionReady), "wrong-key")

	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face-key"}, s))
	s.Data["apikey"] = []byte(harness.TestAPIKey)
	require.NoError(t, k8sClient.Update(ctx, s))
	waitAccount(t, ns, "face", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
	waitConditionWithin(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady, 20*time.Second)
	require.Len(t, emu.SessionsFor(ns+"-s"), 1)
}

// A rotated key is used for the next call, without a restart.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{APIKeys: []string{"key-one", "key-two"}})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", "key-one")))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "before", facev1.AccountReference{Name: "face"})))
	waitCondition(t, ns, "before", facev1.ConditionReady, metav1.ConditionTrue, "")
	require.Equal(t, "key#0", emu.SessionsFor(ns + "-before")[0].APIKey)

	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face-key"}, s))
	s.Data["apikey"] = []byte("key-two")
	require.NoError(t, k8sClient.Update(ctx, s))
	// The old key keeps working at Face during a rotation, so only the next create shows the
	// switch: wait until the account has re-checked with the new key.
	harness.Eventually(t, 20*time.Second, func() string {
		before := emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].ByStatus["404"]
		if before >= 2 {
			return ""
		}
		return "account has not re-checked its credentials with the new key"
	})
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "after", facev1.AccountReference{Name: "face"})))
	waitCondition(t, ns, "after", facev1.ConditionReady, metav1.ConditionTrue, "")
	require.Equal(t, "key#1", emu.SessionsFor(ns + "-after")[0].APIKey, "the rotated key is in use")

	// Deleting the older session works with the new key.
	require.NoError(t, k8sClient.Delete(ctx, get(t, ns, "before")))
	waitGone(t, ns, "before")
}

// With the emulator enforcing the same quota as the account (10 requests/s), every session
// becomes Ready, no request lands inside a Retry-After window, and no session is duplicated.
func TestAccountQuotaIsRespected(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 10, Burst: 10}})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	fa := faceAccount(ns, "s0", emu.URL, "face-key")
	fa.Spec.Quota = &facev1.FaceQuota{RequestsPerSecond: ptr.To[int32](10)}
	require.NoError(t, k8sClient.Create(ctx, fa))
	const n = 30
	for i := 0; i < n; i++ {
		require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, fmt.Sprintf("q%d", i), facev1.AccountReference{Name: "s0"})))
	}
	for i := 0; i < n; i++ {
		waitConditionWithin(t, ns, fmt.Sprintf("q%d", i), facev1.ConditionReady, metav1.ConditionTrue, "", 30*time.Second)
		require.Len(t, emu.SessionsFor(fmt.Sprintf("%s-q%d", ns, i)), 1)
	}
	stats := emu.Stats()
	require.Zero(t, stats.RequestsInsideRetryAfter, "no request inside a Retry-After window")
	t.Logf("%d sessions: %d requests, %d throttled, %d inside Retry-After", n, stats.TotalRequests, stats.Throttled, stats.RequestsInsideRetryAfter)
}

// When Face throttles an account whose configured quota is too high, the whole account pauses
// for Retry-After: sessions say so and still all become Ready, each with one cloud session.
func TestThrottledAccountPausesAndRecovers(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 3, Burst: 3}})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "overbooked", emu.URL, "face-key"))) // says 100/s; Face allows 3/s
	waitAccount(t, ns, "overbooked", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
	const n = 15
	for i := 0; i < n; i++ {
		require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, fmt.Sprintf("p%d", i), facev1.AccountReference{Name: "overbooked"})))
	}
	for i := 0; i < n; i++ {
		waitConditionWithin(t, ns, fmt.Sprintf("p%d", i), facev1.ConditionReady, metav1.ConditionTrue, "", 60*time.Second)
		require.Len(t, emu.SessionsFor(fmt.Sprintf("%s-p%d", ns, i)), 1)
	}
	stats := emu.Stats()
	require.Positive(t, stats.Throttled, "the account must actually have been throttled")
	t.Logf("%d sessions: %d throttled, %d inside Retry-After (requests already in flight when the first 429 came back)",
		n, stats.Throttled, stats.RequestsInsideRetryAfter)
}

// An account in use cannot go away: its finalizer holds it until its last session is deleted.
func TestAccountInUseIsProtectedFromDeletion(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})))
	ls := waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, "")

	fa := &facev1.FaceAccount{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa))
	require.NoError(t, k8sClient.Delete(ctx, fa))
	time.Sleep(time.Second)
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa), "the account must stay while a session uses it")
	require.Equal(t, int32(1), fa.Status.Sessions)

	require.NoError(t, k8sClient.Delete(ctx, ls))
	waitGone(t, ns, "s")
	gone, _ := emu.Session(ls.Status.SessionID)
	require.True(t, gone.Deleted, "the session was deleted through the account being deleted")
	harness.Eventually(t, 20*time.Second, func() string {
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa); apierrors.IsNotFound(err) {
			return ""
		}
		return "account still exists after its last session went"
	})
}

// fakeCredential stands in for Entra ID: it records the scopes asked for and hands out a token
// the emulator accepts as a bearer token.
type fakeCredential struct {
	mu     sync.Mutex
	scopes []string
}

func (f *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scopes = append(f.scopes, opts.Scopes...)
	return azcore.AccessToken{Token: "entra-token-for-tests", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// A ClusterFaceAccount with Entra ID uses the operator's own identity (the CredentialFactory):
// it sends that credential's bearer token, asked for the Cognitive Services scope.
func TestEntraIDClusterAccountSendsBearerTokenForTheCognitiveServicesScope(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{BearerTokens: []string{"entra-token-for-tests"}})
	cred := &fakeCredential{}
	var gotSpec facev1.EntraIDCredentials
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{ClusterFaceAccounts: true, Credentials: func(spec facev1.EntraIDCredentials) (azcore.TokenCredential, error) {
		cred.mu.Lock()
		defer cred.mu.Unlock()
		gotSpec = spec
		return cred, nil
	}})
	ctx := context.Background()
	cfa := &facev1.ClusterFaceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "entra-" + ns},
		Spec: facev1.ClusterFaceAccountSpec{
			FaceAccountSpec: facev1.FaceAccountSpec{Endpoint: emu.URL, Credentials: facev1.FaceCredentials{
				EntraID: &facev1.EntraIDCredentials{ClientID: "00000000-0000-0000-0000-0000000000c1", TenantID: "00000000-0000-0000-0000-0000000000t1"}}},
			NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}},
		},
	}
	require.NoError(t, k8sClient.Create(ctx, cfa))
	// Deleted while the manager still runs (cleanups run last-registered first), so it can
	// release the account's finalizer.
	t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cfa) })
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Kind: facev1.AccountKindClusterFaceAccount, Name: cfa.Name})))
	waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)

	require.Equal(t, "bearer#0", emu.SessionsFor(ns + "-s")[0].APIKey, "authenticated with the Entra ID bearer token")
	cred.mu.Lock()
	defer cred.mu.Unlock()
	require.Contains(t, cred.scopes, "https://cognitiveservices.azure.com/.default")
	require.Equal(t, facev1.EntraIDWorkloadIdentity, gotSpec.Mode)
	require.Equal(t, "00000000-0000-0000-0000-0000000000c1", gotSpec.ClientID)
}

// A session whose account lost its key cannot delete its cloud session: the finalizer holds
// until the session has certainly expired (48 h after creation), then it is released with a
// Warning event, so a lost key never pins resources forever.
func TestDeletionWithoutCredentialsReleasesAfterCertainExpiry(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	clk := clocktesting.NewFakePassiveClock(time.Now())
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Clock: clk})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})))
	ls := waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, "")

	require.NoError(t, k8sClient.Delete(ctx, keySecret(ns, "face-key", "")))
	waitAccount(t, ns, "face", metav1.ConditionFalse, facev1.ReasonKeySecretNotFound)
	require.NoError(t, k8sClient.Delete(ctx, ls))
	waitCondition(t, ns, "s", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonAccountNotReady)
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "s"}, ls), "the finalizer holds while the session may still exist")

	clk.SetTime(clk.Now().Add(48*time.Hour + time.Minute))
	requestSync(t, ns, "s") // any change wakes the reconcile; the real requeue would come at expiry
	waitGone(t, ns, "s")
	s, _ := emu.Session(ls.Status.SessionID)
	require.False(t, s.Deleted, "nothing could be deleted without the key")

	var evs eventsv1.EventList
	require.NoError(t, k8sClient.List(ctx, &evs, client.InNamespace(ns)))
	found := false
	for _, e := range evs.Items {
		if e.Reason == facev1.ReasonFinalizerReleased && e.Type == corev1.EventTypeWarning {
			found = true
		}
	}
	require.True(t, found, "a Warning event says the finalizer was released without a delete")

	// With its last session gone, the account may go too.
	fa := &facev1.FaceAccount{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa))
	require.NoError(t, k8sClient.Delete(ctx, fa))
	harness.Eventually(t, 20*time.Second, func() string {
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa); apierrors.IsNotFound(err) {
			return ""
		}
		return "account still exists"
	})
}

// While Face has paused an account (429 with Retry-After), a new session does not hold a worker
// inside the window: it says so in its conditions and starts once the window is over.
func TestSessionsSayWhenTheirAccountIsPaused(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	mgr := harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	_, limiter, ok := mgr.Registry.Get(accounts.DefaultKey)
	require.True(t, ok)
	limiter.Pause(4 * time.Second) // as a 429 with Retry-After: 4 would

	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "paused")))
	ls := waitCondition(t, ns, "paused", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonAccountThrottled)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), "calls resume at")
	require.Zero(t, emu.Stats().TotalRequests, "nothing is sent inside the window")

	waitConditionWithin(t, ns, "paused", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady, 20*time.Second)
}

// A delete that Face keeps failing (every call 500) holds the finalizer until the session has
// certainly expired, then releases it with a Warning event: a broken endpoint never pins
// resources forever, and never releases them early.
func TestDeletionFailingPersistentlyReleasesAfterCertainExpiry(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	clk := clocktesting.NewFakePassiveClock(time.Now())
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey, Clock: clk})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "s")))
	ls := waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, "")

	require.NoError(t, emu.SetFaults(emulator.Faults{ErrorRate500: 1}))
	require.NoError(t, k8sClient.Delete(ctx, ls))
	waitCondition(t, ns, "s", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonFaceUnavailable)
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "s"}, ls), "the finalizer holds while the session may still exist")

	clk.SetTime(clk.Now().Add(48*time.Hour + time.Minute))
	requestSync(t, ns, "s") // any change wakes the reconcile; the real requeue would come later
	waitGone(t, ns, "s")
	var evs eventsv1.EventList
	require.NoError(t, k8sClient.List(ctx, &evs, client.InNamespace(ns)))
	found := false
	for _, e := range evs.Items {
		if e.Reason == facev1.ReasonFinalizerReleased && e.Type == corev1.EventTypeWarning {
			found = true
		}
	}
	require.True(t, found, "a Warning event says the finalizer was released without a delete")
}

// Namespace teardown after a manager restart: the namespace is being deleted with its
// FaceAccount and key Secret, and a freshly started manager (empty registry) cannot reach Face
// for the session. It releases the session's finalizer with a Warning event instead of holding
// the namespace for 48 h.
func TestNamespaceTeardownDoesNotWaitForCertainExpiry(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	require.NoError(t, k8sClient.Create(ctx, faceAccount(ns, "face", emu.URL, "face-key")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})))
	// The first manager creates the session and stops when its subtest ends.
	t.Run("first manager", func(t *testing.T) {
		harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
		waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, "")
	})

	// Teardown begins while no manager runs: envtest has no namespace controller, so the test
	// deletes what it would (the key Secret first, then the account and the session).
	nsObj := &corev1.Namespace{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Name: ns}, nsObj))
	require.NoError(t, k8sClient.Delete(ctx, nsObj))
	require.NoError(t, k8sClient.Delete(ctx, keySecret(ns, "face-key", "")))
	fa := &facev1.FaceAccount{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa))
	require.NoError(t, k8sClient.Delete(ctx, fa))
	require.NoError(t, k8sClient.Delete(ctx, get(t, ns, "s")))

	// A restarted manager finishes the teardown well before 48 h.
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{})
	waitGone(t, ns, "s")
	harness.Eventually(t, 20*time.Second, func() string {
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "face"}, fa); apierrors.IsNotFound(err) {
			return ""
		}
		return "account still exists"
	})
}

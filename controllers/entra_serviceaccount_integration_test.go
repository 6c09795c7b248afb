package controllers_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers/account"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// The Entra application the tests' FaceAccounts authenticate as.
const (
	testEntraTenant = "00000000-0000-0000-0000-00000000a1a1"
	testEntraClient = "00000000-0000-0000-0000-00000000c2c2"
)

// entraAccount is a FaceAccount that authenticates as ServiceAccount sa of its namespace.
func entraAccount(ns, name, endpoint, sa string) *facev1.FaceAccount {
	return &facev1.FaceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: facev1.FaceAccountSpec{Endpoint: endpoint, Credentials: facev1.FaceCredentials{EntraID: &facev1.EntraIDCredentials{
			ClientID: testEntraClient, TenantID: testEntraTenant, ServiceAccountName: sa,
		}}},
	}
}

// entraSetup is a namespace with a Face emulator that accepts accessToken as a bearer token,
// a FakeEntra, and a manager that exchanges ServiceAccount tokens there.
func entraSetup(t *testing.T, accessToken string) (string, *harness.Emulator, *harness.FakeEntra) {
	t.Helper()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{BearerTokens: []string{accessToken}})
	entra := harness.StartFakeEntra(t)
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{EntraExchange: entra.ClientAssertionOptions()})
	return ns, emu, entra
}

// A FaceAccount's Entra ID token comes from its own ServiceAccount: the operator mints a real,
// 10-minute token for audience api://AzureADTokenExchange, Entra ID (played by FakeEntra, whose
// federated credential trusts exactly that ServiceAccount) exchanges it, and Face sees the
// resulting bearer token. azidentity caches the Entra ID token: one exchange serves the
// credential check and the session.
func TestFaceAccountAuthenticatesAsItsServiceAccount(t *testing.T) {
	t.Parallel()
	accessToken := "entra-access-token-for-face-app"
	ns, emu, entra := entraSetup(t, accessToken)
	subject := "system:serviceaccount:" + ns + ":face-app"
	entra.Trust(harness.FederatedCredential{TenantID: testEntraTenant, ClientID: testEntraClient, Subject: subject, AccessToken: accessToken})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "face-app"}}))
	require.NoError(t, k8sClient.Create(ctx, entraAccount(ns, "entra", emu.URL, "face-app")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "entra"})))

	fa := waitAccount(t, ns, "entra", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
	waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	sessions := emu.Sessions()
	require.Len(t, sessions, 1)
	require.Equal(t, "bearer#0", sessions[0].APIKey, "Face saw the exchanged Entra ID token")

	exchanges := entra.Exchanges()
	require.Len(t, exchanges, 1, "azidentity caches the Entra ID token: one exchange for the check and the session")
	x := exchanges[0]
	require.True(t, x.Granted)
	require.Equal(t, testEntraTenant, x.TenantID)
	require.Equal(t, testEntraClient, x.ClientID)
	require.Equal(t, subject, x.Subject)
	require.Equal(t, []string{account.ServiceAccountTokenAudience}, x.Audiences)
	require.Equal(t, 10*time.Minute, x.Lifetime)
	require.Contains(t, x.Scope, "https://cognitiveservices.azure.com/.default")

	// The assertion is a real ServiceAccount token: the API server that issued it says whose.
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{
		Token: x.Assertion, Audiences: []string{account.ServiceAccountTokenAudience}}}
	require.NoError(t, k8sClient.Create(ctx, review))
	require.True(t, review.Status.Authenticated, "TokenReview: %s", review.Status.Error)
	require.Equal(t, subject, review.Status.User.Username)

	for _, c := range fa.Status.Conditions {
		require.NotContains(t, c.Message, x.Assertion)
		require.NotContains(t, c.Message, accessToken)
	}
}

// Entra ID refuses the exchange (no federated credential trusts the ServiceAccount): the account
// is not Ready, its message says what to check on the Azure side without any token, and nothing
// reaches Face.
func TestFaceAccountWhoseTokenExchangeIsRefused(t *testing.T) {
	t.Parallel()
	ns, emu, entra := entraSetup(t, "never-issued")
	// The application trusts another ServiceAccount only.
	entra.Trust(harness.FederatedCredential{TenantID: testEntraTenant, ClientID: testEntraClient,
		Subject: "system:serviceaccount:" + ns + ":someone-else", AccessToken: "never-issued"})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "face-app"}}))
	require.NoError(t, k8sClient.Create(ctx, entraAccount(ns, "entra", emu.URL, "face-app")))
	require.NoError(t, k8sClient.Create(ctx, sessionWithAccount(ns, "s", facev1.AccountReference{Name: "entra"})))

	fa := waitAccount(t, ns, "entra", metav1.ConditionFalse, facev1.ReasonCredentialsRejected)
	msg := meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady).Message
	for _, want := range []string{
		"Entra ID refused the token of ServiceAccount " + ns + "/face-app",
		"client " + testEntraClient, "tenant " + testEntraTenant,
		"HTTP 400: invalid_grant, AADSTS70021",
		"federated credential with issuer https://127.0.0.1:",
		"subject system:serviceaccount:" + ns + ":face-app",
		"audience api://AzureADTokenExchange",
	} {
		require.Contains(t, msg, want)
	}
	t.Logf("Ready message: %s", msg)
	require.NotContains(t, msg, "Trace ID", "Entra's per-request ids would rewrite the status on every attempt")
	exchanges := entra.Exchanges()
	require.NotEmpty(t, exchanges)
	for _, x := range exchanges {
		require.False(t, x.Granted)
		require.Equal(t, "AADSTS70021", x.Error)
		require.NotContains(t, msg, x.Assertion)
	}
	waitCondition(t, ns, "s", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonCredentialsRejected)
	require.Zero(t, emu.Stats().TotalRequests, "no request reaches Face without an Entra ID token")
}

// A FaceAccount naming a ServiceAccount that does not exist says so; once it is created, the
// account recovers without a restart.
func TestFaceAccountWithoutItsServiceAccount(t *testing.T) {
	t.Parallel()
	accessToken := "entra-access-token-late-sa"
	ns, emu, entra := entraSetup(t, accessToken)
	entra.Trust(harness.FederatedCredential{TenantID: testEntraTenant, ClientID: testEntraClient,
		Subject: "system:serviceaccount:" + ns + ":face-app", AccessToken: accessToken})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, entraAccount(ns, "entra", emu.URL, "face-app")))

	fa := waitAccount(t, ns, "entra", metav1.ConditionFalse, facev1.ReasonServiceAccountNotFound)
	require.Contains(t, meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady).Message,
		"ServiceAccount "+ns+"/face-app does not exist")
	require.Empty(t, entra.Exchanges(), "no token, no exchange")
	require.Zero(t, emu.Stats().TotalRequests)

	require.NoError(t, k8sClient.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "face-app"}}))
	// An annotation wakes the account at once; its periodic recheck would find it too.
	base := fa.DeepCopy()
	fa.Annotations = map[string]string{"example.com/nudge": "serviceaccount-created"}
	require.NoError(t, k8sClient.Patch(ctx, fa, client.MergeFrom(base)))
	waitAccount(t, ns, "entra", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
}

// The API server refuses FaceAccounts that would use the operator's own Entra identity, and
// ClusterFaceAccounts that name a ServiceAccount, with a message that says what to fix.
func TestEntraIDAccountsAreCheckedAtAdmission(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(*facev1.EntraIDCredentials)
		want   string
	}{
		{"no serviceAccountName", func(e *facev1.EntraIDCredentials) { e.ServiceAccountName = "" },
			"a FaceAccount with spec.credentials.entraID must set serviceAccountName"},
		{"no clientID", func(e *facev1.EntraIDCredentials) { e.ClientID = "" }, "must set serviceAccountName (a ServiceAccount of this namespace), clientID and tenantID"},
		{"no tenantID", func(e *facev1.EntraIDCredentials) { e.TenantID = "" }, "must set serviceAccountName (a ServiceAccount of this namespace), clientID and tenantID"},
		{"the default chain", func(e *facev1.EntraIDCredentials) { e.Mode = facev1.EntraIDDefaultChain },
			"mode must be WorkloadIdentity"},
		{"another namespace's ServiceAccount", func(e *facev1.EntraIDCredentials) { e.ServiceAccountName = "kube-system/default" },
			"spec.credentials.entraID.serviceAccountName"},
		{"a ServiceAccount username", func(e *facev1.EntraIDCredentials) {
			e.ServiceAccountName = "system:serviceaccount:kube-system:default"
		}, "spec.credentials.entraID.serviceAccountName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa := entraAccount(ns, "refused", "https://face.example.com", "face-app")
			tc.mutate(fa.Spec.Credentials.EntraID)
			err := k8sClient.Create(ctx, fa, client.DryRunAll)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	require.NoError(t, k8sClient.Create(ctx, entraAccount(ns, "accepted", "https://face.example.com", "face-app"), client.DryRunAll))

	cfa := &facev1.ClusterFaceAccount{ObjectMeta: metav1.ObjectMeta{Name: "refused-" + ns}, Spec: facev1.ClusterFaceAccountSpec{
		FaceAccountSpec: facev1.FaceAccountSpec{Endpoint: "https://face.example.com", Credentials: facev1.FaceCredentials{
			EntraID: &facev1.EntraIDCredentials{ServiceAccountName: "face-app"}}}}}
	err := k8sClient.Create(ctx, cfa, client.DryRunAll)
	require.Error(t, err)
	require.Contains(t, err.Error(), "a ClusterFaceAccount authenticates with the operator's own Entra identity: remove spec.credentials.entraID.serviceAccountName")
	cfa.Spec.Credentials.EntraID.ServiceAccountName = ""
	require.NoError(t, k8sClient.Create(ctx, cfa, client.DryRunAll))
}

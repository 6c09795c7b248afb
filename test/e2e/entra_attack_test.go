package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// The operator's own Entra identity in the attack test: its application, and the
// ServiceAccount its federated credential trusts.
const (
	operatorEntraTenant  = "00000000-0000-0000-0000-0000000000a0"
	operatorEntraClient  = "00000000-0000-0000-0000-0000000000c0"
	operatorNamespace    = "liveness-operator-system"
	operatorSA           = "controller-manager"
	operatorAccessToken  = "operator-entra-access-token"
	tenantNamespace      = "tenant-a"
	tenantUser           = "tenant-a-dev"
	faceAccountsCRDFile  = "face.liveness-operator.io_faceaccounts.yaml"
	faceAccountsCRDName  = "faceaccounts.face.liveness-operator.io"
	operatorSubject      = "system:serviceaccount:" + operatorNamespace + ":" + operatorSA
	tenantSubjectOfSA    = "system:serviceaccount:" + tenantNamespace + ":" + operatorSA
	legacyAccountMessage = "a FaceAccount with spec.credentials.entraID must set serviceAccountName"
)

// A tenant with rights in one namespace tries to borrow the operator's Entra identity through a
// FaceAccount, against the real manager binary under the generated RBAC. The manager process
// has a working workload identity of its own (AZURE_CLIENT_ID, AZURE_TENANT_ID and
// AZURE_FEDERATED_TOKEN_FILE, trusted by FakeEntra): a ClusterFaceAccount, created last by an
// administrator, proves it works. Every way the tenant tries fails, and FakeEntra, which records
// every assertion, never received the operator's token before that ClusterFaceAccount:
//
//   - entraID without serviceAccountName (the old hole), or mode DefaultChain: refused at
//     admission;
//   - a ServiceAccount of another namespace: the name is only a name (a path or a ServiceAccount
//     username is refused at admission), and the operator's ServiceAccount name resolves in the
//     tenant's namespace: ServiceAccountNotFound, then, once the tenant creates one of that name,
//     a token of tenant-a's ServiceAccount, which the operator's application does not trust;
//   - a FaceAccount stored before the rule existed: the operator refuses it at run time.
func TestAttackFaceAccountCannotBorrowTheOperatorsEntraIdentity(t *testing.T) {
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	dir := t.TempDir()
	ctx := context.Background()
	admin, err := client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)
	adminUser, err := cp.AdminUser()
	require.NoError(t, err)
	adminKC := harness.WriteKubeconfig(t, dir, "admin", adminUser)
	operatorKC := grantGeneratedClusterRole(t, cp, admin, dir)
	tenantKC := addTenant(t, cp, admin, dir)
	require.NoError(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: objectMeta(operatorNamespace)}))
	require.NoError(t, admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNamespace, Name: operatorSA}}))

	// The operator's workload identity, as the Azure webhook would project it into its pod.
	operatorToken := mintToken(t, admin, operatorNamespace, operatorSA)
	tokenFile := filepath.Join(dir, "azure-identity-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(operatorToken), 0o600))
	entra := harness.StartFakeEntra(t)
	entra.Trust(harness.FederatedCredential{TenantID: operatorEntraTenant, ClientID: operatorEntraClient,
		Subject: operatorSubject, AccessToken: operatorAccessToken})
	emu := harness.StartEmulator(t, emulator.Config{BearerTokens: []string{operatorAccessToken}})
	tunnel := startTunnelProxy(t, entra.Addr)

	// Before the upgrade: a tenant's FaceAccount with entraID and nothing else was admitted.
	legacy := fmt.Sprintf(`{"apiVersion":"face.liveness-operator.io/v1alpha1","kind":"FaceAccount",
		"metadata":{"name":"legacy","namespace":%q},"spec":{"endpoint":%q,
		"credentials":{"entraID":{"clientID":%q,"tenantID":%q}}}}`, tenantNamespace, emu.URL, operatorEntraClient, operatorEntraTenant)
	createBeforeTheRule(t, adminKC, tenantKC, legacy)

	mgrOut := startProcess(t, []string{
		"AZURE_CLIENT_ID=" + operatorEntraClient, "AZURE_TENANT_ID=" + operatorEntraTenant,
		"AZURE_FEDERATED_TOKEN_FILE=" + tokenFile, "AZURE_AUTHORITY_HOST=" + entra.URL + "/",
		"SSL_CERT_FILE=" + entra.CAFile,
		// MSAL validates an authority host it does not know with login.microsoftonline.com; the
		// proxy takes that request to FakeEntra. Loopback traffic never goes through a proxy.
		"HTTPS_PROXY=" + tunnel.url, "NO_PROXY=127.0.0.1,localhost",
	}, "manager", "--kubeconfig", operatorKC, "--operator-namespace", operatorNamespace,
		"--allowed-face-endpoints", "127.0.0.1", "--metrics-bind-address", "0", "--health-probe-bind-address", "127.0.0.1:0")

	// The stored account is refused at run time, and its finalizer and status could be written.
	fa := waitFaceAccount(t, admin, "legacy", facev1.ReasonCredentialsUnavailable)
	require.Contains(t, meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady).Message, legacyAccountMessage)
	require.Contains(t, fa.Finalizers, facev1.AccountFinalizer)

	// Attack 1: the old hole, and the default chain, are refused at admission.
	for _, entraID := range []string{
		fmt.Sprintf(`{"clientID":%q,"tenantID":%q}`, operatorEntraClient, operatorEntraTenant),
		`{}`,
		fmt.Sprintf(`{"mode":"DefaultChain","clientID":%q,"tenantID":%q,"serviceAccountName":"app"}`, operatorEntraClient, operatorEntraTenant),
	} {
		out, err := kubectlApply(tenantKC, tenantAccount("borrow", emu.URL, entraID))
		require.Error(t, err, "admitted: %s", entraID)
		require.Regexp(t, "must set serviceAccountName|mode must be WorkloadIdentity", out)
	}
	// Attack 2: another namespace's ServiceAccount cannot even be written down.
	for _, name := range []string{operatorNamespace + "/" + operatorSA, operatorSubject} {
		out, err := kubectlApply(tenantKC, tenantAccount("borrow", emu.URL, entraIDOf(name)))
		require.Error(t, err, "admitted: %s", name)
		require.Contains(t, out, "spec.credentials.entraID.serviceAccountName")
	}
	// ... and the operator's ServiceAccount's name means tenant-a's ServiceAccount of that name.
	out, err := kubectlApply(tenantKC, tenantAccount("borrow", emu.URL, entraIDOf(operatorSA)))
	require.NoError(t, err, out)
	fa = waitFaceAccount(t, admin, "borrow", facev1.ReasonServiceAccountNotFound)
	require.Contains(t, meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady).Message,
		"ServiceAccount "+tenantNamespace+"/"+operatorSA+" does not exist")
	require.Empty(t, entra.Exchanges(), "no token was requested for a ServiceAccount that does not exist")

	kubectl(t, tenantKC, "create", "serviceaccount", "-n", tenantNamespace, operatorSA)
	kubectl(t, tenantKC, "annotate", "faceaccount", "-n", tenantNamespace, "borrow", "attack.example/nudge=1")
	fa = waitFaceAccount(t, admin, "borrow", facev1.ReasonCredentialsRejected)
	rejected := meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady).Message
	require.Contains(t, rejected, "subject "+tenantSubjectOfSA)
	t.Logf("the tenant's account: %s", rejected)

	session := fmt.Sprintf(`{"apiVersion":"face.liveness-operator.io/v1alpha1","kind":"LivenessSession",
		"metadata":{"name":"borrowed","namespace":%q},"spec":{"operationMode":"Passive",
		"deviceCorrelationIdSetInClient":true,"accountRef":{"name":"borrow"}}}`, tenantNamespace)
	out, err = kubectlApply(tenantKC, session)
	require.NoError(t, err, out)
	harness.Eventually(t, 30*time.Second, func() string {
		ls := &facev1.LivenessSession{}
		if err := admin.Get(ctx, types.NamespacedName{Namespace: tenantNamespace, Name: "borrowed"}, ls); err != nil {
			return err.Error()
		}
		if c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReconciling); c != nil && c.Reason == facev1.ReasonCredentialsRejected {
			return ""
		}
		return fmt.Sprintf("session conditions: %+v", ls.Status.Conditions)
	})

	// What Entra ID saw: tenant-a's ServiceAccount, refused; never the operator's token.
	exchanges := entra.Exchanges()
	require.NotEmpty(t, exchanges)
	for _, x := range exchanges {
		require.Equal(t, tenantSubjectOfSA, x.Subject, "the token request is made in the account's own namespace")
		require.NotEqual(t, operatorToken, x.Assertion, "the operator's own federated token must never be sent for a FaceAccount")
		require.False(t, x.Granted)
		require.Equal(t, "AADSTS70021", x.Error)
	}
	require.Zero(t, emu.Stats().TotalRequests, "nothing reached Face for the tenant")

	// Control: the manager's own identity does work. An administrator's ClusterFaceAccount uses
	// it, so the operator's token reaches Entra ID for the first time now.
	before := len(exchanges)
	cfa := &facev1.ClusterFaceAccount{ObjectMeta: objectMeta("shared"), Spec: facev1.ClusterFaceAccountSpec{
		FaceAccountSpec: facev1.FaceAccountSpec{Endpoint: emu.URL, Credentials: facev1.FaceCredentials{
			EntraID: &facev1.EntraIDCredentials{ClientID: operatorEntraClient, TenantID: operatorEntraTenant}}},
		NamespaceSelector: metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "shared-only"}}}}
	require.NoError(t, admin.Create(ctx, cfa))
	harness.Eventually(t, 30*time.Second, func() string {
		if err := admin.Get(ctx, client.ObjectKeyFromObject(cfa), cfa); err != nil {
			return err.Error()
		}
		if meta.IsStatusConditionTrue(cfa.Status.Conditions, facev1.ConditionReady) {
			return ""
		}
		return fmt.Sprintf("ClusterFaceAccount conditions: %+v", cfa.Status.Conditions)
	})
	exchanges = entra.Exchanges()
	operatorExchanges := 0
	for i, x := range exchanges {
		if x.Assertion == operatorToken {
			require.GreaterOrEqual(t, i, before, "the operator's token arrived only for the ClusterFaceAccount")
			require.True(t, x.Granted)
			operatorExchanges++
		}
	}
	require.Positive(t, operatorExchanges, "the manager's own workload identity reached FakeEntra")
	require.Equal(t, []string{harness.EntraPublicHost + ":443"}, tunnel.hostsSeen(), "only MSAL's instance discovery went through the proxy")

	logs := mgrOut.String()
	for _, x := range exchanges {
		require.NotContains(t, logs, x.Assertion, "no ServiceAccount token in the manager's log")
	}
	require.NotContains(t, logs, operatorAccessToken)
	require.NotContains(t, logs, "forbidden", "the generated RBAC must be enough")
}

// grantGeneratedClusterRole creates config/rbac/role.yaml bound to user liveness-operator and
// returns that user's kubeconfig.
func grantGeneratedClusterRole(t *testing.T, cp *harness.ControlPlane, admin client.Client, dir string) string {
	t.Helper()
	role := &rbacv1.ClusterRole{}
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "rbac", "role.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(role))
	ctx := context.Background()
	require.NoError(t, admin.Create(ctx, role))
	require.NoError(t, admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("liveness-operator"),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "liveness-operator", APIGroup: rbacv1.GroupName}},
	}))
	operator, err := cp.AddUser(envtest.User{Name: "liveness-operator"})
	require.NoError(t, err)
	return harness.WriteKubeconfig(t, dir, "operator", operator)
}

// addTenant creates namespace tenant-a and a user who may manage FaceAccounts, LivenessSessions
// and ServiceAccounts there (what a team's namespace admin has), and returns its kubeconfig.
func addTenant(t *testing.T, cp *harness.ControlPlane, admin client.Client, dir string) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, admin.Create(ctx, &corev1.Namespace{ObjectMeta: objectMeta(tenantNamespace)}))
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: tenantNamespace, Name: "team-admin"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{facev1.GroupVersion.Group}, Resources: []string{"faceaccounts", "livenesssessions"}, Verbs: []string{"*"}},
		{APIGroups: []string{""}, Resources: []string{"serviceaccounts"}, Verbs: []string{"*"}},
	}}
	require.NoError(t, admin.Create(ctx, role))
	require.NoError(t, admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenantNamespace, Name: "team-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: tenantUser, APIGroup: rbacv1.GroupName}},
	}))
	u, err := cp.AddUser(envtest.User{Name: tenantUser})
	require.NoError(t, err)
	return harness.WriteKubeconfig(t, dir, "tenant", u)
}

// mintToken is a token of ServiceAccount namespace/name for Entra's token exchange, as Azure
// workload identity projects it into a pod.
func mintToken(t *testing.T, admin client.Client, namespace, name string) string {
	t.Helper()
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: []string{"api://AzureADTokenExchange"}, ExpirationSeconds: ptr.To[int64](3600)}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	require.NoError(t, admin.SubResource("token").Create(context.Background(), sa, tr))
	return tr.Status.Token
}

// createBeforeTheRule stores a FaceAccount as a tenant could before the Entra ID rules existed:
// it drops the FaceAccount CRD's spec rules, applies the account as the tenant, and puts the
// generated CRD back.
func createBeforeTheRule(t *testing.T, adminKC, tenantKC, account string) {
	t.Helper()
	kubectl(t, adminKC, "patch", "crd", faceAccountsCRDName, "--type=json", "-p",
		`[{"op":"remove","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/x-kubernetes-validations"}]`)
	harness.Eventually(t, 30*time.Second, func() string {
		if out, err := kubectlApply(tenantKC, account); err != nil {
			return "the old schema is not in force yet: " + out
		}
		return ""
	})
	kubectl(t, adminKC, "apply", "--server-side", "--force-conflicts", "-f",
		filepath.Join(harness.RepoRoot(), "config", "crd", "bases", faceAccountsCRDFile))
	probe := strings.Replace(account, `"name":"legacy"`, `"name":"legacy-probe"`, 1)
	harness.Eventually(t, 30*time.Second, func() string {
		out, err := kubectlApply(tenantKC, probe, "--dry-run=server")
		if err != nil && strings.Contains(out, legacyAccountMessage) {
			return ""
		}
		return "the generated CRD is not in force yet: " + out
	})
}

// tenantAccount is a FaceAccount in tenant-a with the given entraID JSON.
func tenantAccount(name, endpoint, entraID string) string {
	return fmt.Sprintf(`{"apiVersion":"face.liveness-operator.io/v1alpha1","kind":"FaceAccount",
		"metadata":{"name":%q,"namespace":%q},"spec":{"endpoint":%q,"credentials":{"entraID":%s}}}`,
		name, tenantNamespace, endpoint, entraID)
}

// entraIDOf is the entraID JSON of the operator's application with ServiceAccount name.
func entraIDOf(serviceAccount string) string {
	return fmt.Sprintf(`{"clientID":%q,"tenantID":%q,"serviceAccountName":%q}`, operatorEntraClient, operatorEntraTenant, serviceAccount)
}

// waitFaceAccount waits until tenant-a's FaceAccount name has Ready=False with reason.
func waitFaceAccount(t *testing.T, admin client.Client, name, reason string) *facev1.FaceAccount {
	t.Helper()
	fa := &facev1.FaceAccount{}
	harness.Eventually(t, 30*time.Second, func() string {
		if err := admin.Get(context.Background(), types.NamespacedName{Namespace: tenantNamespace, Name: name}, fa); err != nil {
			return err.Error()
		}
		c := meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionFalse && c.Reason == reason {
			return ""
		}
		return fmt.Sprintf("FaceAccount %s conditions: %+v", name, fa.Status.Conditions)
	})
	return fa
}

// kubectlApply applies a manifest from stdin and returns kubectl's output and error.
func kubectlApply(kubeconfig, manifest string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig, "apply", "-f", "-"}, args...)...)
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// tunnelProxy is an HTTP CONNECT proxy that takes every tunnel to one address, whatever host
// was asked for, and remembers the hosts.
type tunnelProxy struct {
	url string

	mu    sync.Mutex
	hosts []string
}

// startTunnelProxy serves a tunnelProxy to target until the test ends.
func startTunnelProxy(t *testing.T, target string) *tunnelProxy {
	t.Helper()
	p := &tunnelProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.mu.Lock()
		if !slices.Contains(p.hosts, r.Host) {
			p.hosts = append(p.hosts, r.Host)
		}
		p.mu.Unlock()
		upstream, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			_, _ = io.Copy(upstream, buf)
			upstream.Close()
		}()
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// hostsSeen are the hosts tunnels were asked for.
func (p *tunnelProxy) hostsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.hosts)
}

package perf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// operatorUser is the envtest user the manager runs as. A user of its own is what lets the
// audit log attribute every write to the manager and nothing else.
const operatorUser = "liveness-operator"

// auditPolicy records one Metadata-level event per request of the operator's user (the
// RequestReceived stage is omitted so each request is counted once; writes are what TARGETS.md
// bounds, reads are kept as evidence of where the API server's time goes), and the load generator's
// creates and deletes of LivenessSessions so a session's steps can be timed from its creation
// in reports/raw, and the bare app server's Secret creates, so that both sides of the
// comparison pay the same audit cost per write; nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + operatorUser + `"]
- level: Metadata
  users: ["perf-admin"]
  verbs: ["create", "delete"]
  resources: [{group: "face.liveness-operator.io", resources: ["livenesssessions"]}]
- level: Metadata
  users: ["perf-admin"]
  verbs: ["create"]
  namespaces: ["` + baselineNamespace + `"]
  resources: [{group: "", resources: ["secrets"]}]
- level: None
`

// cluster is a real kube-apiserver and etcd with the operator's CRDs, an administrator client
// for the load generator, and a kubeconfig for the manager holding exactly the generated RBAC.
type cluster struct {
	env *envtest.Environment
	// Admin is the load generator's client: no client-side rate limit.
	Admin client.Client
	// AdminConfig reaches the API server as system:masters.
	AdminConfig *rest.Config
	// OperatorKubeconfig is the manager's kubeconfig file; OperatorConfig the same user's
	// rest config, for clients in this process that act as the manager.
	OperatorKubeconfig string
	OperatorConfig     *rest.Config
	// AuditLog is the API server's audit log of the operator's writes.
	AuditLog string
	// Dir holds the kubeconfig, audit files and process logs.
	Dir string
}

// startCluster starts the control plane with auditing, creates the operator's user and RBAC,
// and the given namespaces. It stops when the benchmark ends.
func startCluster(tb testing.TB, namespaces ...string) *cluster {
	tb.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		tb.Skip("KUBEBUILDER_ASSETS is not set (make bench sets it)")
	}
	dir := tb.TempDir()
	c := &cluster{Dir: dir, AuditLog: filepath.Join(dir, "audit.log")}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		tb.Fatal(err)
	}
	c.env = &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(harness.RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	c.env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).
		Set("audit-log-path", c.AuditLog).
		Set("audit-log-maxsize", "0") // never rotate: the counts read the whole file
	// CPU profiles of etcd are read from its client URL (support_profile_test.go); the API
	// server serves them to system:masters by default.
	c.env.ControlPlane.Etcd = &envtest.Etcd{}
	c.env.ControlPlane.Etcd.Configure().Set("enable-pprof", "true")
	cfg, err := c.env.Start()
	if err != nil {
		tb.Fatalf("start control plane: %v", err)
	}
	tb.Cleanup(func() {
		_ = c.env.Stop()
		keepRaw(tb, c.AuditLog, "audit.log")
	})

	admin, err := harness.AddUser(c.env, cfg, envtest.User{Name: "perf-admin", Groups: []string{"system:masters"}})
	if err != nil {
		tb.Fatal(err)
	}
	c.AdminConfig = rest.CopyConfig(admin.Config())
	c.AdminConfig.QPS, c.AdminConfig.Burst = -1, 0 // the load generator must never be the throttle
	if c.Admin, err = client.New(c.AdminConfig, client.Options{Scheme: harness.Scheme()}); err != nil {
		tb.Fatal(err)
	}
	op, err := harness.AddUser(c.env, cfg, envtest.User{Name: operatorUser})
	if err != nil {
		tb.Fatal(err)
	}
	kc, err := op.KubeConfig()
	if err != nil {
		tb.Fatal(err)
	}
	c.OperatorConfig = rest.CopyConfig(op.Config())
	c.OperatorConfig.QPS, c.OperatorConfig.Burst = -1, 0
	c.OperatorKubeconfig = filepath.Join(dir, "operator.kubeconfig")
	if err := os.WriteFile(c.OperatorKubeconfig, kc, 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := c.grantGeneratedRole(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, ns := range namespaces {
		if err := c.Admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// grantGeneratedRole binds the operator's user to config/rbac/role.yaml and nothing more, as
// the deployment would.
func (c *cluster) grantGeneratedRole(ctx context.Context) error {
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		return err
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(role); err != nil {
		return fmt.Errorf("decode role.yaml: %w", err)
	}
	if err := c.Admin.Create(ctx, role); err != nil {
		return err
	}
	return c.Admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "liveness-operator-perf"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: operatorUser, APIGroup: rbacv1.GroupName}},
	})
}

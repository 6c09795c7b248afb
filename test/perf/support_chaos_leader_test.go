package perf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// leaseName is the manager's leader election Lease (LeaderElectionID in cmd/manager).
const leaseName = "liveness-operator.face.liveness-operator.io"

// grantLeaderElection binds the operator's user to config/rbac/leader_election_role.yaml in
// namespace, as the deployment's RoleBinding does, so the replicas elect with exactly the
// permissions they ship with.
func (c *cluster) grantLeaderElection(ctx context.Context, namespace string) error {
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "rbac", "leader_election_role.yaml"))
	if err != nil {
		return err
	}
	role := &rbacv1.Role{}
	if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(role); err != nil {
		return fmt.Errorf("decode leader_election_role.yaml: %w", err)
	}
	role.Namespace = namespace
	if err := c.Admin.Create(ctx, role); err != nil {
		return err
	}
	return c.Admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "liveness-operator-leader-election", Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: operatorUser, APIGroup: rbacv1.GroupName}},
	})
}

// lease reads the leader election Lease: its holder and when it was acquired and last renewed.
func (c *cluster) lease(ctx context.Context, namespace string) (holder string, acquired, renewed time.Time, err error) {
	l := &coordinationv1.Lease{}
	if err = c.Admin.Get(ctx, types.NamespacedName{Namespace: namespace, Name: leaseName}, l); err != nil {
		return "", time.Time{}, time.Time{}, err
	}
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	if l.Spec.AcquireTime != nil {
		acquired = l.Spec.AcquireTime.Time
	}
	if l.Spec.RenewTime != nil {
		renewed = l.Spec.RenewTime.Time
	}
	return holder, acquired, renewed, nil
}

// replicaState is what one replica's metrics say: whether it leads, and how many reconciles it
// has finished (every controller, every result).
type replicaState struct {
	Up, Leader bool
	Reconciles float64
}

// state scrapes a replica. A replica that does not answer (killed, starting) is not Up.
func (m *managerProc) state() replicaState {
	metrics, err := m.scrape()
	if err != nil {
		return replicaState{}
	}
	st := replicaState{Up: true}
	for k, v := range metrics {
		switch {
		case strings.HasPrefix(k, "leader_election_master_status{") && strings.Contains(k, leaseName):
			st.Leader = v == 1
		case strings.HasPrefix(k, "controller_runtime_reconcile_total{"):
			st.Reconciles += v
		}
	}
	return st
}

// waitLeader waits until exactly one replica reports that it leads and returns its index.
func waitLeader(replicas []*managerProc, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		leader, leaders := -1, 0
		for i, r := range replicas {
			if r.state().Leader {
				leader, leaders = i, leaders+1
			}
		}
		if leaders == 1 {
			return leader, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1, fmt.Errorf("no single leader among %d replicas within %s", len(replicas), timeout)
}

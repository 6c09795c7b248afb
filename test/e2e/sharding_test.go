package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/sharding"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// leaderElectionNamespace is where the replicas' leases live, as in config/default.
const leaderElectionNamespace = "liveness-operator-system"

// grantWithLeaderElection binds the generated ClusterRole and config/rbac's leader-election
// Role to the operator's user.
func grantWithLeaderElection(t *testing.T, admin client.Client, user string) {
	bindGeneratedClusterRole(t, admin, user)
	require.NoError(t, admin.Create(context.Background(), &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: leaderElectionNamespace, Name: "leader-election-test"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "liveness-operator-leader-election-role"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: user, APIGroup: rbacv1.GroupName}},
	}))
}

// shardReplica is one bin/manager process of a shard.
type shardReplica struct {
	name string
	out  *harness.SyncBuffer
	proc *os.Process
}

// acquired says whether the replica logged acquiring the lease.
func (r *shardReplica) acquired(lease string) bool {
	for _, line := range strings.Split(r.out.String(), "\n") {
		if strings.Contains(line, "Successfully acquired lease") && strings.Contains(line, leaderElectionNamespace+"/"+lease) {
			return true
		}
	}
	return false
}

// shard is a set of replicas started with one --watch-label-selector, each shard with a Face
// emulator of its own, so that the emulator's inventory tells which shard created a session.
type shard struct {
	key, selector, lease string
	emulatorURL          string
	replicas             []*shardReplica
}

// TestTwoShardsSplitTheSessions runs two shards of the real manager, like Flux's sharding:
// shard1 with two replicas (leader and standby), shard2 with one, each with its own selector,
// lease and Face resource. Every session is created once, by the manager of its own shard, and
// unlabelled sessions by neither; SIGKILL of shard1's leader leaves shard2 serving new
// sessions throughout, and shard1's standby takes over within 20 s.
func TestTwoShardsSplitTheSessions(t *testing.T) {
	const ns = "team-a"
	env := startOperatorEnvWithRBAC(t, grantWithLeaderElection, []string{ns}, "--leader-elect",
		"--leader-election-namespace="+leaderElectionNamespace, "--watch-label-selector="+sharding.Key+" in (shard1)")
	ctx := context.Background()
	// The env's manager is shard1's first replica, on the env's emulator.
	shard1 := newShard(t, "shard1", env.emulatorURL)
	first, err := os.FindProcess(env.managerPID)
	require.NoError(t, err)
	shard1.replicas = append(shard1.replicas, &shardReplica{name: "shard1-a", out: env.managerOut, proc: first})
	shard1.startReplica(t, env, "shard1-b")
	emu2 := harness.EmulatorURL(t, startProcess(t, nil, "face-emulator", "--listen", "127.0.0.1:0", "--api-key", env.emulatorKey))
	shard2 := newShard(t, "shard2", emu2)
	shard2.startReplica(t, env, "shard2-a")
	require.NotEqual(t, shard1.lease, shard2.lease, "each shard has a lease of its own")

	leader1 := shard1.waitLeader(t)
	leader2 := shard2.waitLeader(t)
	holder2 := shard2.holder(t, env)
	require.NotEmpty(t, holder2)
	t.Logf("leases: %s held by %s, %s held by %s", shard1.lease, leader1.name, shard2.lease, leader2.name)

	create := func(name, key string) {
		ls := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "dev-" + name}}
		if key != "" {
			ls.Labels = map[string]string{sharding.Key: key}
		}
		require.NoError(t, env.admin.Create(ctx, ls))
	}
	const perShard = 20
	for i := range perShard {
		create(fmt.Sprintf("one-%02d", i), "shard1")
		create(fmt.Sprintf("two-%02d", i), "shard2")
	}
	create("nobodys", "") // matches neither selector
	create("shard3s", "shard3")
	for i := range perShard {
		waitSession(t, env, ns, fmt.Sprintf("one-%02d", i), isReady)
		waitSession(t, env, ns, fmt.Sprintf("two-%02d", i), isReady)
	}

	// SIGKILL shard1's leader, and keep shard2 busy while shard1 fails over.
	killed := time.Now()
	require.NoError(t, leader1.proc.Signal(syscall.SIGKILL))
	for i := range 5 {
		name := fmt.Sprintf("two-during-%d", i)
		create(name, "shard2")
		waitSessionWithin(t, env, ns, name, 10*time.Second, isReady)
	}
	duringFailover := time.Since(killed)
	require.Equal(t, holder2, shard2.holder(t, env), "shard1's failover must not move shard2's lease")

	standby := shard1.waitNewLeader(t, leader1, 25*time.Second)
	failover := time.Since(killed)
	t.Logf("shard2 made 5 sessions Ready within %s of the kill; shard1's %s took over after %s",
		duringFailover.Round(100*time.Millisecond), standby.name, failover.Round(100*time.Millisecond))
	require.Less(t, failover, 20*time.Second, "a killed shard leader recovers within 20 s")
	for i := range 5 {
		name := fmt.Sprintf("one-after-%d", i)
		create(name, "shard1")
		waitSession(t, env, ns, name, isReady)
	}

	// Each session was created exactly once, at its own shard's Face resource, and the
	// sessions outside both shards were never touched.
	inventory := map[string]map[string]emulator.SessionInfo{
		"shard1": emulatorSessionsAt(t, shard1.emulatorURL), "shard2": emulatorSessionsAt(t, shard2.emulatorURL),
	}
	list := &facev1.LivenessSessionList{}
	require.NoError(t, env.admin.List(ctx, list, client.InNamespace(ns)))
	for _, ls := range list.Items {
		key := ls.Labels[sharding.Key]
		for shardName, sessions := range inventory {
			creates := 0
			for _, s := range sessions {
				if s.DeviceCorrelationID == ls.Spec.DeviceCorrelationID {
					creates++
				}
			}
			want := 0
			if shardName == key {
				want = 1
			}
			require.Equal(t, want, creates, "%s (label %q): creates at %s's Face resource", ls.Name, key, shardName)
		}
		if key != "shard1" && key != "shard2" {
			require.Empty(t, ls.Status.SessionID, "%s is in no shard", ls.Name)
			require.Empty(t, ls.Finalizers, "%s is in no shard", ls.Name)
			continue
		}
		require.Contains(t, inventory[key], ls.Status.SessionID, "%s records its own shard's session", ls.Name)
	}
	require.Len(t, list.Items, 2*perShard+2+10)
}

// newShard describes the shard with the given key on the given emulator.
func newShard(t *testing.T, key, emulatorURL string) *shard {
	selector := sharding.Key + " in (" + key + ")"
	sel, err := sharding.Parse(selector)
	require.NoError(t, err)
	return &shard{key: key, selector: selector, emulatorURL: emulatorURL,
		lease: sharding.LeaderElectionID("liveness-operator.face.liveness-operator.io", sel)}
}

// startReplica starts one more replica of the shard and waits until it is Ready.
func (s *shard) startReplica(t *testing.T, env *operatorEnv, name string) {
	probe := harness.FreeAddr(t)
	out, cmd := startCommand(t, []string{"FACE_ENDPOINT=" + s.emulatorURL, "FACE_APIKEY=" + env.emulatorKey}, "manager",
		"--kubeconfig", env.operatorKC, "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address="+probe,
		"--leader-elect", "--leader-election-namespace="+leaderElectionNamespace, "--watch-label-selector="+s.selector)
	harness.Eventually(t, 30*time.Second, func() string { return readyz(probe) })
	s.replicas = append(s.replicas, &shardReplica{name: name, out: out, proc: cmd.Process})
}

// holder is the identity holding the shard's lease and when it last renewed it ("" while
// nobody holds it).
func (s *shard) holder(t *testing.T, env *operatorEnv) string {
	t.Helper()
	lease := &coordinationv1.Lease{}
	if err := env.admin.Get(context.Background(), types.NamespacedName{Namespace: leaderElectionNamespace, Name: s.lease}, lease); err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// waitLeader waits until one of the shard's replicas has acquired its lease.
func (s *shard) waitLeader(t *testing.T) *shardReplica {
	return s.waitNewLeader(t, nil, 30*time.Second)
}

// waitNewLeader waits until a replica other than old has acquired the shard's lease.
func (s *shard) waitNewLeader(t *testing.T, old *shardReplica, within time.Duration) *shardReplica {
	t.Helper()
	var leader *shardReplica
	harness.Eventually(t, within, func() string {
		for _, r := range s.replicas {
			if r != old && r.acquired(s.lease) {
				leader = r
				return ""
			}
		}
		return "no replica of " + s.key + " (other than the killed one) has acquired " + s.lease
	})
	return leader
}

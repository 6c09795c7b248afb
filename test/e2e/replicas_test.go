package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// Two replicas with leader election, as config/default runs them with the HA component: both
// are Ready (caches synced, leader or standby), and when the leader is killed with SIGKILL the
// standby takes the lease within 20 s and serves new sessions.
func TestTwoReplicasFailOver(t *testing.T) {
	const ns = leaderElectionNamespace
	probeA, probeB := harness.FreeAddr(t), harness.FreeAddr(t)
	env := startOperatorEnvWithRBAC(t, grantWithLeaderElection, []string{"team-a"}, "--leader-elect", "--leader-election-namespace="+ns,
		"--health-probe-bind-address="+probeA)
	// The second replica: same flags, its own probe port.
	standbyOut, standbyCmd := startCommand(t, []string{"FACE_ENDPOINT=" + env.emulatorURL, "FACE_APIKEY=" + env.emulatorKey}, "manager",
		"--kubeconfig", env.operatorKC, "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address="+probeB,
		"--leader-elect", "--leader-election-namespace="+ns)
	for _, addr := range []string{probeA, probeB} {
		harness.Eventually(t, 30*time.Second, func() string { return readyz(addr) })
	}
	ctx := context.Background()
	holder := func() string {
		lease := &coordinationv1.Lease{}
		if err := env.admin.Get(ctx, types.NamespacedName{Namespace: ns, Name: "liveness-operator.face.liveness-operator.io"}, lease); err != nil || lease.Spec.HolderIdentity == nil {
			return ""
		}
		return *lease.Spec.HolderIdentity
	}
	harness.Eventually(t, 30*time.Second, func() string {
		if holder() == "" {
			return "no leader yet"
		}
		return ""
	})
	first := holder()
	// The leader is the replica that logged the acquisition.
	var leader, other int
	harness.Eventually(t, 30*time.Second, func() string {
		switch {
		case strings.Contains(env.managerOut.String(), "Successfully acquired lease"):
			leader, other = env.managerPID, standbyCmd.Process.Pid
		case strings.Contains(standbyOut.String(), "Successfully acquired lease"):
			leader, other = standbyCmd.Process.Pid, env.managerPID
		default:
			return "neither replica logged the lease acquisition"
		}
		return ""
	})
	killed := time.Now()
	require.NoError(t, syscall.Kill(leader, syscall.SIGKILL))
	harness.Eventually(t, 25*time.Second, func() string {
		if h := holder(); h == "" || h == first {
			return "the lease is still " + first
		}
		return ""
	})
	failover := time.Since(killed)
	t.Logf("failover after a leader SIGKILL: %s (new holder %s, pid %d)", failover.Round(100*time.Millisecond), holder(), other)
	require.Less(t, failover, 20*time.Second)

	require.NoError(t, env.admin.Create(ctx, &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "after-failover"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "after-failover"}}))
	waitSession(t, env, "team-a", "after-failover", isReady)
}

// readyz is "" when the probe endpoint answers 200 on /readyz.
func readyz(addr string) string {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("/readyz at %s: %d", addr, resp.StatusCode)
	}
	return ""
}

package perf

// The chaos suite: the real bin/manager restarted gracefully (SIGTERM), killed (SIGKILL) with
// Face faults, and, as two replicas with leader election, losing its leader, each scenario
// checked against the emulator's inventory. 'make chaos' runs TestChaos at the full scale and
// writes reports/chaos-latest.md; 'make test' runs TestChaosSmoke, a small version that asserts
// the invariants that must hold at any scale.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// chaosRun is one pass of the three scenarios on one control plane and emulator. Each scenario
// uses its own session names (and so deviceCorrelationIds) and deletes all its resources
// before the next starts, so their inventories never mix.
type chaosRun struct {
	Scale  chaosScale
	Grace  bool // bin/manager has --shutdown-grace-period (graceful in-flight creates)
	Term   sigtermResult
	Kill   sigkillResult
	Leader leaderResult
	Took   time.Duration
}

// runChaos runs the SIGTERM loop, the SIGKILL loop with faults and the leader kills in turn.
func runChaos(t *testing.T, cs chaosScale) chaosRun {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	pinManagerBinary(t)
	sys := startSystem(t, ctx, scale{}, []string{perfNamespace}, []string{perfNamespace})
	run := chaosRun{Scale: cs, Grace: hasShutdownGrace(t)}
	var err error
	run.Term, err = runSigtermLoop(ctx, sys, cs)
	require.NoError(t, err, "SIGTERM loop")
	t.Logf("SIGTERM loop: %d restarts, %d duplicates, %d reports, converged %s", run.Term.Restarts,
		run.Term.Audit.Duplicates, run.Term.Audit.Reported, run.Term.Converge.Round(time.Millisecond))
	run.Kill, err = runSigkillLoop(ctx, sys, cs)
	require.NoError(t, err, "SIGKILL loop")
	t.Logf("SIGKILL loop: %d kills, %d duplicates, %d reports, %d unreported, converged %s", run.Kill.Restarts,
		run.Kill.Audit.Duplicates, run.Kill.Audit.Reported, run.Kill.Audit.Unreported, run.Kill.Converge.Round(time.Millisecond))
	run.Leader, err = runLeaderKills(ctx, t, sys, cs)
	require.NoError(t, err, "leader kills")
	t.Logf("leader kills: %d, worst failover %s, converged %s", len(run.Leader.Failovers),
		run.Leader.worst().Reconcile.Round(time.Millisecond), run.Leader.Converge.Round(time.Millisecond))
	run.Took = time.Since(start)
	return run
}

// pinManagerBinary copies bin/manager into the test's folder and points LIVENESS_BIN_DIR at
// it: the suite restarts the manager hundreds of times over half an hour, and bin/ is rebuilt
// by others meanwhile, so every incarnation (and the report's binary hash) must be one build.
func pinManagerBinary(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(managerBinary(t))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "manager"), b, 0o755))
	t.Setenv("LIVENESS_BIN_DIR", dir)
}

// hasShutdownGrace reports whether bin/manager drains in-flight creates on SIGTERM, the change
// that makes a graceful restart report nothing; without it the SIGTERM loop's zero-report bar
// cannot be expected.
func hasShutdownGrace(tb testing.TB) bool {
	out, _ := exec.Command(managerBinary(tb), "--help").CombinedOutput()
	return bytes.Contains(out, []byte("shutdown-grace-period"))
}

// TestChaos is 'make chaos': the suite at LIVENESS_CHAOS_SCALE (full or smoke), its report, and
// every bar asserted once the report is written.
func TestChaos(t *testing.T) {
	name := os.Getenv("LIVENESS_CHAOS_SCALE")
	if name == "" {
		t.Skip("LIVENESS_CHAOS_SCALE is not set: run 'make chaos' (TestChaosSmoke is the version 'make test' runs)")
	}
	cs, err := chaosScaleNamed(name)
	require.NoError(t, err)
	run := runChaos(t, cs)
	path := chaosReportPath(cs)
	require.NoError(t, writeChaosReport(path, run))
	t.Logf("report written to %s", path)
	require.Empty(t, run.missedBars(), "bars missed (see %s)", path)
}

// TestChaosSmoke runs the suite small (30 sessions, a few SIGTERMs and SIGKILLs, one leader
// kill) and asserts what must hold at any scale: no unreported duplicate, no leak, no stuck
// finalizer, everything Ready within 60 s of the last fault; and no report from a graceful
// restart once the manager drains in-flight creates on SIGTERM.
func TestChaosSmoke(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set (make test sets it)")
	}
	cs, err := chaosScaleNamed("smoke")
	require.NoError(t, err)
	run := runChaos(t, cs)
	require.Empty(t, run.Term.invariants(cs.Sessions), "SIGTERM loop")
	require.Empty(t, run.Kill.invariants(cs.Sessions), "SIGKILL loop")
	require.Empty(t, run.Leader.invariants(cs.Sessions), "leader kills")
	if !run.Grace {
		t.Logf("not asserting 0 reports and 0 duplicates for the SIGTERM loop (measured %d and %d): bin/manager has no "+
			"--shutdown-grace-period yet, so a graceful restart may still interrupt a create", run.Term.Audit.Reported, run.Term.Audit.Duplicates)
		return
	}
	require.Zero(t, run.Term.Audit.Reported, "reports after graceful restarts")
	require.Zero(t, run.Term.Audit.Duplicates, "duplicates after graceful restarts")
}

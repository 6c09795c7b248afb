package perf

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// termTimeout is how long a SIGTERMed manager may take to exit before it is SIGKILLed, as the
// kubelet does after a pod's terminationGracePeriodSeconds (30 s by default). It is longer than
// the manager's --shutdown-grace-period (20 s) so a graceful restart is never cut short here.
const termTimeout = 30 * time.Second

// slowTerm is an exit after SIGTERM long enough to say the manager waited for something: with
// nothing in flight it exits in well under a second.
const slowTerm = 5 * time.Second

// sigtermResult is what the SIGTERM loop measured.
type sigtermResult struct {
	chaosOutcome
	Escalated   int           // SIGTERMs that needed a SIGKILL after termTimeout
	SlowestTerm time.Duration // longest exit after a SIGTERM
	SlowTerms   int           // exits that took longer than slowTerm
	Metric      float64       // create-outcome-unknown counter summed over the incarnations
}

// runSigtermLoop restarts the manager gracefully (SIGTERM, wait for the exit, start the next
// one: a one-replica rolling upgrade) at random moments while sessions are being created. Face
// is slow but never fails, so every report or duplicate is the restart's doing. Face latency
// (20..100 ms a call) keeps creates in flight when the SIGTERM arrives.
func runSigtermLoop(ctx context.Context, sys system, cs chaosScale) (sigtermResult, error) {
	sessions := newSessions("term", cs.Sessions)
	if err := sys.fe.SetFaults(emulator.Faults{Latency: 20 * time.Millisecond, LatencyJitter: 80 * time.Millisecond}); err != nil {
		return sigtermResult{}, err
	}
	var (
		mu  sync.Mutex
		res sigtermResult
	)
	stop := func(m *managerProc) {
		took, killed := m.terminate(termTimeout)
		mu.Lock()
		defer mu.Unlock()
		res.SlowestTerm = max(res.SlowestTerm, took)
		if took > slowTerm {
			res.SlowTerms++
		}
		if killed {
			res.Escalated++
		}
	}
	window := time.Duration(cs.Terms) * (cs.TermMinLife + cs.TermMaxLife) / 2
	loop := startRestarts(sys.mgr, cs.Terms, cs.TermMinLife, cs.TermMaxLife, stop)
	createErr := make(chan error, 1)
	go func() { createErr <- createPaced(ctx, sys.c, sessions, window*3/4) }()
	terms := loop.wait()
	lastFault := time.Now()
	if err := sys.fe.SetFaults(emulator.Faults{}); err != nil {
		return res, err
	}
	if err := <-createErr; err != nil {
		return res, err
	}
	if terms != cs.Terms {
		return res, fmt.Errorf("manager failed to start after %d of %d SIGTERMs (log: %s)", terms, cs.Terms, sys.mgr.logPath)
	}
	if err := sys.mgr.waitServing(time.Minute); err != nil {
		return res, err
	}
	// The loop has ended (wait returned), so stop no longer writes res.
	res.Metric = loop.metricSum() + scrapeUnknown(sys.mgr)
	res.chaosOutcome = finishScenario(ctx, sys, sessions, lastFault, terms)
	return res, nil
}

// sigkillResult is what the SIGKILL loop measured.
type sigkillResult struct {
	chaosOutcome
	Faults    emulator.Faults     // the emulator's share of the fault mix
	Throttle  float64             // the share of Face calls answered 429 before the emulator
	Counters  emulator.FaultStats // faults the emulator injected
	Throttled int64               // 429s answered
	Metric    float64             // create-outcome-unknown counter summed over the incarnations (a lower bound)
}

// chaosFaults spreads rate over the kinds of Face failure: 30 % answered 500, 20 % answered 503
// with Retry-After: 1, 20 % answered 429 with Retry-After: 1 (see faceEmulator.serve), 10 %
// dropped before the operation runs, 20 % of creates committed but never answered (the window
// the operator must report); every call is also delayed 5..50 ms.
func chaosFaults(rate float64) (emulator.Faults, float64) {
	return emulator.Faults{ErrorRate500: 0.3 * rate, ErrorRate503: 0.2 * rate, RetryAfter503: 1,
		DropRate: 0.1 * rate, CommitThenDropRate: 0.2 * rate,
		Latency: 5 * time.Millisecond, LatencyJitter: 45 * time.Millisecond}, 0.2 * rate
}

// runSigkillLoop SIGKILLs the manager at random moments (start-up included) and restarts it
// while sessions are being created and Face fails a share of calls; faults and kills stop
// together ("the last fault").
func runSigkillLoop(ctx context.Context, sys system, cs chaosScale) (sigkillResult, error) {
	sessions := newSessions("kill", cs.Sessions)
	res := sigkillResult{}
	res.Faults, res.Throttle = chaosFaults(cs.FaultRate)
	before := sys.fe.Stats()
	throttledBefore := sys.fe.throttled.Load()
	if err := sys.fe.SetFaults(res.Faults); err != nil {
		return res, err
	}
	sys.fe.setThrottleRate(res.Throttle)
	window := time.Duration(cs.Kills) * (cs.KillMinLife + cs.KillMaxLife) / 2
	loop := startRestarts(sys.mgr, cs.Kills, cs.KillMinLife, cs.KillMaxLife, (*managerProc).kill)
	createErr := make(chan error, 1)
	go func() { createErr <- createPaced(ctx, sys.c, sessions, window*3/4) }()
	kills := loop.wait()
	lastFault := time.Now()
	sys.fe.setThrottleRate(0)
	if err := sys.fe.SetFaults(emulator.Faults{}); err != nil {
		return res, err
	}
	after := sys.fe.Stats()
	res.Counters = emulator.FaultStats{
		Injected500: after.Faults.Injected500 - before.Faults.Injected500, Injected503: after.Faults.Injected503 - before.Faults.Injected503,
		Dropped: after.Faults.Dropped - before.Faults.Dropped, CommitThenDropped: after.Faults.CommitThenDropped - before.Faults.CommitThenDropped,
		Delayed: after.Faults.Delayed - before.Faults.Delayed,
	}
	res.Throttled = sys.fe.throttled.Load() - throttledBefore
	if err := <-createErr; err != nil {
		return res, err
	}
	if kills != cs.Kills {
		return res, fmt.Errorf("manager failed to start after %d of %d SIGKILLs (log: %s)", kills, cs.Kills, sys.mgr.logPath)
	}
	if err := sys.mgr.waitServing(time.Minute); err != nil {
		return res, err
	}
	res.chaosOutcome = finishScenario(ctx, sys, sessions, lastFault, kills)
	res.Metric = loop.metricSum() + scrapeUnknown(sys.mgr)
	return res, nil
}

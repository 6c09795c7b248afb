package perf

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// unknownMetric is the manager's counter of creates whose outcome it could not know.
const unknownMetric = "liveness_operator_create_outcome_unknown_total"

// crashFaults spreads the fault rate over the kinds of Face failure: 40 % answered 500, 30 %
// answered 503 (with Retry-After: 1), 10 % dropped before the operation runs, and 20 % of
// creates committed but never answered (the unavoidable window the operator must report).
func crashFaults(rate float64) emulator.Faults {
	return emulator.Faults{ErrorRate500: 0.4 * rate, ErrorRate503: 0.3 * rate, RetryAfter503: 1,
		DropRate: 0.1 * rate, CommitThenDropRate: 0.2 * rate}
}

// BenchmarkCrashSafety creates sessions while the manager is SIGKILLed at random moments and
// Face fails a share of calls; then faults stop and it checks TARGETS.md's crash-safety bar:
// every cloud session beyond one per resource was reported (status.unconfirmedCreates and the
// metric), every resource converges to Ready within 60 s of the last fault (or stops, by design, after
// three reported unconfirmed creates: TooManyUnconfirmedCreates), and deleting all of
// them leaves no finalizer stuck.
func BenchmarkCrashSafety(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace}, []string{perfNamespace})
	c, fe, mgr := sys.c, sys.fe, sys.mgr
	sessions := newSessions("crash", s.CrashSessions)
	faults := crashFaults(s.CrashFaultRate)
	if err := fe.SetFaults(faults); err != nil {
		b.Fatal(err)
	}
	statsBefore := fe.Stats()

	// Creations are paced over the first three quarters of the expected kill window, so kills
	// land in every step of a session's creation, not only in restarts of an idle manager.
	window := time.Duration(s.CrashKills) * (s.CrashMinLife + s.CrashMaxLife) / 2
	chaos := startChaos(mgr, s)
	createErr := make(chan error, 1)
	go func() { createErr <- createPaced(ctx, c, sessions, window*3/4) }()
	kills := chaos.wait()
	lastFault := time.Now()
	if err := fe.SetFaults(emulator.Faults{}); err != nil {
		b.Fatal(err)
	}
	if err := <-createErr; err != nil {
		b.Fatal(err)
	}
	if err := mgr.waitServing(time.Minute); err != nil {
		b.Fatal(err)
	}
	statsAtLastFault := fe.Stats()

	conv, stalled, err := waitSettled(ctx, c, len(sessions), lastFault, 60*time.Second, true)
	if err != nil {
		b.Fatal(err)
	}
	audit := auditCloud(ctx, c, fe, sessions)
	finalMetric := scrapeUnknown(mgr)
	deletion, err := deleteAll(ctx, c, fe, sessions, 60*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	statsEnd := fe.Stats()
	panics := countInLog(mgr.logPath, "panic")

	b.ReportMetric(float64(audit.Unreported), "unreported-duplicates")
	b.ReportMetric(conv.Seconds(), "converge-s")
	var body strings.Builder
	fmt.Fprintf(&body, "%d sessions created (paced over %s) while bin/manager was SIGKILLed %d times, each incarnation living a uniformly "+
		"random %s..%s (start-up included), and Face failed calls: %.0f %% answered 500, %.0f %% answered 503 (Retry-After 1 s), "+
		"%.0f %% dropped unanswered, and %.0f %% of creates committed but never answered. Faults and kills stopped together "+
		"(\"the last fault\"). Emulator fault counters: %+v.\n\n",
		len(sessions), (window * 3 / 4).Round(time.Second), kills, s.CrashMinLife, s.CrashMaxLife, 100*faults.ErrorRate500, 100*faults.ErrorRate503,
		100*faults.DropRate, 100*faults.CommitThenDropRate, statsAtLastFault.Faults)
	fmt.Fprintf(&body, "| bar (TARGETS.md) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| zero duplicate cloud sessions beyond those reported | %d duplicates (cloud sessions beyond one per resource), %d reported in status.unconfirmedCreates, **%d unreported** (resources: %s) | %s |\n",
		audit.Duplicates, audit.Reported, audit.Unreported, audit.unreportedNames(), verdict(audit.Unreported == 0))
	fmt.Fprintf(&body, "| every resource Ready within 60 s of the last fault (a resource that reported %d unconfirmed creates stops creating by design: TooManyUnconfirmedCreates) | %d Ready and %d stalled by design (%s), all %s after it | %s |\n",
		3, len(sessions)-len(stalled), len(stalled), namesOrNone(stalled), conv.Round(time.Millisecond), verdict(conv <= 60*time.Second))
	fmt.Fprintf(&body, "| zero stuck finalizers (all deleted, gone within 60 s) | all gone %s after the deletes began | %s |\n", deletion.Gone.Round(time.Millisecond), verdict(deletion.Gone <= 60*time.Second))
	fmt.Fprintf(&body, "| the recorded session is the one published | %d resources whose status.sessionId differs from the token Secret's or is not in the emulator | %s |\n",
		audit.Mismatched, verdict(audit.Mismatched == 0))
	fmt.Fprintf(&body, "| every recorded cloud session deleted with its resource | %d of %d deleted (the stalled ones recorded none); %d cloud sessions left undeleted, of which %d were never answered (commit-then-drop) | %s |\n\n",
		deletion.RecordedDeleted, len(sessions)-len(stalled), deletion.Undeleted, deletion.UndeletedDropped, verdict(deletion.RecordedDeleted == len(sessions)-len(stalled)))
	fmt.Fprintf(&body, "Reporting channels: status.unconfirmedCreates sums to %d over %d resources; the metric `%s` summed over the %d incarnations "+
		"(last scrape before each kill, so a lower bound: increments in the last moments before a kill are lost with the process) is %.0f, and %.0f in the final incarnation. "+
		"Cloud sessions the emulator committed without answering: %d; created in all: %d for %d resources.\n\n",
		audit.Reported, audit.ResourcesReporting, unknownMetric, chaos.incarnations(), chaos.metricSum()+finalMetric, finalMetric,
		audit.Dropped, audit.Cloud, len(sessions))
	fmt.Fprintf(&body, "Face calls from the fault phase start to the end: %d creates, %d deletes, %d result polls; "+
		"%.0f result polls per manager restart during the kills (a restarted manager resumes each session's own poll schedule; "+
		"polls due during the run, sync requests and retried polls make up the rest). Manager log lines containing \"panic\": %d.\n",
		opDelta(statsBefore, statsEnd, emulator.OpCreateLivenessSession), opDelta(statsBefore, statsEnd, emulator.OpDeleteLivenessSession),
		opDelta(statsBefore, statsEnd, emulator.OpGetLivenessSessionResult),
		float64(opDelta(statsBefore, statsAtLastFault, emulator.OpGetLivenessSessionResult))/float64(max(1, kills)), panics)
	addSection("5. Crash safety: SIGKILL and Face faults", body.String())
}

// chaos kills and restarts the manager at random moments.
type chaos struct {
	done chan int
	mu   sync.Mutex
	last map[int]float64 // incarnation -> last scraped value of the unknown-outcome counter
	n    int
}

// startChaos runs the kill loop in the background; wait returns the number of kills.
func startChaos(mgr *managerProc, s scale) *chaos {
	return startRestarts(mgr, s.CrashKills, s.CrashMinLife, s.CrashMaxLife, (*managerProc).kill)
}

// startRestarts ends the manager n times with stop (SIGKILL, or SIGTERM for a graceful restart)
// after a uniformly random life in [minLife, maxLife] each, and starts the next incarnation at
// once; wait returns how many restarts were done. The schedule comes from a fixed seed
// (LIVENESS_PERF_SEED), so a run is repeatable as far as timing on a shared machine allows.
func startRestarts(mgr *managerProc, n int, minLife, maxLife time.Duration, stop func(*managerProc)) *chaos {
	seed := uint64(1)
	if v := os.Getenv("LIVENESS_PERF_SEED"); v != "" {
		_, _ = fmt.Sscan(v, &seed)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	ch := &chaos{done: make(chan int, 1), last: map[int]float64{}}
	go func() {
		restarts := 0
		for ; restarts < n; restarts++ {
			life := minLife + time.Duration(rng.Int64N(int64(maxLife-minLife)+1))
			ch.watchMetric(mgr, time.Now().Add(life))
			stop(mgr)
			if err := mgr.start(); err != nil {
				break
			}
		}
		ch.done <- restarts
	}()
	return ch
}

// watchMetric scrapes the current incarnation's unknown-outcome counter until the deadline.
func (ch *chaos) watchMetric(mgr *managerProc, until time.Time) {
	ch.mu.Lock()
	ch.n++
	inc := ch.n
	ch.mu.Unlock()
	for time.Now().Before(until) {
		if v, ok := scrapeUnknownOK(mgr); ok {
			ch.mu.Lock()
			ch.last[inc] = v
			ch.mu.Unlock()
		}
		time.Sleep(min(50*time.Millisecond, time.Until(until)))
	}
}

func (ch *chaos) wait() int { return <-ch.done }

func (ch *chaos) incarnations() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.n + 1
}

func (ch *chaos) metricSum() float64 {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	sum := 0.0
	for _, v := range ch.last {
		sum += v
	}
	return sum
}

func scrapeUnknownOK(mgr *managerProc) (float64, bool) {
	m, err := mgr.scrape()
	if err != nil {
		return 0, false
	}
	v, ok := m[unknownMetric]
	return v, ok
}

func scrapeUnknown(mgr *managerProc) float64 {
	v, _ := scrapeUnknownOK(mgr)
	return v
}

func countInLog(path, word string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return strings.Count(string(b), word)
}

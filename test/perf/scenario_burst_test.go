package perf

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// BenchmarkBurst measures TARGETS.md's burst and work per session (items 1 and 2): the bare app
// server baseline, then the operator's burst of sessions from closed-loop clients (token Secret
// and Ready latency, throughput), the API writes the manager's user issued until all were Ready,
// then each session's whole life (an end-user attempt, the app server's sync request, the
// result, deletion until gone) with the writes and Face calls it cost.
func BenchmarkBurst(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace, baselineNamespace}, []string{perfNamespace, baselineNamespace})
	c, fe, tr, mgr := sys.c, sys.fe, sys.tr, sys.mgr
	// Rounds alternate the bare app server and the operator in the same cluster, so that both
	// sides of every ratio see the same machine; the figures are the rounds' medians. The last
	// round's sessions go on to live their whole life (lifecycle, writes, Face calls); earlier
	// rounds' are taken through it too, so each round starts from the same state.
	var rounds []burstRound
	var last burstRun
	for r := 1; r <= s.BurstRounds; r++ {
		run, err := runBurstRound(ctx, sys, fmt.Sprint(r), s, nil)
		if err != nil {
			b.Fatal(err)
		}
		rounds = append(rounds, run.round)
		last = run
		if r < s.BurstRounds {
			if _, err := runLifecycle(ctx, c, fe, tr, run.sessions, s.BurstClients); err != nil {
				b.Fatal(err)
			}
		}
	}
	sessions, op, faceBefore, faceAtReady, cpuTable, baseCPUTable := last.sessions, last.round.Op, last.faceBefore, last.faceAtReady, last.cpuTable, last.baseCPUTable
	time.Sleep(time.Second) // let the audit backend flush the last writes
	writesToReady, err := countWrites(c.AuditLog, op.Start, op.LastReady)
	if err != nil {
		b.Fatal(err)
	}

	lifeCPU := newCPUMeter(mgr.pid)
	life, err := runLifecycle(ctx, c, fe, tr, sessions, s.BurstClients)
	if err != nil {
		b.Fatal(err)
	}
	lifeAPIServerMS := 1000 * lifeCPU.used("kube-apiserver") / float64(len(sessions))
	lifeManagerMS := 1000 * lifeCPU.used("manager") / float64(len(sessions))
	time.Sleep(time.Second)
	writesLife, err := countWrites(c.AuditLog, op.Start, life.LastGone.Add(500*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	calls := faceCallsPerSession(fe, sessions, life)

	// Profiling costs the processes some CPU, so the profiled round is an extra one, after the
	// measured rounds, and no figure above comes from it.
	var opProfiles, baseProfiles map[string]string
	if s.ProfileSeconds > 0 {
		targets, err := profileTargets(c, mgr)
		if err != nil {
			b.Fatal(err)
		}
		prof, err := runBurstRound(ctx, sys, "p", s, targets)
		if err != nil {
			b.Fatal(err)
		}
		opProfiles, baseProfiles = prof.opProfiles, prof.baseProfiles
	}

	n := len(sessions)
	med := medianRound(rounds, n)
	base := rounds[len(rounds)-1].Base
	opRate, baseRate := med.OpRate, med.BaseRate
	b.ReportMetric(float64(op.Secret.pct(99))/1e6, "secret-p99-ms")
	b.ReportMetric(float64(op.Ready.pct(99))/1e6, "ready-p99-ms")
	b.ReportMetric(rate(n, op.WallReady), "ready-sessions/s")
	b.ReportMetric(float64(writesToReady.Total)/float64(n), "writes/session-to-ready")
	opMS, baseMS := med.OpAPIServerMS, med.BaseAPIServerMS
	b.ReportMetric(opMS, "apiserver-cpu-ms/session")

	var body strings.Builder
	fmt.Fprintf(&body, "%d sessions created by %d closed-loop clients (each: create, wait until its token Secret is seen by a watch, next). "+
		"Latencies run from the create call to the watch event. %d rounds in one cluster, each the bare app server first (the manager idle) and then the operator; "+
		"ratios and CPU per session are the rounds' medians, latencies and the tables below the last round's.\n\n", n, s.BurstClients, len(rounds))
	fmt.Fprintf(&body, "%s\n", roundsTable(rounds, n))
	fmt.Fprintf(&body, "| | token Secret p50 / p99 | Ready p50 / p99 / max | wall to last Secret | sessions/s (to Secret) | wall to last Ready | sessions/s (to Ready) |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&body, "| bare app server (Face POST + Secret create) | %s / %s | - | %s | %.0f | - | - |\n",
		ms(base.Secret.pct(50)), ms(base.Secret.pct(99)), ms(base.WallSecret), baseRate)
	fmt.Fprintf(&body, "| operator | %s / %s | %s / %s / %s | %s | %.0f | %s | %.0f |\n\n",
		ms(op.Secret.pct(50)), ms(op.Secret.pct(99)), ms(op.Ready.pct(50)), ms(op.Ready.pct(99)), ms(op.Ready.max()),
		ms(op.WallSecret), opRate, ms(op.WallReady), rate(n, op.WallReady))
	fmt.Fprintf(&body, "| bar (TARGETS.md) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| token Secret p99 <= 0.5 s | %s | %s |\n", ms(op.Secret.pct(99)), verdict(op.Secret.pct(99) <= 500*time.Millisecond))
	fmt.Fprintf(&body, "| Ready p99 <= 1 s | %s | %s |\n", ms(op.Ready.pct(99)), verdict(op.Ready.pct(99) <= time.Second))
	ratio := med.Ratio
	fmt.Fprintf(&body, "| throughput within 0.3x of the bare app server (read as: operator/baseline >= 0.7) | %.2f (%.0f vs %.0f sessions/s to token Secret) | %s |\n",
		ratio, opRate, baseRate, verdict(ratio >= 0.7))
	floor := 4 * baseMS // a session is four writes: the app's create and the operator's three
	fmt.Fprintf(&body, "| API-server CPU per session (issue 13: <= 2x the bare app server's per Secret x 4 writes) | %.1f ms vs %.1f ms per bare Secret: %.2fx of 4 writes' worth (%.1f ms) | %s |\n",
		opMS, baseMS, opMS/floor, floor, verdict(opMS <= 2*floor))
	fmt.Fprintf(&body, "| API-server CPU per session (issue 13: about 8 ms or less) | %.1f ms | %s |\n", opMS, verdict(opMS <= 8))
	fmt.Fprintf(&body, "| burst throughput >= 0.2x the bare app server (issue 13) | %.2f | %s |\n", ratio, verdict(ratio >= 0.2))
	fmt.Fprintf(&body, "| <= 3 API writes per session to Ready | %.2f (%.2f without events) | %s |\n",
		perSession(writesToReady.Total, n), perSession(writesToReady.Total-writesToReady.Events, n), verdict(perSession(writesToReady.Total, n) <= 3))
	fmt.Fprintf(&body, "| <= 6 API writes per session over the whole life | %.2f (%.2f without events) | %s |\n",
		perSession(writesLife.Total, n), perSession(writesLife.Total-writesLife.Events, n), verdict(perSession(writesLife.Total, n) <= 6))
	fmt.Fprintf(&body, "| exactly 1 Face create per session | min %d, max %d | %s |\n", calls.MinCreates, calls.MaxCreates, verdict(calls.MinCreates == 1 && calls.MaxCreates == 1))
	fmt.Fprintf(&body, "| exactly 1 Face delete per session | min %d, max %d | %s |\n", calls.MinDeletes, calls.MaxDeletes, verdict(calls.MinDeletes == 1 && calls.MaxDeletes == 1))
	fmt.Fprintf(&body, "| 1 result poll after a completion signal | %s | %s |\n", calls.afterSignal(), verdict(calls.AfterSignal[1] == n))
	fmt.Fprintf(&body, "\n")

	fmt.Fprintf(&body, "**API writes** are counted from the API server's audit log (the manager runs as its own envtest user "+
		"`%s`, bound to config/rbac/role.yaml; every POST/PUT/PATCH/DELETE of that user, failed ones included). "+
		"To Ready: %d writes (%d failed) in the burst window; whole life (burst start until the last resource is gone): %d writes (%d failed).\n\n",
		operatorUser, writesToReady.Total, writesToReady.Failed, writesLife.Total, writesLife.Failed)
	fmt.Fprintf(&body, "| write (verb resource code), to Ready | count | per session |\n|---|---|---|\n%s\n", breakdown(writesToReady.ByKind, n))
	fmt.Fprintf(&body, "| write (verb resource code), whole life | count | per session |\n|---|---|---|\n%s\n", breakdown(writesLife.ByKind, n))
	fmt.Fprintf(&body, "Reads by the manager to Ready (live reads; cached reads never reach the API server): %.2f per session.\n\n"+
		"| read (verb resource) | count | per session |\n|---|---|---|\n%s\n", perSession(writesToReady.Reads, n), breakdown(writesToReady.ReadsByKind, n))
	fmt.Fprintf(&body, "**Face calls** (emulator, per session; the whole life is: Ready, the end user's attempt, "+
		"the app server's sync-requested-at annotation, Completed, delete). During the burst until all Ready: %d creates, %d result polls, %d deletes. "+
		"Whole life: result polls per session p50 %d, max %d (the scheduled polls before the attempt depend on how long a session waited for its turn in this run); "+
		"polls after Completed: %d in total; deletes answered 204: %d.\n\n",
		opDelta(faceBefore, faceAtReady, emulator.OpCreateLivenessSession), opDelta(faceBefore, faceAtReady, emulator.OpGetLivenessSessionResult),
		opDelta(faceBefore, faceAtReady, emulator.OpDeleteLivenessSession), calls.PollsP50, calls.PollsMax, calls.PollsAfterCompleted, calls.Deleted)
	fmt.Fprintf(&body, "The rest of the life (the attempt, the sync request and its writes, the delete and the finalizer's release) cost %.1f ms of API-server CPU "+
		"and %.1f ms of manager CPU per session on top of the burst's (the last round's sessions); a whole life therefore costs about %.1f ms of API-server CPU.\n\n",
		lifeAPIServerMS, lifeManagerMS, lifeAPIServerMS+rounds[len(rounds)-1].figures(n).OpAPIServerMS)
	fmt.Fprintf(&body, "Lifecycle latencies (watch-observed): sync request -> Completed p50 %s / p99 %s; delete call -> gone p50 %s / p99 %s.\n\n",
		ms(life.Completed.pct(50)), ms(life.Completed.pct(99)), ms(life.Gone.pct(50)), ms(life.Gone.pct(99)))
	fmt.Fprintf(&body, "CPU during the operator's burst:\n\n%s\nCPU during the baseline:\n\n%s\n", cpuTable, baseCPUTable)
	fmt.Fprintf(&body, "API-server CPU per session (median of the rounds): the operator's %.1f ms covers the load generator's create, the manager's three writes, "+
		"and every watch event they cause; the bare app server's %.1f ms per Secret one create and its watch events. Both are audited alike (support_cluster_test.go).\n\n",
		opMS, baseMS)
	if s.ProfileSeconds > 0 {
		body.WriteString(profileReading(opProfiles, baseProfiles, s.ProfileSeconds))
	}
	addSection("1-2. Burst, baseline, and work per session", body.String())
}

// perSession divides a count by the number of sessions.
func perSession(count, n int) float64 { return float64(count) / float64(n) }

// mustScale reads the scale or fails the benchmark.
func mustScale(b *testing.B) scale {
	b.Helper()
	s, err := currentScale()
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// runBurst creates the sessions from closed-loop clients and waits until all are Ready.
func runBurst(ctx context.Context, c *cluster, tr *tracker, sessions []session, clients int) (closedLoop, error) {
	starts := make([]time.Time, len(sessions))
	var (
		mu  sync.Mutex
		res closedLoop
	)
	res.Start = time.Now()
	err := forEach(ctx, sessions, clients, func(ctx context.Context, s session) error {
		start := time.Now()
		starts[s.Index] = start
		if err := retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, s.object()) }); err != nil {
			return fmt.Errorf("create %s: %w", s.Name, err)
		}
		return res.waitSecret(tr, &mu, perfNamespace, s.Name, start)
	})
	if err != nil {
		return res, err
	}
	for _, s := range sessions {
		ready, err := tr.wait(markReady, perfNamespace, s.Name, time.Minute)
		if err != nil {
			return res, err
		}
		res.Ready = append(res.Ready, ready.Sub(starts[s.Index]))
		if ready.After(res.LastReady) {
			res.LastReady = ready
		}
	}
	res.WallReady = res.LastReady.Sub(res.Start)
	return res, nil
}

// burstRound is one round of the burst: the bare app server's run and the operator's, with
// the CPU each used (kube-apiserver's and the whole machine's, in seconds).
type burstRound struct {
	Base, Op                         closedLoop
	BaseAPIServerCPU, OpAPIServerCPU float64
	BaseCPU, OpCPU                   float64
	OpManagerCPU                     float64
}

// roundFigures are one round's figures, or the median of every round's.
type roundFigures struct {
	BaseRate, OpRate, Ratio        float64 // sessions/s to token Secret, operator/bare
	BaseAPIServerMS, OpAPIServerMS float64 // kube-apiserver CPU per session
	BaseTotalMS, OpTotalMS         float64 // all processes' CPU per session
	OpManagerMS                    float64 // the manager's CPU per session
}

func (r burstRound) figures(n int) roundFigures {
	f := roundFigures{
		BaseRate: rate(n, r.Base.WallSecret), OpRate: rate(n, r.Op.WallSecret),
		BaseAPIServerMS: 1000 * r.BaseAPIServerCPU / float64(n), OpAPIServerMS: 1000 * r.OpAPIServerCPU / float64(n),
		BaseTotalMS: 1000 * r.BaseCPU / float64(n), OpTotalMS: 1000 * r.OpCPU / float64(n),
		OpManagerMS: 1000 * r.OpManagerCPU / float64(n),
	}
	f.Ratio = f.OpRate / f.BaseRate
	return f
}

// medianRound is the median of each figure over the rounds (each figure on its own).
func medianRound(rounds []burstRound, n int) roundFigures {
	figs := make([]roundFigures, len(rounds))
	for i, r := range rounds {
		figs[i] = r.figures(n)
	}
	pick := func(get func(roundFigures) float64) float64 { return medianBy(figs, get) }
	return roundFigures{
		BaseRate: pick(func(f roundFigures) float64 { return f.BaseRate }), OpRate: pick(func(f roundFigures) float64 { return f.OpRate }),
		Ratio:           pick(func(f roundFigures) float64 { return f.Ratio }),
		BaseAPIServerMS: pick(func(f roundFigures) float64 { return f.BaseAPIServerMS }), OpAPIServerMS: pick(func(f roundFigures) float64 { return f.OpAPIServerMS }),
		BaseTotalMS: pick(func(f roundFigures) float64 { return f.BaseTotalMS }), OpTotalMS: pick(func(f roundFigures) float64 { return f.OpTotalMS }),
		OpManagerMS: pick(func(f roundFigures) float64 { return f.OpManagerMS }),
	}
}

// roundsTable shows every round, so the spread behind each median is visible.
func roundsTable(rounds []burstRound, n int) string {
	var b strings.Builder
	b.WriteString("| round | bare: sessions/s | operator: sessions/s | ratio | API-server CPU per Secret (bare) | API-server CPU per session (operator) | operator / (4 x bare) | manager CPU per session | all CPU per session: bare / operator |\n|---|---|---|---|---|---|---|---|---|\n")
	row := func(name string, f roundFigures) {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.2f | %.1f ms | %.1f ms | %.2fx | %.1f ms | %.1f ms / %.1f ms |\n", name, f.BaseRate, f.OpRate, f.Ratio,
			f.BaseAPIServerMS, f.OpAPIServerMS, f.OpAPIServerMS/(4*f.BaseAPIServerMS), f.OpManagerMS, f.BaseTotalMS, f.OpTotalMS)
	}
	for i, r := range rounds {
		row(fmt.Sprint(i+1), r.figures(n))
	}
	row("**median**", medianRound(rounds, n))
	return b.String()
}

// burstRun is what one round leaves: its figures, its sessions (Ready, alive), the Face
// counters around the operator's burst, the CPU tables, and the profiles when it was profiled.
type burstRun struct {
	round                    burstRound
	sessions                 []session
	faceBefore, faceAtReady  emulator.Stats
	cpuTable, baseCPUTable   string
	opProfiles, baseProfiles map[string]string
}

// runBurstRound runs the bare app server's burst, then the operator's, with fresh names
// (label). With targets, each run is profiled, and the profile of the first must be complete
// before the second starts.
func runBurstRound(ctx context.Context, sys system, label string, s scale, targets []profileTarget) (burstRun, error) {
	var run burstRun
	var baseProf, opProf *cpuProfiles
	if targets != nil {
		baseProf = startProfilesBefore(ctx, targets, s.Name+"-burst-baseline", s.ProfileSeconds)
	}
	baseCPU := newCPUMeter(sys.mgr.pid)
	base, err := runBaseline(ctx, sys.c, sys.fe, sys.tr, "base"+label, s.BurstSessions, s.BurstClients)
	if err != nil {
		return run, err
	}
	run.round = burstRound{Base: base, BaseAPIServerCPU: baseCPU.used("kube-apiserver"), BaseCPU: baseCPU.total()}
	run.baseCPUTable = baseCPU.table(runtime.NumCPU())
	if baseProf != nil {
		if run.baseProfiles, err = baseProf.wait(); err != nil {
			return run, err
		}
		opProf = startProfilesBefore(ctx, targets, s.Name+"-burst-operator", s.ProfileSeconds)
	}

	run.sessions = newSessions("burst"+label, s.BurstSessions)
	run.faceBefore = sys.fe.Stats()
	cpu := newCPUMeter(sys.mgr.pid)
	op, err := runBurst(ctx, sys.c, sys.tr, run.sessions, s.BurstClients)
	if err != nil {
		return run, err
	}
	run.round.Op, run.round.OpAPIServerCPU, run.round.OpCPU, run.round.OpManagerCPU = op, cpu.used("kube-apiserver"), cpu.total(), cpu.used("manager")
	run.cpuTable = cpu.table(runtime.NumCPU())
	run.faceAtReady = sys.fe.Stats()
	if opProf != nil {
		if run.opProfiles, err = opProf.wait(); err != nil {
			return run, err
		}
	}
	return run, nil
}

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

	baseCPU := newCPUMeter(mgr.pid)
	base, err := runBaseline(ctx, c, fe, tr, s.BurstSessions, s.BurstClients)
	if err != nil {
		b.Fatal(err)
	}
	baseCPUTable := baseCPU.table(runtime.NumCPU())

	sessions := newSessions("burst", s.BurstSessions)
	faceBefore := fe.Stats()
	cpu := newCPUMeter(mgr.pid)
	op, err := runBurst(ctx, c, tr, sessions, s.BurstClients)
	if err != nil {
		b.Fatal(err)
	}
	cpuTable := cpu.table(runtime.NumCPU())
	faceAtReady := fe.Stats()
	time.Sleep(time.Second) // let the audit backend flush the last writes
	writesToReady, err := countWrites(c.AuditLog, op.Start, op.LastReady)
	if err != nil {
		b.Fatal(err)
	}

	life, err := runLifecycle(ctx, c, fe, tr, sessions, s.BurstClients)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second)
	writesLife, err := countWrites(c.AuditLog, op.Start, life.LastGone.Add(500*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	calls := faceCallsPerSession(fe, sessions, life)

	n := len(sessions)
	opRate, baseRate := rate(n, op.WallSecret), rate(n, base.WallSecret)
	b.ReportMetric(float64(op.Secret.pct(99))/1e6, "secret-p99-ms")
	b.ReportMetric(float64(op.Ready.pct(99))/1e6, "ready-p99-ms")
	b.ReportMetric(rate(n, op.WallReady), "ready-sessions/s")
	b.ReportMetric(float64(writesToReady.Total)/float64(n), "writes/session-to-ready")

	var body strings.Builder
	fmt.Fprintf(&body, "%d sessions created by %d closed-loop clients (each: create, wait until its token Secret is seen by a watch, next). "+
		"Latencies run from the create call to the watch event. The baseline ran first, in the same cluster, with the manager idle.\n\n", n, s.BurstClients)
	fmt.Fprintf(&body, "| | token Secret p50 / p99 | Ready p50 / p99 / max | wall to last Secret | sessions/s (to Secret) | wall to last Ready | sessions/s (to Ready) |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&body, "| bare app server (Face POST + Secret create) | %s / %s | - | %s | %.0f | - | - |\n",
		ms(base.Secret.pct(50)), ms(base.Secret.pct(99)), ms(base.WallSecret), baseRate)
	fmt.Fprintf(&body, "| operator | %s / %s | %s / %s / %s | %s | %.0f | %s | %.0f |\n\n",
		ms(op.Secret.pct(50)), ms(op.Secret.pct(99)), ms(op.Ready.pct(50)), ms(op.Ready.pct(99)), ms(op.Ready.max()),
		ms(op.WallSecret), opRate, ms(op.WallReady), rate(n, op.WallReady))
	fmt.Fprintf(&body, "| bar (TARGETS.md) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| token Secret p99 <= 0.5 s | %s | %s |\n", ms(op.Secret.pct(99)), verdict(op.Secret.pct(99) <= 500*time.Millisecond))
	fmt.Fprintf(&body, "| Ready p99 <= 1 s | %s | %s |\n", ms(op.Ready.pct(99)), verdict(op.Ready.pct(99) <= time.Second))
	ratio := opRate / baseRate
	fmt.Fprintf(&body, "| throughput within 0.3x of the bare app server (read as: operator/baseline >= 0.7) | %.2f (%.0f vs %.0f sessions/s to token Secret) | %s |\n",
		ratio, opRate, baseRate, verdict(ratio >= 0.7))
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
	fmt.Fprintf(&body, "Lifecycle latencies (watch-observed): sync request -> Completed p50 %s / p99 %s; delete call -> gone p50 %s / p99 %s.\n\n",
		ms(life.Completed.pct(50)), ms(life.Completed.pct(99)), ms(life.Gone.pct(50)), ms(life.Gone.pct(99)))
	fmt.Fprintf(&body, "CPU during the operator's burst:\n\n%s\nCPU during the baseline:\n\n%s", cpuTable, baseCPUTable)
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

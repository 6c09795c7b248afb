package perf

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// BenchmarkFaceLatency measures what one manager can do when Face is as slow as a real cloud
// call and not the machine's CPU: every Face request takes FaceLatency (the emulator waits
// before answering), and a closed-loop burst from many clients runs once per worker count
// (--max-concurrent-reconciles) and per-account call slots (--face-max-concurrent-calls). A
// reconcile holds a worker and a call slot through each Face call, so one account's Face calls
// per second are at most min(workers, slots) / latency, shared by the creates and the result
// polls of the sessions already made; docs/scaling.md uses these figures.
func BenchmarkFaceLatency(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace}, []string{perfNamespace})
	if err := sys.fe.SetFaults(emulator.Faults{Latency: s.FaceLatency}); err != nil {
		b.Fatal(err)
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Every Face request answered after %s; %d sessions per run from %d closed-loop clients; the manager restarted with each setting.\n\n",
		s.FaceLatency, s.FaceLatencySessions, s.FaceLatencyClients)
	body.WriteString("| --max-concurrent-reconciles | --face-max-concurrent-calls | sessions/s to Ready | Face calls/s (creates and polls) | ceiling: min(workers, slots) / latency | token Secret p50 / p99 | Ready p50 / p99 | manager CPU per session | API-server CPU per session |\n|---|---|---|---|---|---|---|---|---|\n")
	base := append([]string(nil), sys.mgr.extraArgs...)
	for i, run := range s.FaceLatencyRuns {
		workers, slots := run[0], run[1]
		sys.mgr.stop()
		sys.mgr.extraArgs = append(append([]string(nil), base...), fmt.Sprintf("--max-concurrent-reconciles=%d", workers),
			fmt.Sprintf("--face-max-concurrent-calls=%d", slots))
		if err := sys.mgr.start(); err != nil {
			b.Fatal(err)
		}
		if err := sys.mgr.waitServing(time.Minute); err != nil {
			b.Fatal(err)
		}
		if err := warmUp(ctx, sys.c, sys.tr); err != nil {
			b.Fatal(err)
		}
		sessions := newSessions(fmt.Sprintf("lat%d", i), s.FaceLatencySessions)
		cpu := newCPUMeter(sys.mgr.pid)
		before := sys.fe.Stats()
		op, err := runBurst(ctx, sys.c, sys.tr, sessions, s.FaceLatencyClients)
		if err != nil {
			b.Fatal(err)
		}
		after := sys.fe.Stats()
		calls := opDelta(before, after, emulator.OpCreateLivenessSession) + opDelta(before, after, emulator.OpGetLivenessSessionResult)
		n := float64(len(sessions))
		got := rate(len(sessions), op.WallReady)
		b.ReportMetric(got, fmt.Sprintf("ready-sessions/s-%dworkers-%dslots", workers, slots))
		fmt.Fprintf(&body, "| %d | %d | %.0f | %.0f | %.0f | %s / %s | %s / %s | %.1f ms | %.1f ms |\n", workers, slots, got,
			float64(calls)/op.WallReady.Seconds(), float64(min(workers, slots))/s.FaceLatency.Seconds(),
			ms(op.Secret.pct(50)), ms(op.Secret.pct(99)), ms(op.Ready.pct(50)), ms(op.Ready.pct(99)), 1000*cpu.used("manager")/n, 1000*cpu.used("kube-apiserver")/n)
		if i == len(s.FaceLatencyRuns)-1 {
			fmt.Fprintf(&body, "\nCPU during the last run:\n\n%s", cpu.table(runtime.NumCPU()))
		}
	}
	addSection("6. One manager against a slow Face", body.String())
}

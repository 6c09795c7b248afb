package perf

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// noiseNamespace holds Secrets that have nothing to do with the operator.
const noiseNamespace = "noise"

// BenchmarkMemory measures the manager's resident memory with many live (Ready) sessions, then
// again after many large unrelated Secrets were added to the cluster: the manager caches only
// its own labelled Secrets, so those must cost it (next to) nothing.
func BenchmarkMemory(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace, noiseNamespace}, []string{perfNamespace})
	c, tr, mgr := sys.c, sys.tr, sys.mgr
	idleRSS, _ := settledRSS(mgr.pid(), 3*time.Second)

	sessions := newSessions("mem", s.MemorySessions)
	cpu := newCPUMeter(mgr.pid)
	start := time.Now()
	if err := forEach(ctx, sessions, 32, func(ctx context.Context, s session) error {
		return retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, s.object()) })
	}); err != nil {
		b.Fatal(err)
	}
	// The warm-up session counts as Ready too.
	if err := tr.waitCount(markReady, len(sessions)+1, time.Duration(len(sessions))*50*time.Millisecond+2*time.Minute); err != nil {
		b.Fatal(err)
	}
	toReady := time.Since(start)
	cpuTable := cpu.table(runtime.NumCPU())
	rss, hwm := settledRSS(mgr.pid(), 10*time.Second)

	payload := strings.Repeat("x", s.MemorySecretSize)
	noise := newSessions("noise", s.MemorySecrets)
	if err := forEach(ctx, noise, 8, func(ctx context.Context, n session) error {
		return retryCreate(ctx, func(ctx context.Context) error {
			return c.Admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Namespace: noiseNamespace},
				StringData: map[string]string{"blob": payload}})
		})
	}); err != nil {
		b.Fatal(err)
	}
	rssNoise, hwmNoise := settledRSS(mgr.pid(), 10*time.Second)
	added := rssNoise - rss

	b.ReportMetric(float64(rss)/1024, "rss-MiB")
	b.ReportMetric(float64(added)/1024, "noise-added-MiB")
	var body strings.Builder
	fmt.Fprintf(&body, "bin/manager's resident memory (/proc/<pid>/status VmRSS, median of samples 1 s apart after a 10 s settle; VmHWM is the peak). "+
		"%d sessions created by 32 clients, all Ready after %s (%.0f sessions/s); then %d unrelated Secrets of %d KiB each (no operator label) in another namespace.\n\n",
		len(sessions), toReady.Round(time.Second), float64(len(sessions))/toReady.Seconds(), s.MemorySecrets, s.MemorySecretSize>>10)
	fmt.Fprintf(&body, "| state | VmRSS | VmHWM |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| idle, after one warm-up session | %s | - |\n", mib(idleRSS))
	fmt.Fprintf(&body, "| %d live sessions, all Ready | %s | %s |\n", len(sessions), mib(rss), mib(hwm))
	fmt.Fprintf(&body, "| + %d unrelated Secrets | %s | %s |\n\n", s.MemorySecrets, mib(rssNoise), mib(hwmNoise))
	fmt.Fprintf(&body, "| bar (TARGETS.md) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| <= 256 MiB RSS with %d live sessions (bar is for 10,000) | %s (peak %s) | %s |\n", len(sessions), mib(rss), mib(hwm), verdict(hwm <= 256<<10))
	fmt.Fprintf(&body, "| unrelated Secrets add < 10 MiB | %+.1f MiB | %s |\n\n", float64(added)/1024, verdict(added < 10<<10))
	fmt.Fprintf(&body, "CPU while the sessions were created and became Ready:\n\n%s", cpuTable)
	addSection("4. Memory", body.String())
}

// settledRSS waits for the process to settle (the Go heap grows and shrinks with the work in
// flight), then returns the median VmRSS of five samples a second apart and the peak VmHWM,
// in KiB.
func settledRSS(pid int, settle time.Duration) (rss, hwm int64) {
	time.Sleep(settle)
	var samples []int64
	for range 5 {
		r, h, err := memoryKiB(pid)
		if err == nil {
			samples = append(samples, r)
			hwm = max(hwm, h)
		}
		time.Sleep(time.Second)
	}
	if len(samples) == 0 {
		return 0, hwm
	}
	slices.Sort(samples)
	return samples[len(samples)/2], hwm
}

// mib formats KiB as MiB.
func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

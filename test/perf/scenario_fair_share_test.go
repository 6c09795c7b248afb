package perf

// The fair-share scenario measures how long a quiet namespace waits behind a noisy one on a
// shared Face account at S0's 10 requests/s: namespace noisy creates a burst of sessions, 3 s
// later namespace quiet creates a few, and the report gives each quiet session's time to
// Ready next to the noisy burst's. Run with
//
//	KUBEBUILDER_ASSETS=bin/k8s/... go test -run '^$' -bench BenchmarkFairShare -benchtime 1x ./test/perf/
//
// (LIVENESS_FAIR_NOISY and LIVENESS_FAIR_QUIET override the sizes); it writes
// reports/fair-share-latest.md.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/quota"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// fairShareRun is what one noisy/quiet run measured.
type fairShareRun struct {
	noisy, quiet int
	// quietReady are the quiet sessions' times from creation to Ready.
	quietReady durations
	// quietFromStart and noisyFromStart are each session's Ready time from the noisy burst's
	// start, for comparing the two namespaces' turns.
	quietFromStart, noisyFromStart durations
	useful                         float64
	throttled                      int64
}

func BenchmarkFairShare(b *testing.B) {
	noisy, quiet := envInt(b, "LIVENESS_FAIR_NOISY", 300), envInt(b, "LIVENESS_FAIR_QUIET", 5)
	cp, err := harness.StartControlPlane()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	c, err := client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	var runs []fairShareRun
	for i := 0; i < b.N; i++ {
		runs = append(runs, runFairShare(b, c, cp, i, noisy, quiet))
	}
	for _, r := range runs {
		b.ReportMetric(r.quietReady.max().Seconds(), "quiet_max_ready_s")
		b.ReportMetric(r.noisyAllReady().Seconds(), "noisy_all_ready_s")
	}
	writeFairShareReport(runs)
}

// TestFairShareSmoke is the small fair-share scenario 'make test' runs: 100 noisy sessions
// (10 s of the account's quota), then 3 quiet ones. It asserts an order, not a time, so a
// slow machine cannot fail it: every quiet session is Ready before three quarters of the noisy
// burst is, where first come, first served made them wait for all of it.
func TestFairShareSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cp, err := harness.StartControlPlane()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	c, err := client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	r := runFairShare(t, c, cp, 0, 100, 3)
	t.Logf("quiet Ready max %.1f s after its creation; noisy burst all Ready after %.1f s", r.quietReady.max().Seconds(), r.noisyAllReady().Seconds())
	if q, n := r.quietFromStart.max(), r.noisyFromStart.pct(75); q >= n {
		t.Fatalf("the last quiet session was Ready %.1f s into the noisy burst, after three quarters of it (%.1f s): quiet waited for the backlog", q.Seconds(), n.Seconds())
	}
	if r.throttled != 0 {
		t.Fatalf("%d calls were throttled by the emulator: the limiter let more than the quota through", r.throttled)
	}
}

// runFairShare runs one noisy burst and one quiet batch through one manager whose default
// account is an S0 emulator shared by both namespaces.
func runFairShare(b testing.TB, c client.Client, cp *harness.ControlPlane, run, noisy, quiet int) fairShareRun {
	ctx := context.Background()
	noisyNS, quietNS := fmt.Sprintf("fair-noisy-%d", run), fmt.Sprintf("fair-quiet-%d", run)
	for _, ns := range []string{noisyNS, quietNS} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			b.Fatal(err)
		}
	}
	emu := harness.StartEmulator(b, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 10, Burst: 10}})
	harness.StartManager(b, cp.Config, noisyNS, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey,
		Limits: quota.Limits{RequestsPerSecond: 10, Burst: 10}, ExtraNamespaces: []string{quietNS}})

	create := func(ns string, n int) map[string]time.Time {
		created := make(map[string]time.Time, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ls := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("s%d", i)},
					Spec: facev1.LivenessSessionSpec{DeviceCorrelationID: fmt.Sprintf("%s-%d", ns, i)}}
				mustQuota(b, c.Create(ctx, ls))
				mu.Lock()
				created[ls.Name] = time.Now()
				mu.Unlock()
			}()
		}
		wg.Wait()
		return created
	}
	start := time.Now()
	create(noisyNS, noisy)
	time.Sleep(3*time.Second - time.Since(start))
	quietCreated := create(quietNS, quiet)

	readyAt := map[string]map[string]time.Time{noisyNS: {}, quietNS: {}}
	deadline := time.Now().Add(15 * time.Minute)
	for len(readyAt[noisyNS]) < noisy || len(readyAt[quietNS]) < quiet {
		if time.Now().After(deadline) {
			b.Fatalf("after 15 minutes: %d of %d noisy and %d of %d quiet sessions Ready", len(readyAt[noisyNS]), noisy,
				len(readyAt[quietNS]), quiet)
		}
		for _, ns := range []string{noisyNS, quietNS} {
			var list facev1.LivenessSessionList
			mustQuota(b, c.List(ctx, &list, client.InNamespace(ns)))
			for _, ls := range list.Items {
				if _, seen := readyAt[ns][ls.Name]; !seen && meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady) {
					readyAt[ns][ls.Name] = time.Now()
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := fairShareRun{noisy: noisy, quiet: quiet}
	for name, at := range readyAt[quietNS] {
		r.quietReady = append(r.quietReady, at.Sub(quietCreated[name]))
		r.quietFromStart = append(r.quietFromStart, at.Sub(start))
	}
	for _, at := range readyAt[noisyNS] {
		r.noisyFromStart = append(r.noisyFromStart, at.Sub(start))
	}
	st := emu.Stats()
	r.throttled = st.Throttled
	r.useful = float64(st.TotalRequests-st.Throttled) / (10 + 10*r.noisyAllReady().Seconds())
	return r
}

// noisyAllReady is the time from the noisy burst's start until its last session was Ready.
func (r fairShareRun) noisyAllReady() time.Duration { return r.noisyFromStart.max() }

// envInt is an integer environment variable, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// writeFairShareReport writes reports/fair-share-latest.md and prints it.
func writeFairShareReport(runs []fairShareRun) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Fair share report\n\nGenerated by `go test -run '^$' -bench BenchmarkFairShare -benchtime 1x ./test/perf/` on %s.\n\n",
		time.Now().UTC().Format(time.RFC3339))
	sb.WriteString("One manager (the in-process reconcilers, default workers), its default account an emulator at S0 (10 requests/s, burst 10) " +
		"shared by two namespaces. Namespace noisy creates its sessions at once; 3 s later namespace quiet creates its own. " +
		"Quiet Ready is each quiet session's time from its creation to Ready. Useful share = answered requests / what S0 admits until the noisy burst is Ready.\n\n")
	sb.WriteString("| noisy | quiet | quiet Ready p50 | quiet Ready max | noisy all Ready | 429s | useful share |\n|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Fprintf(&sb, "| %d | %d | %.1f s | %.1f s | %.1f s | %d | %.0f %% |\n", r.noisy, r.quiet, r.quietReady.pct(50).Seconds(),
			r.quietReady.max().Seconds(), r.noisyAllReady().Seconds(), r.throttled, r.useful*100)
	}
	fmt.Println(sb.String())
	path := filepath.Join(harness.RepoRoot(), "reports", "fair-share-latest.md")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		_ = os.WriteFile(path, []byte(sb.String()), 0o644)
	}
}

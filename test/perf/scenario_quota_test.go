package perf

// The quota scenario measures the operator against a Face emulator that enforces a request
// quota: every session must reach Ready, no request may land inside a Retry-After window, and
// most of the quota must go to useful calls. Run with make bench; it writes reports/quota-latest.md.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// quotaScenario is one quota setting and how many sessions to push through it.
type quotaScenario struct {
	name     string
	emulator emulator.Quota
	account  facev1.FaceQuota
	sessions int
	// capacity is how many requests Face admits in d, burst included.
	capacity func(d time.Duration) float64
}

// quotaResult is what one quotaScenario measured.
type quotaResult struct {
	quotaScenario    quotaScenario
	allReady         time.Duration
	requests, useful int64
	throttled        int64
	insideRetryAfter int64
	usefulShare      float64
}

func BenchmarkQuota(b *testing.B) {
	cp, err := harness.StartControlPlane()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cp.Stop() }()
	c, err := client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	scenarios := []quotaScenario{
		{
			name: "S0: 10 requests/s", emulator: emulator.Quota{RequestsPerSecond: 10, Burst: 10},
			account: facev1.FaceQuota{RequestsPerSecond: ptr.To[int32](10)}, sessions: 150,
			capacity: func(d time.Duration) float64 { return 10 + 10*d.Seconds() },
		},
		{
			name: "F0: 20 requests/min", emulator: emulator.Quota{RequestsPerMinute: 20},
			account: facev1.FaceQuota{RequestsPerMinute: ptr.To[int32](20)}, sessions: 45,
			// The sustained rate, 20 per minute, over the run. A run shorter than whole windows
			// would otherwise be charged for the unused end of its last window; the limiter also
			// spends no burst on a per-minute quota (a burst of b would let b + 19 calls land in
			// one of Face's fixed windows), so a minute's 20 are spread over the minute.
			capacity: func(d time.Duration) float64 { return 20 * d.Minutes() },
		},
	}
	var results []quotaResult
	for i := 0; i < b.N; i++ {
		for j, sc := range scenarios {
			results = append(results, runQuotaScenario(b, cp, c, fmt.Sprintf("quota-%d-%d", i, j), sc))
		}
	}
	for _, r := range results {
		b.ReportMetric(r.usefulShare*100, "useful%_"+strings.Fields(r.quotaScenario.name)[0])
		b.ReportMetric(float64(r.insideRetryAfter), "insideRetryAfter_"+strings.Fields(r.quotaScenario.name)[0])
	}
	writeQuotaReport(b, results)
}

// runQuotaScenario pushes the scenario's sessions through one FaceAccount and measures.
func runQuotaScenario(b *testing.B, cp *harness.ControlPlane, c client.Client, ns string, sc quotaScenario) quotaResult {
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	emu := harness.StartEmulator(b, emulator.Config{Quota: sc.emulator})
	harness.StartManager(b, cp.Config, ns, harness.ManagerOptions{})
	mustQuota(b, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "key"},
		StringData: map[string]string{"apikey": harness.TestAPIKey}}))
	mustQuota(b, c.Create(ctx, &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "face"},
		Spec: facev1.FaceAccountSpec{Endpoint: emu.URL, Quota: &sc.account,
			Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: "key", Key: "apikey"}}}}))

	start := time.Now()
	for i := 0; i < sc.sessions; i++ {
		ls := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("s%d", i)},
			Spec: facev1.LivenessSessionSpec{DeviceCorrelationID: fmt.Sprintf("%s-%d", ns, i), AccountRef: &facev1.AccountReference{Name: "face"}}}
		mustQuota(b, c.Create(ctx, ls))
	}
	deadline := start.Add(10 * time.Minute)
	for {
		var list facev1.LivenessSessionList
		mustQuota(b, c.List(ctx, &list, client.InNamespace(ns)))
		ready := 0
		for _, ls := range list.Items {
			if meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady) {
				ready++
			}
		}
		if ready == sc.sessions {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: only %d of %d sessions Ready after 10 minutes", sc.name, ready, sc.sessions)
		}
		time.Sleep(50 * time.Millisecond)
	}
	allReady := time.Since(start)
	st := emu.Stats()
	useful := st.TotalRequests - st.Throttled
	creates := st.ByOperation[emulator.OpCreateLivenessSession].ByStatus["200"]
	if creates != int64(sc.sessions) {
		b.Fatalf("%s: %d creates for %d sessions", sc.name, creates, sc.sessions)
	}
	return quotaResult{
		quotaScenario: sc, allReady: allReady, requests: st.TotalRequests, useful: useful,
		throttled: st.Throttled, insideRetryAfter: st.RequestsInsideRetryAfter,
		usefulShare: float64(useful) / sc.capacity(allReady),
	}
}

func mustQuota(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// writeQuotaReport writes reports/quota-latest.md and prints it.
func writeQuotaReport(b *testing.B, results []quotaResult) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Quota report\n\nGenerated by `make bench` (`go test -run '^$' -bench BenchmarkQuota -benchtime 1x ./test/perf/`) on %s.\n\n", time.Now().UTC().Format(time.RFC3339))
	sb.WriteString("Each run: a FaceAccount whose quota matches the emulator's, N LivenessSessions created at once, measured until all are Ready. ")
	sb.WriteString("Useful share = answered requests (not 429) / the requests Face admits in that time: for S0 its burst of 10 plus 10 per second; for F0 its sustained 20 per minute.\n\n")
	sb.WriteString("| quota | sessions | all Ready after | Face requests | 429s | inside Retry-After | useful share of quota |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&sb, "| %s | %d | %.1f s | %d | %d | %d | %.0f %% |\n", r.quotaScenario.name, r.quotaScenario.sessions,
			r.allReady.Seconds(), r.requests, r.throttled, r.insideRetryAfter, r.usefulShare*100)
	}
	fmt.Println(sb.String())
	path := filepath.Join(harness.RepoRoot(), "reports", "quota-latest.md")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		_ = os.WriteFile(path, []byte(sb.String()), 0o644)
	}
}

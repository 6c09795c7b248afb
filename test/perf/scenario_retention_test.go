package perf

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// BenchmarkRetention runs sessions through their whole life with spec.ttlSecondsAfterFinished:
// each is created, its 60 s token expires with no attempt (an expired session counts as
// finished), and 10 s later the operator removes it, with its cloud session and Secrets. The
// run passes when nothing is left (resources, the operator's Secrets, live cloud sessions) and
// the manager's memory is back near its idle figure. Half of the memory scenario's sessions
// (5,000 at full scale).
func BenchmarkRetention(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace}, []string{perfNamespace})
	c, fe, mgr := sys.c, sys.fe, sys.mgr
	idleRSS, _ := settledRSS(mgr.pid(), 3*time.Second)

	sessions := newSessions("ttl", max(s.MemorySessions/2, 1))
	start := time.Now()
	if err := forEach(ctx, sessions, 32, func(ctx context.Context, s session) error {
		ls := s.object()
		ls.Spec.AuthTokenTimeToLiveInSeconds = 60
		ls.Spec.TTLSecondsAfterFinished = ptr.To[int32](10)
		return retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, ls) })
	}); err != nil {
		b.Fatal(err)
	}
	created := time.Since(start)

	// Everything is gone once no LivenessSession of the run is left.
	deadline := time.Now().Add(60*time.Second + 10*time.Second + time.Duration(len(sessions))*20*time.Millisecond + 3*time.Minute)
	var left int
	for {
		var list facev1.LivenessSessionList
		if err := c.Admin.List(ctx, &list, client.InNamespace(perfNamespace)); err != nil {
			b.Fatal(err)
		}
		left = 0
		for _, ls := range list.Items {
			if strings.HasPrefix(ls.Name, "ttl-") {
				left++
			}
		}
		if left == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	allGone := time.Since(start)
	var secrets corev1.SecretList
	if err := c.Admin.List(ctx, &secrets, client.InNamespace(perfNamespace),
		client.MatchingLabels{facev1.LabelManagedBy: facev1.ManagedByValue}); err != nil {
		b.Fatal(err)
	}
	liveCloud := 0
	for dev, infos := range fe.sessionsByDevice() {
		if !strings.HasPrefix(dev, "dev-ttl-") {
			continue
		}
		for _, info := range infos {
			if !info.Deleted && !info.Expired {
				liveCloud++
			}
		}
	}
	// The Go runtime hands freed heap back to the OS gradually, and an idle process collects
	// only at the runtime's forced GC (every 2 minutes): sampled about 15 s and 150 s after the
	// last removal, the bar is on the later figure (RSS "returns" to idle).
	soon, _ := settledRSS(mgr.pid(), 10*time.Second)
	rss, peakHWM := settledRSS(mgr.pid(), 130*time.Second)
	back := rss - idleRSS

	b.ReportMetric(float64(left), "resources-left")
	b.ReportMetric(float64(back)/1024, "rss-above-idle-MiB")
	var body strings.Builder
	fmt.Fprintf(&body, "%d sessions created by 32 clients in %s, each with a 60 s token and spec.ttlSecondsAfterFinished: 10; "+
		"no attempt, so each finishes as Expired after 60 s and is removed 10 s later. All gone %s after the first create.\n\n",
		len(sessions), created.Round(time.Second), allGone.Round(time.Second))
	fmt.Fprintf(&body, "| bar (issue: retention) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| 0 LivenessSessions left | %d | %s |\n", left, verdict(left == 0))
	fmt.Fprintf(&body, "| 0 of the operator's Secrets left | %d | %s |\n", len(secrets.Items), verdict(len(secrets.Items) == 0))
	fmt.Fprintf(&body, "| 0 live cloud sessions left | %d | %s |\n", liveCloud, verdict(liveCloud == 0))
	fmt.Fprintf(&body, "| RSS back within 20 MiB of idle (150 s after) | idle %s; %s after 15 s, %s after 150 s (%+.1f MiB); peak during the run %s | %s |\n",
		mib(idleRSS), mib(soon), mib(rss), float64(back)/1024, mib(peakHWM), verdict(back < 20<<10))
	addSection("Retention", body.String())
}

package perf

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkSustained drives an open-loop arrival of sessions at a fixed rate (each create is
// sent on schedule, whether or not earlier ones are done) and reports the rate at which
// sessions became Ready and their latency; an operator that cannot keep up shows a growing
// backlog: the last Ready long after the last arrival, and latency growing through the run.
func BenchmarkSustained(b *testing.B) {
	s := mustScale(b)
	ctx := context.Background()
	sys := startSystem(b, ctx, s, []string{perfNamespace}, []string{perfNamespace})
	c, tr, mgr := sys.c, sys.tr, sys.mgr

	n := int(s.SustainedRate * s.SustainedFor.Seconds())
	sessions := newSessions("sus", n)
	starts := make([]time.Time, n)
	cpu := newCPUMeter(mgr.pid)
	begin := time.Now()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		created error
	)
	for i, ss := range sessions {
		time.Sleep(time.Until(begin.Add(time.Duration(float64(i) / s.SustainedRate * float64(time.Second)))))
		starts[i] = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, ss.object()) }); err != nil {
				errOnce.Do(func() { created = err })
			}
		}()
	}
	lastArrival := time.Now()
	wg.Wait()
	if created != nil {
		b.Fatal(created)
	}
	var ready, secret, firstHalf, secondHalf durations
	var lastReady time.Time
	for i, ss := range sessions {
		at, err := tr.wait(markReady, perfNamespace, ss.Name, 3*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		sec, _ := tr.seen(markSecret, perfNamespace, ss.Name)
		ready, secret = append(ready, at.Sub(starts[i])), append(secret, sec.Sub(starts[i]))
		if i < n/2 {
			firstHalf = append(firstHalf, at.Sub(starts[i]))
		} else {
			secondHalf = append(secondHalf, at.Sub(starts[i]))
		}
		if at.After(lastReady) {
			lastReady = at
		}
	}
	cpuTable := cpu.table(runtime.NumCPU())
	arrivalRate := float64(n) / lastArrival.Sub(begin).Seconds()
	achieved := float64(n) / lastReady.Sub(begin).Seconds()

	b.ReportMetric(achieved, "ready-sessions/s")
	b.ReportMetric(float64(ready.pct(99))/1e6, "ready-p99-ms")
	var body strings.Builder
	fmt.Fprintf(&body, "Open-loop arrivals: %d sessions at %.0f/s for %s (achieved arrival rate %.0f/s; each create sent on schedule from its own goroutine).\n\n",
		n, s.SustainedRate, s.SustainedFor, arrivalRate)
	fmt.Fprintf(&body, "| achieved rate to Ready (n / first arrival..last Ready) | last Ready after last arrival | token Secret p50 / p99 | Ready p50 / p99 / max | Ready p99, first half / second half of arrivals |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&body, "| %.0f sessions/s | %s | %s / %s | %s / %s / %s | %s / %s |\n\n",
		achieved, ms(lastReady.Sub(lastArrival)), ms(secret.pct(50)), ms(secret.pct(99)), ms(ready.pct(50)), ms(ready.pct(99)), ms(ready.max()),
		ms(firstHalf.pct(99)), ms(secondHalf.pct(99)))
	fmt.Fprintf(&body, "| bar (TARGETS.md) | measured | verdict |\n|---|---|---|\n")
	fmt.Fprintf(&body, "| sustained >= 100 sessions/s | %.0f sessions/s at an offered %.0f/s | %s |\n\n", achieved, s.SustainedRate, verdict(achieved >= 100 && s.SustainedRate >= 100))
	fmt.Fprintf(&body, "CPU during the run:\n\n%s", cpuTable)
	addSection("3. Sustained rate", body.String())
}

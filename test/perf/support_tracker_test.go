package perf

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// Milestones of a resource that the tracker timestamps, as a watch first sees them.
const (
	markSecret    = "secret"    // its token Secret exists
	markReady     = "ready"     // Ready=True
	markCompleted = "completed" // Completed=True
	markGone      = "gone"      // the resource is deleted
)

// tracker watches LivenessSessions and Secrets as an app server would (informers over the
// administrator's connection) and records the moment each milestone is first seen, so
// latencies are measured to what a watching client can observe, not to the operator's logs.
type tracker struct {
	mu      sync.Mutex
	at      map[string]time.Time     // mark/namespace/name -> first seen
	waiters map[string]chan struct{} // mark/namespace/name -> closed when seen
	counts  map[string]int           // mark -> resources that reached it
}

// startTracker runs the informers for the namespaces until the benchmark ends.
func startTracker(tb testing.TB, c *cluster, namespaces ...string) *tracker {
	tb.Helper()
	t := &tracker{at: map[string]time.Time{}, waiters: map[string]chan struct{}{}, counts: map[string]int{}}
	nsCfg := map[string]cache.Config{}
	for _, ns := range namespaces {
		nsCfg[ns] = cache.Config{}
	}
	ca, err := cache.New(c.AdminConfig, cache.Options{Scheme: harness.Scheme(), DefaultNamespaces: nsCfg,
		DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	secrets, err := ca.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		tb.Fatal(err)
	}
	sessions, err := ca.GetInformer(ctx, &facev1.LivenessSession{})
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = secrets.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { t.mark(markSecret, obj.(client.Object)) },
	})
	_, _ = sessions.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.onSession(obj) },
		UpdateFunc: func(_, obj any) { t.onSession(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if o, ok := obj.(client.Object); ok {
				t.mark(markGone, o)
			}
		},
	})
	go func() { _ = ca.Start(ctx) }()
	if !ca.WaitForCacheSync(ctx) {
		tb.Fatal("tracker cache did not sync")
	}
	return t
}

func (t *tracker) onSession(obj any) {
	ls, ok := obj.(*facev1.LivenessSession)
	if !ok {
		return
	}
	if meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady) {
		t.mark(markReady, ls)
	}
	if meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionCompleted) {
		t.mark(markCompleted, ls)
	}
}

func key(mark, namespace, name string) string { return mark + "/" + namespace + "/" + name }

// mark records the first time a milestone is seen, and wakes its waiters.
func (t *tracker) mark(mark string, o client.Object) {
	now := time.Now()
	k := key(mark, o.GetNamespace(), o.GetName())
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, seen := t.at[k]; seen {
		return
	}
	t.at[k] = now
	t.counts[mark]++
	if ch, ok := t.waiters[k]; ok {
		close(ch)
		delete(t.waiters, k)
	}
}

// seen returns when a milestone was first seen.
func (t *tracker) seen(mark, namespace, name string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.at[key(mark, namespace, name)]
	return at, ok
}

// count is how many resources reached a milestone.
func (t *tracker) count(mark string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[mark]
}

// wait blocks until the milestone is seen or the timeout passes.
func (t *tracker) wait(mark, namespace, name string, timeout time.Duration) (time.Time, error) {
	k := key(mark, namespace, name)
	t.mu.Lock()
	if at, ok := t.at[k]; ok {
		t.mu.Unlock()
		return at, nil
	}
	ch, ok := t.waiters[k]
	if !ok {
		ch = make(chan struct{})
		t.waiters[k] = ch
	}
	t.mu.Unlock()
	select {
	case <-ch:
		at, _ := t.seen(mark, namespace, name)
		return at, nil
	case <-time.After(timeout):
		return time.Time{}, fmt.Errorf("%s of %s/%s not seen within %s", mark, namespace, name, timeout)
	}
}

// waitCount blocks until n resources reached the milestone or the timeout passes; it returns
// when the last of them was seen.
func (t *tracker) waitCount(mark string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for t.count(mark) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d resources reached %s within %s", t.count(mark), n, mark, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

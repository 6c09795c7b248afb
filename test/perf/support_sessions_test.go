package perf

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// perfNamespace holds the LivenessSessions and their token Secrets.
const perfNamespace = "perf"

// session is one LivenessSession of a run. Its deviceCorrelationId is unique in the run, so the
// emulator's inventory tells how many cloud sessions were made for it.
type session struct {
	Index  int
	Name   string
	Device string
}

// newSessions names n sessions; prefix keeps runs in one cluster apart.
func newSessions(prefix string, n int) []session {
	out := make([]session, n)
	for i := range out {
		out[i] = session{Index: i, Name: fmt.Sprintf("%s-%05d", prefix, i), Device: fmt.Sprintf("dev-%s-%05d", prefix, i)}
	}
	return out
}

// object is the LivenessSession a client would create.
func (s session) object() *facev1.LivenessSession {
	return &facev1.LivenessSession{
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: perfNamespace},
		Spec:       facev1.LivenessSessionSpec{DeviceCorrelationID: s.Device},
	}
}

// forEach runs fn for every session with the given number of concurrent workers and returns
// the first error.
func forEach(ctx context.Context, sessions []session, workers int, fn func(context.Context, session) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan session)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				if err := fn(ctx, s); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for _, s := range sessions {
		select {
		case next <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}

// retryCreate retries a create a few times on transient API errors (the API server under full
// load on two cores may answer 429 or time out); a load generator that gave up would distort
// the figures more than a retry. AlreadyExists on a retry means the earlier try succeeded.
func retryCreate(ctx context.Context, create func(context.Context) error) error {
	var err error
	for i := range 5 {
		if err = create(ctx); err == nil || (i > 0 && apierrors.IsAlreadyExists(err)) {
			return nil
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	return err
}

// warmUp takes one session through its whole life before anything is measured. The first
// request for a custom resource in a fresh API server takes about 2 s (the CRD's handler and
// its CEL validation rules are built on first use), which a long-running cluster never pays;
// the manager's connections are opened too. After a manager restart it is also the proof that
// the new manager reconciles: each call has a session of its own, since the tracker remembers
// the milestones of a name it has seen (a reused name would return at once, and a burst
// started before the new manager's informers would reach it as their initial list).
func warmUp(ctx context.Context, c *cluster, tr *tracker) error {
	s := newSessions(fmt.Sprintf("warmup%d", warmUps.Add(1)), 1)[0]
	if err := c.Admin.Create(ctx, s.object()); err != nil {
		return fmt.Errorf("warm-up create: %w", err)
	}
	if _, err := tr.wait(markReady, perfNamespace, s.Name, time.Minute); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if err := c.Admin.Delete(ctx, s.object()); err != nil {
		return fmt.Errorf("warm-up delete: %w", err)
	}
	_, err := tr.wait(markGone, perfNamespace, s.Name, time.Minute)
	return err
}

// warmUps numbers warmUp's sessions.
var warmUps atomic.Int64

// system is the system under test, running: the control plane, the Face emulator, the watch
// tracker, and bin/manager serving and warmed up.
type system struct {
	c   *cluster
	fe  *faceEmulator
	tr  *tracker
	mgr *managerProc
}

// startSystem brings the system up for a scenario. The cluster gets clusterNamespaces (the
// first one holds the sessions) and the tracker watches trackedNamespaces.
func startSystem(tb testing.TB, ctx context.Context, s scale, clusterNamespaces, trackedNamespaces []string) system {
	tb.Helper()
	c := startCluster(tb, clusterNamespaces...)
	fe := startFace(tb)
	tr := startTracker(tb, c, trackedNamespaces...)
	mgr := newManager(tb, c, fe.URL, faceKey, s)
	if err := mgr.start(); err != nil {
		tb.Fatal(err)
	}
	if err := mgr.waitServing(time.Minute); err != nil {
		tb.Fatal(err)
	}
	if err := warmUp(ctx, c, tr); err != nil {
		tb.Fatal(err)
	}
	return system{c: c, fe: fe, tr: tr, mgr: mgr}
}

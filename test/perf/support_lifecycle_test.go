package perf

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// lifecycle is what the rest of each session's life cost, after Ready.
type lifecycle struct {
	// SignalAt is when the app server asked each session (by name) for a result sync.
	SignalAt map[string]time.Time
	// Completed runs from the sync request to Completed=True; Gone from the delete call to the
	// resource's deletion event.
	Completed, Gone durations
	LastGone        time.Time
}

// runLifecycle plays the rest of every session's life, as an app server and its end users
// would: the end user's attempt (with the token read from the token Secret), the app server's
// sync-requested-at annotation, the result (Completed), then deletion until the resource is gone.
func runLifecycle(ctx context.Context, c *cluster, fe *faceEmulator, tr *tracker, sessions []session, clients int) (lifecycle, error) {
	res := lifecycle{SignalAt: map[string]time.Time{}}
	var mu sync.Mutex
	err := forEach(ctx, sessions, clients, func(ctx context.Context, s session) error {
		secret := &corev1.Secret{}
		if err := c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: s.Name}, secret); err != nil {
			return err
		}
		if _, err := fe.Attempt(string(secret.Data[facev1.SecretKeyAuthToken]), emulator.AttemptRequest{LivenessDecision: "realface"}); err != nil {
			return fmt.Errorf("attempt %s: %w", s.Name, err)
		}
		signal := time.Now()
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, facev1.AnnotationSyncRequestedAt, signal.UTC().Format(time.RFC3339Nano))
		if err := c.Admin.Patch(ctx, s.object(), client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			return fmt.Errorf("request sync of %s: %w", s.Name, err)
		}
		completed, err := tr.wait(markCompleted, perfNamespace, s.Name, time.Minute)
		if err != nil {
			return err
		}
		del := time.Now()
		if err := c.Admin.Delete(ctx, s.object()); err != nil {
			return fmt.Errorf("delete %s: %w", s.Name, err)
		}
		gone, err := tr.wait(markGone, perfNamespace, s.Name, time.Minute)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		res.SignalAt[s.Name] = signal
		res.Completed = append(res.Completed, completed.Sub(signal))
		res.Gone = append(res.Gone, gone.Sub(del))
		if gone.After(res.LastGone) {
			res.LastGone = gone
		}
		return nil
	})
	return res, err
}

// faceCalls summarises the Face calls attributed to each session of a run.
type faceCalls struct {
	MinCreates, MaxCreates int
	MinDeletes, MaxDeletes int
	Deleted                int         // deletes answered 204
	PollsP50, PollsMax     int         // result polls per session over the whole life
	PollsAfterCompleted    int         // polls after the poll that saw the attempt
	AfterSignal            map[int]int // polls after the sync request -> sessions
}

// afterSignal renders AfterSignal as "n polls: k sessions".
func (fc faceCalls) afterSignal() string {
	keys := make([]int, 0, len(fc.AfterSignal))
	for k := range fc.AfterSignal {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d poll(s): %d sessions", k, fc.AfterSignal[k]))
	}
	return strings.Join(parts, "; ")
}

// faceCallsPerSession attributes the emulator's calls to the run's sessions: creates through
// the inventory (one entry per cloud session of the resource's unique deviceCorrelationId),
// polls and deletes through the calls recorded per session id.
func faceCallsPerSession(fe *faceEmulator, sessions []session, life lifecycle) faceCalls {
	byDevice := fe.sessionsByDevice()
	fc := faceCalls{MinCreates: 1 << 30, MinDeletes: 1 << 30, AfterSignal: map[int]int{}}
	var polls []int
	for _, s := range sessions {
		cloud := byDevice[s.Device]
		fc.MinCreates, fc.MaxCreates = min(fc.MinCreates, len(cloud)), max(fc.MaxCreates, len(cloud))
		deletes, gets, after, afterDone := 0, 0, 0, 0
		for _, cs := range cloud {
			done := false
			for _, call := range fe.callsOf(cs.SessionID) {
				switch call.Method {
				case "DELETE":
					deletes++
					if call.Status == "204" {
						fc.Deleted++
					}
				case "GET":
					gets++
					if done {
						afterDone++
					}
					if call.At.After(life.SignalAt[s.Name]) {
						after++
						done = true // the first poll after the signal sees the attempt
					}
				}
			}
		}
		fc.MinDeletes, fc.MaxDeletes = min(fc.MinDeletes, deletes), max(fc.MaxDeletes, deletes)
		fc.AfterSignal[after]++
		fc.PollsAfterCompleted += afterDone
		polls = append(polls, gets)
	}
	sort.Ints(polls)
	if len(polls) > 0 {
		fc.PollsP50, fc.PollsMax = polls[len(polls)/2], polls[len(polls)-1]
	}
	return fc
}

package perf

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// createPaced creates the sessions evenly over the given time from 8 workers, retrying API
// errors (the API server is fine; only the manager is being killed).
func createPaced(ctx context.Context, c *cluster, sessions []session, over time.Duration) error {
	start := time.Now()
	gap := over / time.Duration(max(1, len(sessions)))
	return forEach(ctx, sessions, 8, func(ctx context.Context, s session) error {
		time.Sleep(time.Until(start.Add(time.Duration(s.Index) * gap)))
		return retryCreate(ctx, func(ctx context.Context) error { return c.Admin.Create(ctx, s.object()) })
	})
}

// waitConverged lists the resources until all n are Ready=True, and returns how long after
// since that took; it fails after timeout past since (plus a margin, to report the figure).
func waitConverged(ctx context.Context, c *cluster, n int, since time.Time, timeout time.Duration) (time.Duration, error) {
	d, _, err := waitSettled(ctx, c, n, since, timeout, false)
	return d, err
}

// stalledByDesign says whether the resource stopped creating after maxUnconfirmedCreates
// reported unconfirmed creates (TooManyUnconfirmedCreates): the operator's bound on what
// crashes may cost, not a failure to converge.
func stalledByDesign(ls *facev1.LivenessSession) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == facev1.ReasonTooManyUnconfirmedCreates && ls.Status.UnconfirmedCreates >= 3
}

// waitSettled is waitConverged that, with allowStalled, also counts a resource stalled by
// design as settled, and names those.
func waitSettled(ctx context.Context, c *cluster, n int, since time.Time, timeout time.Duration, allowStalled bool) (time.Duration, []string, error) {
	deadline := since.Add(timeout + 30*time.Second)
	for {
		list := &facev1.LivenessSessionList{}
		if err := c.Admin.List(ctx, list, client.InNamespace(perfNamespace)); err != nil {
			return 0, nil, err
		}
		ready := 0
		var notReady, stalled []string
		for i := range list.Items {
			switch {
			case meta.IsStatusConditionTrue(list.Items[i].Status.Conditions, facev1.ConditionReady):
				ready++
			case allowStalled && stalledByDesign(&list.Items[i]):
				stalled = append(stalled, list.Items[i].Name)
			case len(notReady) < 5:
				notReady = append(notReady, list.Items[i].Name)
			}
		}
		if ready+len(stalled) == n {
			return time.Since(since), stalled, nil
		}
		if time.Now().After(deadline) {
			return 0, stalled, fmt.Errorf("%d of %d resources Ready %s after the last fault (not ready: %v)", ready, n, time.Since(since).Round(time.Second), notReady)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cloudAudit compares the emulator's inventory with what the operator recorded.
type cloudAudit struct {
	Cloud              int // cloud sessions created for the run's resources
	Duplicates         int // cloud sessions beyond one per resource
	Reported           int // sum of status.unconfirmedCreates
	ResourcesReporting int // resources with unconfirmedCreates > 0
	Unreported         int // duplicates beyond each resource's own unconfirmedCreates
	UnreportedNames    []string
	Dropped            int // cloud sessions whose create answer was dropped by the emulator
	Mismatched         int // status.sessionId not the token Secret's, or unknown to the emulator
	// ReportedBy is each resource's status.unconfirmedCreates by deviceCorrelationId, so cloud
	// sessions left after deletion can be matched against what the operator reported.
	ReportedBy map[string]int
	// ReportingNames are the resources with unconfirmedCreates > 0, for a report's evidence.
	ReportingNames []string
}

func (a cloudAudit) unreportedNames() string {
	if len(a.UnreportedNames) == 0 {
		return "none"
	}
	if len(a.UnreportedNames) > 10 {
		return strings.Join(a.UnreportedNames[:10], ", ") + ", ..."
	}
	return strings.Join(a.UnreportedNames, ", ")
}

// auditCloud counts each resource's cloud sessions through its unique deviceCorrelationId.
// A resource may report more unconfirmed creates than it has extra sessions (a create that
// failed before reaching Face is reported too, since the operator cannot tell), never fewer.
func auditCloud(ctx context.Context, c *cluster, fe *faceEmulator, sessions []session) cloudAudit {
	byDevice := fe.sessionsByDevice()
	a := cloudAudit{ReportedBy: map[string]int{}}
	for _, s := range sessions {
		cloud := byDevice[s.Device]
		a.Cloud += len(cloud)
		for _, cs := range cloud {
			if cs.ResponseDropped {
				a.Dropped++
			}
		}
		ls := &facev1.LivenessSession{}
		if err := c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: s.Name}, ls); err != nil {
			a.Mismatched++
			continue
		}
		extra, reported := len(cloud)-1, int(ls.Status.UnconfirmedCreates)
		a.Duplicates += max(0, extra)
		a.Reported += reported
		a.ReportedBy[s.Device] = reported
		if reported > 0 {
			a.ResourcesReporting++
			a.ReportingNames = append(a.ReportingNames, fmt.Sprintf("%s (%d)", s.Name, reported))
		}
		if extra > reported {
			a.Unreported += extra - reported
			a.UnreportedNames = append(a.UnreportedNames, fmt.Sprintf("%s: %d reported, cloud sessions %s", s.Name, reported, describeCloud(cloud)))
		}
		if ls.Status.SessionID == "" && stalledByDesign(ls) {
			continue // no session recorded and none published: nothing to match
		}
		secret := &corev1.Secret{}
		known := false
		for _, cs := range cloud {
			known = known || cs.SessionID == ls.Status.SessionID
		}
		if err := c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: s.Name}, secret); err != nil ||
			string(secret.Data[facev1.SecretKeySessionID]) != ls.Status.SessionID || !known {
			a.Mismatched++
		}
	}
	return a
}

// describeCloud lists a resource's cloud sessions with their creation time and whether the
// emulator dropped the create's answer, as evidence for an unreported duplicate.
func describeCloud(cloud []emulator.SessionInfo) string {
	parts := make([]string, 0, len(cloud))
	for _, cs := range cloud {
		parts = append(parts, fmt.Sprintf("%s created %s answer-dropped=%t", cs.SessionID[:8], cs.CreatedDateTime.UTC().Format("15:04:05.000"), cs.ResponseDropped))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// deletion is what deleting every resource showed.
type deletion struct {
	Gone             time.Duration // from the first delete call until no resource is left
	RecordedDeleted  int           // resources whose recorded cloud session was deleted in Face
	Undeleted        int           // the run's cloud sessions still alive in Face
	UndeletedDropped int           // of those, sessions whose create was never answered
}

// deleteAll deletes every resource and waits until all are gone (no stuck finalizer), then
// checks in the emulator that each recorded cloud session was deleted.
func deleteAll(ctx context.Context, c *cluster, fe *faceEmulator, sessions []session, timeout time.Duration) (deletion, error) {
	recorded := map[string]string{}
	ours := map[string]bool{}
	for _, s := range sessions {
		ours[s.Device] = true
		ls := &facev1.LivenessSession{}
		if err := c.Admin.Get(ctx, types.NamespacedName{Namespace: perfNamespace, Name: s.Name}, ls); err == nil {
			recorded[s.Device] = ls.Status.SessionID
		}
	}
	var d deletion
	start := time.Now()
	if err := forEach(ctx, sessions, 16, func(ctx context.Context, s session) error {
		return client.IgnoreNotFound(c.Admin.Delete(ctx, s.object()))
	}); err != nil {
		return d, err
	}
	deadline := start.Add(timeout + 30*time.Second)
	for {
		list := &facev1.LivenessSessionList{}
		if err := c.Admin.List(ctx, list, client.InNamespace(perfNamespace)); err != nil {
			return d, err
		}
		if len(list.Items) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("%d resources still present %s after deletion (stuck finalizers?), e.g. %s",
				len(list.Items), time.Since(start).Round(time.Second), list.Items[0].Name)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.Gone = time.Since(start)
	for device, cloud := range fe.sessionsByDevice() {
		if !ours[device] {
			continue
		}
		for _, cs := range cloud {
			switch {
			case cs.Deleted && cs.SessionID == recorded[device]:
				d.RecordedDeleted++
			case !cs.Deleted:
				d.Undeleted++
				if cs.ResponseDropped {
					d.UndeletedDropped++
				}
			}
		}
	}
	return d, nil
}

package perf

import (
	"context"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// reportSlack is the "handful" of reports allowed beyond three per duplicate: a kill between
// the claim and the POST is reported although no cloud session was made (docs/design.md), and a
// few of those happen whatever the ratio.
const reportSlack = 5

// convergeBar is how soon after the last fault every resource must be Ready, and how soon
// after the deletes begin every resource must be gone.
const convergeBar = 60 * time.Second

// chaosOutcome is what one chaos scenario measured, checked against the emulator's inventory.
type chaosOutcome struct {
	Restarts    int           // kills or SIGTERMs of a manager done during the scenario
	Audit       cloudAudit    // duplicates and reports, before deletion
	Converge    time.Duration // from the last fault until every resource was Ready
	ConvergeErr error         // set when not every resource became Ready
	Deletion    deletion      // what deleting every resource showed
	Stuck       int           // resources still present after the deletion deadline
	Leaks       leakAudit     // cloud sessions left live once every resource was gone
}

// leakAudit counts the cloud sessions of a scenario's resources that are neither deleted nor
// expired after every resource is gone.
type leakAudit struct {
	Live int // live cloud sessions left
	// Unexplained are live sessions beyond their resource's status.unconfirmedCreates: sessions
	// the operator knew of and did not delete, or never reported. Reported ones are unreachable
	// by design (no id, no token) and expire with their token.
	Unexplained      int
	UnexplainedNames []string
}

// finishScenario waits for convergence after the last fault, audits the inventory, deletes
// every resource and looks for leaks. Failures are recorded, not fatal, so the report shows them.
func finishScenario(ctx context.Context, sys system, sessions []session, lastFault time.Time, restarts int) chaosOutcome {
	out := chaosOutcome{Restarts: restarts}
	out.Converge, out.ConvergeErr = waitConverged(ctx, sys.c, len(sessions), lastFault, convergeBar)
	out.Audit = auditCloud(ctx, sys.c, sys.fe, sessions)
	var err error
	if out.Deletion, err = deleteAll(ctx, sys.c, sys.fe, sessions, convergeBar); err != nil {
		list := &facev1.LivenessSessionList{}
		if lerr := sys.c.Admin.List(ctx, list, client.InNamespace(perfNamespace)); lerr == nil {
			out.Stuck = len(list.Items)
		}
		out.Stuck = max(out.Stuck, 1)
	}
	out.Leaks = auditLeaks(sys.fe, sessions, out.Audit)
	return out
}

// auditLeaks matches each resource's live cloud sessions against what it reported.
func auditLeaks(fe *faceEmulator, sessions []session, audit cloudAudit) leakAudit {
	byDevice := fe.sessionsByDevice()
	var l leakAudit
	for _, s := range sessions {
		live := 0
		for _, cs := range byDevice[s.Device] {
			if !cs.Deleted && !cs.Expired {
				live++
			}
		}
		l.Live += live
		if extra := live - audit.ReportedBy[s.Device]; extra > 0 {
			l.Unexplained += extra
			l.UnexplainedNames = append(l.UnexplainedNames, fmt.Sprintf("%s: %d live, %d reported, cloud sessions %s",
				s.Name, live, audit.ReportedBy[s.Device], describeCloud(byDevice[s.Device])))
		}
	}
	return l
}

// invariants are what must hold after any chaos, at any scale: no unreported duplicate, no
// leak, no stuck finalizer, every resource Ready within the bar and the recorded session the
// published one. It returns one line per broken invariant.
func (o chaosOutcome) invariants(n int) []string {
	var broken []string
	if o.Audit.Unreported > 0 {
		broken = append(broken, fmt.Sprintf("%d unreported duplicates: %s", o.Audit.Unreported, o.Audit.unreportedNames()))
	}
	if o.Audit.Mismatched > 0 {
		broken = append(broken, fmt.Sprintf("%d resources whose status.sessionId is not the token Secret's or not in the emulator", o.Audit.Mismatched))
	}
	if o.ConvergeErr != nil {
		broken = append(broken, "not converged: "+o.ConvergeErr.Error())
	} else if o.Converge > convergeBar {
		broken = append(broken, fmt.Sprintf("converged %s after the last fault (bar %s)", o.Converge.Round(time.Millisecond), convergeBar))
	}
	if o.Stuck > 0 || o.Deletion.Gone > convergeBar {
		broken = append(broken, fmt.Sprintf("%d resources stuck after deletion (gone after %s)", o.Stuck, o.Deletion.Gone.Round(time.Millisecond)))
	}
	if o.Leaks.Unexplained > 0 {
		broken = append(broken, fmt.Sprintf("%d leaked cloud sessions: %s", o.Leaks.Unexplained, firstOf(o.Leaks.UnexplainedNames)))
	}
	if o.Stuck == 0 && o.Deletion.RecordedDeleted != n {
		broken = append(broken, fmt.Sprintf("only %d of %d recorded cloud sessions deleted", o.Deletion.RecordedDeleted, n))
	}
	return broken
}

// reportsWithinRatio is the SIGKILL bar: reports at most three per duplicate, plus a handful.
func (o chaosOutcome) reportsWithinRatio() bool {
	return o.Audit.Reported <= 3*o.Audit.Duplicates+reportSlack
}

// firstOf joins the first few items of a list.
func firstOf(items []string) string {
	if len(items) > 5 {
		return strings.Join(items[:5], "; ") + "; ..."
	}
	return strings.Join(items, "; ")
}

package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// reconcileCloudSession makes sure the cloud session exists and its token Secret is published,
// and owns the Ready condition while it does. It never creates a second session for a resource:
//
//   - a session id in status: the session exists; only the token Secret is checked;
//   - no id, but a token Secret owned by this resource: a previous reconcile created the session
//     and died before recording it; the session is adopted from the Secret;
//   - no id, a foreign Secret with that name: Stalled (SecretConflict); nothing is created;
//   - no id, no Secret: the session is created (createSession), unless Face already rejected
//     the create for this generation: the spec is immutable, so the same request would fail
//     again (Stalled, FaceRejected, stays until the resource is recreated).
func (r *Reconciler) reconcileCloudSession(ctx context.Context, ls *facev1.LivenessSession, fa *faceAccess, sw *statusWriter) (ctrl.Result, error) {
	if ls.Status.SessionID == "" && rejectedThisGeneration(ls) {
		return ctrl.Result{}, nil
	}
	secret, err := r.lookupTokenSecret(ctx, ls)
	if err != nil {
		return ctrl.Result{}, err
	}
	if ls.Status.SessionID != "" {
		r.checkTokenSecret(ls, secret)
		return ctrl.Result{}, nil
	}
	if secret != nil {
		r.adoptFromSecret(ctx, ls, secret)
		if hasReason(ls, facev1.ConditionStalled, facev1.ReasonSecretConflict) {
			// Foreign Secrets are not watched: look again later in case it was removed.
			return ctrl.Result{RequeueAfter: secretConflictRecheck}, nil
		}
		return ctrl.Result{}, nil
	}
	return r.createSession(ctx, ls, fa, sw)
}

// maxUnconfirmedCreates is how many creates of one resource may go unconfirmed before the
// operator stops replacing them: each may have left a billed session behind.
const maxUnconfirmedCreates = 3

// secretConflictRecheck is how often a name taken by a foreign Secret is checked again.
const secretConflictRecheck = time.Minute

// rejectedThisGeneration says whether creating this very spec can never succeed: Face rejected
// it, the API server refused its token Secret, or too many of its creates went unconfirmed.
// Trying again would only bill more cloud sessions; the resource must be recreated.
func rejectedThisGeneration(ls *facev1.LivenessSession) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ls.Generation {
		return false
	}
	switch c.Reason {
	case facev1.ReasonFaceRejected, facev1.ReasonTokenSecretRejected, facev1.ReasonTooManyUnconfirmedCreates:
		return true
	}
	return false
}

// createSession creates the cloud session and publishes its token, crash-safely:
//
//  1. claim: a fresh create-pending annotation value (and the finalizer) are written with
//     optimistic concurrency, so a reconcile working from a stale cache fails here instead of
//     creating;
//  2. the Face create call (never retried automatically);
//  3. the token Secret: the first durable record of the session (token, id, expiry);
//  4. the session id in status, by the deferred status patch.
//
// A claim's outcome is accounted for by status.resolvedCreateClaim: set when the create failed
// with a known outcome, or when its possible loss was reported. A crash after 3 is healed by
// adoptFromSecret. A crash between 2 and 3 (the cloud answered, nothing was written) is the one
// unavoidable window: the next reconcile finds an unresolved claim with no session, reports it,
// makes that report durable before anything else (so no later crash can lose it; one can only
// repeat it), and creates a replacement. The lost session cannot be reached without its id and
// expires with its token.
func (r *Reconciler) createSession(ctx context.Context, ls *facev1.LivenessSession, fa *faceAccess, sw *statusWriter) (ctrl.Result, error) {
	if err := r.reportInterruptedCreate(ctx, ls, sw, "an earlier create was interrupted before its session was recorded"); err != nil {
		return onWriteError(err, "record the interrupted create")
	}
	if n := ls.Status.UnconfirmedCreates; n >= maxUnconfirmedCreates {
		r.stall(ls, facev1.ReasonTooManyUnconfirmedCreates, fmt.Sprintf(
			"%d creates for this resource went unconfirmed (each may have left a session that expires with its token); "+
				"no more are made: check the Face endpoint and the manager's restarts, then recreate the LivenessSession", n))
		return ctrl.Result{}, nil
	}

	var ref *referenceImage
	if ls.Spec.Verification != nil {
		var res ctrl.Result
		var err error
		if ref, res, err = r.referenceImageOrWait(ctx, ls); ref == nil {
			return res, err
		}
	}

	fc, err := fa.client(ctx)
	if err != nil {
		return r.onAccountUnavailable(ls, err)
	}

	// The quota token (and the account's call slot) first, the claim only then, right before
	// the POST: a manager stopped while creates wait for the quota leaves no claim behind, so
	// no false "unconfirmed create" report. Waiting is bounded by the create's budget.
	budgetCtx, cancelBudget := context.WithTimeout(ctx, createQuotaBudget)
	defer cancelBudget()
	reservedCtx, releaseReservation, err := quota.Reserve(budgetCtx, fc, quota.High)
	if err != nil {
		return onFaceError(ls, "create", err, r.Clock.Now()), nil
	}
	defer releaseReservation()

	// From the claim on, the create goes through to its token Secret even when the manager is
	// asked to stop (SIGTERM: a rolling upgrade, a node drain): the manager waits for
	// reconciles in flight within its shutdown grace period, and a claim written without its
	// POST, or a POST cut short, would be reported as an unconfirmed create. The commit is
	// bounded by its own budget instead of the reconcile's cancellation.
	commitCtx, cancelCommit := context.WithTimeout(context.WithoutCancel(reservedCtx), createCommitBudget)
	defer cancelCommit()
	now := r.Clock.Now()
	claim, err := r.claimCreate(commitCtx, ls, now)
	if err != nil {
		// On a conflict a newer version exists: act on it, not on this stale copy.
		return onWriteError(err, "claim create")
	}

	s, err := createCloudSession(commitCtx, fc, ls, ref)
	if err != nil {
		if errors.Is(err, face.ErrOutcomeUnknown) {
			r.reportCreateOutcomeUnknown(ls, claim, "the create request got no answer after it was sent")
			return ctrl.Result{RequeueAfter: accounts.RetryAfter(err)}, nil
		}
		// Face answered: nothing was created. A crash before this reaches status only makes
		// the next reconcile report the claim as unknown (counted, never lost).
		ls.Status.ResolvedCreateClaim = claim
		return onFaceError(ls, "create", err, now), nil
	}

	// The token's life began when Face created the session, between now and the answer:
	// stamping the earlier time never tells a consumer a dead token is still valid.
	expiresAt := now.Add(time.Duration(createRequestTTL(ls)) * time.Second)
	if err := r.Client.Create(commitCtx, r.tokenSecretFor(ls, s, expiresAt)); err != nil {
		return r.onTokenSecretCreateFailed(commitCtx, ls, fc, s, claim, err)
	}
	r.Metrics.SessionsCreated.Inc()
	ls.Status.ResolvedCreateClaim = claim
	// No event here: Ready=True says it, and an event is one more API write per session.
	r.recordSession(ls, s, now, expiresAt)
	return ctrl.Result{}, nil
}

// createRequestTTL is the token lifetime the create asked for.
func createRequestTTL(ls *facev1.LivenessSession) int32 {
	return *createRequest(ls).AuthTokenTimeToLiveInSeconds
}

// recordSession writes a created or adopted session into status and marks it Ready, with the
// outcome Pending; result polling starts from the session's creation time.
func (r *Reconciler) recordSession(ls *facev1.LivenessSession, s *cloudSession, created, expiresAt time.Time) {
	ls.Status.SessionID = s.ID
	ls.Status.Account = recordedAccount(ls.Spec.AccountRef)
	ls.Status.SessionStatus = s.Status
	ls.Status.ModelVersion = s.ModelVersion
	ls.Status.CreatedAt = &metav1.Time{Time: created}
	ls.Status.AuthTokenExpiresAt = &metav1.Time{Time: expiresAt}
	ls.Status.TokenSecretName = ls.TokenSecretNameOrDefault()
	ls.Status.Attempts = s.Attempts
	ls.Status.VerifyReferences = s.VerifyReferences
	setReady(ls)
	setOutcome(ls, facev1.OutcomePending, created)
	r.startPollSchedule(ls, created)
}

// recordedAccount is the account reference kept in status, with its kind spelled out.
func recordedAccount(ref *facev1.AccountReference) *facev1.AccountReference {
	if ref == nil {
		return nil
	}
	out := *ref
	if out.Kind == "" {
		out.Kind = facev1.AccountKindFaceAccount
	}
	return &out
}

// claimCreate records that a create is under way (a fresh create-pending value) and adds the
// finalizer, in one write that fails with a conflict if the object changed since it was read.
// The finalizer is thereby in place before any cloud call. It returns the claim's value.
func (r *Reconciler) claimCreate(ctx context.Context, ls *facev1.LivenessSession, now time.Time) (string, error) {
	base := ls.DeepCopy()
	controllerutil.AddFinalizer(ls, facev1.FinalizerName)
	if ls.Annotations == nil {
		ls.Annotations = map[string]string{}
	}
	claim := now.UTC().Format(time.RFC3339Nano)
	if claim == ls.Annotations[facev1.AnnotationCreatePending] {
		claim += "+1" // two claims in one clock tick (a coarse fake clock) must still differ
	}
	ls.Annotations[facev1.AnnotationCreatePending] = claim
	return claim, r.patchMetadata(ctx, ls, base)
}

// unresolvedClaim returns the create claim whose outcome is not accounted for yet: a create
// that was interrupted before its session, or Face's refusal, was recorded.
func unresolvedClaim(ls *facev1.LivenessSession) (string, bool) {
	claim := ls.Annotations[facev1.AnnotationCreatePending]
	return claim, claim != "" && claim != ls.Status.ResolvedCreateClaim
}

// reportInterruptedCreate reports an unresolved claim (reportCreateOutcomeUnknown) and writes
// the report to status at once, before anything else can happen: a later crash can then only
// repeat work, never lose the report, and the resolved claim keeps it from being counted twice.
// It does nothing when every claim is accounted for.
func (r *Reconciler) reportInterruptedCreate(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter, why string) error {
	claim, ok := unresolvedClaim(ls)
	if !ok {
		return nil
	}
	r.reportCreateOutcomeUnknown(ls, claim, why)
	return sw.write(ctx, ls)
}

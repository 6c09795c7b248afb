package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
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
func (r *LivenessSessionReconciler) reconcileCloudSession(ctx context.Context, ls *facev1.LivenessSession, fc face.Client, sw *statusWriter) (ctrl.Result, error) {
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
	return r.createSession(ctx, ls, fc, sw)
}

// secretConflictRecheck is how often a name taken by a foreign Secret is checked again.
const secretConflictRecheck = time.Minute

// rejectedThisGeneration says whether Face rejected the create of this very spec.
func rejectedThisGeneration(ls *facev1.LivenessSession) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == facev1.ReasonFaceRejected && c.ObservedGeneration == ls.Generation
}

// checkTokenSecret keeps Ready true while the published token Secret is in place. A deleted
// token Secret cannot be rebuilt (Face never returns the token again): while the token could
// still be used that is reported as Stalled (TokenSecretLost); after expiry or a final outcome
// nobody needs the token and the loss is ignored.
func (r *LivenessSessionReconciler) checkTokenSecret(ls *facev1.LivenessSession, secret *corev1.Secret) {
	tokenUseless := isFinal(ls.Status.Outcome) ||
		(ls.Status.AuthTokenExpiresAt != nil && !r.Clock.Now().Before(ls.Status.AuthTokenExpiresAt.Time))
	switch {
	case secret != nil && ownsSecret(ls, secret), tokenUseless:
		setReady(ls)
	case secret == nil:
		r.stall(ls, facev1.ReasonTokenSecretLost, fmt.Sprintf(
			"token Secret %q was deleted; Face never returns a session's token again, so recreate the LivenessSession",
			ls.TokenSecretNameOrDefault()))
	default:
		r.stall(ls, facev1.ReasonSecretConflict, secretConflictMessage(secret.Name))
	}
}

// adoptFromSecret records a session that was created and published by an earlier reconcile
// that died before writing status. A Secret of that name that this resource does not own is
// left alone and reported as Stalled (SecretConflict).
func (r *LivenessSessionReconciler) adoptFromSecret(ctx context.Context, ls *facev1.LivenessSession, secret *corev1.Secret) {
	if !ownsSecret(ls, secret) {
		r.stall(ls, facev1.ReasonSecretConflict, secretConflictMessage(secret.Name))
		return
	}
	id, expiresAt, ok := sessionFromSecret(secret)
	if !ok {
		r.stall(ls, facev1.ReasonTokenSecretLost, fmt.Sprintf(
			"token Secret %q has no session id or expiry; recreate the LivenessSession", secret.Name))
		return
	}
	log.FromContext(ctx).Info("adopted a cloud session recorded only in its token Secret", "sessionId", id)
	r.recordSession(ls, &cloudSession{ID: id, Status: "NotStarted"}, secret.CreationTimestamp.Time, expiresAt)
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
func (r *LivenessSessionReconciler) createSession(ctx context.Context, ls *facev1.LivenessSession, fc face.Client, sw *statusWriter) (ctrl.Result, error) {
	if claim := ls.Annotations[facev1.AnnotationCreatePending]; claim != "" && claim != ls.Status.ResolvedCreateClaim {
		r.reportCreateOutcomeUnknown(ls, claim, "an earlier create was interrupted before its session was recorded")
		if err := sw.write(ctx, ls); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: conflictRetry}, nil
			}
			return ctrl.Result{}, fmt.Errorf("record the interrupted create: %w", err)
		}
	}

	var ref *referenceImage
	if ls.Spec.Verification != nil {
		var res ctrl.Result
		var err error
		if ref, res, err = r.referenceImageOrWait(ctx, ls); ref == nil {
			return res, err
		}
	}

	now := r.Clock.Now()
	claim, err := r.claimCreate(ctx, ls, now)
	if err != nil {
		if apierrors.IsConflict(err) {
			// A newer version exists: act on it, not on this stale copy.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, fmt.Errorf("claim create: %w", err)
	}

	createCtx, cancel := context.WithTimeout(ctx, createQuotaBudget)
	s, err := createCloudSession(createCtx, fc, ls, ref)
	cancel()
	if err != nil {
		if errors.Is(err, face.ErrOutcomeUnknown) {
			r.reportCreateOutcomeUnknown(ls, claim, "the create request got no answer after it was sent")
			return ctrl.Result{RequeueAfter: max(retryMin, face.RetryAfter(err))}, nil
		}
		// Face answered: nothing was created. A crash before this reaches status only makes
		// the next reconcile report the claim as unknown (counted, never lost).
		ls.Status.ResolvedCreateClaim = claim
		return onFaceError(ls, "create", err, now), nil
	}

	// The token's life began when Face created the session, between now and the answer:
	// stamping the earlier time never tells a consumer a dead token is still valid.
	expiresAt := now.Add(time.Duration(createRequestTTL(ls)) * time.Second)
	if err := r.Client.Create(ctx, tokenSecretFor(ls, s, expiresAt)); err != nil {
		return r.onTokenSecretCreateFailed(ctx, ls, fc, s, claim, err)
	}
	r.Metrics.SessionsCreated.Inc()
	ls.Status.ResolvedCreateClaim = claim
	// No event here: Ready=True says it, and an event is one more API write per session.
	r.recordSession(ls, s, now, expiresAt)
	return ctrl.Result{}, nil
}

// referenceWait is the fallback recheck of a missing reference image; the watch on Secrets and
// ConfigMaps normally reacts first, when it appears.
const referenceWait = time.Minute

// referenceImageOrWait loads the reference image of a verify session. When it cannot be used
// it returns nil and sets the conditions: a missing Secret, ConfigMap or key is waited for
// (Reconciling, ReferenceImageNotFound, naming it); an unusable image is Stalled
// (InvalidReferenceImage, saying what is wrong) until its source changes. Either way nothing
// reaches Face.
func (r *LivenessSessionReconciler) referenceImageOrWait(ctx context.Context, ls *facev1.LivenessSession) (*referenceImage, ctrl.Result, error) {
	ref, err := r.loadReferenceImage(ctx, ls)
	var notFound errReferenceNotFound
	var invalid errInvalidReferenceImage
	switch {
	case err == nil:
		return ref, ctrl.Result{}, nil
	case errors.As(err, &notFound):
		setProgressing(ls, facev1.ReasonReferenceImageNotFound, fmt.Sprintf(
			"waiting for the reference image: %s in namespace %s does not exist", notFound.what, ls.Namespace))
		return nil, ctrl.Result{RequeueAfter: referenceWait}, nil
	case errors.As(err, &invalid):
		r.stall(ls, facev1.ReasonInvalidReferenceImage, invalid.why+"; fix the image and the operator retries")
		return nil, ctrl.Result{}, nil
	default:
		return nil, ctrl.Result{}, err
	}
}

// onTokenSecretCreateFailed handles a token Secret that could not be written after the cloud
// session was created. Without the Secret the token is lost, so the new session is deleted
// (best effort) rather than leaked. A Secret that appeared in the meantime is then handled
// like any existing Secret: adopted if this resource owns it, reported as a conflict if not.
func (r *LivenessSessionReconciler) onTokenSecretCreateFailed(ctx context.Context, ls *facev1.LivenessSession, fc face.Client, s *cloudSession, claim string, err error) (ctrl.Result, error) {
	if derr := deleteCloudSession(ctx, fc, ls, s.ID); derr != nil {
		r.reportCreateOutcomeUnknown(ls, claim, "the token Secret could not be written and the new session could not be deleted")
	} else {
		ls.Status.ResolvedCreateClaim = claim
	}
	if !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, fmt.Errorf("create token Secret: %w", err)
	}
	secret, lerr := r.lookupTokenSecret(ctx, ls)
	if lerr != nil || secret == nil {
		return ctrl.Result{RequeueAfter: conflictRetry}, lerr
	}
	r.adoptFromSecret(ctx, ls, secret)
	return ctrl.Result{}, nil
}

// createRequestTTL is the token lifetime the create asked for.
func createRequestTTL(ls *facev1.LivenessSession) int32 {
	return *createRequest(ls).AuthTokenTimeToLiveInSeconds
}

// recordSession writes a created or adopted session into status and marks it Ready, with the
// outcome Pending; result polling starts from the session's creation time.
func (r *LivenessSessionReconciler) recordSession(ls *facev1.LivenessSession, s *cloudSession, created, expiresAt time.Time) {
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
	r.polls.record(ls.UID, created, ls.Annotations[facev1.AnnotationSyncRequestedAt])
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
func (r *LivenessSessionReconciler) claimCreate(ctx context.Context, ls *facev1.LivenessSession, now time.Time) (string, error) {
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

// patchMetadata writes a metadata change with optimistic concurrency. The status in memory is
// kept: the server's answer would otherwise replace status computed in this reconcile.
func (r *LivenessSessionReconciler) patchMetadata(ctx context.Context, ls, base *facev1.LivenessSession) error {
	status := ls.Status.DeepCopy()
	err := r.Client.Patch(ctx, ls, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	ls.Status = *status
	return err
}

// reportCreateOutcomeUnknown makes a possibly lost cloud session visible: a Warning event, the
// liveness_operator_create_outcome_unknown_total metric, status.unconfirmedCreates, and the
// CreateOutcomeUnknown reason on Ready and Reconciling; and marks the claim as accounted for.
func (r *LivenessSessionReconciler) reportCreateOutcomeUnknown(ls *facev1.LivenessSession, claim, why string) {
	r.Metrics.CreateOutcomeUnknown.Inc()
	ls.Status.UnconfirmedCreates++
	ls.Status.ResolvedCreateClaim = claim
	msg := why + "; a session it may have made cannot be reached and expires with its token; creating a new session"
	setProgressing(ls, facev1.ReasonCreateOutcomeUnknown, msg)
	r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonCreateOutcomeUnknown, "Create", "%s", msg)
}

// stall sets Stalled with the reason and message, with a Warning event when the reason is new.
func (r *LivenessSessionReconciler) stall(ls *facev1.LivenessSession, reason, message string) {
	if !hasReason(ls, facev1.ConditionStalled, reason) {
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
	}
	setStalled(ls, reason, message)
}

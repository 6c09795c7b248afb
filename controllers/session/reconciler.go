// Package session holds the LivenessSession reconciler, one file per concern: the cloud session
// and its crash-safe create (cloud_session.go), the token Secret (token_secret.go), the
// reference image (reference_image.go, reference_watch.go), result sync and its poll schedule
// (result_sync.go, poll_tracker.go, poll_schedule.go), the session image (session_image.go),
// deletion (deletion.go), the pure condition setters (conditions.go), the API writes
// (writes.go), the Face client for a reconcile (face_access.go), Face models to status
// (face_adapter.go) and Face failures to conditions (face_errors.go).
package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/identity"
	"github.com/liveness-operator/liveness-operator/internal/quota"
	"github.com/liveness-operator/liveness-operator/internal/tokenmac"
)

// statusWriteBudget bounds the end-of-reconcile status write, which is not cut short by the
// manager's shutdown.
const statusWriteBudget = 5 * time.Second

// Reconciler reconciles LivenessSession objects with Azure AI Face.
type Reconciler struct {
	// Client reads from the manager's cache (LivenessSessions, and only the operator's own
	// labelled Secrets) and writes to the API server.
	Client client.Client
	// APIReader reads straight from the API server: used to confirm that a Secret name is free
	// (foreign Secrets are not cached) before a cloud session is created.
	APIReader client.Reader
	// Face picks the Face client for a session.
	Face accounts.FaceClientResolver
	// Events records Kubernetes events, on transitions only.
	Events events.EventRecorder
	// Clock is injectable so tests can move time (token expiry, poll schedule).
	Clock clock.PassiveClock
	// Metrics are the operator's Prometheus metrics.
	Metrics *Metrics
	// MaxConcurrentReconciles is the number of parallel workers (default 16).
	MaxConcurrentReconciles int
	// DefaultTTLAfterFinished is how long a finished session is kept when its spec does not
	// say (--default-ttl-seconds-after-finished); 0 keeps finished sessions.
	DefaultTTLAfterFinished time.Duration
	// TokenSigner signs the token Secrets this operator writes and verifies them before the
	// operator acts on a session recorded only there (package tokenmac). Required.
	TokenSigner *tokenmac.Signer
	// Identities is the metadata-only cache of Secrets and ConfigMaps (identity.NewCache),
	// shared with the account controllers. SetupWithManager needs it; a reconciler driven
	// directly (as tests drive a restarted process) may leave it nil and reads names live.
	Identities cache.Cache

	initOnce  sync.Once
	polls     *pollTracker
	finalized finalizedSet
	waker     quotaWaker
}

// defaults fills what the caller left unset; SetupWithManager and Reconcile both call it, so
// a reconciler driven directly (as tests drive a restarted process) works too.
func (r *Reconciler) defaults() {
	r.initOnce.Do(func() {
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		if r.Metrics == nil {
			r.Metrics = NewMetrics(nil)
		}
		if r.MaxConcurrentReconciles <= 0 {
			r.MaxConcurrentReconciles = 16
		}
		r.polls = newPollTracker()
	})
}

// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions/status,verbs=get;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one LivenessSession towards its cloud session: the session created once and
// its token published (Ready), then its result followed until final (Completed), and the cloud
// session deleted before the resource goes. Status is written once, at the end, by one patch
// with optimistic concurrency; only the create claim and the finalizer are written earlier,
// because durability demands it. Requeues use RequeueAfter from the session's own clock.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	r.defaults()
	ls := &facev1.LivenessSession{}
	if err := r.Client.Get(ctx, req.NamespacedName, ls); err != nil {
		if apierrors.IsNotFound(err) {
			r.forgetTicket(req) // gone: its place in a fair queue goes too
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("sessionId", ls.Status.SessionID))
	// The session's namespace is its tenant: its Face calls queue in that tenant's lane of the
	// account's fair queue, so one namespace's backlog does not delay another's calls.
	ctx = quota.WithFlow(ctx, ls.Namespace)
	if wake := r.waker.wakeFor(req); wake != nil {
		// No Face call waits for its token on this worker: it takes a ticket and returns,
		// and the grant wakes the session (quota_queue.go). A worker is therefore never held
		// by one account's quota while another account's session waits for it.
		ctx = quota.WithTicket(ctx, ticketID(req), wake)
	}

	sw := newStatusWriter(r.Client, ls)
	defer func() {
		// The status write records what this reconcile did (a created or adopted session, an
		// outcome): it completes through a SIGTERM too, within statusWriteBudget.
		writeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteBudget)
		defer cancel()
		result, err = r.patchStatus(writeCtx, ls, sw, result, err)
	}()

	fa := r.faceAccess(ls)
	if !ls.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, ls, sw, fa)
	}
	if ls.Status.SessionID != "" && !controllerutil.ContainsFinalizer(ls, facev1.FinalizerName) {
		// Someone removed the finalizer of a live session: put it back so deletion still
		// deletes the cloud session.
		if err := r.addFinalizer(ctx, ls); err != nil {
			return ctrl.Result{}, err
		}
	}
	recorded := ls.Status.SessionID != ""
	result, err = r.reconcileCloudSession(ctx, ls, fa, sw)
	if err != nil || !isReady(ls) {
		return result, err
	}
	if !recorded {
		// A session created or adopted just now is made durable (the status write) before any
		// poll: an adopted session's first poll is due at once and may take a while, and a
		// manager killed meanwhile would adopt it again and again. The next reconcile is that
		// first poll, scheduled work: a busy manager's workers create the sessions waiting for
		// their tokens first.
		return sooner(result, scheduled(untilFirstPoll(ls, r.Clock.Now()))), nil
	}
	result, err = r.syncResult(ctx, ls, fa)
	if err != nil || !isFinal(ls.Status.Outcome) {
		return result, err
	}
	result, err = r.exportSessionImage(ctx, ls, fa)
	if err != nil {
		return result, err
	}
	retention, err := r.reconcileRetention(ctx, ls)
	return sooner(result, retention), err
}

// SetupWithManager registers the reconciler: it watches LivenessSessions (ignoring updates that
// touch only status, which the reconciler itself writes), the Secrets they own, and the
// Secrets and ConfigMaps that verify sessions wait on for their reference image.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.defaults()
	b := ctrl.NewControllerManagedBy(mgr).
		For(&facev1.LivenessSession{}, builder.WithPredicates(notStatusOnly{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("livenesssession")
	if r.Identities == nil {
		return errors.New("LivenessSession controller: no identity cache (Setup creates one)")
	}
	if r.TokenSigner == nil {
		return errors.New("LivenessSession controller: no token signer")
	}
	// Owned Secrets, through the identity cache (metadata only, one watch of Secrets for the
	// whole operator): the token Secret is immutable, so only its deletion matters
	// (TokenSecretLost).
	b.WatchesRawSource(source.Kind(r.Identities, identity.Object("Secret"),
		handler.TypedEnqueueRequestForOwner[*metav1.PartialObjectMetadata](mgr.GetScheme(), mgr.GetRESTMapper(), &facev1.LivenessSession{}, handler.OnlyControllerOwner()),
		predicate.TypedFuncs[*metav1.PartialObjectMetadata]{
			CreateFunc: func(event.TypedCreateEvent[*metav1.PartialObjectMetadata]) bool { return false },
			UpdateFunc: func(event.TypedUpdateEvent[*metav1.PartialObjectMetadata]) bool { return false },
		}))
	// The quota waker: sessions whose ticket in an account's fair queue is granted.
	b.WatchesRawSource(r.waker.Source())
	if err := r.watchReferenceSources(mgr, b); err != nil {
		return err
	}
	// Sessions by account: for the account watch below and for the account reconcilers.
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &facev1.LivenessSession{}, accounts.SessionIndex, accounts.SessionKeyOf); err != nil {
		return fmt.Errorf("index sessions by account: %w", err)
	}
	// Sessions waiting on an account react when it changes (becomes Ready, gets a new key).
	b.Watches(&facev1.FaceAccount{}, handler.EnqueueRequestsFromMapFunc(accounts.SessionsWaitingOn(mgr.GetClient(), facev1.AccountKindFaceAccount)),
		builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&facev1.ClusterFaceAccount{}, handler.EnqueueRequestsFromMapFunc(accounts.SessionsWaitingOn(mgr.GetClient(), facev1.AccountKindClusterFaceAccount)),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
	return b.Complete(r)
}

// notStatusOnly passes every event except an update that changed nothing but status, the
// create-pending claim, or added the operator's finalizer. The reconciler writes those itself
// and has already acted on them; a reconcile they triggered would work from a cache that may not
// yet hold the reconciler's later writes, only to conflict (measured: 0.66 failed status patches
// per session), or would skip a wait (Retry-After, backoff) the writing reconcile asked for.
// Spec changes, other metadata changes (the sync-requested-at annotation), deletion, and the
// removal of the operator's finalizer still pass.
type notStatusOnly struct {
	predicate.Funcs
}

// Update passes the update unless only status (or nothing) changed.
func (notStatusOnly) Update(e event.UpdateEvent) bool {
	oldObj, okOld := e.ObjectOld.(*facev1.LivenessSession)
	newObj, okNew := e.ObjectNew.(*facev1.LivenessSession)
	if !okOld || !okNew {
		return true
	}
	return oldObj.Generation != newObj.Generation ||
		!equality.Semantic.DeepEqual(withoutClaim(oldObj.Annotations), withoutClaim(newObj.Annotations)) ||
		!equality.Semantic.DeepEqual(oldObj.Labels, newObj.Labels) ||
		(controllerutil.ContainsFinalizer(oldObj, facev1.FinalizerName) && !controllerutil.ContainsFinalizer(newObj, facev1.FinalizerName)) ||
		!oldObj.DeletionTimestamp.Equal(newObj.DeletionTimestamp)
}

// withoutClaim is a copy of the annotations without the operator's create-pending claim.
func withoutClaim(annotations map[string]string) map[string]string {
	if _, ok := annotations[facev1.AnnotationCreatePending]; !ok {
		return annotations
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		if k != facev1.AnnotationCreatePending {
			out[k] = v
		}
	}
	return out
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// Account reconciliation timing.
const (
	// accountRecheck is how often an account is looked at again without any event: it refreshes
	// the session count and re-checks credentials that failed.
	accountRecheck = 5 * time.Minute
	// credentialProbeID is a session id that cannot exist: a GET of it answers 404 when the
	// credentials work and 401/403 when they do not, and costs one request of quota.
	credentialProbeID = "liveness-operator-credential-check"
	// accountIndex indexes LivenessSessions by the account they use (accounts.Key.String()).
	accountIndex = "liveness.account"
	// keySecretIndex indexes accounts by their key Secret ("namespace/name").
	keySecretIndex = "liveness.keySecret"
)

// faceAccountObject is what FaceAccount and ClusterFaceAccount have in common.
type faceAccountObject interface {
	client.Object
	AccountSpec() *facev1.FaceAccountSpec
	AccountStatus() *facev1.FaceAccountStatus
}

// CredentialFactory builds an Entra ID token credential for an account. Tests inject a fake.
type CredentialFactory func(spec facev1.EntraIDCredentials) (azcore.TokenCredential, error)

// AzureCredentials is the production CredentialFactory: workload identity, or azidentity's
// default chain.
func AzureCredentials(spec facev1.EntraIDCredentials) (azcore.TokenCredential, error) {
	if spec.Mode == facev1.EntraIDDefaultChain {
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{TenantID: spec.TenantID})
	}
	return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
		ClientID: spec.ClientID, TenantID: spec.TenantID,
	})
}

// FaceAccountReconciler reconciles FaceAccounts or ClusterFaceAccounts (one instance per kind):
// it configures the account's client and quota in the registry, checks the credentials against
// Face, and keeps the account while sessions still use it.
type FaceAccountReconciler struct {
	// Client reads from the cache and writes to the API server.
	Client client.Client
	// APIReader reads key Secrets live (user Secrets are not cached).
	APIReader client.Reader
	// Registry receives each account's client and limiter.
	Registry *accounts.Registry
	// Kind is FaceAccount or ClusterFaceAccount.
	Kind facev1.AccountKind
	// OperatorNamespace holds ClusterFaceAccounts' key Secrets.
	OperatorNamespace string
	// Credentials builds Entra ID credentials (default AzureCredentials).
	Credentials CredentialFactory
	// Events records transitions.
	Events events.EventRecorder
	// Identities is the metadata-only cache of Secrets shared with the session reconciler; key
	// Secret changes (rotation) wake the account through it.
	Identities cache.Cache

	checked checkedFingerprints
}

// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts;clusterfaceaccounts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts/status;clusterfaceaccounts/status,verbs=get;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts/finalizers;clusterfaceaccounts/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

func (r *FaceAccountReconciler) newObject() faceAccountObject {
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		return &facev1.ClusterFaceAccount{}
	}
	return &facev1.FaceAccount{}
}

func (r *FaceAccountReconciler) keyOf(a faceAccountObject) accounts.Key {
	return accounts.Key{Kind: r.Kind, Namespace: a.GetNamespace(), Name: a.GetName()}
}

// keySecretNamespace is where an account's API key Secret lives.
func (r *FaceAccountReconciler) keySecretNamespace(a faceAccountObject) string {
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		return r.OperatorNamespace
	}
	return a.GetNamespace()
}

// Reconcile configures one account. It owns the account's Ready condition: True after a
// successful credential check, False with the reason (KeySecretNotFound,
// CredentialsUnavailable, CredentialsRejected, FaceUnavailable) otherwise. Deleting an account
// waits until no LivenessSession uses it.
func (r *FaceAccountReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	a := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, a); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	key := r.keyOf(a)
	inUse, err := r.sessionsUsing(ctx, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !a.GetDeletionTimestamp().IsZero() {
		return r.reconcileAccountDelete(ctx, a, key, inUse)
	}
	if !controllerutil.ContainsFinalizer(a, facev1.AccountFinalizer) {
		base := a.DeepCopyObject().(faceAccountObject)
		controllerutil.AddFinalizer(a, facev1.AccountFinalizer)
		if err := r.Client.Patch(ctx, a, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, fmt.Errorf("add account finalizer: %w", err)
		}
	}

	original := a.AccountStatus().DeepCopy()
	status := a.AccountStatus()
	status.Sessions = int32(inUse)
	result := r.configure(ctx, a, key, status)
	if _, limiter, ok := r.Registry.Get(key); ok {
		if until := limiter.PausedUntil(); until.After(time.Now()) {
			status.PausedUntil = &metav1.Time{Time: until}
		} else {
			status.PausedUntil = nil
		}
	}
	if !equality.Semantic.DeepEqual(original, status) {
		base := a.DeepCopyObject().(faceAccountObject)
		*base.AccountStatus() = *original
		if err := r.Client.Status().Patch(ctx, a, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return result, nil
}

// configure builds the account's credential and limits into the registry and checks the
// credentials when they changed (or failed before).
func (r *FaceAccountReconciler) configure(ctx context.Context, a faceAccountObject, key accounts.Key, status *facev1.FaceAccountStatus) ctrl.Result {
	spec := a.AccountSpec()
	setAccountReady := func(cs metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: facev1.ConditionReady, Status: cs,
			Reason: reason, Message: msg, ObservedGeneration: a.GetGeneration()})
		status.ObservedGeneration = a.GetGeneration()
	}
	cred, reason, err := r.credential(ctx, a)
	if err != nil {
		// Without credentials the account cannot serve: its sessions wait (and their deletes
		// fall back to the expiry rule) until the credentials are back.
		r.Registry.Remove(key)
		r.checked.forget(key)
		setAccountReady(metav1.ConditionFalse, reason, err.Error())
		return ctrl.Result{RequeueAfter: accountRecheck}
	}
	limits, err := limitsFor(spec.Quota)
	if err != nil {
		setAccountReady(metav1.ConditionFalse, facev1.ReasonFaceRejected, err.Error())
		return ctrl.Result{}
	}
	changed, err := r.Registry.Set(key, accounts.Config{Endpoint: spec.Endpoint, Credential: cred, Limits: limits})
	if err != nil {
		setAccountReady(metav1.ConditionFalse, facev1.ReasonCredentialsUnavailable, err.Error())
		return ctrl.Result{RequeueAfter: accountRecheck}
	}
	ready := meta.FindStatusCondition(status.Conditions, facev1.ConditionReady)
	if !changed && r.checked.isOK(key) && ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == a.GetGeneration() {
		return ctrl.Result{RequeueAfter: accountRecheck}
	}

	fc, _, _ := r.Registry.Get(key)
	_, err = fc.GetLivenessSessionResult(ctx, credentialProbeID)
	switch {
	case face.IsNotFound(err):
		r.checked.set(key)
		setAccountReady(metav1.ConditionTrue, facev1.ReasonCredentialsValid, "Face accepted the credentials at "+spec.Endpoint)
		return ctrl.Result{RequeueAfter: accountRecheck}
	case err == nil:
		r.checked.set(key)
		setAccountReady(metav1.ConditionTrue, facev1.ReasonCredentialsValid, "Face accepted the credentials at "+spec.Endpoint)
		return ctrl.Result{RequeueAfter: accountRecheck}
	case face.IsCredentials(err):
		r.checked.forget(key)
		setAccountReady(metav1.ConditionFalse, facev1.ReasonCredentialsRejected,
			"Face rejected the credentials ("+describeFaceError(err)+"): fix the key Secret or the Entra ID identity")
		return ctrl.Result{RequeueAfter: credentialsRetry}
	case face.IsThrottled(err) || errors.Is(err, quota.ErrWaitAborted):
		return ctrl.Result{RequeueAfter: max(face.RetryAfter(err), retryMin)}
	default:
		r.checked.forget(key)
		setAccountReady(metav1.ConditionFalse, facev1.ReasonFaceUnavailable, "checking the credentials failed: "+describeFaceError(err))
		return ctrl.Result{RequeueAfter: 10 * time.Second}
	}
}

// credential reads the account's API key (live: a rotated key is picked up at the next
// reconcile, which the key Secret's watch triggers) or builds its Entra ID credential.
func (r *FaceAccountReconciler) credential(ctx context.Context, a faceAccountObject) (accounts.Credential, string, error) {
	creds := a.AccountSpec().Credentials
	if creds.EntraID != nil {
		factory := r.Credentials
		if factory == nil {
			factory = AzureCredentials
		}
		tc, err := factory(*creds.EntraID)
		if err != nil {
			return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, fmt.Errorf("Entra ID credential: %w", err)
		}
		return accounts.Credential{Token: tc}, "", nil
	}
	if creds.APIKey == nil {
		return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, errors.New("no credentials: set spec.credentials.apiKey or spec.credentials.entraID")
	}
	ns := r.keySecretNamespace(a)
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: creds.APIKey.Name}, s)
	if apierrors.IsNotFound(err) {
		return accounts.Credential{}, facev1.ReasonKeySecretNotFound, fmt.Errorf("Secret %s/%s with the API key does not exist", ns, creds.APIKey.Name)
	}
	if err != nil {
		return accounts.Credential{}, facev1.ReasonKeySecretNotFound, fmt.Errorf("read key Secret %s/%s: %w", ns, creds.APIKey.Name, err)
	}
	key := strings.TrimSpace(string(s.Data[creds.APIKey.Key]))
	if key == "" {
		return accounts.Credential{}, facev1.ReasonKeySecretNotFound, fmt.Errorf("Secret %s/%s has no key %q", ns, creds.APIKey.Name, creds.APIKey.Key)
	}
	return accounts.Credential{APIKey: key}, "", nil
}

// limitsFor turns the account's quota into limiter limits (default S0: 10/s).
func limitsFor(q *facev1.FaceQuota) (quota.Limits, error) {
	if q == nil {
		return quota.DefaultLimits(), nil
	}
	var l quota.Limits
	switch {
	case q.RequestsPerMinute != nil:
		l = quota.PerMinute(int(*q.RequestsPerMinute))
	case q.RequestsPerSecond != nil:
		l = quota.Limits{RequestsPerSecond: float64(*q.RequestsPerSecond)}
	default:
		l = quota.DefaultLimits()
	}
	if q.Burst != nil {
		l.Burst = int(*q.Burst)
	}
	return l, l.Validate()
}

// reconcileAccountDelete keeps the account (its finalizer) while any LivenessSession uses it, so
// those sessions can still delete their cloud sessions; then it forgets the account.
func (r *FaceAccountReconciler) reconcileAccountDelete(ctx context.Context, a faceAccountObject, key accounts.Key, inUse int) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(a, facev1.AccountFinalizer) {
		return ctrl.Result{}, nil
	}
	if inUse > 0 {
		status := a.AccountStatus()
		if status.Sessions != int32(inUse) {
			base := a.DeepCopyObject().(faceAccountObject)
			status.Sessions = int32(inUse)
			_ = r.Client.Status().Patch(ctx, a, client.MergeFrom(base))
		}
		// Session deletions wake the account; the recheck is a fallback.
		return ctrl.Result{RequeueAfter: accountWait}, nil
	}
	base := a.DeepCopyObject().(faceAccountObject)
	controllerutil.RemoveFinalizer(a, facev1.AccountFinalizer)
	if err := r.Client.Patch(ctx, a, client.MergeFrom(base)); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.Registry.Remove(key)
	r.checked.forget(key)
	return ctrl.Result{}, nil
}

// sessionsUsing counts the LivenessSessions that use the account (by recorded or requested
// reference).
func (r *FaceAccountReconciler) sessionsUsing(ctx context.Context, key accounts.Key) (int, error) {
	var list facev1.LivenessSessionList
	if err := r.Client.List(ctx, &list, client.MatchingFields{accountIndex: key.String()}); err != nil {
		return 0, fmt.Errorf("list sessions of account %s: %w", key, err)
	}
	return len(list.Items), nil
}

// sessionAccountKey is the index function of accountIndex.
func sessionAccountKey(o client.Object) []string {
	ls, ok := o.(*facev1.LivenessSession)
	if !ok {
		return nil
	}
	key := accounts.KeyFor(ls.Namespace, sessionAccountRef(ls))
	if key == accounts.DefaultKey {
		return nil
	}
	return []string{key.String()}
}

// SetupWithManager registers the reconciler for its kind. It watches the accounts, their key
// Secrets (through the shared identity cache, so a rotated key is picked up at once), and
// LivenessSession deletions (so a deleted account is released as soon as its last session goes).
// It counts sessions with the index the LivenessSessionReconciler registers in the same manager.
func (r *FaceAccountReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.checked.init()
	obj := r.newObject()
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), obj, keySecretIndex, r.keySecretKey); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(obj, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
			deletionPredicate()))).
		Watches(&facev1.LivenessSession{}, handler.EnqueueRequestsFromMapFunc(r.accountOfSession),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				UpdateFunc:  func(event.UpdateEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		Named(strings.ToLower(string(r.Kind)))
	if r.Identities != nil {
		var secret client.Object = metadataOnly("Secret")
		b.WatchesRawSource(source.Kind(r.Identities, secret, handler.EnqueueRequestsFromMapFunc(r.accountsOfKeySecret)))
	}
	return b.Complete(r)
}

// keySecretKey indexes an account by its key Secret.
func (r *FaceAccountReconciler) keySecretKey(o client.Object) []string {
	a, ok := o.(faceAccountObject)
	if !ok || a.AccountSpec().Credentials.APIKey == nil {
		return nil
	}
	return []string{r.keySecretNamespace(a) + "/" + a.AccountSpec().Credentials.APIKey.Name}
}

func (r *FaceAccountReconciler) accountsOfKeySecret(ctx context.Context, o client.Object) []reconcile.Request {
	list := &facev1.FaceAccountList{}
	var objList client.ObjectList = list
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		objList = &facev1.ClusterFaceAccountList{}
	}
	if err := r.Client.List(ctx, objList, client.MatchingFields{keySecretIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(objList, func(item runtimeObject) error {
		a := item.(client.Object)
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: a.GetNamespace(), Name: a.GetName()}})
		return nil
	})
	return reqs
}

func (r *FaceAccountReconciler) accountOfSession(_ context.Context, o client.Object) []reconcile.Request {
	ls, ok := o.(*facev1.LivenessSession)
	if !ok {
		return nil
	}
	key := accounts.KeyFor(ls.Namespace, sessionAccountRef(ls))
	if key == accounts.DefaultKey || key.Kind != r.Kind {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: key.Namespace, Name: key.Name}}}
}

// deletionPredicate passes updates that set the deletion timestamp.
func deletionPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
	}}
}

package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/endpoints"
)

// Account reconciliation timing.
const (
	// accountRecheck is how often an account is looked at again without any event: it refreshes
	// the session count and re-checks credentials that failed.
	accountRecheck = 5 * time.Minute
	// keySecretIndex indexes accounts by their key Secret ("namespace/name").
	keySecretIndex = "liveness.keySecret"
)

// faceAccountObject is what FaceAccount and ClusterFaceAccount have in common.
type faceAccountObject interface {
	client.Object
	AccountSpec() *facev1.FaceAccountSpec
	AccountStatus() *facev1.FaceAccountStatus
}

// Reconciler reconciles FaceAccounts or ClusterFaceAccounts (one instance per kind):
// it configures the account's client and quota in the registry, checks the credentials against
// Face, and keeps the account while sessions still use it.
type Reconciler struct {
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
	// Credentials builds ClusterFaceAccounts' Entra ID credentials, the operator's own identity
	// (default AzureCredentials).
	Credentials CredentialFactory
	// EntraExchange configures the exchange of FaceAccounts' ServiceAccount tokens for Entra ID
	// tokens (authority host, transport, instance discovery); the zero value is Azure's public
	// cloud, or AZURE_AUTHORITY_HOST.
	EntraExchange azidentity.ClientAssertionCredentialOptions
	// Events records transitions.
	Events events.EventRecorder
	// Identities is the metadata-only cache of Secrets shared with the session reconciler; key
	// Secret changes (rotation) wake the account through it.
	Identities cache.Cache
	// Clock tells whether the account's quota pause is still on; nil means the real clock.
	Clock clock.PassiveClock
	// AllowedEndpoints are the Face hosts a namespaced FaceAccount may point at (the manager's
	// --allowed-face-endpoints); nil means endpoints.Default(). ClusterFaceAccounts are created
	// by administrators and are not limited.
	AllowedEndpoints *endpoints.AllowList

	checked         checkedAccounts
	serviceAccounts serviceAccountCredentials
}

// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts;clusterfaceaccounts,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts/status;clusterfaceaccounts/status,verbs=get;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=faceaccounts/finalizers;clusterfaceaccounts/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

func (r *Reconciler) newObject() faceAccountObject {
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		return &facev1.ClusterFaceAccount{}
	}
	return &facev1.FaceAccount{}
}

func (r *Reconciler) keyOf(a faceAccountObject) accounts.Key {
	return accounts.Key{Kind: r.Kind, Namespace: a.GetNamespace(), Name: a.GetName()}
}

// keySecretNamespace is where an account's API key Secret lives.
func (r *Reconciler) keySecretNamespace(a faceAccountObject) string {
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		return r.OperatorNamespace
	}
	return a.GetNamespace()
}

// allowList is the allow list in force.
func (r *Reconciler) allowList() *endpoints.AllowList {
	if r.AllowedEndpoints == nil {
		return endpoints.Default()
	}
	return r.AllowedEndpoints
}

// endpointAllowed says whether the account may be sent requests at endpoint: always for a
// ClusterFaceAccount, per the allow list for a FaceAccount.
func (r *Reconciler) endpointAllowed(endpoint string) bool {
	return r.Kind == facev1.AccountKindClusterFaceAccount || r.allowList().Allows(endpoint)
}

// now is the reconciler's clock's time.
func (r *Reconciler) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// Reconcile configures one account. It owns the account's conditions (conditions.go): Ready
// True after a successful credential check, False with the reason (KeySecretNotFound,
// CredentialsUnavailable, CredentialsRejected, EndpointNotAllowed, FaceRejected,
// FaceUnavailable) otherwise, next to Stalled=True when only a human can fix it or
// Reconciling=True while the operator retries, as kstatus reads them. Deleting an account
// waits until no LivenessSession uses it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	a := r.newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, a); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	key := r.keyOf(a)
	inUse, err := r.sessionsUsing(ctx, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	deleting := !a.GetDeletionTimestamp().IsZero()
	if deleting && (inUse == 0 || !controllerutil.ContainsFinalizer(a, facev1.AccountFinalizer)) {
		return r.releaseAccount(ctx, a, key)
	}
	if !deleting && !controllerutil.ContainsFinalizer(a, facev1.AccountFinalizer) {
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
		if until := limiter.PausedUntil(); until.After(r.now()) {
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
	if deleting {
		// Kept (its finalizer) and configured while sessions still use it, so they can delete
		// their cloud sessions, also after a manager restart. Session deletions wake the
		// account; the recheck is a fallback.
		if result.RequeueAfter <= 0 || result.RequeueAfter > accounts.AccountWait {
			result.RequeueAfter = accounts.AccountWait
		}
		return result, nil
	}
	return result, nil
}

// configure builds the account's credential and limits into the registry and checks the
// credentials (probe) when they changed, failed before, or Ready does not reflect this
// generation yet.
func (r *Reconciler) configure(ctx context.Context, a faceAccountObject, key accounts.Key, status *facev1.FaceAccountStatus) ctrl.Result {
	spec := a.AccountSpec()
	age := r.now().Sub(a.GetCreationTimestamp().Time)
	setAccountReady := func(cs metav1.ConditionStatus, reason, msg string) {
		setAccountConditions(status, a.GetGeneration(), age, accountObservation{ready: cs, reason: reason, message: msg})
	}
	if !r.endpointAllowed(spec.Endpoint) {
		// Checked before the key Secret is even read: nothing of the tenant's Secrets, and no
		// token of the operator's, may leave for a host an administrator did not allow. A spec
		// change (or a restart with a longer list) looks again.
		r.Registry.Remove(key)
		r.checked.forget(key)
		setAccountReady(metav1.ConditionFalse, facev1.ReasonEndpointNotAllowed, fmt.Sprintf(
			"endpoint %s is not allowed for a namespaced FaceAccount: the manager's --allowed-face-endpoints is %q; "+
				"use an endpoint that matches it, a ClusterFaceAccount, or ask an administrator to add the host", spec.Endpoint, r.allowList()))
		return ctrl.Result{}
	}
	cred, reason, err := r.credential(ctx, a)
	if err != nil {
		// Without credentials the account cannot serve: its sessions wait (and their deletes
		// fall back to the expiry rule) until the credentials are back.
		r.Registry.Remove(key)
		r.checked.forget(key)
		setAccountReady(metav1.ConditionFalse, reason, err.Error())
		if wait := untilStalled(reason, age); wait > 0 {
			// Still within the grace for a missing Secret or ServiceAccount: look again when
			// it ends, so kstatus turns Failed on time if nothing came.
			return ctrl.Result{RequeueAfter: wait}
		}
		return ctrl.Result{RequeueAfter: accountRecheck}
	}
	limits := accounts.LimitsFor(spec.Quota)
	if shared, ok := a.(*facev1.ClusterFaceAccount); ok {
		// Only an administrator's account admits several namespaces; a FaceAccount serves its own.
		limits.FlowShare = shared.Spec.NamespaceShare()
	}
	changed, err := r.Registry.Set(key, accounts.Config{Endpoint: spec.Endpoint, Credential: cred, Limits: limits})
	switch {
	case errors.Is(err, accounts.ErrInvalidQuota):
		// Only a spec change can fix it, and that wakes the account.
		setAccountReady(metav1.ConditionFalse, facev1.ReasonFaceRejected, err.Error())
		return ctrl.Result{}
	case err != nil:
		setAccountReady(metav1.ConditionFalse, facev1.ReasonCredentialsUnavailable, err.Error())
		return ctrl.Result{RequeueAfter: accountRecheck}
	}
	ready := meta.FindStatusCondition(status.Conditions, facev1.ConditionReady)
	if !changed && r.checked.isOK(key) && ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == a.GetGeneration() {
		return ctrl.Result{RequeueAfter: accountRecheck}
	}

	return r.probe(ctx, key, spec.Endpoint, setAccountReady)
}

// releaseAccount removes the finalizer of an account being deleted that no session uses any
// more, and forgets it.
func (r *Reconciler) releaseAccount(ctx context.Context, a faceAccountObject, key accounts.Key) (ctrl.Result, error) {
	if controllerutil.ContainsFinalizer(a, facev1.AccountFinalizer) {
		base := a.DeepCopyObject().(faceAccountObject)
		controllerutil.RemoveFinalizer(a, facev1.AccountFinalizer)
		if err := r.Client.Patch(ctx, a, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	r.Registry.Remove(key)
	r.checked.forget(key)
	r.serviceAccounts.forget(key)
	return ctrl.Result{}, nil
}

// sessionsUsing counts the LivenessSessions that use the account (by recorded or requested
// reference).
func (r *Reconciler) sessionsUsing(ctx context.Context, key accounts.Key) (int, error) {
	var list facev1.LivenessSessionList
	if err := r.Client.List(ctx, &list, client.MatchingFields{accounts.SessionIndex: key.String()}); err != nil {
		return 0, fmt.Errorf("list sessions of account %s: %w", key, err)
	}
	return len(list.Items), nil
}

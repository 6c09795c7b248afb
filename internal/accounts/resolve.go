package accounts

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// AccountUnavailableError says why a session's account cannot serve it right now. The reason
// becomes the session's condition reason; Stalled says a human must act (the namespace is not
// admitted), otherwise the session waits and is retried after RetryAfter or when the account
// changes.
type AccountUnavailableError struct {
	// Reason is a condition reason (AccountNotFound, AccountNotReady, CredentialsRejected, ...).
	Reason string
	// Message says what to fix.
	Message string
	// Stalled is true when waiting will not help.
	Stalled bool
	// RetryAfter is when to look again.
	RetryAfter time.Duration
}

func (e *AccountUnavailableError) Error() string { return e.Message }

// AccountWait is how often a session re-checks an account that is not usable yet; account
// status changes also wake it through the account watch.
const AccountWait = 30 * time.Second

// AccountResolver serves each LivenessSession with its account's client from the registry. A
// session that already has a cloud session always uses the account recorded in its status.
type AccountResolver struct {
	// Registry holds the configured accounts.
	Registry *Registry
	// Client reads accounts and namespaces from the cache.
	Client client.Reader
	// Clock tells whether an account's pause is still on; nil means the real clock.
	Clock clock.PassiveClock
	// Shard is the manager's --watch-label-selector (nil: unsharded): an account outside it
	// is not in the cache, and the session's condition says that this may be why.
	Shard labels.Selector
}

// ClientFor returns the session's account's client, or an *AccountUnavailableError.
func (a AccountResolver) ClientFor(ctx context.Context, ls *facev1.LivenessSession) (face.Client, error) {
	key := KeyFor(ls.Namespace, SessionAccountRef(ls))
	if key != DefaultKey {
		if err := a.checkAccount(ctx, ls, key); err != nil {
			return nil, err
		}
	}
	c, limiter, ok := a.Registry.Get(key)
	if !ok && key == DefaultKey {
		return nil, &AccountUnavailableError{Reason: facev1.ReasonAccountNotFound, RetryAfter: AccountWait,
			Message: "the operator has no default Face account (FACE_ENDPOINT and FACE_APIKEY are unset): set spec.accountRef to a FaceAccount or ClusterFaceAccount"}
	}
	if !ok {
		return nil, &AccountUnavailableError{Reason: facev1.ReasonAccountNotReady, RetryAfter: 2 * time.Second,
			Message: fmt.Sprintf("account %s is not configured yet", key)}
	}
	// A paused account would hold a worker for the whole Retry-After window; the session is
	// rescheduled for the window's end instead, and says why.
	if until := limiter.PausedUntil(); a.now().Add(pauseBlockLimit).Before(until) {
		return nil, &AccountUnavailableError{Reason: facev1.ReasonAccountThrottled, RetryAfter: until.Sub(a.now()),
			Message: fmt.Sprintf("Face throttled account %s (429); calls resume at %s", key, until.UTC().Format(time.RFC3339))}
	}
	return c, nil
}

// shardHint explains, for a sharded manager, that an account of another shard is invisible.
func (a AccountResolver) shardHint() string {
	if a.Shard == nil {
		return ""
	}
	return fmt.Sprintf(" (or it is outside this manager's shard %q: label the account like its sessions)", a.Shard.String())
}

// pauseBlockLimit is the longest account pause a worker simply waits out inside the limiter.
const pauseBlockLimit = time.Second

// now is the resolver's clock's time.
func (a AccountResolver) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock.Now()
}

// SessionAccountRef is the account recorded at creation, else the one the spec names.
func SessionAccountRef(ls *facev1.LivenessSession) *facev1.AccountReference {
	if ls.Status.SessionID != "" || ls.Status.Account != nil {
		return ls.Status.Account
	}
	return ls.Spec.AccountRef
}

// checkAccount verifies the account exists, is Ready, and admits the session's namespace
// (unless the session is being deleted).
func (a AccountResolver) checkAccount(ctx context.Context, ls *facev1.LivenessSession, key Key) error {
	var obj client.Object = &facev1.FaceAccount{}
	if key.Kind == facev1.AccountKindClusterFaceAccount {
		obj = &facev1.ClusterFaceAccount{}
	}
	if err := a.Client.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name}, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return &AccountUnavailableError{Reason: facev1.ReasonAccountNotFound, RetryAfter: AccountWait,
				Message: fmt.Sprintf("%s %q does not exist; create it or fix spec.accountRef", key.Kind, key.Name) + a.shardHint()}
		}
		return err
	}
	var sel *metav1.LabelSelector
	var conds []metav1.Condition
	switch o := obj.(type) {
	case *facev1.ClusterFaceAccount:
		sel, conds = &o.Spec.NamespaceSelector, o.Status.Conditions
	case *facev1.FaceAccount:
		conds = o.Status.Conditions
	}
	// Checked for every call, not only at creation: a namespace that loses admission stops
	// having Face called for it (polls, image export). Deleting its cloud session stays allowed.
	if sel != nil && ls.DeletionTimestamp.IsZero() {
		if err := a.admits(ctx, sel, ls.Namespace, key); err != nil {
			return err
		}
	}
	ready := meta.FindStatusCondition(conds, facev1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		reason, msg := facev1.ReasonAccountNotReady, fmt.Sprintf("%s %q is not Ready yet", key.Kind, key.Name)
		if ready != nil {
			msg = fmt.Sprintf("%s %q is not Ready: %s", key.Kind, key.Name, ready.Message)
			if ready.Reason == facev1.ReasonCredentialsRejected {
				reason = facev1.ReasonCredentialsRejected
			}
		}
		return &AccountUnavailableError{Reason: reason, Message: msg, RetryAfter: AccountWait}
	}
	return nil
}

// admits checks a ClusterFaceAccount's namespace selector against the namespace's labels.
func (a AccountResolver) admits(ctx context.Context, sel *metav1.LabelSelector, ns string, key Key) error {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return &AccountUnavailableError{Reason: facev1.ReasonNamespaceNotAllowed, Stalled: true,
			Message: fmt.Sprintf("ClusterFaceAccount %q has an invalid namespaceSelector: %v", key.Name, err)}
	}
	nsObj := &corev1.Namespace{}
	if err := a.Client.Get(ctx, types.NamespacedName{Name: ns}, nsObj); err != nil {
		return fmt.Errorf("read namespace %s: %w", ns, err)
	}
	if !selector.Matches(labels.Set(nsObj.Labels)) {
		return &AccountUnavailableError{Reason: facev1.ReasonNamespaceNotAllowed, Stalled: true,
			Message: fmt.Sprintf("ClusterFaceAccount %q does not admit namespace %q (its namespaceSelector is %s); use another account or ask its owner to admit this namespace",
				key.Name, ns, selector.String())}
	}
	return nil
}

// ForgetTicket drops a gone session's quota tickets (Registry.ForgetTicket).
func (a AccountResolver) ForgetTicket(id string) {
	if a.Registry != nil {
		a.Registry.ForgetTicket(id)
	}
}

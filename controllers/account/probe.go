package account

import (
	"context"
	"errors"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

const (
	// credentialProbeID is a session id that cannot exist: a GET of it answers 404 when the
	// credentials work and 401/403 when they do not, and costs one request of quota.
	credentialProbeID = "liveness-operator-credential-check"
	// probeBudget bounds the check, quota wait included: every Face call has an overall deadline.
	probeBudget = 30 * time.Second
	// probeFailureRecheck is how soon a check that Face could not answer is tried again.
	probeFailureRecheck = 10 * time.Second
)

// readySetter sets the account's Ready condition.
type readySetter func(status metav1.ConditionStatus, reason, message string)

// probe checks the account's credentials against Face with one GET of a session that cannot
// exist, and sets Ready from the answer: 404 (or, oddly, 200) means the credentials work
// (CredentialsValid), 401/403 that they do not (CredentialsRejected, retried every
// accounts.CredentialsRetry so a fixed key is picked up), any other failure FaceUnavailable.
// A throttled check changes nothing and is retried after Face's Retry-After.
func (r *Reconciler) probe(ctx context.Context, key accounts.Key, endpoint string, setReady readySetter) ctrl.Result {
	fc, _, _ := r.Registry.Get(key)
	probeCtx, cancel := context.WithTimeout(ctx, probeBudget)
	_, err := fc.GetLivenessSessionResult(probeCtx, credentialProbeID)
	cancel()
	switch {
	case err == nil || face.IsNotFound(err):
		r.checked.set(key)
		setReady(metav1.ConditionTrue, facev1.ReasonCredentialsValid, "Face accepted the credentials at "+endpoint)
		return ctrl.Result{RequeueAfter: accountRecheck}
	case face.IsCredentials(err):
		r.checked.forget(key)
		setReady(metav1.ConditionFalse, facev1.ReasonCredentialsRejected,
			"Face rejected the credentials ("+accounts.DescribeFaceError(err)+"): fix the key Secret or the Entra ID identity")
		return ctrl.Result{RequeueAfter: accounts.CredentialsRetry}
	case face.IsThrottled(err) || errors.Is(err, quota.ErrWaitAborted):
		return ctrl.Result{RequeueAfter: accounts.RetryAfter(err)}
	default:
		r.checked.forget(key)
		setReady(metav1.ConditionFalse, facev1.ReasonFaceUnavailable, "checking the credentials failed: "+accounts.DescribeFaceError(err))
		return ctrl.Result{RequeueAfter: probeFailureRecheck}
	}
}

// checkedAccounts remembers which accounts passed their credential check with the
// configuration now in the registry, so an unchanged account is not re-checked (each check
// costs a request of its quota) on every reconcile.
type checkedAccounts struct {
	mu sync.Mutex
	ok map[accounts.Key]bool
}

func (c *checkedAccounts) isOK(key accounts.Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok[key]
}

func (c *checkedAccounts) set(key accounts.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok == nil {
		c.ok = map[accounts.Key]bool{}
	}
	c.ok[key] = true
}

func (c *checkedAccounts) forget(key accounts.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ok, key)
}

package account

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// entraCheckTimeout bounds the token exchange a reconcile waits for: an unreachable Entra ID
// must not hold an account worker.
const entraCheckTimeout = 30 * time.Second

// serviceAccountCredential returns a FaceAccount's Entra ID credential: a token of the
// ServiceAccount it names, in its own namespace, exchanged for an Entra ID token of its clientID.
// It never falls back to the operator's own identity. It checks that the ServiceAccount exists
// (on every reconcile, so deleting it takes the account out of service at the next one) and that
// Entra ID accepts the exchange (from azidentity's cache once it has), so that Ready says which
// side to fix before any request goes to Face.
func (r *Reconciler) serviceAccountCredential(ctx context.Context, a faceAccountObject) (accounts.Credential, string, error) {
	key := r.keyOf(a)
	spec := a.AccountSpec().Credentials.EntraID
	id := serviceAccountIdentity{Namespace: a.GetNamespace(), Name: spec.ServiceAccountName, ClientID: spec.ClientID, TenantID: spec.TenantID}
	if err := checkServiceAccountSpec(spec); err != nil {
		// Admission refuses such a FaceAccount; one stored before the rule existed gets here.
		r.serviceAccounts.forget(key)
		return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, err
	}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: id.Namespace, Name: id.Name}, &corev1.ServiceAccount{}); err != nil {
		r.serviceAccounts.forget(key)
		if apierrors.IsNotFound(err) {
			return accounts.Credential{}, facev1.ReasonServiceAccountNotFound, serviceAccountNotFound(id.Namespace, id.Name)
		}
		return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, fmt.Errorf(
			"read ServiceAccount %s/%s (the operator needs get on serviceaccounts): %s", id.Namespace, id.Name, apiStatusMessage(err))
	}
	cred, err := r.serviceAccounts.get(key, id, func() (*serviceAccountCredential, error) {
		return newServiceAccountCredential(id, r.Client, r.EntraExchange)
	})
	if err != nil {
		return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, err
	}
	checkCtx, cancel := context.WithTimeout(ctx, entraCheckTimeout)
	defer cancel()
	// The same options as Face's bearer token policy, so that the check and the Face calls share
	// azidentity's cached token.
	if _, err := cred.GetToken(checkCtx, policy.TokenRequestOptions{Scopes: []string{face.Scope}, EnableCAE: true}); err != nil {
		var xe *exchangeError
		if errors.As(err, &xe) {
			return accounts.Credential{}, xe.reason, xe
		}
		return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, err
	}
	return accounts.Credential{Token: cred}, "", nil
}

// checkServiceAccountSpec repeats the FaceAccount's admission rules for Entra ID.
func checkServiceAccountSpec(spec *facev1.EntraIDCredentials) error {
	switch {
	case spec.ServiceAccountName == "" || spec.ClientID == "" || spec.TenantID == "":
		return errors.New("a FaceAccount with spec.credentials.entraID must set serviceAccountName (a ServiceAccount of its namespace), " +
			"clientID and tenantID; it never uses the operator's own identity")
	case spec.Mode != "" && spec.Mode != facev1.EntraIDWorkloadIdentity:
		return fmt.Errorf("a FaceAccount's spec.credentials.entraID.mode must be %s: %s is the operator's own identity, which only a ClusterFaceAccount may use",
			facev1.EntraIDWorkloadIdentity, spec.Mode)
	}
	return nil
}

// serviceAccountCredentials keeps one credential per FaceAccount across reconciles: azidentity's
// token cache lives in it, and the registry rebuilds an account's client only when its
// credential changes.
type serviceAccountCredentials struct {
	mu        sync.Mutex
	byAccount map[accounts.Key]*serviceAccountCredential
}

// get returns the account's credential for id, building it when the account has none or had
// one for another identity.
func (c *serviceAccountCredentials) get(key accounts.Key, id serviceAccountIdentity, build func() (*serviceAccountCredential, error)) (*serviceAccountCredential, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cred, ok := c.byAccount[key]; ok && cred.id == id {
		return cred, nil
	}
	delete(c.byAccount, key)
	cred, err := build()
	if err != nil {
		return nil, err
	}
	if c.byAccount == nil {
		c.byAccount = map[accounts.Key]*serviceAccountCredential{}
	}
	c.byAccount[key] = cred
	return cred, nil
}

// forget drops the account's credential and the Entra ID token cached in it.
func (c *serviceAccountCredentials) forget(key accounts.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byAccount, key)
}

package account

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
)

// CredentialFactory builds the operator's own Entra ID token credential for a ClusterFaceAccount
// (a FaceAccount never gets one: it authenticates as its ServiceAccount). Tests inject a fake.
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

// credential reads the account's API key (live: a rotated key is picked up at the next
// reconcile, which the key Secret's watch triggers) or builds its Entra ID credential: a
// FaceAccount's from its ServiceAccount, a ClusterFaceAccount's from the operator's own identity.
func (r *Reconciler) credential(ctx context.Context, a faceAccountObject) (accounts.Credential, string, error) {
	creds := a.AccountSpec().Credentials
	if creds.EntraID != nil && r.Kind == facev1.AccountKindFaceAccount {
		return r.serviceAccountCredential(ctx, a)
	}
	r.serviceAccounts.forget(r.keyOf(a))
	if creds.EntraID != nil {
		if creds.EntraID.ServiceAccountName != "" {
			return accounts.Credential{}, facev1.ReasonCredentialsUnavailable, errors.New(
				"a ClusterFaceAccount uses the operator's own Entra identity: remove spec.credentials.entraID.serviceAccountName")
		}
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

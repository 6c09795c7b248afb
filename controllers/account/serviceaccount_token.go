package account

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// A FaceAccount's Entra ID credential is a token of a ServiceAccount of its own namespace, which
// the operator mints with the TokenRequest API. The operator reads the ServiceAccount first, so
// a missing one is reported as such rather than as a refused exchange.
//
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get
// +kubebuilder:rbac:groups="",resources=serviceaccounts/token,verbs=create

const (
	// ServiceAccountTokenAudience is the audience of the ServiceAccount tokens the operator
	// requests: the one Entra ID's workload identity federation expects. It is the only audience
	// the operator ever asks for, so its tokens are useless to any other relying party.
	ServiceAccountTokenAudience = "api://AzureADTokenExchange"
	// ServiceAccountTokenExpirySeconds is the lifetime of those tokens: 10 minutes, the shortest
	// the TokenRequest API allows. A token only has to live until azidentity has exchanged it;
	// azidentity caches the Entra ID token it gets, not the ServiceAccount token.
	ServiceAccountTokenExpirySeconds = 600
)

// serviceAccountToken is a freshly minted ServiceAccount token.
type serviceAccountToken struct {
	// value is the JWT; it goes to Entra ID and nowhere else.
	value string
	// issuer is the token's iss claim, which the federated credential on the Azure side must
	// name; it is read (unverified) only to say so in condition messages.
	issuer string
}

// requestServiceAccountToken mints a token of ServiceAccount namespace/name for
// ServiceAccountTokenAudience. Failures are *exchangeError: a missing ServiceAccount is
// ServiceAccountNotFound, a refused request CredentialsUnavailable.
func requestServiceAccountToken(ctx context.Context, c client.Client, namespace, name string) (serviceAccountToken, error) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         []string{ServiceAccountTokenAudience},
		ExpirationSeconds: ptr.To[int64](ServiceAccountTokenExpirySeconds),
	}}
	if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
		return serviceAccountToken{}, tokenRequestError(namespace, name, err)
	}
	if tr.Status.Token == "" {
		return serviceAccountToken{}, &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
			"the API server returned no token for ServiceAccount %s/%s", namespace, name)}
	}
	return serviceAccountToken{value: tr.Status.Token, issuer: tokenIssuer(tr.Status.Token)}, nil
}

// tokenRequestError explains a failed TokenRequest. The API server's status message names the
// ServiceAccount and the missing permission, never a token.
func tokenRequestError(namespace, name string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return serviceAccountNotFound(namespace, name)
	case apierrors.IsForbidden(err):
		return &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
			"the operator may not request a token for ServiceAccount %s/%s (it needs create on serviceaccounts/token in namespace %s): %s",
			namespace, name, namespace, apiStatusMessage(err))}
	default:
		return &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
			"requesting a token for ServiceAccount %s/%s failed: %s", namespace, name, apiStatusMessage(err))}
	}
}

// serviceAccountNotFound is the error of a FaceAccount whose ServiceAccount does not exist.
func serviceAccountNotFound(namespace, name string) error {
	return &exchangeError{reason: facev1.ReasonServiceAccountNotFound, message: fmt.Sprintf(
		"ServiceAccount %s/%s does not exist: create it, or name an existing ServiceAccount of namespace %s in spec.credentials.entraID.serviceAccountName",
		namespace, name, namespace)}
}

// apiStatusMessage is the API server's message of a failed request.
func apiStatusMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return redactJWTs(err.Error())
}

// tokenIssuer reads the iss claim of a JWT without verifying it: the value only goes into
// messages that tell an administrator what the federated credential must name.
func tokenIssuer(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Issuer
}

package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// serviceAccountIdentity is who a FaceAccount authenticates as: a ServiceAccount of its
// namespace, federated with an Entra application.
type serviceAccountIdentity struct {
	// Namespace is the FaceAccount's own namespace: the ServiceAccount can live nowhere else.
	Namespace string
	// Name of the ServiceAccount.
	Name string
	// ClientID and TenantID are the Entra application the token is exchanged for.
	ClientID, TenantID string
}

// subject is the subject of the ServiceAccount's tokens, which the application's federated
// credential must name.
func (id serviceAccountIdentity) subject() string {
	return "system:serviceaccount:" + id.Namespace + ":" + id.Name
}

// exchangeError is why a FaceAccount has no Entra ID token: the Ready reason it stands for and a
// message that says what to fix. It is built from status codes and error codes, never from a
// token, so it may go into conditions and logs.
type exchangeError struct {
	reason  string
	message string
}

// Error is the message.
func (e *exchangeError) Error() string { return e.message }

// serviceAccountCredential is a FaceAccount's Entra ID credential: azidentity's client-assertion
// credential, whose assertion is a fresh token of the account's ServiceAccount each time
// azidentity needs one. azidentity caches the Entra ID token, so a ServiceAccount token is
// minted only when the Entra ID token must be renewed.
type serviceAccountCredential struct {
	id     serviceAccountIdentity
	tokens client.Client
	inner  *azidentity.ClientAssertionCredential

	mu     sync.Mutex
	issuer string // of the last token minted, for messages
}

var _ azcore.TokenCredential = (*serviceAccountCredential)(nil)

// newServiceAccountCredential builds the credential; tokens mints the ServiceAccount's tokens
// and opts configure azidentity (authority host, transport).
func newServiceAccountCredential(id serviceAccountIdentity, tokens client.Client, opts azidentity.ClientAssertionCredentialOptions) (*serviceAccountCredential, error) {
	c := &serviceAccountCredential{id: id, tokens: tokens}
	inner, err := azidentity.NewClientAssertionCredential(id.TenantID, id.ClientID, c.assertion, &opts)
	if err != nil {
		return nil, &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
			"Entra ID credential for client %s in tenant %s: %s", id.ClientID, id.TenantID, redactJWTs(err.Error()))}
	}
	c.inner = inner
	return c, nil
}

// assertionFailureKey carries, in the context of one GetToken, where the assertion callback
// records why it failed: azidentity keeps only the message of a callback's error, and the
// reason (ServiceAccountNotFound or CredentialsUnavailable) would be lost.
type assertionFailureKey struct{}

// assertionFailure is the callback's error of one GetToken.
type assertionFailure struct {
	mu  sync.Mutex
	err error
}

// assertion is azidentity's getAssertion callback: a new ServiceAccount token on every call.
func (c *serviceAccountCredential) assertion(ctx context.Context) (string, error) {
	tok, err := requestServiceAccountToken(ctx, c.tokens, c.id.Namespace, c.id.Name)
	if err != nil {
		if f, ok := ctx.Value(assertionFailureKey{}).(*assertionFailure); ok {
			f.mu.Lock()
			f.err = err
			f.mu.Unlock()
		}
		return "", err
	}
	c.mu.Lock()
	c.issuer = tok.issuer
	c.mu.Unlock()
	return tok.value, nil
}

// GetToken returns an Entra ID token for the FaceAccount's application, from azidentity's cache
// or by exchanging a new ServiceAccount token. Failures are *exchangeError.
func (c *serviceAccountCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	failure := &assertionFailure{}
	tk, err := c.inner.GetToken(context.WithValue(ctx, assertionFailureKey{}, failure), opts)
	if err == nil {
		return tk, nil
	}
	failure.mu.Lock()
	defer failure.mu.Unlock()
	if failure.err != nil {
		return azcore.AccessToken{}, failure.err
	}
	return azcore.AccessToken{}, c.explain(err)
}

// explain turns azidentity's failure into an exchangeError. Entra ID answering 400 or 401 means
// it refused the assertion, which only a change on the Azure side (or of the account's
// clientID, tenantID or ServiceAccount) can fix; anything else may pass and is retried.
func (c *serviceAccountCredential) explain(err error) error {
	var failed *azidentity.AuthenticationFailedError
	if errors.As(err, &failed) && failed.RawResponse != nil {
		status := failed.RawResponse.StatusCode
		if status == http.StatusBadRequest || status == http.StatusUnauthorized {
			c.mu.Lock()
			issuer := c.issuer
			c.mu.Unlock()
			if issuer == "" {
				issuer = "the cluster's service account issuer"
			}
			return &exchangeError{reason: facev1.ReasonCredentialsRejected, message: fmt.Sprintf(
				"Entra ID refused the token of ServiceAccount %s/%s for client %s in tenant %s (HTTP %d%s): check that the application has a federated credential with issuer %s, subject %s and audience %s",
				c.id.Namespace, c.id.Name, c.id.ClientID, c.id.TenantID, status, entraErrorCodes(failed.RawResponse),
				issuer, c.id.subject(), ServiceAccountTokenAudience)}
		}
		return &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
			"Entra ID answered HTTP %d%s to the exchange of ServiceAccount %s/%s's token for client %s; the operator retries",
			status, entraErrorCodes(failed.RawResponse), c.id.Namespace, c.id.Name, c.id.ClientID)}
	}
	return &exchangeError{reason: facev1.ReasonCredentialsUnavailable, message: fmt.Sprintf(
		"exchanging ServiceAccount %s/%s's token with Entra ID for client %s failed: %s",
		c.id.Namespace, c.id.Name, c.id.ClientID, redactJWTs(err.Error()))}
}

// entraErrorCodes is ": <error>, AADSTS<code>" from an Entra ID error answer. Only the codes,
// not the description: Entra's descriptions carry a trace id and a timestamp, which would change
// the condition message (and cost a status write) on every attempt.
func entraErrorCodes(resp *http.Response) string {
	body, err := runtime.Payload(resp)
	if err != nil {
		return ""
	}
	var answer struct {
		Error      string `json:"error"`
		ErrorCodes []int  `json:"error_codes"`
	}
	if json.Unmarshal(body, &answer) != nil {
		return ""
	}
	var codes []string
	if answer.Error != "" {
		codes = append(codes, answer.Error)
	}
	for _, code := range answer.ErrorCodes {
		codes = append(codes, fmt.Sprintf("AADSTS%d", code))
	}
	if len(codes) == 0 {
		return ""
	}
	return ": " + strings.Join(codes, ", ")
}

// jwtPattern matches a JSON web token (header.payload.signature, each base64url).
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// redactJWTs removes anything that looks like a JWT from an error text that goes into a
// condition: a library's error message is not under the operator's control.
func redactJWTs(s string) string {
	return jwtPattern.ReplaceAllString(s, "[redacted token]")
}

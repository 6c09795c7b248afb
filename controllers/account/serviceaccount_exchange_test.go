package account

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/require"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
)

func entraAnswer(status int, body string) error {
	return &azidentity.AuthenticationFailedError{RawResponse: &http.Response{
		StatusCode: status, Status: http.StatusText(status), Body: io.NopCloser(strings.NewReader(body)),
	}}
}

// Entra ID's refusals become CredentialsRejected with the codes only (its description changes on
// every request); other answers and failures are CredentialsUnavailable; none carries a token.
func TestExchangeFailuresSayWhichSideToFix(t *testing.T) {
	c := &serviceAccountCredential{id: serviceAccountIdentity{Namespace: "team", Name: "face-app", ClientID: "app-id", TenantID: "tenant-id"}, issuer: "https://issuer.example"}
	refusal := `{"error":"invalid_grant","error_description":"AADSTS70021: No matching federated identity record. Trace ID: 1234","error_codes":[70021]}`
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized} {
		var xe *exchangeError
		require.True(t, errors.As(c.explain(entraAnswer(status, refusal)), &xe))
		require.Equal(t, facev1.ReasonCredentialsRejected, xe.reason)
		require.Contains(t, xe.message, ": invalid_grant, AADSTS70021)")
		require.Contains(t, xe.message, "issuer https://issuer.example, subject system:serviceaccount:team:face-app and audience api://AzureADTokenExchange")
		require.NotContains(t, xe.message, "Trace ID")
	}

	var xe *exchangeError
	require.True(t, errors.As(c.explain(entraAnswer(http.StatusServiceUnavailable, "")), &xe))
	require.Equal(t, facev1.ReasonCredentialsUnavailable, xe.reason)
	require.Contains(t, xe.message, "HTTP 503")

	jwt := "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".c2lnbmF0dXJl"
	require.True(t, errors.As(c.explain(errors.New("post failed for assertion "+jwt)), &xe))
	require.Equal(t, facev1.ReasonCredentialsUnavailable, xe.reason)
	require.NotContains(t, xe.message, jwt)
	require.Contains(t, xe.message, "[redacted token]")
}

func TestTokenIssuerReadsTheIssClaim(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://kubernetes.default.svc","sub":"system:serviceaccount:a:b"}`))
	require.Equal(t, "https://kubernetes.default.svc", tokenIssuer("eyJhbGciOiJSUzI1NiJ9."+payload+".sig"))
	require.Empty(t, tokenIssuer("not-a-jwt"))
}

// A credential survives reconciles while the account's identity is unchanged, so azidentity's
// token cache and the registry's client do too; another identity gets a new one.
func TestServiceAccountCredentialsAreKeptPerIdentity(t *testing.T) {
	var cache serviceAccountCredentials
	key := serviceAccountIdentity{Namespace: "team", Name: "face-app", ClientID: "c", TenantID: "t"}
	builds := 0
	build := func(id serviceAccountIdentity) func() (*serviceAccountCredential, error) {
		return func() (*serviceAccountCredential, error) { builds++; return &serviceAccountCredential{id: id}, nil }
	}
	acct := accounts.Key{Kind: facev1.AccountKindFaceAccount, Namespace: "team", Name: "face"}
	first, err := cache.get(acct, key, build(key))
	require.NoError(t, err)
	again, err := cache.get(acct, key, build(key))
	require.NoError(t, err)
	require.Same(t, first, again)
	other := key
	other.Name = "other-app"
	changed, err := cache.get(acct, other, build(other))
	require.NoError(t, err)
	require.NotSame(t, first, changed)
	cache.forget(acct)
	_, err = cache.get(acct, other, build(other))
	require.NoError(t, err)
	require.Equal(t, 3, builds)
}

package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// EntraPublicHost is Microsoft Entra ID's public authority host. MSAL asks it for instance
// discovery whenever the authority host is not one it knows, so FakeEntra's certificate also
// covers it: a test that routes the operator's traffic for it to FakeEntra (through a proxy)
// runs azidentity with its production settings.
const EntraPublicHost = "login.microsoftonline.com"

// FederatedCredential is what an Entra application trusts, as its federated identity
// credentials do: tokens of Subject (and Issuer, when set) presented for ClientID in TenantID,
// for which FakeEntra hands out AccessToken.
type FederatedCredential struct {
	// TenantID and ClientID are the application.
	TenantID, ClientID string
	// Issuer the assertion must have; empty: any.
	Issuer string
	// Subject the assertion must have, e.g. system:serviceaccount:<namespace>:<name>.
	Subject string
	// AccessToken is the Entra ID access token given in exchange.
	AccessToken string
}

// EntraExchange is one client-assertion token request FakeEntra received.
type EntraExchange struct {
	// TenantID from the path and ClientID from the form.
	TenantID, ClientID string
	// Scope asked for.
	Scope string
	// Assertion is the client assertion as received. It stays in the test's memory; tests
	// check it with a TokenReview.
	Assertion string
	// Issuer, Subject and Audiences are the assertion's claims (read, not verified).
	Issuer, Subject string
	Audiences       []string
	// Lifetime is the assertion's exp minus its iat.
	Lifetime time.Duration
	// Granted says whether an access token was handed out; else Error is the AADSTS code.
	Granted bool
	Error   string
}

// FakeEntra plays Microsoft Entra ID over TLS for the client-credentials grant with a federated
// client assertion (workload identity federation): the OpenID configuration and instance
// discovery that MSAL asks for, and POST /{tenant}/oauth2/v2.0/token. It grants only what
// Trust registered, answering anything else as Entra does (400 invalid_grant, AADSTS70021), and
// records every exchange.
type FakeEntra struct {
	// URL is the authority host, https://127.0.0.1:<port>, for azcore's
	// Cloud.ActiveDirectoryAuthorityHost or AZURE_AUTHORITY_HOST.
	URL string
	// Addr is the listener's host:port.
	Addr string
	// CAFile is a PEM file of the certificate the server presents (self-signed, for 127.0.0.1,
	// localhost and EntraPublicHost), for a process's SSL_CERT_FILE.
	CAFile string

	roots *x509.CertPool

	mu        sync.Mutex
	trusted   []FederatedCredential
	exchanges []EntraExchange
}

// StartFakeEntra serves a FakeEntra on a loopback port until the test ends.
func StartFakeEntra(t testing.TB) *FakeEntra {
	t.Helper()
	cert, certPEM, err := selfSignedCertificate()
	if err != nil {
		t.Fatalf("fake Entra certificate: %v", err)
	}
	e := &FakeEntra{roots: x509.NewCertPool(), CAFile: filepath.Join(t.TempDir(), "fake-entra-ca.pem")}
	e.roots.AppendCertsFromPEM(certPEM)
	if err := os.WriteFile(e.CAFile, certPEM, 0o600); err != nil {
		t.Fatalf("fake Entra CA file: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /common/discovery/instance", e.instanceDiscovery)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.openIDConfiguration)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	e.URL, e.Addr = srv.URL, srv.Listener.Addr().String()
	return e
}

// Trust registers a federated credential.
func (e *FakeEntra) Trust(fc FederatedCredential) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.trusted = append(e.trusted, fc)
}

// Exchanges returns the token requests received so far.
func (e *FakeEntra) Exchanges() []EntraExchange {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.exchanges)
}

// Client is an HTTP client that trusts the server's certificate.
func (e *FakeEntra) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots, MinVersion: tls.VersionTLS12}}}
}

// ClientAssertionOptions point azidentity at the server: its authority host, a transport that
// trusts it, and no instance discovery (which would ask EntraPublicHost).
func (e *FakeEntra) ClientAssertionOptions() azidentity.ClientAssertionCredentialOptions {
	return azidentity.ClientAssertionCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.URL + "/"},
			Transport: e.Client(),
		},
		DisableInstanceDiscovery: true,
	}
}

// instanceDiscovery answers MSAL's authority validation for the authority it names.
func (e *FakeEntra) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	var tenant string
	authz, err := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	if err == nil {
		tenant, _, _ = strings.Cut(strings.TrimPrefix(authz.Path, "/"), "/")
	}
	if err != nil || authz.Host == "" || tenant == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_instance", "error_description": "AADSTS50049: Unknown or invalid instance."})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": fmt.Sprintf("https://%s/%s/v2.0/.well-known/openid-configuration", authz.Host, tenant),
		"api-version":               "1.1",
		"metadata":                  []map[string]any{{"preferred_network": authz.Host, "preferred_cache": authz.Host, "aliases": []string{authz.Host}}},
	})
}

// openIDConfiguration is the tenant's OpenID configuration, as MSAL reads its endpoints from.
func (e *FakeEntra) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	base := "https://" + r.Host + "/" + r.PathValue("tenant")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 base + "/v2.0",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"token_endpoint":         base + "/oauth2/v2.0/token",
	})
}

// token is the client-credentials grant with a JWT client assertion.
func (e *FakeEntra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		entraError(w, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	x := EntraExchange{
		TenantID:  r.PathValue("tenant"),
		ClientID:  r.PostForm.Get("client_id"),
		Scope:     r.PostForm.Get("scope"),
		Assertion: r.PostForm.Get("client_assertion"),
	}
	claims, ok := jwtClaims(x.Assertion)
	if ok {
		x.Issuer, x.Subject, x.Audiences = claims.Issuer, claims.Subject, claims.Audiences()
		x.Lifetime = time.Duration(claims.Expiry-claims.IssuedAt) * time.Second
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var code int
	var kind, description string
	switch {
	case r.PostForm.Get("grant_type") != "client_credentials" ||
		r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		code, kind, description = 70003, "unsupported_grant_type", "The app requested an unsupported grant type."
	case !ok:
		code, kind, description = 50027, "invalid_request", "JWT token is invalid or malformed."
	case time.Unix(claims.Expiry, 0).Before(time.Now()):
		code, kind, description = 700024, "invalid_client", "Client assertion is not within its valid time range."
	default:
		for _, fc := range e.trusted {
			if fc.TenantID == x.TenantID && fc.ClientID == x.ClientID && fc.Subject == x.Subject &&
				(fc.Issuer == "" || fc.Issuer == x.Issuer) && slices.Contains(x.Audiences, "api://AzureADTokenExchange") {
				x.Granted = true
				e.exchanges = append(e.exchanges, x)
				writeJSON(w, http.StatusOK, map[string]any{
					"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": fc.AccessToken,
				})
				return
			}
		}
		code, kind = 70021, "invalid_grant"
		description = fmt.Sprintf("No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'.",
			x.Issuer, x.Subject, strings.Join(x.Audiences, ","))
	}
	x.Error = fmt.Sprintf("AADSTS%d", code)
	e.exchanges = append(e.exchanges, x)
	entraError(w, kind, code, description)
}

// entraError is Entra ID's error answer, with the trace and correlation ids that change on
// every request.
func entraError(w http.ResponseWriter, kind string, code int, description string) {
	now := time.Now().UTC()
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"error": kind,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %d Correlation ID: %d Timestamp: %s",
			code, description, now.UnixNano(), now.UnixNano()/7, now.Format(time.DateTime+"Z")),
		"error_codes":    []int{code},
		"timestamp":      now.Format(time.DateTime + "Z"),
		"trace_id":       fmt.Sprint(now.UnixNano()),
		"correlation_id": fmt.Sprint(now.UnixNano() / 7),
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// assertionClaims are the JWT claims FakeEntra checks.
type assertionClaims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expiry   int64           `json:"exp"`
	IssuedAt int64           `json:"iat"`
}

// Audiences is aud, which is a string or a list of strings.
func (c assertionClaims) Audiences() []string {
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(c.Audience, &many)
	return many
}

// jwtClaims decodes a JWT's payload without verifying its signature (tests verify the token
// with a TokenReview where it matters).
func jwtClaims(token string) (assertionClaims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return assertionClaims{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return assertionClaims{}, false
	}
	var c assertionClaims
	if json.Unmarshal(payload, &c) != nil || c.Subject == "" {
		return assertionClaims{}, false
	}
	return c, true
}

// selfSignedCertificate is a TLS certificate for the loopback address and EntraPublicHost,
// and its PEM form.
func selfSignedCertificate() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "fake Entra ID"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost", EntraPublicHost},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

package face

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	// APIVersion is the Face API version a client speaks when Options.APIVersion is empty: the GA
	// version, so that every existing caller keeps talking v1.2 without a change.
	APIVersion = APIVersionV12

	// APIVersionV12 is Face v1.2 (GA). The version is a path segment (/face/v1.2), there is no
	// api-version query parameter.
	APIVersionV12 = "v1.2"

	// APIVersionV13Preview1 is Face v1.3-preview.1 (path /face/v1.3-preview.1): several attempts
	// per session, user correlation, the expected client IP, abuse monitoring and the settings
	// operations. It is a preview: opt in per account, never by default.
	APIVersionV13Preview1 = "v1.3-preview.1"

	// APIKeyHeader is the header the Face service reads the resource key from.
	APIKeyHeader = "Ocp-Apim-Subscription-Key"

	// Scope is the Entra ID scope requested for Cognitive Services data-plane calls.
	Scope = "https://cognitiveservices.azure.com/.default"

	// DefaultTimeout bounds a single try when Options.Timeout is zero. Face calls are small and
	// synchronous, so 30s only trips on a hung connection.
	DefaultTimeout = 30 * time.Second

	// DefaultMaxRetries is the number of retries for GET and DELETE when Options.MaxRetries is zero.
	DefaultMaxRetries = 3
)

// Options configures NewClient. Exactly one of APIKey and Credential must be set.
type Options struct {
	// Endpoint is the resource endpoint, e.g. https://<resource>.cognitiveservices.azure.com,
	// without /face/v1.2 (the client appends it so the API version lives in one place).
	// A trailing slash, and a trailing /face/<known version> added by mistake, are tolerated.
	Endpoint string

	// APIVersion is the Face API version the client speaks: APIVersionV12 (the default when
	// empty) or APIVersionV13Preview1. It is per client because it is per account: a v1.2
	// client refuses requests that use v1.3 fields (ErrUnsupportedByAPIVersion) instead of
	// sending them without those fields.
	APIVersion string

	// APIKey is sent as the Ocp-Apim-Subscription-Key header. Exclusive with Credential.
	APIKey string

	// Credential authenticates with Entra ID using the scope https://cognitiveservices.azure.com/.default.
	// Exclusive with APIKey.
	Credential azcore.TokenCredential

	// Timeout bounds each try of each call (azcore's per-try timeout), so that a hung
	// connection cannot stall a reconcile. Zero means DefaultTimeout; negative disables it and
	// leaves only the caller's context.
	Timeout time.Duration

	// MaxRetries is the number of retries of GET and DELETE on 408/429/500/502/503/504 and on
	// transport errors. Zero means DefaultMaxRetries; negative disables retries. Creates and
	// detect are never retried, whatever this says.
	MaxRetries int32

	// Transport replaces azcore's HTTP client, mainly for tests. When nil, a client equivalent
	// to azcore's default is used, except that it does not follow redirects (a redirect would
	// forward the key header to wherever the Location points).
	Transport policy.Transporter

	// PerCallPolicies are extra policies run once per call, before the retry policy
	// (rate limiting, metrics).
	PerCallPolicies []policy.Policy

	// RetryDelay is the initial backoff between retries when the service sends no Retry-After.
	// Zero means azcore's default (800ms). Mostly useful to keep tests fast.
	RetryDelay time.Duration

	// MaxRetryDelay caps the backoff. A Retry-After longer than this ends retrying and the
	// throttling error is returned to the caller (with RetryAfter set) instead of blocking.
	// Zero means azcore's default (60s).
	MaxRetryDelay time.Duration

	// NoThrottleRetries leaves 429 answers to the caller instead of retrying them inside the
	// client. A client wrapped by an account-wide quota limiter needs it: the limiter must see
	// every 429 to pause all workers for the Retry-After window, and a retry that succeeds
	// inside the client would hide it. 408 and 5xx are still retried.
	NoThrottleRetries bool

	// InsecureAllowCredentialWithHTTP permits sending the key or bearer token over plain http
	// to a non-loopback host (for example an in-cluster emulator Service). Plain http to a
	// loopback address (127.0.0.0/8, ::1, localhost) is always allowed because that traffic
	// never leaves the machine; the local emulator relies on it.
	InsecureAllowCredentialWithHTTP bool

	// Metrics, when set, count every request this client sends and time it (see CallMetrics).
	// Clients of several accounts share one CallMetrics and tell themselves apart by AccountLabel.
	Metrics *CallMetrics

	// AccountLabel is the account label of this client's metrics: the account key
	// (accounts.Key.String()), never anything a request carries, so the label stays bounded.
	AccountLabel string
}

// String redacts the API key so that logging a configuration never discloses it.
func (o Options) String() string {
	key := ""
	if o.APIKey != "" {
		key = "REDACTED"
	}
	return fmt.Sprintf("face.Options{Endpoint:%q APIVersion:%q APIKey:%q Credential:%t Timeout:%s MaxRetries:%d}",
		o.Endpoint, o.apiVersion(), key, o.Credential != nil, o.Timeout, o.MaxRetries)
}

// GoString redacts the API key for %#v as well.
func (o Options) GoString() string { return o.String() }

// apiVersion is the version the client speaks, the default applied.
func (o Options) apiVersion() string {
	if o.APIVersion == "" {
		return APIVersion
	}
	return o.APIVersion
}

// validateAPIVersion refuses a version the client has no wire model for: sending v1.2 shapes
// to an unknown version would fail in ways that are hard to diagnose.
func (o Options) validateAPIVersion() error {
	switch o.apiVersion() {
	case APIVersionV12, APIVersionV13Preview1:
		return nil
	}
	return fmt.Errorf("face: unsupported Options.APIVersion %q; supported: %s, %s", o.APIVersion, APIVersionV12, APIVersionV13Preview1)
}

// knownAPIVersions are the path segments normalizedEndpoint strips from an endpoint that
// already carries one.
var knownAPIVersions = []string{APIVersionV12, APIVersionV13Preview1}

// normalizedEndpoint validates Endpoint and returns it without trailing slashes or
// /face/<version>, plus whether credentials may be sent over it.
func (o Options) normalizedEndpoint() (base string, allowHTTP bool, err error) {
	if strings.TrimSpace(o.Endpoint) == "" {
		return "", false, errors.New("face: Options.Endpoint is required")
	}
	u, err := url.Parse(strings.TrimSpace(o.Endpoint))
	if err != nil {
		return "", false, fmt.Errorf("face: invalid Options.Endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("face: Options.Endpoint must be an http(s) URL, got scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return "", false, errors.New("face: Options.Endpoint has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false, errors.New("face: Options.Endpoint must not carry a query, fragment or user info")
	}
	p := strings.TrimRight(u.Path, "/")
	for _, v := range knownAPIVersions {
		if strings.HasSuffix(strings.ToLower(p), "/face/"+v) {
			p = p[:len(p)-len("/face/"+v)]
			break
		}
	}
	u.Path, u.RawPath = p, ""
	allowHTTP = u.Scheme == "http"
	if allowHTTP && !o.InsecureAllowCredentialWithHTTP && !isLoopbackHost(u.Hostname()) {
		return "", false, fmt.Errorf("face: refusing to send credentials over plain http to %q; use https, a loopback address, or set Options.InsecureAllowCredentialWithHTTP", u.Host)
	}
	return strings.TrimRight(u.String(), "/"), allowHTTP, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (o Options) validateAuth() error {
	switch {
	case o.APIKey != "" && o.Credential != nil:
		return errors.New("face: set either Options.APIKey or Options.Credential, not both")
	case o.APIKey == "" && o.Credential == nil:
		return errors.New("face: one of Options.APIKey or Options.Credential is required")
	}
	return nil
}

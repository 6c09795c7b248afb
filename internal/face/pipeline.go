package face

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

const (
	telemetryModule  = "face"
	telemetryVersion = "v0.1.0"
)

// retryStatusCodes is spelled out (rather than relying on azcore's default list) so the retry
// contract documented on Options cannot drift with an azcore upgrade.
var retryStatusCodes = []int{
	http.StatusRequestTimeout,      // 408
	http.StatusTooManyRequests,     // 429
	http.StatusInternalServerError, // 500
	http.StatusBadGateway,          // 502
	http.StatusServiceUnavailable,  // 503
	http.StatusGatewayTimeout,      // 504
}

// loggedHeaders are response headers that help diagnose a failure and carry no secret. The key
// header and Authorization are deliberately absent so azcore logs them as REDACTED.
var loggedHeaders = []string{"apim-request-id", "x-ms-error-code", "retry-after-ms", "x-ms-retry-after-ms"}

// loggedQueryParams are the detect query parameters; none is secret.
var loggedQueryParams = []string{
	"detectionModel", "recognitionModel", "returnFaceId", "returnFaceAttributes",
	"returnFaceLandmarks", "returnRecognitionModel", "faceIdTimeToLive",
}

// retryOptions translates Options into azcore's retry settings for idempotent calls.
func (o Options) retryOptions() policy.RetryOptions {
	ro := policy.RetryOptions{
		MaxRetries:    o.MaxRetries,
		TryTimeout:    o.Timeout,
		RetryDelay:    o.RetryDelay,
		MaxRetryDelay: o.MaxRetryDelay,
		StatusCodes:   retryStatusCodes,
	}
	if o.NoThrottleRetries {
		ro.StatusCodes = slices.DeleteFunc(slices.Clone(retryStatusCodes), func(c int) bool { return c == http.StatusTooManyRequests })
	}
	if ro.MaxRetries == 0 {
		ro.MaxRetries = DefaultMaxRetries
	}
	switch {
	case ro.TryTimeout == 0:
		ro.TryTimeout = DefaultTimeout
	case ro.TryTimeout < 0:
		ro.TryTimeout = 0 // azcore: zero disables the per-try timeout
	}
	return ro
}

// noRetry derives the per-call override used for POSTs: same per-try timeout, zero retries.
// It is applied through policy.WithRetryOptions so one pipeline serves every operation.
func noRetry(ro policy.RetryOptions) policy.RetryOptions {
	ro.MaxRetries = -1 // azcore: negative means a single try
	return ro
}

func newPipeline(o Options, allowHTTP bool) runtime.Pipeline {
	var auth policy.Policy
	if o.Credential != nil {
		auth = runtime.NewBearerTokenPolicy(taggingCredential{inner: o.Credential}, []string{Scope},
			&policy.BearerTokenOptions{InsecureAllowCredentialWithHTTP: allowHTTP})
	} else {
		auth = runtime.NewKeyCredentialPolicy(azcore.NewKeyCredential(o.APIKey), APIKeyHeader,
			&runtime.KeyCredentialPolicyOptions{InsecureAllowCredentialWithHTTP: allowHTTP})
	}
	transport := o.Transport
	if transport == nil {
		transport = defaultHTTPClient
	}
	perRetry := []policy.Policy{auth}
	if mp := newMetricsPolicy(o.Metrics, o.AccountLabel); mp != nil {
		// After auth, so each request that goes on the wire is counted once per try.
		perRetry = append(perRetry, mp)
	}
	return runtime.NewPipeline(telemetryModule, telemetryVersion,
		runtime.PipelineOptions{
			AllowedHeaders:         loggedHeaders,
			AllowedQueryParameters: loggedQueryParams,
			// Auth is per retry so that a refreshed token is used on every try.
			PerRetry: perRetry,
		},
		&policy.ClientOptions{
			// IncludeBody stays false: the create response carries the session authToken.
			Logging:         policy.LogOptions{IncludeBody: false},
			Retry:           o.retryOptions(),
			Transport:       &observingTransport{inner: transport},
			PerCallPolicies: o.PerCallPolicies,
		})
}

// defaultHTTPClient mirrors azcore's default transport settings (azcore's own client lives in an
// internal package) but refuses redirects: Go forwards custom headers such as the key header to
// any redirect target, and the Face API never redirects.
var defaultHTTPClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// sendState records how far a call got on the wire. It is what lets a failed create be told
// apart as "never sent" (safe to create again) or "may have reached the service" (outcome unknown).
type sendState struct {
	transportCalled atomic.Bool // the request reached the transport at least once
	getConn         atomic.Bool // net/http started looking for a connection (httptrace hooks work)
	gotConn         atomic.Bool // a connection was handed to the request: bytes may have left
}

type sendStateKey struct{}

func withSendState(ctx context.Context) (context.Context, *sendState) {
	st := &sendState{}
	return context.WithValue(ctx, sendStateKey{}, st), st
}

// mayHaveReachedServer reports whether a failed request could have been received by the service.
// Only positive proof that nothing was sent yields false.
func (s *sendState) mayHaveReachedServer(err error) bool {
	switch {
	case !s.transportCalled.Load():
		return false // failed in a policy (credential, cancelled context) before the transport
	case s.gotConn.Load():
		return true // a connection was in hand, so any prefix of the request may have been written
	case s.getConn.Load():
		return false // net/http tried to connect and never got a connection (dial, DNS, TLS failure)
	default:
		// A custom transport that does not fire httptrace hooks: only a dial error is proof.
		return !isDialError(err)
	}
}

// isDialError reports errors that prove no connection was ever established.
func isDialError(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// observingTransport sits after every azcore policy and before the real transport. It marks that
// the request reached the wire layer and installs httptrace hooks to see whether a connection
// was obtained.
type observingTransport struct {
	inner policy.Transporter
}

// Do implements policy.Transporter.
func (t *observingTransport) Do(req *http.Request) (*http.Response, error) {
	st, _ := req.Context().Value(sendStateKey{}).(*sendState)
	if st == nil {
		return t.inner.Do(req)
	}
	if err := req.Context().Err(); err != nil {
		// The context ended before anything was sent; report that without touching the network
		// so the failure is provably "never sent".
		return nil, err
	}
	st.transportCalled.Store(true)
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { st.getConn.Store(true) },
		GotConn: func(httptrace.GotConnInfo) { st.gotConn.Store(true) },
	}
	return t.inner.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// taggingCredential marks token-acquisition failures so IsCredentials can recognise them after
// azcore has wrapped them.
type taggingCredential struct {
	inner azcore.TokenCredential
}

// GetToken implements azcore.TokenCredential.
func (c taggingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tk, err := c.inner.GetToken(ctx, opts)
	if err != nil {
		return tk, &credentialError{err: err}
	}
	return tk, nil
}

// credentialError is a failure to obtain an Entra ID token.
type credentialError struct{ err error }

// Error says the token could not be obtained, with the credential's reason.
func (e *credentialError) Error() string { return "acquiring Entra ID token: " + e.err.Error() }

// Unwrap exposes the credential's error (e.g. azidentity's AuthenticationFailedError).
func (e *credentialError) Unwrap() error { return e.err }

package face

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
)

// Client is what the operator needs from Azure AI Face (the v1.2 liveness surface, which
// v1.3-preview.1 keeps). It is an interface so controllers can be tested against fakes. The
// v1.3-only settings operations are in SettingsClient, so that existing fakes and wrappers of
// Client keep compiling.
type Client interface {
	// CreateLivenessSession creates a liveness session; never retried (see ErrOutcomeUnknown).
	CreateLivenessSession(ctx context.Context, req CreateLivenessSessionRequest) (*LivenessSession, error)
	// GetLivenessSessionResult reads a liveness session and its attempts.
	GetLivenessSessionResult(ctx context.Context, sessionID string) (*LivenessSession, error)
	// DeleteLivenessSession deletes a liveness session; 404 satisfies IsNotFound.
	DeleteLivenessSession(ctx context.Context, sessionID string) error
	// CreateLivenessWithVerifySession creates a with-verify session; never retried.
	CreateLivenessWithVerifySession(ctx context.Context, req CreateLivenessWithVerifySessionRequest) (*LivenessWithVerifySession, error)
	// GetLivenessWithVerifySessionResult reads a with-verify session and its attempts.
	GetLivenessWithVerifySessionResult(ctx context.Context, sessionID string) (*LivenessWithVerifySession, error)
	// DeleteLivenessWithVerifySession deletes a with-verify session; 404 satisfies IsNotFound.
	DeleteLivenessWithVerifySession(ctx context.Context, sessionID string) error
	// GetSessionImage downloads a stored session image.
	GetSessionImage(ctx context.Context, sessionImageID string) ([]byte, error)
	// DetectFromSessionImageID detects faces on a stored session image; never retried.
	DetectFromSessionImageID(ctx context.Context, sessionImageID string, opts DetectOptions) ([]FaceDetectionResult, error)
}

// HTTPClient implements Client and SettingsClient over HTTP. It is safe for concurrent use.
type HTTPClient struct {
	pl         runtime.Pipeline
	apiVersion string              // APIVersionV12 or APIVersionV13Preview1
	base       string              // endpoint + /face/<apiVersion>, no trailing slash
	noRetry    policy.RetryOptions // per-call override for POSTs
	now        func() time.Time    // clock of the client-assets token cache

	assetsMu    sync.Mutex
	assetsToken *ClientAssetsAccessToken // cached until shortly before its expiry
}

var (
	_ Client         = (*HTTPClient)(nil)
	_ SettingsClient = (*HTTPClient)(nil)
)

// NewClient validates opts and builds the azcore pipeline.
func NewClient(opts Options) (*HTTPClient, error) {
	if err := opts.validateAuth(); err != nil {
		return nil, err
	}
	if err := opts.validateAPIVersion(); err != nil {
		return nil, err
	}
	endpoint, allowHTTP, err := opts.normalizedEndpoint()
	if err != nil {
		return nil, err
	}
	return &HTTPClient{
		pl:         newPipeline(opts, allowHTTP),
		apiVersion: opts.apiVersion(),
		base:       endpoint + "/face/" + opts.apiVersion(),
		noRetry:    noRetry(opts.retryOptions()),
		now:        time.Now,
	}, nil
}

// APIVersion is the Face API version this client speaks (APIVersionV12 or
// APIVersionV13Preview1), so a caller holding a Client can tell which fields it may use.
func (h *HTTPClient) APIVersion() string { return h.apiVersion }

// isV13 reports whether the client speaks v1.3-preview.1.
func (h *HTTPClient) isV13() bool { return h.apiVersion == APIVersionV13Preview1 }

// Operation names, used in errors so a log line says which call failed.
const (
	opCreateLivenessSession              = "CreateLivenessSession"
	opGetLivenessSessionResult           = "GetLivenessSessionResult"
	opDeleteLivenessSession              = "DeleteLivenessSession"
	opCreateLivenessWithVerifySession    = "CreateLivenessWithVerifySession"
	opGetLivenessWithVerifySessionResult = "GetLivenessWithVerifySessionResult"
	opDeleteLivenessWithVerifySession    = "DeleteLivenessWithVerifySession"
	opGetSessionImage                    = "GetSessionImage"
	opDetectFromSessionImageID           = "DetectFromSessionImageId"
	opGetSettings                        = "GetSettings"
	opPatchSettings                      = "PatchSettings"
	opGetClientAssetsAccessToken         = "GetClientAssetsAccessToken"
)

// call describes one HTTP exchange.
type call struct {
	op          string
	method      string
	path        string // already escaped, relative to base, starting with "/"
	query       url.Values
	accept      string
	body        []byte
	contentType string
	// isCreate marks session creates: transport failures after the connection was established
	// are reported with ErrOutcomeUnknown.
	isCreate bool
}

// resourcePath joins a collection and an escaped id. An empty, "." or ".." id is rejected
// because it would address the collection or a parent path instead of a session.
func resourcePath(op, collection, id string) (string, error) {
	if id == "" || id == "." || id == ".." {
		return "", fmt.Errorf("face %s: %w: id %q is not a valid path segment", op, ErrInvalidRequest, id)
	}
	return collection + "/" + url.PathEscape(id), nil
}

// do sends c through the pipeline and returns a 2xx response with its body downloaded, or an
// error: *ResponseError for other statuses, *TransportError when no response arrived.
func (h *HTTPClient) do(ctx context.Context, c call) (*http.Response, error) {
	ctx, st := withSendState(ctx)
	ctx = withOperation(ctx, c.op) // the metrics policy's operation label
	if c.method == http.MethodPost {
		// Never replay a POST: a create that succeeded but whose answer was lost would leak a
		// second session. The caller decides, with ErrOutcomeUnknown to guide it.
		ctx = policy.WithRetryOptions(ctx, h.noRetry)
	}
	u := h.base + c.path
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := runtime.NewRequest(ctx, c.method, u)
	if err != nil {
		return nil, fmt.Errorf("face %s: building request: %w", c.op, err)
	}
	req.Raw().Header.Set("Accept", c.accept)
	// The body is read here, within a size cap, not by azcore (which would read all of it):
	// an endpoint that answers an endless body must cost a clear error, not the manager's memory.
	runtime.SkipBodyDownload(req)
	if c.body != nil {
		if err := req.SetBody(streaming.NopCloser(bytes.NewReader(c.body)), c.contentType); err != nil {
			return nil, fmt.Errorf("face %s: setting body: %w", c.op, err)
		}
	}
	resp, err := h.pl.Do(req)
	if err != nil {
		return nil, classifyFailure(ctx, st, c, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := readCapped(resp, maxErrorBody)
		return nil, parseResponseError(c.op, resp.StatusCode, resp.Header, body)
	}
	return resp, nil
}

// Response size caps. Face's liveness answers are a few KiB and its session images at most a
// few MiB; anything larger is not Face.
const (
	// MaxJSONResponse caps a JSON answer.
	MaxJSONResponse = 1 << 20
	// MaxImageResponse caps a session image download.
	MaxImageResponse = 8 << 20
	// maxErrorBody caps what is read of an error answer (only its code and message are used).
	maxErrorBody = 64 << 10
)

// ErrResponseTooLarge is in the chain when an answer exceeded its size cap; nothing of it is
// kept.
var ErrResponseTooLarge = errors.New("response larger than the client accepts")

// readCapped reads a response body of at most limit bytes and closes it.
func readCapped(resp *http.Response, limit int64) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return b, nil
}

// classifyFailure turns a pipeline error into the package's error shapes.
func classifyFailure(ctx context.Context, st *sendState, c call, err error) error {
	if IsCredentials(err) {
		return fmt.Errorf("face %s: %w", c.op, err)
	}
	if !st.transportCalled.Load() && ctx.Err() == nil {
		// A policy failed before anything was sent (e.g. a caller-supplied rate limiter).
		return fmt.Errorf("face %s: %w", c.op, err)
	}
	return &TransportError{
		Operation:      c.op,
		OutcomeUnknown: c.isCreate && st.mayHaveReachedServer(err),
		Err:            err,
	}
}

// payload reads the body of a successful response, refusing one over limit bytes.
func payload(op string, resp *http.Response, limit int64) ([]byte, error) {
	b, err := readCapped(resp, limit)
	if err != nil {
		return nil, fmt.Errorf("face %s: reading response: %w", op, err)
	}
	return b, nil
}

// createDecodeFailure reports a 2xx create whose body cannot be used. The session exists but
// its id is unknown, which for the caller is the same situation as a lost response.
func createDecodeFailure(op string, err error) error {
	return fmt.Errorf("face %s: %w: unusable 2xx response: %v", op, ErrOutcomeUnknown, err)
}

// acceptJSON is sent on every JSON operation; errors are JSON on all operations.
const acceptJSON = "application/json"

func trimmedCSV(values []string) string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return strings.Join(out, ",")
}

// sendCreate sends a create and decodes its answer. A create is sent once (never retried);
// an answer that cannot be read still means the session exists, so decoding failures are
// reported as outcome-unknown.
func sendCreate[T any](h *HTTPClient, ctx context.Context, c call, decode func([]byte) (T, error)) (T, error) {
	var zero T
	c.isCreate = true
	resp, err := h.do(ctx, c)
	if err != nil {
		return zero, err
	}
	b, err := payload(c.op, resp, MaxJSONResponse)
	if err != nil {
		return zero, createDecodeFailure(c.op, err)
	}
	s, err := decode(b)
	if err != nil {
		return zero, createDecodeFailure(c.op, err)
	}
	return s, nil
}

// readSession reads one session of a collection and decodes it.
func readSession[T any](h *HTTPClient, ctx context.Context, op, collection, sessionID string, decode func([]byte) (T, error)) (T, error) {
	var zero T
	p, err := resourcePath(op, collection, sessionID)
	if err != nil {
		return zero, err
	}
	resp, err := h.do(ctx, call{op: op, method: http.MethodGet, path: p, accept: acceptJSON})
	if err != nil {
		return zero, err
	}
	b, err := payload(op, resp, MaxJSONResponse)
	if err != nil {
		return zero, err
	}
	s, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("face %s: decoding response: %w", op, err)
	}
	return s, nil
}

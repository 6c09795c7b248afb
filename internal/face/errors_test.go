package face

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseResponseError(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   ResponseError
	}{
		{
			name: "face error body wins over header", status: 400,
			header: http.Header{"X-Ms-Error-Code": {"HeaderCode"}, "Apim-Request-Id": {"apim-1"}, "X-Ms-Request-Id": {"ms-1"}},
			body:   `{"error":{"code":"InvalidRequest","message":"deviceCorrelationId is required."}}`,
			want:   ResponseError{StatusCode: 400, Code: "InvalidRequest", Message: "deviceCorrelationId is required.", RequestID: "apim-1"},
		},
		{
			name: "empty body falls back to header", status: 403,
			header: http.Header{"X-Ms-Error-Code": {"PermissionDenied"}, "X-Ms-Request-Id": {"ms-2"}},
			want:   ResponseError{StatusCode: 403, Code: "PermissionDenied", Message: "Forbidden", RequestID: "ms-2"},
		},
		{
			name: "html body falls back to status text", status: 502,
			header: http.Header{"Content-Type": {"text/html"}},
			body:   `<html><body>Bad gateway</body></html>`,
			want:   ResponseError{StatusCode: 502, Code: "Bad Gateway", Message: "Bad Gateway"},
		},
		{
			name: "APIM top-level shape", status: 401,
			body: `{"statusCode":401,"message":"Access denied due to invalid subscription key."}`,
			want: ResponseError{StatusCode: 401, Code: "Unauthorized", Message: "Access denied due to invalid subscription key."},
		},
		{
			name: "numeric code", status: 429, header: http.Header{"Retry-After": {"3"}},
			body: `{"error":{"code":429,"message":"Rate limit is exceeded."}}`,
			want: ResponseError{StatusCode: 429, Code: "429", Message: "Rate limit is exceeded.", RetryAfter: 3 * time.Second},
		},
		{
			name: "error as string", status: 400, body: `{"error":"BadArgument"}`,
			want: ResponseError{StatusCode: 400, Code: "BadArgument", Message: "Bad Request"},
		},
		{
			name: "retry-after-ms wins", status: 429, header: http.Header{"Retry-After": {"5"}, "Retry-After-Ms": {"250"}},
			want: ResponseError{StatusCode: 429, Code: "Too Many Requests", Message: "Too Many Requests", RetryAfter: 250 * time.Millisecond},
		},
		{
			name: "garbage retry headers ignored", status: 503, header: http.Header{"Retry-After": {"soon"}, "Retry-After-Ms": {"-4"}},
			want: ResponseError{StatusCode: 503, Code: "Service Unavailable", Message: "Service Unavailable"},
		},
		{
			name: "unknown status", status: 599, body: `{}`,
			want: ResponseError{StatusCode: 599, Code: "HTTP 599", Message: "HTTP 599"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			got := parseResponseError("Op", tc.status, h, []byte(tc.body))
			tc.want.Operation = "Op"
			require.Equal(t, tc.want, *got)
			require.NotPanics(t, func() { _ = got.Error() })
		})
	}

	// Retry-After as an HTTP date.
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).UTC().Format(http.TimeFormat)}}
	d := parseRetryAfter(h, now)
	require.InDelta(t, float64(90*time.Second), float64(d), float64(time.Second))
	h = http.Header{"Retry-After": {now.Add(-time.Hour).UTC().Format(http.TimeFormat)}}
	require.Zero(t, parseRetryAfter(h, now), "a date in the past means no wait")
}

func TestResponseErrorThroughClient(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("apim-request-id", "req-123")
		w.Header().Set("x-ms-error-code", "InvalidRequest")
		respond(w, 400, `{"error":{"code":"InvalidRequest","message":"Invalid authTokenTimeToLiveInSeconds."}}`)
	})
	c := newTestClient(t, srv.URL)
	_, err := c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{
		LivenessOperationMode: "Passive", AuthTokenTimeToLiveInSeconds: ptr(int32(5)),
	})
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, ResponseError{
		Operation: "CreateLivenessSession", StatusCode: 400, Code: "InvalidRequest",
		Message: "Invalid authTokenTimeToLiveInSeconds.", RequestID: "req-123",
	}, *re)
	require.True(t, IsInvalidRequest(err))
	require.False(t, IsRetryable(err))
	require.Equal(t, "face CreateLivenessSession: HTTP 400 InvalidRequest: Invalid authTokenTimeToLiveInSeconds. (request id req-123)", err.Error())
}

func TestErrorClassification(t *testing.T) {
	re := func(status int) error {
		return &ResponseError{Operation: "Op", StatusCode: status, RetryAfter: 7 * time.Second}
	}
	transport := &TransportError{Operation: "Op", Err: errors.New("connection refused")}
	unknown := &TransportError{Operation: "Op", Err: errors.New("EOF"), OutcomeUnknown: true}
	credErr := fmt.Errorf("face Op: %w", &credentialError{err: errors.New("no identity")})

	type want struct{ notFound, throttled, retryable, invalid, credentials bool }
	cases := []struct {
		name string
		err  error
		want want
	}{
		{"nil", nil, want{}},
		{"plain", errors.New("boom"), want{}},
		{"400", re(400), want{invalid: true}},
		{"401", re(401), want{credentials: true}},
		{"403", re(403), want{credentials: true}},
		{"404", re(404), want{notFound: true}},
		{"408", re(408), want{retryable: true}},
		{"409", re(409), want{invalid: true}},
		{"413", re(413), want{invalid: true}},
		{"415", re(415), want{invalid: true}},
		{"422", re(422), want{invalid: true}},
		{"429", re(429), want{throttled: true, retryable: true}},
		{"500", re(500), want{retryable: true}},
		{"502", re(502), want{retryable: true}},
		{"503", re(503), want{retryable: true}},
		{"504", re(504), want{retryable: true}},
		{"wrapped 404", fmt.Errorf("reconcile: %w", re(404)), want{notFound: true}},
		{"wrapped 429", fmt.Errorf("reconcile: %w", re(429)), want{throttled: true, retryable: true}},
		{"transport", transport, want{retryable: true}},
		{"outcome unknown", unknown, want{retryable: true}},
		{"bare ErrOutcomeUnknown", fmt.Errorf("x: %w", ErrOutcomeUnknown), want{retryable: true}},
		{"ErrInvalidRequest", fmt.Errorf("x: %w", ErrInvalidRequest), want{invalid: true}},
		{"credential", credErr, want{credentials: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := want{IsNotFound(tc.err), IsThrottled(tc.err), IsRetryable(tc.err), IsInvalidRequest(tc.err), IsCredentials(tc.err)}
			require.Equal(t, tc.want, got)
		})
	}
	require.Equal(t, 7*time.Second, RetryAfter(fmt.Errorf("w: %w", re(429))))
	require.Zero(t, RetryAfter(transport))
	require.Zero(t, RetryAfter(nil))
	require.ErrorIs(t, unknown, ErrOutcomeUnknown)
	require.NotErrorIs(t, transport, ErrOutcomeUnknown)
}

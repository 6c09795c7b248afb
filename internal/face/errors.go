package face

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrOutcomeUnknown is in the chain of a create error when the request may have reached the
// service but no answer was received (connection lost or timed out after it was established).
// The session may exist; creating again blindly could leak a second live session, so callers
// should reconcile (or let the auth-token TTL bound the damage) instead.
var ErrOutcomeUnknown = errors.New("face: outcome unknown: the request may have reached the service")

// ErrInvalidRequest is in the chain of errors for arguments rejected before sending (empty
// session id, missing verify image...). IsInvalidRequest reports true for them: retrying cannot help.
var ErrInvalidRequest = errors.New("face: invalid request")

// ResponseError is returned for every non-2xx answer from the service.
type ResponseError struct {
	Operation  string        // e.g. "CreateLivenessSession"
	StatusCode int           // HTTP status
	Code       string        // Face error code: body error.code, else x-ms-error-code, else HTTP status text
	Message    string        // Face error message (HTTP status text when the body has none)
	RetryAfter time.Duration // from retry-after-ms or Retry-After (seconds or HTTP date); 0 if absent
	RequestID  string        // apim-request-id, else x-ms-request-id, if present
}

// Error renders the status, code, message and request id; it never includes the response body
// verbatim or any request header.
func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "face %s: HTTP %d", e.Operation, e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" && e.Message != e.Code {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// TransportError is a call that got no HTTP answer: connection refused or reset, timeout, or a
// cancelled context. OutcomeUnknown is set only for creates that may have reached the service;
// then ErrOutcomeUnknown is also in the chain.
type TransportError struct {
	Operation      string // e.g. "CreateLivenessSession"
	OutcomeUnknown bool   // a create may have happened although no answer arrived
	Err            error  // the underlying net/http or context error
}

// Error describes the failure and, for creates, whether it may have happened anyway.
func (e *TransportError) Error() string {
	if e.OutcomeUnknown {
		return fmt.Sprintf("face %s: no response, the session may have been created: %v", e.Operation, e.Err)
	}
	return fmt.Sprintf("face %s: transport error: %v", e.Operation, e.Err)
}

// Unwrap exposes the underlying error and, when set, ErrOutcomeUnknown to errors.Is/As.
func (e *TransportError) Unwrap() []error {
	if e.OutcomeUnknown {
		return []error{ErrOutcomeUnknown, e.Err}
	}
	return []error{e.Err}
}

func parseResponseError(op string, status int, h http.Header, body []byte) *ResponseError {
	e := &ResponseError{Operation: op, StatusCode: status}
	e.Code, e.Message = parseErrorBody(body)
	if e.Code == "" {
		e.Code = strings.TrimSpace(h.Get("x-ms-error-code"))
	}
	statusText := http.StatusText(status)
	if statusText == "" {
		statusText = "HTTP " + strconv.Itoa(status)
	}
	if e.Code == "" {
		e.Code = statusText
	}
	if e.Message == "" {
		e.Message = statusText
	}
	e.RetryAfter = parseRetryAfter(h, time.Now())
	e.RequestID = h.Get("apim-request-id")
	if e.RequestID == "" {
		e.RequestID = h.Get("x-ms-request-id")
	}
	return e
}

// parseErrorBody reads {"error":{"code","message"}} (the Face shape) and falls back to top-level
// code/message (the shape APIM gateways use for 401/429). Codes sent as numbers are kept as text.
func parseErrorBody(body []byte) (code, message string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	if raw, ok := top["error"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil {
			code, message = rawText(inner["code"]), rawText(inner["message"])
		} else {
			code = rawText(raw) // {"error":"SomeCode"}
		}
	}
	if code == "" {
		code = rawText(top["code"])
	}
	if message == "" {
		message = rawText(top["message"])
	}
	return code, message
}

// maxErrorText bounds how much of an unexpected error field ends up in an error string.
const maxErrorText = 512

// rawText returns a JSON string's value, or the compact text of any other scalar.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return truncate(strings.TrimSpace(s))
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return "" // null, objects and arrays carry no usable code or message
}

func truncate(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorText], "") + "..."
}

// parseRetryAfter reads the server's requested delay, preferring millisecond precision.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	for _, name := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < float64(time.Duration(1<<62)/time.Millisecond) {
				return time.Duration(ms * float64(time.Millisecond))
			}
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < float64(time.Duration(1<<62)/time.Second) {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func asResponseError(err error) (*ResponseError, bool) {
	var re *ResponseError
	ok := errors.As(err, &re)
	return re, ok
}

// IsNotFound reports a 404. For deletes callers treat it as "already gone".
func IsNotFound(err error) bool {
	re, ok := asResponseError(err)
	return ok && re.StatusCode == http.StatusNotFound
}

// IsThrottled reports a 429.
func IsThrottled(err error) bool {
	re, ok := asResponseError(err)
	return ok && re.StatusCode == http.StatusTooManyRequests
}

// RetryAfter returns the delay the service asked for, or 0 when it gave none.
func RetryAfter(err error) time.Duration {
	if re, ok := asResponseError(err); ok {
		return re.RetryAfter
	}
	return 0
}

// IsRetryable reports failures that may succeed later: 408, 429, 5xx, transport errors and
// ErrOutcomeUnknown. For ErrOutcomeUnknown the caller must reconcile before creating again.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if re, ok := asResponseError(err); ok {
		return re.StatusCode == http.StatusRequestTimeout || re.StatusCode == http.StatusTooManyRequests ||
			re.StatusCode >= 500
	}
	var te *TransportError
	return errors.As(err, &te) || errors.Is(err, ErrOutcomeUnknown)
}

// IsInvalidRequest reports terminal request errors: any 4xx other than 401, 403, 404, 408 and
// 429, and arguments rejected before sending. Retrying the same request cannot succeed.
func IsInvalidRequest(err error) bool {
	if errors.Is(err, ErrInvalidRequest) {
		return true
	}
	re, ok := asResponseError(err)
	if !ok || re.StatusCode < 400 || re.StatusCode >= 500 {
		return false
	}
	switch re.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound,
		http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return true
}

// IsCredentials reports 401/403 and failures to obtain an Entra ID token: fixing them needs a
// configuration change (key, role assignment, identity), not a retry.
func IsCredentials(err error) bool {
	var ce *credentialError
	if errors.As(err, &ce) {
		return true
	}
	re, ok := asResponseError(err)
	return ok && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden)
}

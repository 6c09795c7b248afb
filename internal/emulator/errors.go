package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes sent in error.code and x-ms-error-code. The Face service documents its
// catalogue only by link; these names follow it where it is known (BadArgument,
// InvalidImage, InvalidImageSize) and otherwise say plainly what is wrong.
const (
	codeBadArgument          = "BadArgument"
	codeInvalidImage         = "InvalidImage"
	codeInvalidImageSize     = "InvalidImageSize"
	codeUnsupportedMediaType = "UnsupportedMediaType"
	codeRequestTooLarge      = "RequestEntityTooLarge"
	codeSessionNotFound      = "SessionNotFound"
	codeSessionImageNotFound = "SessionImageNotFound"
	codeNotFound             = "404"
	codeUnauthorized         = "401"
	codeRateLimited          = "429"
	codeInternalServerError  = "InternalServerError"
	codeServiceUnavailable   = "ServiceUnavailable"

	// Codes of the /emulator/attempts side door (the end user's device).
	codeInvalidAuthToken    = "InvalidAuthToken"
	codeAuthTokenExpired    = "AuthTokenExpired"
	codeAuthTokenRevoked    = "AuthTokenRevoked"
	codeAttemptLimitReached = "AttemptLimitReached"
)

// msgUnauthorized is the body Cognitive Services (API Management) sends for a wrong or
// missing key, word for word.
const msgUnauthorized = "Access denied due to invalid subscription key or wrong API endpoint. " +
	"Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."

// apiError is an error that knows its HTTP status and Face error code.
type apiError struct {
	status  int
	code    string
	message string
	// retryAfter, when > 0, is sent as the Retry-After header (whole seconds).
	retryAfter int
}

// Error formats the error as "status code: message".
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message) }

func badArgument(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadArgument, message: fmt.Sprintf(format, args...)}
}

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// writeError sends the spec's FaceErrorResponse body with the x-ms-error-code header.
func writeError(w http.ResponseWriter, e *apiError) {
	h := w.Header()
	h.Set("x-ms-error-code", e.code)
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, wireError{Error: wireErrorBody{Code: e.code, Message: e.message}})
}

// writeJSON marshals v first so that Content-Length is exact and a marshalling bug
// cannot produce a half-written 200.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"InternalServerError","message":"emulator failed to encode its response"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

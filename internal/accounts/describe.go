package accounts

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// Retry timing shared by the session and account controllers.
const (
	// RetryMin is the shortest wait before retrying a failed Face call.
	RetryMin = time.Second
	// CredentialsRetry is how often rejected credentials are tried again: a fixed key is
	// picked up without a human having to touch every session.
	CredentialsRetry = 2 * time.Minute
)

// MaxRetryAfter caps how long a Face Retry-After may delay a retry: Face's windows are at most a
// minute, and a longer one is more likely a bad (or hostile) header than a request to stop for
// hours. It is the quota limiter's pause cap too.
const MaxRetryAfter = quota.MaxPause

// RetryAfter is Face's Retry-After on err, capped at MaxRetryAfter and at least RetryMin.
func RetryAfter(err error) time.Duration {
	return min(max(face.RetryAfter(err), RetryMin), MaxRetryAfter)
}

// DescribeFaceError is a short, stable description of a Face failure for a condition message:
// the HTTP status and Face's code and message, never a request id (it would change the message
// on every retry and cause a status write each time) and never a credential.
func DescribeFaceError(err error) string {
	var re *face.ResponseError
	if errors.As(err, &re) {
		s := fmt.Sprintf("HTTP %d %s", re.StatusCode, http.StatusText(re.StatusCode))
		if re.Code != "" {
			s += ": " + re.Code
		}
		if re.Message != "" {
			s += ": " + re.Message
		}
		return s
	}
	if errors.Is(err, face.ErrOutcomeUnknown) {
		return "no answer after the request was sent"
	}
	if errors.Is(err, face.ErrResponseTooLarge) {
		return "the answer was larger than Face's ever are (over 1 MiB of JSON or 8 MiB of image): the endpoint does not behave like Face"
	}
	if errors.Is(err, quota.ErrWaitAborted) {
		return "not sent: the account's request quota had no room in time"
	}
	return "no answer from Face"
}

package face

import (
	"encoding/json"
	"net/http"
	"testing"
)

// seedBodies adds the response bodies of the GA examples whose operation matches one of ops.
func seedBodies(f *testing.F, ops ...string) {
	f.Helper()
	for _, file := range gaExampleFiles(f, examplesDir) {
		ex := loadExample(f, file)
		for _, op := range ops {
			if ex.OperationID == op {
				_, body := ex.only(f)
				f.Add([]byte(body))
			}
		}
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `{"sessionId":""}`, `{"sessionId":"x","results":null}`,
		`{"sessionId":"x","results":{"attempts":[{"attemptId":-1},{"attemptId":2147483647,"result":{}}]}}`,
		`{"sessionId":"x","results":{"attempts":[{"attemptId":1e3}]}}`, `{"sessionId":1}`, "\xff\xfe"} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeLivenessSession checks that no response body can make session parsing, or the
// helpers the controller calls on the result, panic.
func FuzzDecodeLivenessSession(f *testing.F) {
	seedBodies(f, "LivenessSessionOperations_CreateLivenessSession", "LivenessSessionOperations_GetLivenessSessionResult")
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeLivenessSession(body)
		if err != nil {
			return
		}
		if s.SessionID == "" {
			t.Fatal("decoded a session without an id")
		}
		_ = s.String()
		_ = s.Status.IsTerminal()
		if a := s.LatestAttempt(); a != nil {
			_ = a.AttemptStatus.IsTerminal()
			if a.Result != nil {
				_ = a.Result.LivenessDecision.Normalized()
			}
		}
	})
}

// FuzzDecodeLivenessWithVerifySession does the same for with-verify sessions.
func FuzzDecodeLivenessWithVerifySession(f *testing.F) {
	seedBodies(f, "LivenessSessionOperations_CreateLivenessWithVerifySession", "LivenessSessionOperations_GetLivenessWithVerifySessionResult")
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeLivenessWithVerifySession(body)
		if err != nil {
			return
		}
		_ = s.String()
		for _, r := range s.Results.VerifyReferences {
			_ = r.ReferenceType.Is(ImageTypeColor)
		}
		if a := s.LatestAttempt(); a != nil && a.Result != nil {
			_ = a.Result.LivenessDecision.Normalized()
			_ = a.Result.VerifyResult
		}
	})
}

// FuzzDecodeDetectResults covers the detect response.
func FuzzDecodeDetectResults(f *testing.F) {
	seedBodies(f, "FaceDetectionOperations_DetectFromSessionImageId")
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = decodeDetectResults(body)
	})
}

// FuzzDecodeError checks that no error body or header value can make error parsing or the
// classifiers panic, and that a ResponseError always has a code and message.
func FuzzDecodeError(f *testing.F) {
	raw, _ := json.Marshal(map[string]any{"error": map[string]string{"code": "InvalidRequest", "message": "bad"}})
	f.Add(400, raw, "1", "Code", "req")
	f.Add(429, []byte(`{"statusCode":429,"message":"Rate limit"}`), "Wed, 21 Oct 2015 07:28:00 GMT", "", "")
	f.Add(503, []byte(`<html>`), "-1", "x", "")
	f.Add(0, []byte(`{"error":{"code":{"a":1},"message":[1]}}`), "1e400", "", "")
	f.Add(404, []byte(`{"error":null,"code":12.5}`), "", "", "")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter, errCode, reqID string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("retry-after-ms", retryAfter)
		h.Set("x-ms-error-code", errCode)
		h.Set("apim-request-id", reqID)
		e := parseResponseError("Op", status, h, body)
		if e.Code == "" || e.Message == "" {
			t.Fatalf("empty code or message: %+v", e)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %s", e.RetryAfter)
		}
		_ = e.Error()
		for _, fn := range []func(error) bool{IsNotFound, IsThrottled, IsRetryable, IsInvalidRequest, IsCredentials} {
			_ = fn(e)
		}
		_ = RetryAfter(e)
	})
}

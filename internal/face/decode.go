package face

import (
	"encoding/json"
	"errors"
)

// The decoders are separate from the HTTP code so the fuzz targets exercise exactly what the
// client runs on a response body. encoding/json ignores unknown fields, which is what keeps the
// client working when the service adds fields (v1.3 adds several).

var errMissingSessionID = errors.New("response has no sessionId")

func decodeLivenessSession(body []byte) (*LivenessSession, error) {
	var s LivenessSession
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	if s.SessionID == "" {
		return nil, errMissingSessionID
	}
	return &s, nil
}

func decodeLivenessWithVerifySession(body []byte) (*LivenessWithVerifySession, error) {
	var s LivenessWithVerifySession
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, err
	}
	if s.SessionID == "" {
		return nil, errMissingSessionID
	}
	return &s, nil
}

func decodeDetectResults(body []byte) ([]FaceDetectionResult, error) {
	var out []FaceDetectionResult
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	return out, nil
}

package face

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

const (
	sessionImages = "/sessionImages"
	detectPath    = "/detect"
)

// GetSessionImage downloads the image stored for a session (GET /sessionImages/{id}); the id
// comes from LivenessResult.SessionImageID and is opaque. Retried on transient failures.
func (h *HTTPClient) GetSessionImage(ctx context.Context, sessionImageID string) ([]byte, error) {
	op := opGetSessionImage
	p, err := resourcePath(op, sessionImages, sessionImageID)
	if err != nil {
		return nil, err
	}
	// The operation produces the image on success and JSON on error.
	resp, err := h.do(ctx, call{op: op, method: http.MethodGet, path: p, accept: "application/octet-stream, application/json"})
	if err != nil {
		return nil, err
	}
	return payload(op, resp, MaxImageResponse)
}

// DetectFromSessionImageID runs face detection on a stored session image
// (POST /detect with {"sessionImageId": ...}). Being a POST it is not retried automatically.
func (h *HTTPClient) DetectFromSessionImageID(ctx context.Context, sessionImageID string, opts DetectOptions) ([]FaceDetectionResult, error) {
	op := opDetectFromSessionImageID
	if sessionImageID == "" {
		return nil, fmt.Errorf("face %s: %w: sessionImageId is required", op, ErrInvalidRequest)
	}
	body, err := json.Marshal(struct {
		SessionImageID string `json:"sessionImageId"`
	}{sessionImageID})
	if err != nil {
		return nil, fmt.Errorf("face %s: %w: %v", op, ErrInvalidRequest, err)
	}
	resp, err := h.do(ctx, call{
		op: op, method: http.MethodPost, path: detectPath, query: opts.query(), accept: acceptJSON,
		body: body, contentType: "application/json",
	})
	if err != nil {
		return nil, err
	}
	b, err := payload(op, resp, MaxJSONResponse)
	if err != nil {
		return nil, err
	}
	out, err := decodeDetectResults(b)
	if err != nil {
		return nil, fmt.Errorf("face %s: decoding response: %w", op, err)
	}
	return out, nil
}

// query renders only the options that are set, so the service defaults apply to the rest.
func (o DetectOptions) query() url.Values {
	q := url.Values{}
	if o.DetectionModel != "" {
		q.Set("detectionModel", o.DetectionModel)
	}
	if o.RecognitionModel != "" {
		q.Set("recognitionModel", o.RecognitionModel)
	}
	setBool := func(name string, v *bool) {
		if v != nil {
			q.Set(name, strconv.FormatBool(*v))
		}
	}
	setBool("returnFaceId", o.ReturnFaceID)
	setBool("returnFaceLandmarks", o.ReturnFaceLandmarks)
	setBool("returnRecognitionModel", o.ReturnRecognitionModel)
	if csv := trimmedCSV(o.ReturnFaceAttributes); csv != "" {
		q.Set("returnFaceAttributes", csv)
	}
	if o.FaceIDTimeToLive != nil {
		q.Set("faceIdTimeToLive", strconv.FormatInt(int64(*o.FaceIDTimeToLive), 10))
	}
	return q
}

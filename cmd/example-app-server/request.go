package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // Face accepts GIF,
	_ "image/jpeg" // JPEG,
	_ "image/png"  // PNG
	"io"
	"mime"
	"net/http"

	_ "golang.org/x/image/bmp" // and BMP reference images
)

// maxReferenceImageBytes is Face's limit for a reference image (6 MB).
const maxReferenceImageBytes = 6 << 20

// maxCreateBodyBytes fits a 6 MB image in base64 and the JSON around it; a larger body is
// refused before it is read into memory.
const maxCreateBodyBytes = (maxReferenceImageBytes+2)/3*4 + 4096

// createRequest is the optional body of POST /api/liveness-sessions.
type createRequest struct {
	// Verify asks for a liveness-with-verify session.
	Verify bool `json:"verify"`
	// ReferenceImage is the reference image, standard base64 (verify sessions only).
	ReferenceImage string `json:"referenceImage"`
}

// decodeCreate reads and checks the create body. It returns the reference image's bytes for
// a verify session, nil for a plain one. The checks here are only those the API needs to
// refuse bad input itself (JSON, base64, size, "is it an image at all"); Face's finer limits
// (bytes, pixels, a damaged file) are the operator's, whose reason reaches the caller as a 502.
func decodeCreate(w http.ResponseWriter, r *http.Request) (verify bool, img []byte, err *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, perr := mime.ParseMediaType(ct); perr != nil || mt != "application/json" {
			return false, nil, &apiError{http.StatusUnsupportedMediaType, "UnsupportedMediaType", "send the body as application/json"}
		}
	}
	body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCreateBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(rerr, &tooLarge):
		return false, nil, &apiError{http.StatusRequestEntityTooLarge, "RequestTooLarge",
			fmt.Sprintf("the body is over %d bytes; a reference image may be at most 6 MB", maxCreateBodyBytes)}
	case rerr != nil:
		return false, nil, &apiError{http.StatusBadRequest, "InvalidRequest", "could not read the body"}
	}
	var req createRequest
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&req); derr != nil {
			return false, nil, &apiError{http.StatusBadRequest, "InvalidJSON", "the body is not the expected JSON: " + derr.Error()}
		}
		if dec.More() {
			return false, nil, &apiError{http.StatusBadRequest, "InvalidJSON", "the body has data after the JSON object"}
		}
	}
	switch {
	case !req.Verify && req.ReferenceImage != "":
		return false, nil, &apiError{http.StatusBadRequest, "InvalidRequest", `"referenceImage" is only for verify sessions: add "verify": true`}
	case !req.Verify:
		return false, nil, nil
	case req.ReferenceImage == "":
		return false, nil, &apiError{http.StatusBadRequest, "InvalidRequest", `a verify session needs "referenceImage" (the image, base64)`}
	}
	img, derr := base64.StdEncoding.DecodeString(req.ReferenceImage)
	if derr != nil {
		return false, nil, &apiError{http.StatusBadRequest, "InvalidRequest", `"referenceImage" is not standard base64`}
	}
	if len(img) > maxReferenceImageBytes {
		return false, nil, &apiError{http.StatusRequestEntityTooLarge, "ReferenceImageTooLarge",
			fmt.Sprintf("the reference image is %.1f MB; Face accepts at most 6 MB", float64(len(img))/(1<<20))}
	}
	if _, _, cerr := image.DecodeConfig(bytes.NewReader(img)); cerr != nil {
		return false, nil, &apiError{http.StatusBadRequest, "NotAnImage", "the reference image is not a PNG, JPEG, BMP or GIF image"}
	}
	return true, img, nil
}

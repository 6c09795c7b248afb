package face

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"strconv"
)

// defaultVerifyImageFilename is used when the caller gives none: the service requires the
// verifyImage part to carry a filename, but its value is not interpreted.
const defaultVerifyImageFilename = "verifyImage"

// encodeLivenessWithVerifyForm builds the multipart/form-data body of the with-verify create.
// Each set field is one part named exactly as the spec's lower-camel-case field; unset optional
// fields are omitted so the service applies its defaults. Values are plain text: booleans as
// true/false, numbers as decimal.
func encodeLivenessWithVerifyForm(req CreateLivenessWithVerifySessionRequest) (body []byte, contentType string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	field := func(name, value string) {
		if err == nil {
			err = w.WriteField(name, value)
		}
	}
	boolField := func(name string, v *bool) {
		if v != nil {
			field(name, strconv.FormatBool(*v))
		}
	}
	strField := func(name, v string) {
		if v != "" {
			field(name, v)
		}
	}

	// Order follows the spec's parameter list; multipart order carries no meaning.
	strField("livenessOperationMode", string(req.LivenessOperationMode))
	boolField("deviceCorrelationIdSetInClient", req.DeviceCorrelationIDSetInClient)
	boolField("enableSessionImage", req.EnableSessionImage)
	strField("livenessModelVersion", req.LivenessModelVersion)
	boolField("returnVerifyImageHash", req.ReturnVerifyImageHash)
	if req.VerifyConfidenceThreshold != nil {
		// 'f' with precision -1: shortest exact decimal, never exponent notation.
		field("verifyConfidenceThreshold", strconv.FormatFloat(*req.VerifyConfidenceThreshold, 'f', -1, 64))
	}
	if err == nil {
		name := req.VerifyImageFilename
		if name == "" {
			name = defaultVerifyImageFilename
		}
		// CreateFormFile sets Content-Disposition with the (quote-escaped) filename the spec
		// requires, and Content-Type application/octet-stream.
		var part io.Writer
		if part, err = w.CreateFormFile("verifyImage", name); err == nil {
			_, err = part.Write(req.VerifyImage)
		}
	}
	strField("deviceCorrelationId", req.DeviceCorrelationID)
	if req.AuthTokenTimeToLiveInSeconds != nil {
		field("authTokenTimeToLiveInSeconds", strconv.FormatInt(int64(*req.AuthTokenTimeToLiveInSeconds), 10))
	}
	// v1.3-preview.1 (checkCreate has refused them on a v1.2 client). numberOfClientAttemptsAllowed
	// is the spec's last part; userCorrelationId is not in the spec but the service is reported
	// to require it (LIVENESS-API-v1.3.md §8), so it is sent when given.
	if req.NumberOfClientAttemptsAllowed != nil {
		field("numberOfClientAttemptsAllowed", strconv.FormatInt(int64(*req.NumberOfClientAttemptsAllowed), 10))
	}
	strField("userCorrelationId", req.UserCorrelationID)
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, "", fmt.Errorf("encoding multipart body: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

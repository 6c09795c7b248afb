package emulator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Session images and POST /detect on them (the DetectFromSessionImageId overload).

// imageRef is what rendering and detecting a session image needs.
type imageRef struct {
	rect     wireFaceRectangle
	decision string
}

// findImage resolves a session image id while its session is still visible.
func (s *Server) findImage(imageID string, now time.Time) (imageRef, bool) {
	sess := s.store.Load().byImage.get(imageID)
	if sess == nil {
		return imageRef{}, false
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if !sess.visibleLocked(now) {
		return imageRef{}, false
	}
	for _, a := range sess.attempts {
		if a.imageID == imageID {
			return imageRef{rect: a.faceRect, decision: a.wire.Result.LivenessDecision}, true
		}
	}
	return imageRef{}, false
}

func sessionImageNotFound(id string) *apiError {
	return newAPIError(http.StatusNotFound, codeSessionImageNotFound,
		"Session image '%s' was not found. Session images exist only for attempts of sessions created with enableSessionImage=true, until the session is deleted or expires.", id)
}

// getSessionImage serves the image bytes as application/octet-stream, the first
// media type the spec lists for this operation.
func (s *Server) getSessionImage(w *recorder, r *http.Request, c call) {
	ref, ok := s.findImage(c.id, c.now)
	if !ok {
		writeError(w, sessionImageNotFound(c.id))
		return
	}
	b, err := renderSessionImage(ref.rect, ref.decision)
	if err != nil {
		writeError(w, injected500())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// Enum values of the detect query parameters.
var (
	detectionModels   = []string{"detection_01", "detection_02", "detection_03"}
	recognitionModels = []string{"recognition_01", "recognition_02", "recognition_03", "recognition_04"}
	faceAttributes    = []string{"headPose", "glasses", "occlusion", "accessories", "blur", "exposure", "noise", "mask", "qualityForRecognition", "age", "smile", "facialHair", "hair"}
	// attributesByDetectionModel follows the service's documented support matrix:
	// detection_02 returns no attributes, detection_03 only blur, headPose, mask and
	// qualityForRecognition, and mask needs detection_03.
	attributesByDetectionModel = map[string][]string{
		"detection_01": {"headPose", "glasses", "occlusion", "accessories", "blur", "exposure", "noise", "qualityForRecognition", "age", "smile", "facialHair", "hair"},
		"detection_02": {},
		"detection_03": {"headPose", "blur", "mask", "qualityForRecognition"},
	}
)

// detectOptions are the validated query parameters.
type detectOptions struct {
	detectionModel         string
	recognitionModel       string
	returnFaceID           bool
	returnFaceLandmarks    bool
	returnRecognitionModel bool
	attributes             []string
}

func parseDetectQuery(q url.Values) (detectOptions, *apiError) {
	o := detectOptions{detectionModel: "detection_01", recognitionModel: "recognition_01", returnFaceID: true}
	var e *apiError
	if o.detectionModel, e = queryEnum(q, "detectionModel", o.detectionModel, detectionModels); e != nil {
		return o, e
	}
	if o.recognitionModel, e = queryEnum(q, "recognitionModel", o.recognitionModel, recognitionModels); e != nil {
		return o, e
	}
	if o.returnFaceID, e = queryBool(q, "returnFaceId", true); e != nil {
		return o, e
	}
	if o.returnFaceLandmarks, e = queryBool(q, "returnFaceLandmarks", false); e != nil {
		return o, e
	}
	if o.returnRecognitionModel, e = queryBool(q, "returnRecognitionModel", false); e != nil {
		return o, e
	}
	if v := q.Get("faceIdTimeToLive"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 || n > 86400 {
			return o, badArgument("Query parameter 'faceIdTimeToLive' must be an integer between 60 and 86400 seconds (got '%s').", v)
		}
	}
	if v := q.Get("returnFaceAttributes"); v != "" {
		supported := attributesByDetectionModel[o.detectionModel]
		for _, a := range strings.Split(v, ",") {
			a = strings.TrimSpace(a)
			if !slices.Contains(faceAttributes, a) {
				return o, badArgument("Query parameter 'returnFaceAttributes' has invalid value '%s'; allowed values: %s.", a, strings.Join(faceAttributes, ", "))
			}
			if !slices.Contains(supported, a) {
				return o, badArgument("Face attribute '%s' is not supported by detectionModel '%s'; it supports: %s.", a, o.detectionModel, orNone(supported))
			}
			if a == "qualityForRecognition" && o.recognitionModel != "recognition_03" && o.recognitionModel != "recognition_04" {
				return o, badArgument("Face attribute 'qualityForRecognition' requires recognitionModel 'recognition_03' or 'recognition_04' (got '%s').", o.recognitionModel)
			}
			if !slices.Contains(o.attributes, a) {
				o.attributes = append(o.attributes, a)
			}
		}
	}
	if o.returnFaceLandmarks && o.detectionModel == "detection_02" {
		return o, badArgument("'returnFaceLandmarks' is not supported by detectionModel 'detection_02'; use detection_01 or detection_03.")
	}
	return o, nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func queryEnum(q url.Values, name, def string, allowed []string) (string, *apiError) {
	v, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(v) != 1 || !slices.Contains(allowed, v[0]) {
		return "", badArgument("Query parameter '%s' has invalid value '%s'; allowed values: %s.", name, strings.Join(v, ","), strings.Join(allowed, ", "))
	}
	return v[0], nil
}

func queryBool(q url.Values, name string, def bool) (bool, *apiError) {
	v, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(v) == 1 {
		switch strings.ToLower(v[0]) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, badArgument("Query parameter '%s' must be 'true' or 'false' (got '%s').", name, strings.Join(v, ","))
}

// detect implements FaceDetectionOperations_DetectFromSessionImageId. Only that
// overload of POST /detect is emulated; the URL and raw-image overloads are refused
// with a message that says so.
func (s *Server) detect(w *recorder, r *http.Request, c call) {
	opts, e := parseDetectQuery(r.URL.Query())
	if e != nil {
		writeError(w, e)
		return
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/octet-stream") {
		writeError(w, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"The emulator implements only the DetectFromSessionImageId overload of POST /detect (JSON body {\"sessionImageId\": ...}); detecting from raw image bytes is not emulated."))
		return
	}
	m, e := decodeJSONObject(r)
	if e != nil {
		writeError(w, e)
		return
	}
	id, e := jsonString(m, "sessionImageId")
	if e != nil {
		writeError(w, e)
		return
	}
	if id == nil || *id == "" {
		if _, hasURL := m["url"]; hasURL {
			writeError(w, badArgument("The emulator implements only the DetectFromSessionImageId overload of POST /detect; the 'url' overload (DetectFromUrl) is not emulated."))
			return
		}
		writeError(w, badArgument("Field 'sessionImageId' is required."))
		return
	}
	ref, ok := s.findImage(*id, c.now)
	if !ok {
		writeError(w, sessionImageNotFound(*id))
		return
	}
	res := wireDetectionResult{FaceRectangle: ref.rect}
	if opts.returnFaceID {
		res.FaceID = newUUID()
	}
	if opts.returnRecognitionModel {
		res.RecognitionModel = opts.recognitionModel
	}
	if opts.returnFaceLandmarks {
		lm := landmarksFor(ref.rect)
		res.FaceLandmarks = &lm
	}
	if len(opts.attributes) > 0 {
		res.FaceAttributes = attributesFor(ref.rect, opts.attributes)
	}
	writeJSON(w, http.StatusOK, []wireDetectionResult{res})
}

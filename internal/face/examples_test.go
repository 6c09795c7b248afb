package face

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	// examplesDir is the repository's one copy of the published examples (see its README).
	examplesDir   = "../../test/testdata/face-api-examples"
	legacyDirName = "legacy-pre-ga"
	// v13DirName holds the v1.3-preview.1 examples, replayed by examples_v13_test.go.
	v13DirName = "v1.3-preview.1"
)

// example is the x-ms-examples file format.
type example struct {
	OperationID string                     `json:"operationId"`
	Parameters  map[string]json.RawMessage `json:"parameters"`
	Responses   map[string]struct {
		Body json.RawMessage `json:"body"`
	} `json:"responses"`
}

func loadExample(t testing.TB, path string) example {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var ex example
	require.NoError(t, json.Unmarshal(raw, &ex), path)
	require.Len(t, ex.Responses, 1, "%s: one response per example", path)
	return ex
}

// only returns the single response of the example.
func (ex example) only(t testing.TB) (int, json.RawMessage) {
	t.Helper()
	for k, v := range ex.Responses {
		status, err := strconv.Atoi(k)
		require.NoError(t, err)
		return status, v.Body
	}
	t.Fatal("no response")
	return 0, nil
}

func (ex example) param(t testing.TB, name string, into any) {
	t.Helper()
	raw, ok := ex.Parameters[name]
	require.True(t, ok, "parameter %s", name)
	require.NoError(t, json.Unmarshal(raw, into))
}

// gaExampleFiles lists the GA examples: top level and variants/, not legacy-pre-ga.
func gaExampleFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == legacyDirName || d.Name() == v13DirName) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	}))
	sort.Strings(files)
	return files
}

func TestReplayExamples(t *testing.T) {
	files := gaExampleFiles(t, examplesDir)
	require.Len(t, files, 9, "8 top-level examples + 1 variant")
	seen := map[string]int{}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, examplesDir+"/"), func(t *testing.T) {
			ex := loadExample(t, file)
			status, body := ex.only(t)
			check, ok := exampleChecks[ex.OperationID]
			require.True(t, ok, "no replay check for %s", ex.OperationID)
			seen[ex.OperationID]++

			// The session-image example's body is a JSON string standing for the image bytes.
			var image string
			isImage := ex.OperationID == "LivenessSessionOperations_GetSessionImage"
			if isImage {
				require.NoError(t, json.Unmarshal(body, &image))
			}
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if isImage {
					w.Header().Set("Content-Type", "application/octet-stream")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(image))
					return
				}
				if len(body) > 0 {
					respond(w, status, string(body))
					return
				}
				w.WriteHeader(status)
			})
			c := newTestClient(t, srv.URL)
			check(t, c, ex, srv)

			reqs := srv.requests()
			require.Len(t, reqs, 1, "exactly one request per example")
			require.Equal(t, testAPIKey, reqs[0].Header.Get(APIKeyHeader))
		})
	}
	require.Len(t, seen, 8, "all eight GA operations replayed")
}

var exampleChecks = map[string]func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer){
	"LivenessSessionOperations_CreateLivenessSession": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var req CreateLivenessSessionRequest
		ex.param(t, "body", &req)
		s, err := c.CreateLivenessSession(context.Background(), req)
		require.NoError(t, err)

		r := srv.requests()[0]
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/face/v1.2/detectLiveness-sessions", r.Path)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.JSONEq(t, string(ex.Parameters["body"]), string(r.Body))

		require.Equal(t, "b12e033e-bda7-4b83-a211-e721c661f30e", s.SessionID)
		require.Equal(t, "eyJhbGciOiJFUzI1NiIsIm", s.AuthToken)
		require.True(t, s.Status.Is(OperationStateNotStarted))
		require.False(t, s.Status.IsTerminal())
		require.Equal(t, LivenessModelVersion20241115, s.ModelVersion)
		require.Empty(t, s.Results.Attempts)
		require.Nil(t, s.LatestAttempt())
	},
	"LivenessSessionOperations_CreateLivenessWithVerifySession": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var mode, devID, image string
		var setInClient bool
		var ttl int32
		ex.param(t, "livenessOperationMode", &mode)
		ex.param(t, "deviceCorrelationIdSetInClient", &setInClient)
		ex.param(t, "deviceCorrelationId", &devID)
		ex.param(t, "authTokenTimeToLiveInSeconds", &ttl)
		ex.param(t, "verifyImage", &image)
		s, err := c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{
			CreateLivenessSessionRequest: CreateLivenessSessionRequest{
				LivenessOperationMode:          LivenessOperationMode(mode),
				DeviceCorrelationIDSetInClient: &setInClient,
				DeviceCorrelationID:            devID,
				AuthTokenTimeToLiveInSeconds:   &ttl,
			},
			VerifyImage: []byte(image),
		})
		require.NoError(t, err)

		r := srv.requests()[0]
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/face/v1.2/detectLivenessWithVerify-sessions", r.Path)
		parts := readParts(t, r)
		require.Equal(t, map[string]string{
			"livenessOperationMode":          "Passive",
			"deviceCorrelationIdSetInClient": "false",
			"deviceCorrelationId":            "your_device_correlation_id",
			"authTokenTimeToLiveInSeconds":   "60",
			"verifyImage":                    "<your-image-bytes-here>",
		}, parts.values)
		require.Equal(t, "verifyImage", parts.filenames["verifyImage"])

		require.Equal(t, "b12e033e-bda7-4b83-a211-e721c661f30e", s.SessionID)
		require.Equal(t, "eyJhbGciOiJFUzI1NiIsIm", s.AuthToken)
		require.True(t, s.Status.Is(OperationStateNotStarted))
		require.Empty(t, s.Results.Attempts)
		require.Len(t, s.Results.VerifyReferences, 1)
		ref := s.Results.VerifyReferences[0]
		require.Equal(t, ImageType("image"), ref.ReferenceType, "unknown enum value kept as sent")
		require.False(t, ref.ReferenceType.Is(ImageTypeColor))
		require.Equal(t, FaceRectangle{Top: 316, Left: 131, Width: 498, Height: 677}, ref.FaceRectangle)
		require.True(t, ref.QualityForRecognition.Is(QualityForRecognitionHigh))
	},
	"LivenessSessionOperations_GetLivenessSessionResult": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var id string
		ex.param(t, "sessionId", &id)
		s, err := c.GetLivenessSessionResult(context.Background(), id)
		require.NoError(t, err)

		r := srv.requests()[0]
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/face/v1.2/detectLiveness-sessions/"+id, r.Path)
		require.Empty(t, r.Body)

		require.Equal(t, id, s.SessionID)
		require.Equal(t, "2024-11-15", s.ModelVersion)
		// The session status says NotStarted although attempts have finished: the outcome
		// must come from the latest attempt.
		require.False(t, s.Status.IsTerminal())
		require.Len(t, s.Results.Attempts, 2)
		latest := s.LatestAttempt()
		require.NotNil(t, latest)
		require.EqualValues(t, 2, latest.AttemptID)
		require.True(t, latest.AttemptStatus.Is(OperationStateSucceeded))
		require.True(t, latest.AttemptStatus.IsTerminal())
		require.Nil(t, latest.Error)
		require.NotNil(t, latest.Result)
		// "realface" in one copy, "realFace" in the variant: both are a real face.
		require.True(t, latest.Result.LivenessDecision.Is(LivenessDecisionRealFace))
		require.Equal(t, LivenessDecisionRealFace, latest.Result.LivenessDecision.Normalized())
		require.Equal(t, FaceRectangle{Top: 669, Left: 203, Width: 646, Height: 724}, latest.Result.Targets.Color.FaceRectangle)
		require.Equal(t, "B0A803BB7B26F3C8F29CD36030F8E63ED3FAF955FEEF8E01C88AB8FD89CCF761", latest.Result.Digest)
		require.Equal(t, "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I", latest.Result.SessionImageID)

		first := s.Results.Attempts[1]
		require.EqualValues(t, 1, first.AttemptID)
		require.True(t, first.AttemptStatus.Is(OperationStateFailed))
		require.Nil(t, first.Result)
		require.NotNil(t, first.Error)
		require.Equal(t, "FaceWithMaskDetected", first.Error.Code)
		require.Equal(t, "Mask detected on face image.", first.Error.Message)
		require.Equal(t, int32(646), first.Error.Targets.Color.FaceRectangle.Width)
	},
	"LivenessSessionOperations_GetLivenessWithVerifySessionResult": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var id string
		ex.param(t, "sessionId", &id)
		s, err := c.GetLivenessWithVerifySessionResult(context.Background(), id)
		require.NoError(t, err)

		r := srv.requests()[0]
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/face/v1.2/detectLivenessWithVerify-sessions/"+id, r.Path)

		require.Equal(t, id, s.SessionID)
		require.Equal(t, "eyJhbGciOiJFUzI1NiIsIm", s.AuthToken)
		require.False(t, s.Status.IsTerminal())
		latest := s.LatestAttempt()
		require.NotNil(t, latest)
		require.EqualValues(t, 2, latest.AttemptID)
		require.True(t, latest.AttemptStatus.Is(OperationStateSucceeded))
		require.NotNil(t, latest.Result)
		require.Equal(t, LivenessDecision("realFace"), latest.Result.LivenessDecision, "raw value kept")
		require.True(t, latest.Result.LivenessDecision.Is(LivenessDecisionRealFace))
		require.Equal(t, "B0A803BB7B26F3C8F29CD36030F8E63ED3FAF955FEEF8E01C88AB8FD89CCF761", latest.Result.Digest)
		require.Equal(t, "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I", latest.Result.SessionImageID)
		require.Equal(t, "43B7D8E8769533C3290DBD37A84D821B2C28CB4381DF9C6784DBC4AAF7E45018", latest.Result.VerifyImageHash)
		require.NotNil(t, latest.Result.VerifyResult)
		require.InDelta(t, 0.08871888, latest.Result.VerifyResult.MatchConfidence, 1e-9)
		require.False(t, latest.Result.VerifyResult.IsIdentical)
		require.Equal(t, FaceRectangle{Top: 669, Left: 203, Width: 646, Height: 724}, latest.Result.Targets.Color.FaceRectangle)

		failed := s.Results.Attempts[1]
		require.True(t, failed.AttemptStatus.Is(OperationStateFailed))
		require.Equal(t, "FaceWithMaskDetected", failed.Error.Code)

		require.Len(t, s.Results.VerifyReferences, 1)
		require.Equal(t, ImageType("image"), s.Results.VerifyReferences[0].ReferenceType)
		require.Equal(t, QualityForRecognitionHigh, s.Results.VerifyReferences[0].QualityForRecognition)
	},
	"LivenessSessionOperations_DeleteLivenessSession": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		status, _ := ex.only(t)
		require.Equal(t, http.StatusNoContent, status)
		var id string
		ex.param(t, "sessionId", &id)
		require.NoError(t, c.DeleteLivenessSession(context.Background(), id))
		r := srv.requests()[0]
		require.Equal(t, http.MethodDelete, r.Method)
		require.Equal(t, "/face/v1.2/detectLiveness-sessions/"+id, r.Path)
	},
	"LivenessSessionOperations_DeleteLivenessWithVerifySession": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		status, _ := ex.only(t)
		require.Equal(t, http.StatusOK, status, "the only known copy answers 200 where the spec says 204")
		var id string
		ex.param(t, "sessionId", &id)
		require.NoError(t, c.DeleteLivenessWithVerifySession(context.Background(), id))
		r := srv.requests()[0]
		require.Equal(t, http.MethodDelete, r.Method)
		require.Equal(t, "/face/v1.2/detectLivenessWithVerify-sessions/"+id, r.Path)
	},
	"LivenessSessionOperations_GetSessionImage": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var id string
		ex.param(t, "sessionImageId", &id)
		img, err := c.GetSessionImage(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, []byte("<session-image-bytes>"), img)
		r := srv.requests()[0]
		require.Equal(t, http.MethodGet, r.Method)
		require.Equal(t, "/face/v1.2/sessionImages/"+id, r.Path)
		require.Contains(t, r.Header.Get("Accept"), "application/octet-stream")
	},
	"FaceDetectionOperations_DetectFromSessionImageId": func(t *testing.T, c *HTTPClient, ex example, srv *fakeServer) {
		var opts DetectOptions
		var attrs string
		var ttl int32
		var retID, retLm, retRM bool
		ex.param(t, "detectionModel", &opts.DetectionModel)
		ex.param(t, "recognitionModel", &opts.RecognitionModel)
		ex.param(t, "returnFaceId", &retID)
		ex.param(t, "returnFaceLandmarks", &retLm)
		ex.param(t, "returnRecognitionModel", &retRM)
		ex.param(t, "returnFaceAttributes", &attrs)
		ex.param(t, "faceIdTimeToLive", &ttl)
		opts.ReturnFaceID, opts.ReturnFaceLandmarks, opts.ReturnRecognitionModel = &retID, &retLm, &retRM
		opts.ReturnFaceAttributes = strings.Split(attrs, ",")
		opts.FaceIDTimeToLive = &ttl
		var body struct {
			SessionImageID string `json:"sessionImageId"`
		}
		ex.param(t, "body", &body)

		faces, err := c.DetectFromSessionImageID(context.Background(), body.SessionImageID, opts)
		require.NoError(t, err)

		r := srv.requests()[0]
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/face/v1.2/detect", r.Path)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.JSONEq(t, string(ex.Parameters["body"]), string(r.Body))
		require.Equal(t, map[string][]string{
			"detectionModel":         {"detection_01"},
			"recognitionModel":       {"recognition_03"},
			"returnFaceId":           {"true"},
			"returnFaceLandmarks":    {"true"},
			"returnRecognitionModel": {"true"},
			"returnFaceAttributes":   {"glasses,headPose,occlusion,accessories,blur,exposure,noise,qualityForRecognition"},
			"faceIdTimeToLive":       {"60"},
		}, r.Query)

		require.Len(t, faces, 1)
		f := faces[0]
		require.Equal(t, "c5c24a82-6845-4031-9d5d-978df9175426", f.FaceID)
		require.Equal(t, "recognition_03", f.RecognitionModel)
		require.Equal(t, FaceRectangle{Top: 54, Left: 394, Width: 78, Height: 78}, f.FaceRectangle)
		require.Len(t, f.FaceLandmarks, 27)
		require.Equal(t, LandmarkCoordinate{X: 412.7, Y: 78.4}, f.FaceLandmarks["pupilLeft"])
		require.Equal(t, LandmarkCoordinate{X: 437.3, Y: 114.5}, f.FaceLandmarks["underLipBottom"])
		a := f.FaceAttributes
		require.NotNil(t, a)
		require.Equal(t, "sunglasses", a.Glasses)
		require.Equal(t, &HeadPose{Roll: 2.1, Yaw: 3, Pitch: 1.6}, a.HeadPose)
		require.Equal(t, &OcclusionProperties{}, a.Occlusion)
		require.Equal(t, []AccessoryItem{{"headwear", 0.99}, {"glasses", 1.0}, {"mask", 0.87}}, a.Accessories)
		require.Equal(t, &BlurProperties{BlurLevel: "medium", Value: 0.51}, a.Blur)
		require.Equal(t, &ExposureProperties{ExposureLevel: "goodExposure", Value: 0.55}, a.Exposure)
		require.Equal(t, &NoiseProperties{NoiseLevel: "low", Value: 0.12}, a.Noise)
		require.True(t, a.QualityForRecognition.Is(QualityForRecognitionHigh))
		require.Nil(t, a.Age, "attributes not requested stay unset")
		require.Nil(t, a.Mask)
	},
}

// TestLegacyExamplesAreNotGA documents why legacy-pre-ga is not replayed: those files use the
// preview design that v1.2 GA replaced.
func TestLegacyExamplesAreNotGA(t *testing.T) {
	dir := filepath.Join(examplesDir, legacyDirName)

	// JSON-body create with sendResultsToClient and a {sessionId, authToken}-only response.
	ex := loadExample(t, filepath.Join(dir, "LivenessSessionOperations_CreateLivenessWithVerifySession.json"))
	require.Contains(t, ex.Parameters, "body", "GA sends multipart parts, not a JSON body")
	require.Contains(t, string(ex.Parameters["body"]), "sendResultsToClient", "removed in GA")
	_, body := ex.only(t)
	require.NotContains(t, string(body), `"results"`, "GA create returns the full session")

	// Capitalised Parameters/VerifyImage parts and an operation GA does not have.
	ex = loadExample(t, filepath.Join(dir, "LivenessSessionOperations_CreateLivenessWithVerifySessionWithVerifyImage.json"))
	require.NotContains(t, exampleChecks, ex.OperationID)
	require.Contains(t, ex.Parameters, "Parameters")
	require.Contains(t, ex.Parameters, "VerifyImage")

	// Audit entries: no such operation in GA, and the body is an array, not a session.
	ex = loadExample(t, filepath.Join(dir, "LivenessSessionOperations_GetLivenessSessionAuditEntries.json"))
	require.NotContains(t, exampleChecks, ex.OperationID)
	_, body = ex.only(t)
	_, err := decodeLivenessSession(body)
	require.Error(t, err)
}

// parts is a parsed multipart body.
type parts struct {
	values       map[string]string
	filenames    map[string]string
	contentTypes map[string]string
	order        []string
}

func readParts(t *testing.T, r recordedRequest) parts {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", mt)
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	p := parts{values: map[string]string{}, filenames: map[string]string{}, contentTypes: map[string]string{}}
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(part)
		require.NoError(t, err)
		name := part.FormName()
		require.NotContains(t, p.values, name, "duplicate part %s", name)
		p.values[name] = buf.String()
		p.order = append(p.order, name)
		if fn := part.FileName(); fn != "" {
			p.filenames[name] = fn
		}
		p.contentTypes[name] = part.Header.Get("Content-Type")
	}
	return p
}

package face

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCreateLivenessSessionRequestShape(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	c := newTestClient(t, srv.URL)

	_, err := c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{
		LivenessOperationMode:          LivenessOperationModePassiveActive,
		DeviceCorrelationIDSetInClient: ptr(false),
		DeviceCorrelationID:            "dev-1",
		EnableSessionImage:             ptr(true),
		LivenessModelVersion:           LivenessModelVersion20241115,
		AuthTokenTimeToLiveInSeconds:   ptr(int32(120)),
	})
	require.NoError(t, err)
	// Unset optional fields are omitted so the service defaults apply.
	_, err = c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{LivenessOperationMode: LivenessOperationModePassive})
	require.NoError(t, err)

	reqs := srv.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/face/v1.2/detectLiveness-sessions", r.Path)
		require.Equal(t, testAPIKey, r.Header.Get("Ocp-Apim-Subscription-Key"))
		require.Empty(t, r.Header.Get("Authorization"))
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, "application/json", r.Header.Get("Accept"))
		require.Empty(t, r.Query, "v1.2 has no api-version query parameter")
		require.Contains(t, r.Header.Get("User-Agent"), "azsdk-go-face/")
	}
	require.JSONEq(t, `{"livenessOperationMode":"PassiveActive","deviceCorrelationIdSetInClient":false,
		"deviceCorrelationId":"dev-1","enableSessionImage":true,"livenessModelVersion":"2024-11-15",
		"authTokenTimeToLiveInSeconds":120}`, string(reqs[0].Body))
	require.JSONEq(t, `{"livenessOperationMode":"Passive"}`, string(reqs[1].Body))
}

func TestCreateLivenessWithVerifyMultipartShape(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, verifySessionJSON) })
	c := newTestClient(t, srv.URL)
	image := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3}

	s, err := c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{
			LivenessOperationMode:          LivenessOperationModePassive,
			DeviceCorrelationIDSetInClient: ptr(true),
			EnableSessionImage:             ptr(false),
			LivenessModelVersion:           LivenessModelVersion20241115,
			AuthTokenTimeToLiveInSeconds:   ptr(int32(600)),
		},
		ReturnVerifyImageHash:     ptr(true),
		VerifyConfidenceThreshold: ptr(0.42),
		VerifyImage:               image,
		VerifyImageFilename:       `ref "1".jpg`,
	})
	require.NoError(t, err)
	require.Equal(t, "v-1", s.SessionID)

	r := srv.requests()[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/face/v1.2/detectLivenessWithVerify-sessions", r.Path)
	require.Equal(t, testAPIKey, r.Header.Get(APIKeyHeader))
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="))
	p := readParts(t, r)
	require.Equal(t, map[string]string{
		"livenessOperationMode":          "Passive",
		"deviceCorrelationIdSetInClient": "true",
		"enableSessionImage":             "false",
		"livenessModelVersion":           "2024-11-15",
		"returnVerifyImageHash":          "true",
		"verifyConfidenceThreshold":      "0.42",
		"verifyImage":                    string(image),
		"authTokenTimeToLiveInSeconds":   "600",
	}, p.values, "deviceCorrelationId is unset, so no part is sent for it")
	require.Equal(t, map[string]string{"verifyImage": `ref "1".jpg`}, p.filenames, "only verifyImage is a file part")
	require.Equal(t, "application/octet-stream", p.contentTypes["verifyImage"])
	for _, name := range p.order {
		require.Equal(t, strings.ToLower(name[:1]), name[:1], "part names are lower camel case")
	}
	// Minimal request: mode and image only, default filename.
	_, err = c.CreateLivenessWithVerifySession(context.Background(), CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: LivenessOperationModePassiveActive, DeviceCorrelationID: "d"},
		VerifyImage:                  []byte("img"),
	})
	require.NoError(t, err)
	p = readParts(t, srv.requests()[1])
	require.Equal(t, map[string]string{"livenessOperationMode": "PassiveActive", "deviceCorrelationId": "d", "verifyImage": "img"}, p.values)
	require.Equal(t, "verifyImage", p.filenames["verifyImage"])
}

func TestVerifyConfidenceThresholdIsDecimalText(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 0.5: "0.5", 1e-7: "0.0000001", 0.123456789: "0.123456789"} {
		body, ct, err := encodeLivenessWithVerifyForm(CreateLivenessWithVerifySessionRequest{
			CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: "Passive"},
			VerifyConfidenceThreshold:    ptr(v), VerifyImage: []byte("x"),
		})
		require.NoError(t, err)
		p := readParts(t, recordedRequest{Header: http.Header{"Content-Type": {ct}}, Body: body})
		require.Equal(t, want, p.values["verifyConfidenceThreshold"])
	}
}

func TestBearerTokenAuth(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	cred := &fakeCredential{token: "entra-token-abc"}
	c := newTestClient(t, srv.URL, func(o *Options) { o.APIKey = ""; o.Credential = cred })

	_, err := c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
	require.NoError(t, err)
	_, err = c.GetLivenessSessionResult(context.Background(), "s-1")
	require.NoError(t, err)

	for _, r := range srv.requests() {
		require.Equal(t, "Bearer entra-token-abc", r.Header.Get("Authorization"))
		require.Empty(t, r.Header.Get(APIKeyHeader), "no key header with Entra ID")
	}
	scopes := cred.recordedScopes()
	require.NotEmpty(t, scopes)
	for _, s := range scopes {
		require.Equal(t, []string{"https://cognitiveservices.azure.com/.default"}, s)
	}
	require.Len(t, scopes, 1, "the token is cached across calls")
}

func TestCredentialFailureIsCredentialsAndNothingIsSent(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	cred := &fakeCredential{err: errors.New("no identity available")}
	c := newTestClient(t, srv.URL, func(o *Options) { o.APIKey = ""; o.Credential = cred })

	_, err := c.CreateLivenessSession(context.Background(), CreateLivenessSessionRequest{LivenessOperationMode: "Passive"})
	require.Error(t, err)
	require.True(t, IsCredentials(err))
	require.False(t, errors.Is(err, ErrOutcomeUnknown), "nothing left the process")
	require.False(t, IsRetryable(err))
	require.Contains(t, err.Error(), "no identity available")

	_, err = c.GetLivenessSessionResult(context.Background(), "s-1")
	require.True(t, IsCredentials(err))
	require.Empty(t, srv.requests())
}

func TestDetectQueryAndBody(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, `[]`) })
	c := newTestClient(t, srv.URL)

	faces, err := c.DetectFromSessionImageID(context.Background(), "img/1", DetectOptions{
		DetectionModel:         "detection_03",
		RecognitionModel:       "recognition_04",
		ReturnFaceID:           ptr(false),
		ReturnFaceLandmarks:    ptr(false),
		ReturnRecognitionModel: ptr(true),
		ReturnFaceAttributes:   []string{"headPose", " mask ", "", "qualityForRecognition"},
		FaceIDTimeToLive:       ptr(int32(3600)),
	})
	require.NoError(t, err)
	require.Empty(t, faces, "an empty array means no face was found")

	_, err = c.DetectFromSessionImageID(context.Background(), "img-2", DetectOptions{})
	require.NoError(t, err)

	reqs := srv.requests()
	require.Equal(t, map[string][]string{
		"detectionModel":         {"detection_03"},
		"recognitionModel":       {"recognition_04"},
		"returnFaceId":           {"false"},
		"returnFaceLandmarks":    {"false"},
		"returnRecognitionModel": {"true"},
		"returnFaceAttributes":   {"headPose,mask,qualityForRecognition"},
		"faceIdTimeToLive":       {"3600"},
	}, reqs[0].Query)
	require.Equal(t, "/face/v1.2/detect", reqs[0].Path)
	require.JSONEq(t, `{"sessionImageId":"img/1"}`, string(reqs[0].Body), "the id travels in the body, unescaped")
	require.Equal(t, "application/json", reqs[0].Header.Get("Content-Type"))
	require.Empty(t, reqs[1].Query, "unset options are not sent")
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if strings.Contains(r.URL.Path, "sessionImages") {
			_, _ = w.Write([]byte("img"))
			return
		}
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			if strings.Contains(r.URL.Path, "WithVerify") {
				respond(w, 200, verifySessionJSON)
			} else {
				respond(w, 200, sessionJSON)
			}
		}
	})
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	id := "a b/c?d#e%f"
	const esc = "a%20b%2Fc%3Fd%23e%25f"

	_, err := c.GetLivenessSessionResult(ctx, id)
	require.NoError(t, err)
	require.NoError(t, c.DeleteLivenessSession(ctx, id))
	_, err = c.GetLivenessWithVerifySessionResult(ctx, id)
	require.NoError(t, err)
	require.NoError(t, c.DeleteLivenessWithVerifySession(ctx, id))
	_, err = c.GetSessionImage(ctx, id)
	require.NoError(t, err)

	want := []string{
		"/face/v1.2/detectLiveness-sessions/" + esc,
		"/face/v1.2/detectLiveness-sessions/" + esc,
		"/face/v1.2/detectLivenessWithVerify-sessions/" + esc,
		"/face/v1.2/detectLivenessWithVerify-sessions/" + esc,
		"/face/v1.2/sessionImages/" + esc,
	}
	reqs := srv.requests()
	require.Len(t, reqs, len(want))
	for i, r := range reqs {
		require.Equal(t, want[i], r.EscapedPath)
		require.Empty(t, r.Query, "a ? in the id must not start a query")
	}
}

func TestEndpointForms(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	for endpoint, wantPath := range map[string]string{
		srv.URL:                     "/face/v1.2/detectLiveness-sessions/x",
		srv.URL + "/":               "/face/v1.2/detectLiveness-sessions/x",
		srv.URL + "//":              "/face/v1.2/detectLiveness-sessions/x",
		srv.URL + "/face/v1.2":      "/face/v1.2/detectLiveness-sessions/x",
		srv.URL + "/face/v1.2/":     "/face/v1.2/detectLiveness-sessions/x",
		srv.URL + "/proxy/":         "/proxy/face/v1.2/detectLiveness-sessions/x",
		"  " + srv.URL + "/proxy  ": "/proxy/face/v1.2/detectLiveness-sessions/x",
	} {
		c := newTestClient(t, endpoint)
		_, err := c.GetLivenessSessionResult(context.Background(), "x")
		require.NoError(t, err, endpoint)
		reqs := srv.requests()
		require.Equal(t, wantPath, reqs[len(reqs)-1].EscapedPath, endpoint)
	}
}

func TestNewClientValidation(t *testing.T) {
	cred := &fakeCredential{token: "t"}
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no endpoint", Options{APIKey: "k"}, "Endpoint is required"},
		{"no auth", Options{Endpoint: "https://x.cognitiveservices.azure.com"}, "APIKey or Options.Credential is required"},
		{"both auths", Options{Endpoint: "https://x.cognitiveservices.azure.com", APIKey: "k", Credential: cred}, "not both"},
		{"bad scheme", Options{Endpoint: "ftp://x", APIKey: "k"}, "http(s) URL"},
		{"no host", Options{Endpoint: "https://", APIKey: "k"}, "no host"},
		{"query", Options{Endpoint: "https://x/?a=b", APIKey: "k"}, "query"},
		{"http to remote host", Options{Endpoint: "http://face.example.com", APIKey: "k"}, "plain http"},
		{"http to remote host with Entra", Options{Endpoint: "http://10.0.0.5:8080", Credential: cred}, "plain http"},
		{"https", Options{Endpoint: "https://x.cognitiveservices.azure.com/", APIKey: "k"}, ""},
		{"http loopback v4", Options{Endpoint: "http://127.0.0.1:8080", APIKey: "k"}, ""},
		{"http loopback v6", Options{Endpoint: "http://[::1]:8080", Credential: cred}, ""},
		{"http localhost", Options{Endpoint: "http://localhost:8080", APIKey: "k"}, ""},
		{"http remote opted in", Options{Endpoint: "http://face-emulator.ns.svc:8080", APIKey: "k", InsecureAllowCredentialWithHTTP: true}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(tc.opts)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorContains(t, err, tc.wantErr)
			require.NotContains(t, err.Error(), "k\"", "errors never echo the key")
		})
	}
}

func TestInvalidArgumentsAreRejectedBeforeSending(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { respond(w, 200, sessionJSON) })
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	for _, id := range []string{"", ".", ".."} {
		_, err := c.GetLivenessSessionResult(ctx, id)
		require.True(t, IsInvalidRequest(err), "%q: %v", id, err)
		require.False(t, IsRetryable(err))
		require.True(t, IsInvalidRequest(c.DeleteLivenessSession(ctx, id)))
		require.True(t, IsInvalidRequest(c.DeleteLivenessWithVerifySession(ctx, id)))
		_, err = c.GetLivenessWithVerifySessionResult(ctx, id)
		require.True(t, IsInvalidRequest(err))
		_, err = c.GetSessionImage(ctx, id)
		require.True(t, IsInvalidRequest(err))
	}
	_, err := c.DetectFromSessionImageID(ctx, "", DetectOptions{})
	require.True(t, IsInvalidRequest(err))
	_, err = c.CreateLivenessSession(ctx, CreateLivenessSessionRequest{})
	require.True(t, IsInvalidRequest(err))
	_, err = c.CreateLivenessWithVerifySession(ctx, CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: CreateLivenessSessionRequest{LivenessOperationMode: "Passive"},
	})
	require.True(t, IsInvalidRequest(err), "verifyImage is required")
	require.ErrorIs(t, err, ErrInvalidRequest)
	require.Empty(t, srv.requests())
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	target := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hits.Add(1); respond(w, 200, sessionJSON) })
	srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c := newTestClient(t, srv.URL)
	_, err := c.GetLivenessSessionResult(context.Background(), "s-1")
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	require.Equal(t, http.StatusTemporaryRedirect, re.StatusCode)
	require.Zero(t, hits.Load(), "the key header must not be forwarded to a redirect target")
}

func TestPerCallPoliciesRunOncePerCall(t *testing.T) {
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			respond(w, 503, "")
			return
		}
		respond(w, 200, sessionJSON)
	})
	var calls atomic.Int32
	c := newTestClient(t, srv.URL, func(o *Options) {
		o.PerCallPolicies = append(o.PerCallPolicies, policyFunc(func(req *policyRequest) (*http.Response, error) {
			calls.Add(1)
			return req.Next()
		}))
	})
	_, err := c.GetLivenessSessionResult(context.Background(), "s-1")
	require.NoError(t, err)
	require.Len(t, srv.requests(), 2)
	require.EqualValues(t, 1, calls.Load())
}

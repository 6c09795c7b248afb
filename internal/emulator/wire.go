package emulator

// Wire structs of the Face v1.2 liveness surface. They are the emulator's own copy of
// the spec's schemas (Face.json definitions), written independently of the project's
// client so that a mistake in one is not mirrored in the other. Field order follows
// the published examples so that responses read the same way.

// Enum values exactly as the spec spells them on the wire.
const (
	modelVersion20241115 = "2024-11-15"

	stateNotStarted = "NotStarted"
	stateRunning    = "Running"
	stateSucceeded  = "Succeeded"
	stateFailed     = "Failed"

	decisionUncertain = "uncertain"
	decisionRealFace  = "realface"
	decisionSpoofFace = "spoofface"

	referenceTypeColor = "Color"

	qualityLow    = "low"
	qualityMedium = "medium"
	qualityHigh   = "high"
)

// wireError is FaceErrorResponse: {"error":{"code","message"}}. The spec has no
// innererror/details, so none are sent.
type wireError struct {
	Error wireErrorBody `json:"error"`
}

type wireErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// wireFaceRectangle is FaceRectangle.
type wireFaceRectangle struct {
	Top    int32 `json:"top"`
	Left   int32 `json:"left"`
	Width  int32 `json:"width"`
	Height int32 `json:"height"`
}

// wireTargets is LivenessDecisionTargets {color:{faceRectangle}}.
type wireTargets struct {
	Color wireColorTarget `json:"color"`
}

type wireColorTarget struct {
	FaceRectangle wireFaceRectangle `json:"faceRectangle"`
}

// wireVerifyOutputs is LivenessWithVerifyOutputs.
type wireVerifyOutputs struct {
	MatchConfidence float64 `json:"matchConfidence"`
	IsIdentical     bool    `json:"isIdentical"`
}

// wireResult is LivenessResult, and LivenessWithVerifyResult when the two verify
// fields are set (they are omitted for plain liveness sessions).
type wireResult struct {
	LivenessDecision string             `json:"livenessDecision,omitempty"`
	Targets          wireTargets        `json:"targets"`
	VerifyResult     *wireVerifyOutputs `json:"verifyResult,omitempty"`
	Digest           string             `json:"digest"`
	SessionImageID   string             `json:"sessionImageId,omitempty"`
	VerifyImageHash  string             `json:"verifyImageHash,omitempty"`
}

// wireLivenessError is LivenessError (a failed attempt).
type wireLivenessError struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Targets wireTargets `json:"targets"`
}

// wireAttempt is LivenessSessionAttempt / LivenessWithVerifySessionAttempt. The last
// two fields are v1.3-preview.1 only.
type wireAttempt struct {
	AttemptID             int32                `json:"attemptId"`
	AttemptStatus         string               `json:"attemptStatus"`
	Result                *wireResult          `json:"result,omitempty"`
	Error                 *wireLivenessError   `json:"error,omitempty"`
	ClientInformation     []wireClientInfo     `json:"clientInformation,omitempty"`
	AbuseMonitoringResult *wireAbuseMonitoring `json:"abuseMonitoringResult,omitempty"`
}

// wireClientInfo is ClientInformation (v1.3): the client address the service saw.
type wireClientInfo struct {
	IP string `json:"ip"`
}

// wireAbuseMonitoring is AbuseMonitoringResult (v1.3); both members are required, so
// otherFlaggedSessions is an empty array, never null, when nothing was flagged.
type wireAbuseMonitoring struct {
	IsAbuseDetected      bool                 `json:"isAbuseDetected"`
	OtherFlaggedSessions []wireFlaggedSession `json:"otherFlaggedSessions"`
}

// wireFlaggedSession is OtherFlaggedSessions (v1.3).
type wireFlaggedSession struct {
	AttemptID      int32  `json:"attemptId"`
	SessionID      string `json:"sessionId"`
	SessionImageID string `json:"sessionImageId,omitempty"`
}

// wireSettings is Settings (v1.3): GET and PATCH /settings always answer this shape.
type wireSettings struct {
	LivenessAbuseMonitoring wireAbuseSetting `json:"livenessAbuseMonitoring"`
}

type wireAbuseSetting struct {
	Enabled bool `json:"enabled"`
}

// wireClientAssetsToken is ClientAssetsAccessTokenResponse (v1.3).
type wireClientAssetsToken struct {
	Expiry            string `json:"expiry"`
	AccessToken       string `json:"accessToken"`
	Base64AccessToken string `json:"base64AccessToken"`
}

// wireVerifyReference is LivenessWithVerifyReference.
type wireVerifyReference struct {
	ReferenceType         string            `json:"referenceType"`
	FaceRectangle         wireFaceRectangle `json:"faceRectangle"`
	QualityForRecognition string            `json:"qualityForRecognition"`
}

// wireLivenessResults is LivenessSessionResults; attempts is required, so it is
// always an array, never null.
type wireLivenessResults struct {
	Attempts []wireAttempt `json:"attempts"`
}

// wireVerifyResults is LivenessWithVerifySessionResults; both arrays are required.
type wireVerifyResults struct {
	Attempts         []wireAttempt         `json:"attempts"`
	VerifyReferences []wireVerifyReference `json:"verifyReferences"`
}

// wireSession is LivenessSession; Results holds *wireLivenessResults or
// *wireVerifyResults (LivenessWithVerifySession differs only in results).
type wireSession struct {
	SessionID    string `json:"sessionId"`
	AuthToken    string `json:"authToken"`
	Status       string `json:"status"`
	ModelVersion string `json:"modelVersion,omitempty"`
	// v1.3-preview.1 only: nil / empty (and so absent) under v1.2.
	IsAbuseMonitoringEnabled *bool  `json:"isAbuseMonitoringEnabled,omitempty"`
	ExpectedClientIPAddress  string `json:"expectedClientIpAddress,omitempty"`
	Results                  any    `json:"results"`
}

// wireLandmark is LandmarkCoordinate.
type wireLandmark struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// wireLandmarks is FaceLandmarks: all 27 points are required by the spec.
type wireLandmarks struct {
	PupilLeft           wireLandmark `json:"pupilLeft"`
	PupilRight          wireLandmark `json:"pupilRight"`
	NoseTip             wireLandmark `json:"noseTip"`
	MouthLeft           wireLandmark `json:"mouthLeft"`
	MouthRight          wireLandmark `json:"mouthRight"`
	EyebrowLeftOuter    wireLandmark `json:"eyebrowLeftOuter"`
	EyebrowLeftInner    wireLandmark `json:"eyebrowLeftInner"`
	EyeLeftOuter        wireLandmark `json:"eyeLeftOuter"`
	EyeLeftTop          wireLandmark `json:"eyeLeftTop"`
	EyeLeftBottom       wireLandmark `json:"eyeLeftBottom"`
	EyeLeftInner        wireLandmark `json:"eyeLeftInner"`
	EyebrowRightInner   wireLandmark `json:"eyebrowRightInner"`
	EyebrowRightOuter   wireLandmark `json:"eyebrowRightOuter"`
	EyeRightInner       wireLandmark `json:"eyeRightInner"`
	EyeRightTop         wireLandmark `json:"eyeRightTop"`
	EyeRightBottom      wireLandmark `json:"eyeRightBottom"`
	EyeRightOuter       wireLandmark `json:"eyeRightOuter"`
	NoseRootLeft        wireLandmark `json:"noseRootLeft"`
	NoseRootRight       wireLandmark `json:"noseRootRight"`
	NoseLeftAlarTop     wireLandmark `json:"noseLeftAlarTop"`
	NoseRightAlarTop    wireLandmark `json:"noseRightAlarTop"`
	NoseLeftAlarOutTip  wireLandmark `json:"noseLeftAlarOutTip"`
	NoseRightAlarOutTip wireLandmark `json:"noseRightAlarOutTip"`
	UpperLipTop         wireLandmark `json:"upperLipTop"`
	UpperLipBottom      wireLandmark `json:"upperLipBottom"`
	UnderLipTop         wireLandmark `json:"underLipTop"`
	UnderLipBottom      wireLandmark `json:"underLipBottom"`
}

// wireFaceAttributes is FaceAttributes; only requested attributes are present.
type wireFaceAttributes struct {
	Age                   *float64         `json:"age,omitempty"`
	Smile                 *float64         `json:"smile,omitempty"`
	FacialHair            *wireFacialHair  `json:"facialHair,omitempty"`
	Glasses               string           `json:"glasses,omitempty"`
	HeadPose              *wireHeadPose    `json:"headPose,omitempty"`
	Hair                  *wireHair        `json:"hair,omitempty"`
	Occlusion             *wireOcclusion   `json:"occlusion,omitempty"`
	Accessories           *[]wireAccessory `json:"accessories,omitempty"`
	Blur                  *wireBlur        `json:"blur,omitempty"`
	Exposure              *wireExposure    `json:"exposure,omitempty"`
	Noise                 *wireNoise       `json:"noise,omitempty"`
	Mask                  *wireMask        `json:"mask,omitempty"`
	QualityForRecognition string           `json:"qualityForRecognition,omitempty"`
}

type wireFacialHair struct {
	Moustache float64 `json:"moustache"`
	Beard     float64 `json:"beard"`
	Sideburns float64 `json:"sideburns"`
}

type wireHeadPose struct {
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
	Yaw   float64 `json:"yaw"`
}

type wireHair struct {
	Bald      float64         `json:"bald"`
	Invisible bool            `json:"invisible"`
	HairColor []wireHairColor `json:"hairColor"`
}

type wireHairColor struct {
	Color      string  `json:"color"`
	Confidence float64 `json:"confidence"`
}

type wireOcclusion struct {
	ForeheadOccluded bool `json:"foreheadOccluded"`
	EyeOccluded      bool `json:"eyeOccluded"`
	MouthOccluded    bool `json:"mouthOccluded"`
}

type wireAccessory struct {
	Type       string  `json:"type"`
	Confidence float64 `json:"confidence"`
}

type wireBlur struct {
	BlurLevel string  `json:"blurLevel"`
	Value     float64 `json:"value"`
}

type wireExposure struct {
	ExposureLevel string  `json:"exposureLevel"`
	Value         float64 `json:"value"`
}

type wireNoise struct {
	NoiseLevel string  `json:"noiseLevel"`
	Value      float64 `json:"value"`
}

type wireMask struct {
	NoseAndMouthCovered bool   `json:"noseAndMouthCovered"`
	Type                string `json:"type"`
}

// wireDetectionResult is FaceDetectionResult.
type wireDetectionResult struct {
	FaceID           string              `json:"faceId,omitempty"`
	RecognitionModel string              `json:"recognitionModel,omitempty"`
	FaceRectangle    wireFaceRectangle   `json:"faceRectangle"`
	FaceLandmarks    *wireLandmarks      `json:"faceLandmarks,omitempty"`
	FaceAttributes   *wireFaceAttributes `json:"faceAttributes,omitempty"`
}

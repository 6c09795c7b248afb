package face

// DetectOptions are the query parameters of POST /detect. Unset fields are not sent so the
// service defaults apply (detection_01, recognition_01, returnFaceId true, ...).
type DetectOptions struct {
	DetectionModel         string   // detectionModel: detection_01..03
	RecognitionModel       string   // recognitionModel: recognition_01..04
	ReturnFaceID           *bool    // returnFaceId
	ReturnFaceLandmarks    *bool    // returnFaceLandmarks
	ReturnRecognitionModel *bool    // returnRecognitionModel
	ReturnFaceAttributes   []string // returnFaceAttributes, sent comma-separated (headPose, glasses, ...)
	FaceIDTimeToLive       *int32   // faceIdTimeToLive: 60..86400 seconds
}

// LandmarkCoordinate is a point, in pixels.
type LandmarkCoordinate struct {
	X float64 `json:"x"` // horizontal
	Y float64 `json:"y"` // vertical
}

// FaceDetectionResult is one detected face.
type FaceDetectionResult struct {
	FaceID           string        `json:"faceId,omitempty"`           // when returnFaceId; expires after faceIdTimeToLive
	RecognitionModel string        `json:"recognitionModel,omitempty"` // when returnRecognitionModel
	FaceRectangle    FaceRectangle `json:"faceRectangle"`              // always present
	// FaceLandmarks maps landmark names (pupilLeft, noseTip, ...) to points. A map rather than a
	// 27-field struct so that landmarks added by the service are not dropped.
	FaceLandmarks  map[string]LandmarkCoordinate `json:"faceLandmarks,omitempty"`
	FaceAttributes *FaceAttributes               `json:"faceAttributes,omitempty"` // when returnFaceAttributes
}

// FaceAttributes are the optional per-face attributes. Only those requested through
// ReturnFaceAttributes are present; the rest stay nil/empty. Enum-like values are plain strings
// because the operator only passes them through.
type FaceAttributes struct {
	Age                   *float64              `json:"age,omitempty"`                   // years (limited access)
	Smile                 *float64              `json:"smile,omitempty"`                 // 0..1 (limited access)
	FacialHair            *FacialHair           `json:"facialHair,omitempty"`            // limited access
	Glasses               string                `json:"glasses,omitempty"`               // noGlasses, readingGlasses, sunglasses, swimmingGoggles
	HeadPose              *HeadPose             `json:"headPose,omitempty"`              // head angles
	Hair                  *HairProperties       `json:"hair,omitempty"`                  // limited access
	Occlusion             *OcclusionProperties  `json:"occlusion,omitempty"`             // occluded face parts
	Accessories           []AccessoryItem       `json:"accessories,omitempty"`           // headwear, glasses, mask
	Blur                  *BlurProperties       `json:"blur,omitempty"`                  // image blur
	Exposure              *ExposureProperties   `json:"exposure,omitempty"`              // image exposure
	Noise                 *NoiseProperties      `json:"noise,omitempty"`                 // image noise
	Mask                  *MaskProperties       `json:"mask,omitempty"`                  // mask on the face
	QualityForRecognition QualityForRecognition `json:"qualityForRecognition,omitempty"` // low, medium, high
}

// FacialHair holds confidences (0..1) per facial-hair kind.
type FacialHair struct {
	Moustache float64 `json:"moustache"` // 0..1
	Beard     float64 `json:"beard"`     // 0..1
	Sideburns float64 `json:"sideburns"` // 0..1
}

// HeadPose holds the head angles in degrees.
type HeadPose struct {
	Pitch float64 `json:"pitch"` // nodding angle
	Roll  float64 `json:"roll"`  // tilting angle
	Yaw   float64 `json:"yaw"`   // turning angle
}

// HairProperties describes hair.
type HairProperties struct {
	Bald      float64     `json:"bald"`      // 0..1 confidence of baldness
	Invisible bool        `json:"invisible"` // hair not visible in the image
	HairColor []HairColor `json:"hairColor"` // candidate colours
}

// HairColor is a candidate hair colour with its confidence.
type HairColor struct {
	Color      string  `json:"color"`      // unknown, white, gray, blond, brown, red, black, other
	Confidence float64 `json:"confidence"` // 0..1
}

// OcclusionProperties says which face parts are occluded.
type OcclusionProperties struct {
	ForeheadOccluded bool `json:"foreheadOccluded"` // forehead hidden
	EyeOccluded      bool `json:"eyeOccluded"`      // eyes hidden
	MouthOccluded    bool `json:"mouthOccluded"`    // mouth hidden
}

// AccessoryItem is a detected accessory with its confidence.
type AccessoryItem struct {
	Type       string  `json:"type"`       // headwear, glasses, mask
	Confidence float64 `json:"confidence"` // 0..1
}

// BlurProperties grades blur.
type BlurProperties struct {
	BlurLevel string  `json:"blurLevel"` // low, medium, high
	Value     float64 `json:"value"`     // 0..1
}

// ExposureProperties grades exposure.
type ExposureProperties struct {
	ExposureLevel string  `json:"exposureLevel"` // underExposure, goodExposure, overExposure
	Value         float64 `json:"value"`         // 0..1
}

// NoiseProperties grades noise.
type NoiseProperties struct {
	NoiseLevel string  `json:"noiseLevel"` // low, medium, high
	Value      float64 `json:"value"`      // 0..1
}

// MaskProperties describes a mask on the face.
type MaskProperties struct {
	NoseAndMouthCovered bool   `json:"noseAndMouthCovered"` // whether nose and mouth are covered
	Type                string `json:"type"`                // faceMask, noMask, otherMaskOrOcclusion, uncertain
}

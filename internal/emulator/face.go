package emulator

import "math"

// Synthetic face geometry shared by attempts, session images and detect, so that the
// three always describe the same face.

// faceRectFor places the face of an attempt inside the session frame. It varies with
// the session so that clients do not hard-code a rectangle, yet is deterministic.
func faceRectFor(sessionID string) wireFaceRectangle {
	h := fnv32(sessionID)
	w := 200 + int32(h%41)
	height := w * 6 / 5
	left := (sessionImageWidth-w)/2 + int32((h>>8)%41) - 20
	top := int32(200) + int32((h>>16)%41) - 20
	return wireFaceRectangle{Top: top, Left: left, Width: w, Height: height}
}

// landmarkFractions are the 27 FaceLandmarks as fractions of the face rectangle, in
// the spec's order: a frontal, symmetric face.
var landmarkFractions = [27][2]float64{
	{0.30, 0.38}, {0.70, 0.38}, {0.50, 0.58}, {0.34, 0.78}, {0.66, 0.78}, // pupils, nose tip, mouth corners
	{0.18, 0.30}, {0.42, 0.28}, {0.22, 0.39}, {0.30, 0.35}, {0.30, 0.41}, {0.38, 0.39}, // left brow and eye
	{0.58, 0.28}, {0.82, 0.30}, {0.62, 0.39}, {0.70, 0.35}, {0.70, 0.41}, {0.78, 0.39}, // right brow and eye
	{0.44, 0.40}, {0.56, 0.40}, {0.43, 0.54}, {0.57, 0.54}, {0.40, 0.60}, {0.60, 0.60}, // nose
	{0.50, 0.72}, {0.50, 0.75}, {0.50, 0.79}, {0.50, 0.83}, // lips
}

// landmarksFor places the landmarks inside rect, rounded to 0.1 px like the service.
func landmarksFor(rect wireFaceRectangle) wireLandmarks {
	var pts [27]wireLandmark
	for i, f := range landmarkFractions {
		pts[i] = wireLandmark{
			X: round1(float64(rect.Left) + f[0]*float64(rect.Width)),
			Y: round1(float64(rect.Top) + f[1]*float64(rect.Height)),
		}
	}
	return wireLandmarks{
		PupilLeft: pts[0], PupilRight: pts[1], NoseTip: pts[2], MouthLeft: pts[3], MouthRight: pts[4],
		EyebrowLeftOuter: pts[5], EyebrowLeftInner: pts[6], EyeLeftOuter: pts[7], EyeLeftTop: pts[8], EyeLeftBottom: pts[9], EyeLeftInner: pts[10],
		EyebrowRightInner: pts[11], EyebrowRightOuter: pts[12], EyeRightInner: pts[13], EyeRightTop: pts[14], EyeRightBottom: pts[15], EyeRightOuter: pts[16],
		NoseRootLeft: pts[17], NoseRootRight: pts[18], NoseLeftAlarTop: pts[19], NoseRightAlarTop: pts[20], NoseLeftAlarOutTip: pts[21], NoseRightAlarOutTip: pts[22],
		UpperLipTop: pts[23], UpperLipBottom: pts[24], UnderLipTop: pts[25], UnderLipBottom: pts[26],
	}
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// qualityForFace grades a face by its size, the way recognition quality degrades
// for small faces (the service recommends at least 200x200 for recognition).
func qualityForFace(rect wireFaceRectangle) string {
	switch s := min(rect.Width, rect.Height); {
	case s < 100:
		return qualityLow
	case s < 200:
		return qualityMedium
	default:
		return qualityHigh
	}
}

// attributesFor builds the requested FaceAttributes of the synthetic face: a
// frontal, unoccluded, well-exposed face without glasses or mask.
func attributesFor(rect wireFaceRectangle, attrs []string) *wireFaceAttributes {
	fa := &wireFaceAttributes{}
	for _, a := range attrs {
		switch a {
		case "age":
			v := 31.0
			fa.Age = &v
		case "smile":
			v := 0.12
			fa.Smile = &v
		case "facialHair":
			fa.FacialHair = &wireFacialHair{Moustache: 0.1, Beard: 0.1, Sideburns: 0.1}
		case "glasses":
			fa.Glasses = "noGlasses"
		case "headPose":
			fa.HeadPose = &wireHeadPose{Pitch: 1.6, Roll: 2.1, Yaw: 3.0}
		case "hair":
			fa.Hair = &wireHair{Bald: 0.05, Invisible: false, HairColor: []wireHairColor{{Color: "brown", Confidence: 0.92}, {Color: "black", Confidence: 0.61}}}
		case "occlusion":
			fa.Occlusion = &wireOcclusion{}
		case "accessories":
			acc := []wireAccessory{}
			fa.Accessories = &acc
		case "blur":
			fa.Blur = &wireBlur{BlurLevel: "low", Value: 0.06}
		case "exposure":
			fa.Exposure = &wireExposure{ExposureLevel: "goodExposure", Value: 0.55}
		case "noise":
			fa.Noise = &wireNoise{NoiseLevel: "low", Value: 0.12}
		case "mask":
			fa.Mask = &wireMask{NoseAndMouthCovered: false, Type: "noMask"}
		case "qualityForRecognition":
			fa.QualityForRecognition = qualityForFace(rect)
		}
	}
	return fa
}

package emulator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"

	"github.com/liveness-operator/liveness-operator/internal/faceimage"
)

// Face's documented image limits (package faceimage), as the emulator enforces them.
const (
	minImageBytes = faceimage.MinBytes
	maxImageBytes = faceimage.MaxBytes
	minImageDim   = faceimage.MinDimension
	maxImageDim   = faceimage.MaxDimension
)

// imageInfo is what the emulator keeps of an uploaded image.
type imageInfo struct {
	format        string
	width, height int
}

// inspectImage applies the size, format and dimension limits and fully decodes the
// image, so that a truncated or corrupt file is refused as the real service would.
func inspectImage(b []byte) (imageInfo, *apiError) {
	if len(b) < minImageBytes {
		return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImageSize,
			"Image size is too small: '%s' is %d bytes; the valid file size range is 1 KB (1024 bytes) to 6 MB (%d bytes).", fVerifyImage, len(b), maxImageBytes)
	}
	if len(b) > maxImageBytes {
		return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImageSize,
			"Image size is too big: '%s' is larger than 6 MB (%d bytes); the valid file size range is 1 KB to 6 MB.", fVerifyImage, maxImageBytes)
	}
	format := sniffImage(b)
	var (
		w, h int
		err  error
	)
	switch format {
	case "png", "jpeg", "gif":
		var cfg image.Config
		cfg, err = decodeConfig(format, b)
		w, h = cfg.Width, cfg.Height
	case "bmp":
		w, h, err = bmpDimensions(b)
	default:
		return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImage,
			"Decoding error, image format unsupported: '%s' must be a JPEG, PNG, GIF or BMP image.", fVerifyImage)
	}
	if err != nil {
		return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImage,
			"Decoding error: '%s' looks like %s but cannot be decoded (%v).", fVerifyImage, format, err)
	}
	if w < minImageDim || h < minImageDim || w > maxImageDim || h > maxImageDim {
		return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImageSize,
			"Image dimensions %dx%d are not supported: width and height must each be between %d and %d pixels.", w, h, minImageDim, maxImageDim)
	}
	// Dimensions are checked before the full decode so that a tiny file claiming a
	// huge canvas cannot make the emulator allocate gigabytes.
	if format != "bmp" {
		if err := decodeFull(format, b); err != nil {
			return imageInfo{}, newAPIError(http.StatusBadRequest, codeInvalidImage,
				"Decoding error: '%s' looks like %s but cannot be decoded (%v).", fVerifyImage, format, err)
		}
	}
	return imageInfo{format: format, width: w, height: h}, nil
}

// sniffImage recognises the four formats Face accepts by their magic numbers.
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(b, []byte("BM")):
		return "bmp"
	}
	return ""
}

func decodeConfig(format string, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch format {
	case "png":
		return png.DecodeConfig(r)
	case "jpeg":
		return jpeg.DecodeConfig(r)
	default:
		return gif.DecodeConfig(r)
	}
}

func decodeFull(format string, b []byte) error {
	r := bytes.NewReader(b)
	var err error
	switch format {
	case "png":
		_, err = png.Decode(r)
	case "jpeg":
		_, err = jpeg.Decode(r)
	default:
		_, err = gif.Decode(r) // first frame, as Face uses
	}
	return err
}

// bmpDimensions validates a Windows bitmap's headers and pixel data length and
// returns its size. The standard library has no BMP decoder; checking the headers
// and that the pixel array is all there is what "decodable" needs here.
func bmpDimensions(b []byte) (w, h int, err error) {
	if len(b) < 26 {
		return 0, 0, errors.New("truncated BMP header")
	}
	le := binary.LittleEndian
	offset := int(le.Uint32(b[10:14]))
	dibSize := int(le.Uint32(b[14:18]))
	var bpp, compression int
	switch dibSize {
	case 12: // BITMAPCOREHEADER
		w, h = int(int16(le.Uint16(b[18:20]))), int(int16(le.Uint16(b[20:22])))
		if le.Uint16(b[22:24]) != 1 {
			return 0, 0, errors.New("BMP planes must be 1")
		}
		bpp = int(le.Uint16(b[24:26]))
	case 40, 52, 56, 64, 108, 124: // BITMAPINFOHEADER and its extensions
		if len(b) < 14+dibSize {
			return 0, 0, errors.New("truncated BMP info header")
		}
		w, h = int(int32(le.Uint32(b[18:22]))), int(int32(le.Uint32(b[22:26])))
		if le.Uint16(b[26:28]) != 1 {
			return 0, 0, errors.New("BMP planes must be 1")
		}
		bpp = int(le.Uint16(b[28:30]))
		compression = int(le.Uint32(b[30:34]))
	default:
		return 0, 0, fmt.Errorf("unsupported BMP header size %d", dibSize)
	}
	if h < 0 {
		h = -h // top-down bitmap
	}
	if w <= 0 || h == 0 {
		return 0, 0, fmt.Errorf("invalid BMP dimensions %dx%d", w, h)
	}
	switch bpp {
	case 1, 4, 8, 16, 24, 32:
	default:
		return 0, 0, fmt.Errorf("unsupported BMP bit depth %d", bpp)
	}
	if offset < 14+dibSize || offset >= len(b) {
		return 0, 0, fmt.Errorf("BMP pixel data offset %d outside the file", offset)
	}
	switch compression {
	case 0, 3, 6: // BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS: uncompressed rows
		if w <= maxImageDim && h <= maxImageDim {
			row := (bpp*w + 31) / 32 * 4
			if need := offset + row*h; need > len(b) {
				return 0, 0, fmt.Errorf("BMP pixel data truncated: need %d bytes, have %d", need, len(b))
			}
		}
	case 1, 2: // RLE8, RLE4: variable length; the offset check above suffices
	default:
		return 0, 0, fmt.Errorf("unsupported BMP compression %d", compression)
	}
	return w, h, nil
}

// referenceFor derives the verify reference the service would report for an image:
// a centred face box from the dimensions and a quality from the short side. It is
// deterministic so tests can predict it.
func referenceFor(info imageInfo) wireVerifyReference {
	short := min(info.width, info.height)
	fw := short * 3 / 5
	fh := min(fw*5/4, info.height*9/10)
	q := qualityHigh
	switch {
	case short < 200:
		q = qualityLow
	case short < 500:
		q = qualityMedium
	}
	return wireVerifyReference{
		ReferenceType: referenceTypeColor,
		FaceRectangle: wireFaceRectangle{
			Top:    int32((info.height - fh) / 2),
			Left:   int32((info.width - fw) / 2),
			Width:  int32(fw),
			Height: int32(fh),
		},
		QualityForRecognition: q,
	}
}

// Session images are portrait frames like a phone camera's.
const (
	sessionImageWidth  = 480
	sessionImageHeight = 640
)

// renderSessionImage draws a synthetic portrait whose face sits exactly at rect, so
// that targets.color.faceRectangle, the image and detect agree with each other.
func renderSessionImage(rect wireFaceRectangle, decision string) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, sessionImageWidth, sessionImageHeight))
	for y := 0; y < sessionImageHeight; y++ {
		shade := uint8(90 + y*80/sessionImageHeight)
		c := color.RGBA{shade / 2, shade / 2, shade, 255}
		if decision == decisionSpoofFace {
			c = color.RGBA{shade, shade / 2, shade / 2, 255} // a reddish cast marks spoof frames
		}
		for x := 0; x < sessionImageWidth; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	cx := float64(rect.Left) + float64(rect.Width)/2
	cy := float64(rect.Top) + float64(rect.Height)/2
	rx, ry := float64(rect.Width)/2, float64(rect.Height)/2
	skin := color.RGBA{224, 172, 138, 255}
	for y := int(rect.Top); y < int(rect.Top+rect.Height); y++ {
		for x := int(rect.Left); x < int(rect.Left+rect.Width); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				img.SetRGBA(x, y, skin)
			}
		}
	}
	lm := landmarksFor(rect)
	dark := color.RGBA{40, 30, 30, 255}
	for _, p := range []wireLandmark{lm.PupilLeft, lm.PupilRight} {
		fillDisc(img, p.X, p.Y, float64(rect.Width)/18, dark)
	}
	fillDisc(img, lm.NoseTip.X, lm.NoseTip.Y, float64(rect.Width)/30, color.RGBA{190, 130, 110, 255})
	for x := lm.MouthLeft.X; x <= lm.MouthRight.X; x++ {
		fillDisc(img, x, lm.UpperLipBottom.Y, 2, color.RGBA{150, 60, 60, 255})
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fillDisc(img *image.RGBA, cx, cy, r float64, c color.RGBA) {
	for y := int(cy - r); y <= int(cy+r); y++ {
		for x := int(cx - r); x <= int(cx+r); x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			if dx*dx+dy*dy <= r*r && image.Pt(x, y).In(img.Rect) {
				img.SetRGBA(x, y, c)
			}
		}
	}
}

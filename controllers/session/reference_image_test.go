package session

import (
	"bytes"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func noise(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func TestValidateReferenceImage(t *testing.T) {
	// Over 6 MB cannot even be stored in a Secret (1 MiB), but a ConfigMap's binaryData in a
	// cluster with a raised limit, or a future source, could hold it: the check stands alone.
	big := append(noise(64, 64), bytes.Repeat([]byte{0}, 6<<20)...)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"valid", noise(100, 100), ""},
		{"too few bytes", noise(8, 8), "Face needs at least 1 KB"},
		{"too many bytes", big, "Face accepts at most 6 MB"},
		{"not an image", bytes.Repeat([]byte("plain text "), 200), "is not a PNG, JPEG, BMP or GIF image"},
		{"too small", noise(30, 40), "is 30x40 pixels; Face needs 36x36 to 4096x4096"},
		{"too large", noise(4097, 36), "is 4097x36 pixels"},
		{"truncated", noise(100, 100)[:2000], "damaged png image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			format, err := validateReferenceImage(tc.data)
			if tc.want == "" {
				require.NoError(t, err)
				require.Equal(t, "png", format)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.Less(t, len(err.Error()), 200, "the message explains; it never carries the bytes")
			require.False(t, strings.ContainsRune(err.Error(), 0))
		})
	}
}

package emulator

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBMPDimensions(t *testing.T) {
	le := binary.LittleEndian
	// BITMAPCOREHEADER, 8 bpp, 40x50, rows padded to 40 bytes.
	core := make([]byte, 26+40*50)
	copy(core, "BM")
	le.PutUint32(core[10:], 26)
	le.PutUint32(core[14:], 12)
	le.PutUint16(core[18:], 40)
	le.PutUint16(core[20:], 50)
	le.PutUint16(core[22:], 1)
	le.PutUint16(core[24:], 8)
	w, h, err := bmpDimensions(core)
	require.NoError(t, err)
	require.Equal(t, [2]int{40, 50}, [2]int{w, h})

	bad := append([]byte(nil), core...)
	le.PutUint16(bad[24:], 7)
	_, _, err = bmpDimensions(bad)
	require.ErrorContains(t, err, "bit depth")

	bad = append([]byte(nil), core...)
	le.PutUint32(bad[14:], 99)
	_, _, err = bmpDimensions(bad)
	require.ErrorContains(t, err, "header size")

	_, _, err = bmpDimensions(core[:1000])
	require.ErrorContains(t, err, "truncated")

	_, _, err = bmpDimensions([]byte("BM"))
	require.Error(t, err)
}

func TestReferenceForIsCentred(t *testing.T) {
	ref := referenceFor(imageInfo{width: 1000, height: 600})
	r := ref.FaceRectangle
	require.Equal(t, int32(1000), 2*r.Left+r.Width)
	require.LessOrEqual(t, r.Top+r.Height, int32(600))
	require.Equal(t, "high", ref.QualityForRecognition)
	require.Equal(t, "Color", ref.ReferenceType)
}

func TestFaceRectFitsSessionImage(t *testing.T) {
	for _, id := range []string{"a", "b", "c", newUUID(), newUUID()} {
		r := faceRectFor(id)
		require.GreaterOrEqual(t, r.Left, int32(0))
		require.GreaterOrEqual(t, r.Top, int32(0))
		require.LessOrEqual(t, r.Left+r.Width, int32(sessionImageWidth))
		require.LessOrEqual(t, r.Top+r.Height, int32(sessionImageHeight))
	}
}

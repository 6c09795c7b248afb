package emulator_test

import (
	"bytes"
	"encoding/binary"
	"image/gif"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

func TestCreateLivenessValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	cases := []struct {
		name     string
		body     string
		status   int
		code     string
		mentions []string
	}{
		{"missing mode", `{"deviceCorrelationId":"d"}`, 400, "BadArgument", []string{"livenessOperationMode", "Passive, PassiveActive"}},
		{"bad mode", `{"livenessOperationMode":"Active","deviceCorrelationId":"d"}`, 400, "BadArgument", []string{"livenessOperationMode", "Active"}},
		{"mode wrong case", `{"livenessOperationMode":"passive","deviceCorrelationId":"d"}`, 400, "BadArgument", []string{"case-sensitive"}},
		{"field name wrong case", `{"LivenessOperationMode":"Passive","deviceCorrelationId":"d"}`, 400, "BadArgument", []string{"livenessOperationMode"}},
		{"ttl too small", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":59}`, 400, "BadArgument", []string{"authTokenTimeToLiveInSeconds", "60", "86400", "59"}},
		{"ttl too big", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":86401}`, 400, "BadArgument", []string{"authTokenTimeToLiveInSeconds", "86400"}},
		{"ttl fractional", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":60.5}`, 400, "BadArgument", []string{"authTokenTimeToLiveInSeconds", "integer"}},
		{"ttl string", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":"600"}`, 400, "BadArgument", []string{"authTokenTimeToLiveInSeconds", "a string"}},
		{"correlation id missing", `{"livenessOperationMode":"Passive"}`, 400, "BadArgument", []string{"deviceCorrelationId", "required"}},
		{"correlation id missing with false", `{"livenessOperationMode":"Passive","deviceCorrelationIdSetInClient":false}`, 400, "BadArgument", []string{"deviceCorrelationId"}},
		{"correlation id empty", `{"livenessOperationMode":"Passive","deviceCorrelationId":""}`, 400, "BadArgument", []string{"deviceCorrelationId"}},
		{"correlation id with in-client", `{"livenessOperationMode":"Passive","deviceCorrelationIdSetInClient":true,"deviceCorrelationId":"d"}`, 400, "BadArgument", []string{"deviceCorrelationId", "absent or null"}},
		{"bool as string", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","enableSessionImage":"true"}`, 400, "BadArgument", []string{"enableSessionImage", "boolean"}},
		{"model version", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","livenessModelVersion":"2024-02-15"}`, 400, "BadArgument", []string{"livenessModelVersion", "2024-11-15"}},
		{"malformed json", `{"livenessOperationMode":`, 400, "BadArgument", []string{"JSON"}},
		{"json array", `[1]`, 400, "BadArgument", []string{"object"}},
		{"json null", `null`, 400, "BadArgument", []string{"object"}},
		{"empty body", ``, 400, "BadArgument", []string{"required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, livenessPath, []byte(tc.body), "application/json")
			require.Equal(t, tc.status, r.status, "body: %s", r.body)
			require.Equal(t, tc.code, r.errorCode(t))
			for _, m := range tc.mentions {
				require.Contains(t, r.message(t), m)
			}
		})
	}
	require.Empty(t, e.srv.Sessions(), "no invalid create is stored")
}

func TestCreateLivenessAccepts(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, body := range []string{
		`{"livenessOperationMode":"PassiveActive","deviceCorrelationIdSetInClient":true}`,
		`{"livenessOperationMode":"Passive","deviceCorrelationIdSetInClient":true,"deviceCorrelationId":null}`,
		`{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":60,"livenessModelVersion":"2024-11-15","enableSessionImage":false}`,
		`{"livenessOperationMode":"Passive","deviceCorrelationId":"d","authTokenTimeToLiveInSeconds":86400,"sendResultsToClient":true}`,
	} {
		r := e.do(http.MethodPost, livenessPath, []byte(body), "application/json; charset=utf-8")
		require.Equal(t, http.StatusOK, r.status, "%s -> %s", body, r.body)
	}
	sessions := e.srv.Sessions()
	require.Len(t, sessions, 4)
	ttls := []int{}
	for _, s := range sessions {
		ttls = append(ttls, s.AuthTokenTTLSeconds)
	}
	require.ElementsMatch(t, []int{600, 600, 60, 86400}, ttls, "default TTL is 600")
}

func TestCreateWrongContentType(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	body := []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"d"}`)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		r := e.do(http.MethodPost, livenessPath, body, ct)
		require.Equal(t, http.StatusUnsupportedMediaType, r.status, "content type %q", ct)
		require.Equal(t, "UnsupportedMediaType", r.errorCode(t))
		require.Contains(t, r.message(t), "application/json")
	}
	vb, _ := multipartBody(t, validVerifyParts(noisyPNG(t, 64, 64)))
	r := e.do(http.MethodPost, verifyPath, vb, "application/json")
	require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	require.Contains(t, r.message(t), "multipart/form-data")
	r = e.do(http.MethodPost, verifyPath, vb, "multipart/form-data")
	require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	require.Contains(t, r.message(t), "boundary")
}

func TestCreateWithVerifyValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	img := noisyPNG(t, 64, 64)
	with := func(extra ...part) []part { return append(validVerifyParts(img), extra...) }
	without := func(name string) []part {
		var out []part
		for _, p := range validVerifyParts(img) {
			if p.name != name {
				out = append(out, p)
			}
		}
		return out
	}
	cases := []struct {
		name     string
		parts    []part
		code     string
		mentions []string
	}{
		{"missing mode", without("livenessOperationMode"), "BadArgument", []string{"livenessOperationMode"}},
		{"bad mode", append(without("livenessOperationMode"), part{name: "livenessOperationMode", value: "Active"}), "BadArgument", []string{"Active"}},
		{"missing image", without("verifyImage"), "BadArgument", []string{"verifyImage", "required"}},
		{"image without filename", append(without("verifyImage"), part{name: "verifyImage", data: img}), "BadArgument", []string{"verifyImage", "filename"}},
		{"capitalised VerifyImage", append(without("verifyImage"), part{name: "VerifyImage", filename: "f.png", data: img}), "BadArgument", []string{"VerifyImage", "case-sensitive", "verifyImage"}},
		{"pre-GA Parameters part", with(part{name: "Parameters", value: `{"livenessOperationMode":"Passive"}`}), "BadArgument", []string{"Parameters", "pre-GA"}},
		{"unknown part", with(part{name: "foo", value: "bar"}), "BadArgument", []string{"foo"}},
		{"duplicate part", with(part{name: "deviceCorrelationId", value: "again"}), "BadArgument", []string{"more than once"}},
		{"threshold above 1", with(part{name: "verifyConfidenceThreshold", value: "1.5"}), "BadArgument", []string{"verifyConfidenceThreshold", "0 and 1"}},
		{"threshold below 0", with(part{name: "verifyConfidenceThreshold", value: "-0.1"}), "BadArgument", []string{"verifyConfidenceThreshold"}},
		{"threshold not a number", with(part{name: "verifyConfidenceThreshold", value: "high"}), "BadArgument", []string{"verifyConfidenceThreshold"}},
		{"ttl out of range", with(part{name: "authTokenTimeToLiveInSeconds", value: "30"}), "BadArgument", []string{"authTokenTimeToLiveInSeconds", "60", "86400"}},
		{"ttl not integer", with(part{name: "authTokenTimeToLiveInSeconds", value: "6e2"}), "BadArgument", []string{"authTokenTimeToLiveInSeconds"}},
		{"bool not bool", with(part{name: "returnVerifyImageHash", value: "yes"}), "BadArgument", []string{"returnVerifyImageHash", "'true' or 'false'"}},
		{"correlation id missing", without("deviceCorrelationId"), "BadArgument", []string{"deviceCorrelationId"}},
		{"correlation id with in-client", with(part{name: "deviceCorrelationIdSetInClient", value: "true"}), "BadArgument", []string{"absent or null"}},
		{"model version", with(part{name: "livenessModelVersion", value: "latest"}), "BadArgument", []string{"livenessModelVersion"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.createVerify(tc.parts)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Equal(t, tc.code, r.errorCode(t))
			for _, m := range tc.mentions {
				require.Contains(t, r.message(t), m)
			}
		})
	}
	require.Empty(t, e.srv.Sessions())
}

func TestCreateWithVerifyImageRules(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	big := make([]byte, 6<<20+1)
	copy(big, noisyPNG(t, 64, 64))
	cases := []struct {
		name     string
		img      []byte
		code     string
		mentions []string
	}{
		{"too small file", noisyPNG(t, 10, 10), "InvalidImageSize", []string{"too small", "1 KB"}},
		{"too big file", big, "InvalidImageSize", []string{"too big", "6 MB"}},
		{"not an image", bytes.Repeat([]byte("hello "), 400), "InvalidImage", []string{"JPEG, PNG, GIF or BMP"}},
		{"webp", append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 2000)...), "InvalidImage", []string{"unsupported"}},
		{"truncated png", noisyPNG(t, 200, 200)[:5000], "InvalidImage", []string{"png"}},
		{"too narrow", noisyPNG(t, 35, 100), "InvalidImageSize", []string{"35x100", "36", "4096"}},
		{"too large dims", noisyPNG(t, 4097, 40), "InvalidImageSize", []string{"4097x40"}},
		{"bmp truncated", bmp(t, 100, 100)[:2000], "InvalidImage", []string{"bmp"}},
		{"bmp too small dims", bmp(t, 20, 20), "InvalidImageSize", []string{"20x20"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parts := validVerifyParts(tc.img)
			r := e.createVerify(parts)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Equal(t, tc.code, r.errorCode(t))
			for _, m := range tc.mentions {
				require.Contains(t, r.message(t), m)
			}
		})
	}
	for name, img := range map[string][]byte{
		"png": noisyPNG(t, 36, 36), "jpeg": encodeJPEG(t, 120, 90), "gif": encodeGIF(t, 80, 80), "bmp": bmp(t, 100, 60),
		"bmp top-down": bmp(t, 100, -60),
	} {
		r := e.createVerify(validVerifyParts(img))
		require.Equal(t, http.StatusOK, r.status, "%s: %s", name, r.body)
	}
}

func TestCreateWithVerifyAllParts(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	r := e.createVerify([]part{
		{name: "livenessOperationMode", value: "Passive"},
		{name: "deviceCorrelationIdSetInClient", value: "True"},
		{name: "enableSessionImage", value: "true"},
		{name: "livenessModelVersion", value: "2024-11-15"},
		{name: "returnVerifyImageHash", value: "true"},
		{name: "verifyConfidenceThreshold", value: "0.8"},
		{name: "verifyImage", filename: "ref.jpg", data: encodeJPEG(t, 600, 800)},
		{name: "authTokenTimeToLiveInSeconds", value: "120"},
	})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	info, ok := e.srv.Session(r.json(t)["sessionId"].(string))
	require.True(t, ok)
	require.Equal(t, 120, info.AuthTokenTTLSeconds)
	require.Equal(t, 0.8, *info.VerifyConfidenceThreshold)
	require.True(t, info.ReturnVerifyImageHash)
	require.True(t, info.EnableSessionImage)
	require.True(t, info.DeviceCorrelationIDSetInClient)
	require.Empty(t, info.DeviceCorrelationID)
	require.Equal(t, "jpeg", info.VerifyImage.Format)
	require.Equal(t, 600, info.VerifyImage.Width)
	require.Equal(t, 800, info.VerifyImage.Height)
	require.Regexp(t, hex64RE, info.VerifyImage.SHA256)
}

func TestCreateBodyTooLarge(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	body := `{"livenessOperationMode":"Passive","deviceCorrelationId":"` + strings.Repeat("x", 2<<20) + `"}`
	r := e.do(http.MethodPost, livenessPath, []byte(body), "application/json")
	require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	require.Equal(t, "RequestEntityTooLarge", r.errorCode(t))
}

func encodeJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img, err := pngDecode(noisyPNG(t, w, h))
	require.NoError(t, err)
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}))
	return buf.Bytes()
}

func encodeGIF(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	img, err := pngDecode(noisyPNG(t, w, h))
	require.NoError(t, err)
	require.NoError(t, gif.Encode(&buf, img, nil))
	return buf.Bytes()
}

// bmp builds a 24-bit BITMAPINFOHEADER bitmap; negative h means top-down.
func bmp(t *testing.T, w, h int) []byte {
	t.Helper()
	absH := h
	if absH < 0 {
		absH = -absH
	}
	row := (24*w + 31) / 32 * 4
	size := 54 + row*absH
	b := make([]byte, size)
	copy(b, "BM")
	le := binary.LittleEndian
	le.PutUint32(b[2:], uint32(size))
	le.PutUint32(b[10:], 54)
	le.PutUint32(b[14:], 40)
	le.PutUint32(b[18:], uint32(int32(w)))
	le.PutUint32(b[22:], uint32(int32(h)))
	le.PutUint16(b[26:], 1)
	le.PutUint16(b[28:], 24)
	for i := 54; i < size; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

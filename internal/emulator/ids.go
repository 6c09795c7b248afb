package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// newUUID returns a random (version 4) UUID in the canonical lowercase form the
// service uses for session ids and apim-request-id.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// jwtHeader is the base64url of {"alg":"ES256","typ":"JWT"}: the real authToken is an
// ES256 JWT (the examples start with "eyJhbGciOiJFUzI1NiIsIm"), so the emulator hands
// out tokens of the same form and length class. Clients must treat them as opaque.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"JWT"}`))

// newAuthToken returns a JWT-shaped session token whose payload names the session and
// its expiry, and whose "signature" is 64 random bytes (the size of an ES256
// signature), which makes it unguessable.
func newAuthToken(sessionID string, issued, expires time.Time) string {
	var payload strings.Builder
	payload.Grow(128)
	payload.WriteString(`{"sid":"`)
	payload.WriteString(sessionID)
	payload.WriteString(`","iat":`)
	payload.WriteString(strconv.FormatInt(issued.Unix(), 10))
	payload.WriteString(`,"nbf":`)
	payload.WriteString(strconv.FormatInt(issued.Unix(), 10))
	payload.WriteString(`,"exp":`)
	payload.WriteString(strconv.FormatInt(expires.Unix(), 10))
	payload.WriteString(`,"iss":"face-emulator"}`)
	var sig [64]byte
	_, _ = rand.Read(sig[:])
	return jwtHeader + "." + base64.RawURLEncoding.EncodeToString([]byte(payload.String())) + "." +
		base64.RawURLEncoding.EncodeToString(sig[:])
}

// newSessionImageID returns a 44-character opaque id like the examples'
// "Ae3PVWlXAmVAnXgkAFt1QSjGUWONKzWiSr2iPh9p9G4I" (33 random bytes, URL-safe base64),
// so that clients do not assume session image ids are UUIDs.
func newSessionImageID() string {
	var b [33]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// upperHexSHA256 is the SHA-256 of b as 64 uppercase hex characters, the form of
// verifyImageHash in the examples (so a client can compare it with its own hash of
// the image it uploaded).
func upperHexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// digestOf derives an attempt's digest (64 uppercase hex characters like the
// examples) from the fields that identify the attempt, NUL-separated so that
// different field splits cannot collide.
func digestOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// fnv32 is a cheap string hash used to pick a store shard.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

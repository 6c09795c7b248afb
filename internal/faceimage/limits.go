// Package faceimage holds Azure AI Face's documented limits for detection images, in one place
// for both sides that enforce them: the operator checks a reference image against them before
// anything is sent, and the emulator refuses what the real service refuses. Face's words:
// "JPEG, PNG, GIF (the first frame), and BMP format are supported. The allowed image file size
// is from 1KB to 6MB", and images from 36x36 to 4096x4096 pixels.
package faceimage

const (
	// MinBytes is the smallest image file Face accepts (1 KB).
	MinBytes = 1 << 10
	// MaxBytes is the largest image file Face accepts (6 MB).
	MaxBytes = 6 << 20
	// MinDimension is the smallest width or height Face accepts, in pixels.
	MinDimension = 36
	// MaxDimension is the largest width or height Face accepts, in pixels.
	MaxDimension = 4096
)

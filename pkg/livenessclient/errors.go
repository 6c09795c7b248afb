package livenessclient

import (
	"errors"
	"fmt"
)

// ErrNotFound reports that the named LivenessSession does not exist, or was deleted while a
// call waited on it. Match it with errors.Is.
var ErrNotFound = errors.New("liveness session not found")

// ErrReferenceImageTooLarge reports reference image bytes that cannot be stored in a Secret
// (Kubernetes caps a Secret's data at 1 MiB, below Face's 6 MB limit). Match it with errors.Is.
var ErrReferenceImageTooLarge = errors.New("reference image too large for a Secret")

// ErrTokenUnavailable reports a session whose token cannot be handed out: its token Secret was
// deleted (Face never returns a token twice), or the Secret under its name is not the one the
// operator recorded. Match it with errors.Is.
var ErrTokenUnavailable = errors.New("liveness session token unavailable")

// StalledError reports a LivenessSession the operator marked Stalled=True: progress needs a
// human (a conflicting token Secret, an unusable reference image, rejected account
// credentials, ...). Reason is the operator's condition reason, for example
// v1alpha1.ReasonSecretConflict or v1alpha1.ReasonInvalidReferenceImage, and Message says what
// to fix. Match it with errors.As.
type StalledError struct {
	// Name is the LivenessSession's name.
	Name string
	// Reason is the Stalled condition's reason (CamelCase, stable: callers may switch on it).
	Reason string
	// Message is the Stalled condition's message, meant for humans.
	Message string
}

// Error formats the stall as "liveness session NAME stalled: REASON: MESSAGE".
func (e *StalledError) Error() string {
	return fmt.Sprintf("liveness session %s stalled: %s: %s", e.Name, e.Reason, e.Message)
}

// notFound wraps ErrNotFound with the session's name.
func notFound(name string) error {
	return fmt.Errorf("%w: %q", ErrNotFound, name)
}

package emulator

import (
	"sync"
	"time"
)

// Abuse monitoring (v1.3-preview.1). The service compares face templates across user
// correlation ids and flags a face that recurs under different ids. The emulator has
// no faces, so an attempt names its face: by an id the test chooses (faceId) or by the
// digest of an image it sends (faceImage). An attempt that names no face is never
// compared, so tests that do not care about abuse never trip it.
//
// Rule: a Succeeded attempt of a monitored session (the key's setting at creation)
// that names a face is flagged when the same key has seen that face, within
// Config.AbuseWindow before it, in an attempt counted for another non-empty user
// correlation id. otherFlaggedSessions lists those attempts (session id, attempt id,
// session image id), oldest first; they may belong to deleted sessions or to the same
// session (a session whose client sets the user id per attempt). Earlier attempts are
// not rewritten: the flag is on the attempt that completed the pattern.

// sighting is one monitored attempt that named a face.
type sighting struct {
	at                time.Time
	userCorrelationID string
	sessionID         string
	attemptID         int32
	sessionImageID    string
}

// faceIndex holds the sightings per key identity and face key. It is part of the
// store, so Reset forgets it with the sessions.
type faceIndex struct {
	mu sync.Mutex
	m  map[string]map[string][]sighting // keyID -> faceKey -> sightings, oldest first
}

func newFaceIndex() *faceIndex {
	return &faceIndex{m: map[string]map[string][]sighting{}}
}

// observe records sg for keyID/faceKey and returns the earlier sightings within window
// whose user correlation id differs from sg's. Sightings older than the window are
// dropped on the way, so the index stays bounded by the window.
func (fi *faceIndex) observe(keyID, faceKey string, sg sighting, window time.Duration) []sighting {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	faces := fi.m[keyID]
	if faces == nil {
		faces = map[string][]sighting{}
		fi.m[keyID] = faces
	}
	cutoff := sg.at.Add(-window)
	kept := faces[faceKey][:0]
	var flagged []sighting
	for _, old := range faces[faceKey] {
		if old.at.Before(cutoff) {
			continue
		}
		kept = append(kept, old)
		if old.userCorrelationID != "" && sg.userCorrelationID != "" && old.userCorrelationID != sg.userCorrelationID {
			flagged = append(flagged, old)
		}
	}
	faces[faceKey] = append(kept, sg)
	return flagged
}

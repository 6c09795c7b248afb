package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// pollTimes lists every scheduled poll of a session with the given token lifetime, up to the
// first poll after expiry, as offsets from creation.
func pollTimes(ttl time.Duration) []time.Duration {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := created.Add(ttl)
	var out []time.Duration
	for last := created; !last.After(expires); {
		last = nextPollAt(created, expires, last)
		out = append(out, last.Sub(created))
	}
	return out
}

func TestPollScheduleBudget(t *testing.T) {
	// TARGETS: at most 15 result polls over a 600 s token with no completion signal.
	polls := pollTimes(600 * time.Second)
	require.LessOrEqual(t, len(polls), 15, "polls: %v", polls)
	require.Equal(t, time.Second, polls[0], "the first poll comes one second after creation")
	require.Equal(t, 601*time.Second, polls[len(polls)-1], "the last poll lands just after expiry")
	t.Logf("600 s token: %d polls at %v", len(polls), polls)
}

func TestPollScheduleShapes(t *testing.T) {
	for _, tc := range []struct {
		ttl      time.Duration
		maxPolls int
	}{
		{60 * time.Second, 10},
		{600 * time.Second, 15},
		{3600 * time.Second, 20},
		{86400 * time.Second, 160},
	} {
		polls := pollTimes(tc.ttl)
		require.LessOrEqual(t, len(polls), tc.maxPolls, "ttl %s: %v", tc.ttl, polls)
		for i := 1; i < len(polls); i++ {
			gap := polls[i] - polls[i-1]
			require.Positive(t, gap, "ttl %s: polls must move forward", tc.ttl)
			// The last gap runs to just past expiry, so it may exceed the cap by pollAfterExpiry.
			require.LessOrEqual(t, gap, pollCap(tc.ttl)+pollAfterExpiry, "ttl %s: no gap beyond the cap", tc.ttl)
		}
	}
}

func TestPollScheduleAfterExpiryKeepsCapCadence(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := created.Add(600 * time.Second)
	// An attempt still running at expiry: polling continues every cap.
	afterExpiry := expires.Add(pollAfterExpiry)
	next := nextPollAt(created, expires, afterExpiry)
	require.Equal(t, afterExpiry.Add(pollCap(600*time.Second)), next)
}

func TestPollScheduleResumesFromAnyPoint(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expires := created.Add(600 * time.Second)
	// A restarted manager that last polled at an arbitrary moment resumes at the next point.
	next := nextPollAt(created, expires, created.Add(100*time.Second))
	require.Equal(t, created.Add(127*time.Second), next)
}

// A session recorded just now waits for its first scheduled poll, and never less than the
// time its status write needs to reach the cache.
func TestUntilFirstPoll(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	session := func(created time.Time) *facev1.LivenessSession {
		expires := metav1.NewTime(created.Add(600 * time.Second))
		c := metav1.NewTime(created)
		return &facev1.LivenessSession{Status: facev1.LivenessSessionStatus{CreatedAt: &c, AuthTokenExpiresAt: &expires}}
	}
	// Created just now: the first poll is a second after creation.
	require.Equal(t, 900*time.Millisecond, untilFirstPoll(session(created), created.Add(100*time.Millisecond)))
	// Adopted long after its creation: the first poll is due, after the status write settles.
	require.Equal(t, conflictRetry, untilFirstPoll(session(created.Add(-time.Hour)), created))
	// Nothing recorded to schedule from.
	require.Equal(t, conflictRetry, untilFirstPoll(&facev1.LivenessSession{}, created))
}

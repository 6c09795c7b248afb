package session

import "time"

// Result polling follows the session's own clock. Polls come fast right after creation (an
// end user often starts at once) and slow down geometrically to a cap of an eighth of the token's
// lifetime, bounded to [pollCapMin, pollCapMax]; one last poll lands just after the token
// expires, to tell a finished attempt from an expired session. For the default 600 s token
// that is 14 polls in all (TestPollScheduleBudget), against a budget of 15.
const (
	pollFirst       = time.Second
	pollCapMin      = 15 * time.Second
	pollCapMax      = 10 * time.Minute
	pollAfterExpiry = time.Second
)

// pollCap is the longest wait between two polls of a session with the given token lifetime.
func pollCap(ttl time.Duration) time.Duration {
	c := ttl / 8
	if c < pollCapMin {
		c = pollCapMin
	}
	if c > pollCapMax {
		c = pollCapMax
	}
	return c
}

// nextPollAt returns the first scheduled poll strictly after last, for a session created at
// created whose token expires at expires. Schedule points are created+1s, +3s, +7s, ... (each
// gap doubling up to pollCap), then expires+pollAfterExpiry, then every pollCap while an
// attempt may still be running. The schedule is a pure function of the session's clock, so a
// restarted manager resumes it without stored state.
func nextPollAt(created, expires, last time.Time) time.Time {
	limit := pollCap(expires.Sub(created))
	t, gap := created, pollFirst
	for {
		t = t.Add(gap)
		if !t.Before(expires) {
			break
		}
		if t.After(last) {
			return t
		}
		if gap *= 2; gap > limit {
			gap = limit
		}
	}
	t = expires.Add(pollAfterExpiry)
	for !t.After(last) {
		t = t.Add(limit)
	}
	return t
}

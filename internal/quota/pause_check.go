package quota

import "time"

// checkGrantLocked counts a grant made while the account is paused. The operator cannot know
// Face's own Retry-After windows exactly (Face's clock and bucket are its own), but it can check
// that it never sends inside the window it was told about: every grant path already refuses to
// grant during a pause, and this is the independent check of that rule, made under the same
// lock and with the same clock reading as the grant, so it cannot race with Pause. The count
// (liveness_operator_quota_granted_during_pause_total) must stay 0; anything else is a bug.
func (l *Limiter) checkGrantLocked(now time.Time) {
	if now.Before(l.pausedUntil) {
		l.stats.GrantedDuringPause++
	}
}

package quota

// Poke runs, synchronously, the dispatch that the limiter's timer runs asynchronously. Tests that
// step a fake clock call it so that, when it returns, every grant that is due has been made and
// every grant that is not due provably has not.
func (l *Limiter) Poke() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dispatchLocked(l.clock.Now())
}

// TryAcquire takes a token if one is available right now and nobody is queued ahead (a queued
// caller of either priority would be overtaken otherwise). It never waits. Tests use it to probe
// the bucket; the operator always waits for its token (Acquire).
func (l *Limiter) TryAcquire(p Priority) bool {
	p = p.clamp()
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if !l.idleLocked() || now.Before(l.pausedUntil) || !l.tokenReadyLocked(now) {
		return false
	}
	l.takeLocked(now)
	l.stats.byPriority(p).Granted++
	return true
}

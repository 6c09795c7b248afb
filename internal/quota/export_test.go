package quota

// Poke runs, synchronously, the dispatch that the limiter's timer runs asynchronously. Tests that
// step a fake clock call it so that, when it returns, every grant that is due has been made and
// every grant that is not due provably has not.
func (l *Limiter) Poke() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dispatchLocked(l.clock.Now())
}

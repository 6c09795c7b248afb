package session

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// pollTracker remembers, in memory, when each session's result was last read from Face and
// which sync request that read answered. It keeps unchanged polls from costing a status write
// (nothing about polling is stored in status) and keeps reconciles triggered by unrelated
// events from polling off schedule. After a restart it is empty, which costs at most one extra
// poll per open session.
type pollTracker struct {
	mu    sync.Mutex
	polls map[types.UID]pollRecord
}

// pollRecord is what is known of a session's last poll.
type pollRecord struct {
	at time.Time
	// syncRequest is the sync-requested-at value in force at that poll. A different value means
	// a new request. Values are compared, not times, so clock skew between the app server that
	// writes the annotation and the operator cannot hide a request.
	syncRequest string
	// final says this process saved the session's final outcome at `at`.
	final bool
	// polled says the record is of a Face call (not of a schedule start or resume): only those
	// count against the forced-poll rate limit.
	polled bool
	// unsaved is what that poll observed, kept until its status write succeeds: a write that
	// lost an optimistic-concurrency race is redone from it instead of polling Face again.
	unsaved *cloudSession
}

func newPollTracker() *pollTracker {
	return &pollTracker{polls: map[types.UID]pollRecord{}}
}

// lastPoll returns the session's last poll, and whether one is known.
func (p *pollTracker) lastPoll(uid types.UID) (pollRecord, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.polls[uid]
	return r, ok
}

// record notes a poll that called Face (polled) or the start of a session's schedule, and the
// sync request it answers.
func (p *pollTracker) record(uid types.UID, at time.Time, syncRequest string, polled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls[uid] = pollRecord{at: at, syncRequest: syncRequest, polled: polled}
}

// remember keeps a poll's observation until it is saved.
func (p *pollTracker) remember(uid types.UID, at time.Time, syncRequest string, obs *cloudSession) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls[uid] = pollRecord{at: at, syncRequest: syncRequest, polled: true, unsaved: obs}
}

// saved drops a kept observation once status holds it.
func (p *pollTracker) saved(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.polls[uid]; ok && r.unsaved != nil {
		r.unsaved = nil
		p.polls[uid] = r
	}
}

// finished notes that the session's final outcome was saved.
func (p *pollTracker) finished(uid types.UID, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.polls[uid] = pollRecord{at: at, final: true}
}

// forget drops a session: its outcome is final, or it is gone.
func (p *pollTracker) forget(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.polls, uid)
}

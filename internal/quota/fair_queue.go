package quota

import (
	"container/list"
	"time"
)

// fairQueue holds an account's waiting Face calls, as Kubernetes' API Priority and Fairness
// holds requests: each flow (a namespace: the session's tenant) queues in a lane of its own,
// and a free token goes to the lanes that have work in turn (round robin), one call per lane
// per round. Priorities stay strict across lanes: every lane's High calls (creates, deletes)
// go before any lane's Low calls (polls), and inside a lane the oldest call goes first.
//
// Round robin with one token per call is fair queuing with equal weights and unit cost: a
// flow with a backlog of 3,000 calls gets one token per round like a flow with one, so the
// newcomer waits for at most one round (one token per other busy flow), not for the
// backlog. It is work-conserving: a flow alone gets every token.
//
// A lane may be capped (Limits.FlowShare): it then also needs a token from a bucket of its own
// at its share of the account's rate, and is skipped while that bucket is empty; the tokens it
// cannot use go to the other lanes.
//
// fairQueue is not safe for concurrent use: the Limiter's mutex guards it.
type fairQueue struct {
	levels [numPriorities]fairLevel
}

// fairLevel is one priority's lanes.
type fairLevel struct {
	lanes map[string]*lane
	// ring holds the lanes with waiting calls in serving order: the front lane is served
	// next, then moves to the back.
	ring    list.List // of *lane
	waiting int
}

// lane is one flow's waiting calls of one priority, oldest first.
type lane struct {
	flow     string
	waiters  list.List // of *waiter
	ringElem *list.Element
}

// push queues w at the back of its flow's lane at its priority.
func (q *fairQueue) push(w *waiter) {
	lv := &q.levels[w.prio]
	if lv.lanes == nil {
		lv.lanes = map[string]*lane{}
	}
	ln := lv.lanes[w.flow]
	if ln == nil {
		ln = &lane{flow: w.flow}
		lv.lanes[w.flow] = ln
		// A lane that starts waiting joins the back of the round: it is served after the
		// lanes already waiting have had their turn, not before.
		ln.ringElem = lv.ring.PushBack(ln)
	}
	w.elem = ln.waiters.PushBack(w)
	lv.waiting++
}

// remove takes a queued w out (it gave up, or changes priority).
func (q *fairQueue) remove(w *waiter) {
	lv := &q.levels[w.prio]
	ln := lv.lanes[w.flow]
	if ln == nil || w.elem == nil {
		return
	}
	ln.waiters.Remove(w.elem)
	w.elem = nil
	lv.waiting--
	if ln.waiters.Len() == 0 {
		lv.ring.Remove(ln.ringElem)
		delete(lv.lanes, ln.flow)
	}
}

// len is the number of queued calls.
func (q *fairQueue) len() int {
	n := 0
	for i := range q.levels {
		n += q.levels[i].waiting
	}
	return n
}

// waitingAt is the number of queued calls of priority p.
func (q *fairQueue) waitingAt(p Priority) int { return q.levels[p].waiting }

// lanesAt is the number of lanes with queued calls of priority p.
func (q *fairQueue) lanesAt(p Priority) int { return q.levels[p].ring.Len() }

// pick takes the next call to serve out of the queue: at the highest priority that has an
// eligible lane, the front eligible lane's oldest call; that lane then goes to the back of its
// round. eligible says whether a flow may be served now (its cap allows it); nil means every
// flow may. It returns nil when no lane is eligible. shared reports whether another lane of
// any priority was waiting too (the grant was shared, not the flow's alone).
func (q *fairQueue) pick(eligible func(flow string) bool) (w *waiter, shared bool) {
	lanes := q.lanesAt(High) + q.lanesAt(Low)
	for p := range q.levels {
		lv := &q.levels[p]
		for e := lv.ring.Front(); e != nil; e = e.Next() {
			ln := e.Value.(*lane)
			if eligible != nil && !eligible(ln.flow) {
				continue
			}
			w = ln.waiters.Front().Value.(*waiter)
			q.remove(w)
			if ln.waiters.Len() > 0 {
				lv.ring.MoveToBack(ln.ringElem)
			}
			return w, lanes > 1
		}
	}
	return nil, false
}

// flowCap is one capped flow's own token bucket (GCRA, like the account's): its share of the
// account's rate and burst.
type flowCap struct {
	tat time.Time
}

// flowCaps are the buckets of the capped flows of one account; a flow with no bucket has a
// full one.
type flowCaps struct {
	every time.Duration // time between two of a flow's tokens; 0: no cap
	tau   time.Duration // a flow's burst tolerance
	caps  map[string]*flowCap
}

// configure sets the per-flow rate (share of rate) and burst (share of burst, at least 1);
// share <= 0 removes the cap. Buckets are kept: a flow that spent its share keeps its debt.
func (c *flowCaps) configure(share float64, rate float64, burst int) {
	if share <= 0 {
		c.every, c.tau, c.caps = 0, 0, nil
		return
	}
	flowRate := rate * share
	flowBurst := max(1, int(float64(burst)*share))
	c.every = time.Duration(float64(time.Second) / flowRate)
	c.tau = time.Duration(flowBurst-1) * c.every
}

// capped says whether flows are capped at all.
func (c *flowCaps) capped() bool { return c.every > 0 }

// ready says whether flow may take a token at now.
func (c *flowCaps) ready(flow string, now time.Time) bool {
	if !c.capped() {
		return true
	}
	fc := c.caps[flow]
	return fc == nil || !now.Before(fc.tat.Add(-c.tau))
}

// readyAt is when flow may next take a token.
func (c *flowCaps) readyAt(flow string) time.Time {
	if fc := c.caps[flow]; c.capped() && fc != nil {
		return fc.tat.Add(-c.tau)
	}
	return time.Time{}
}

// take spends one of flow's tokens; the caller checked ready.
func (c *flowCaps) take(flow string, now time.Time) {
	if !c.capped() {
		return
	}
	if c.caps == nil {
		c.caps = map[string]*flowCap{}
	}
	fc := c.caps[flow]
	if fc == nil {
		fc = &flowCap{tat: now}
		c.caps[flow] = fc
	}
	if fc.tat.Before(now) {
		fc.tat = now
	}
	fc.tat = fc.tat.Add(c.every)
}

// refund puts back a token flow did not use.
func (c *flowCaps) refund(flow string, now time.Time) {
	if fc := c.caps[flow]; c.capped() && fc != nil {
		fc.tat = fc.tat.Add(-c.every)
		if fc.tat.Before(now) {
			fc.tat = now
		}
	}
}

// forgetFull drops the buckets that are full again at now: they hold nothing a full bucket
// would not, and dropping them bounds memory by the flows active within one refill.
func (c *flowCaps) forgetFull(now time.Time) {
	for flow, fc := range c.caps {
		if !fc.tat.After(now) {
			delete(c.caps, flow)
		}
	}
}

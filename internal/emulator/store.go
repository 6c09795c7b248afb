package emulator

import (
	"sort"
	"sync"
	"time"
)

// shardCount spreads the maps over independent locks so that concurrent creates,
// gets and deletes of different sessions rarely contend.
const shardCount = 64

// shardedMap is a string-keyed map of sessions split over shardCount RWMutexes.
type shardedMap struct {
	shards [shardCount]struct {
		mu sync.RWMutex
		m  map[string]*session
	}
}

func newShardedMap() *shardedMap {
	sm := &shardedMap{}
	for i := range sm.shards {
		sm.shards[i].m = make(map[string]*session)
	}
	return sm
}

func (sm *shardedMap) get(k string) *session {
	sh := &sm.shards[fnv32(k)%shardCount]
	sh.mu.RLock()
	s := sh.m[k]
	sh.mu.RUnlock()
	return s
}

func (sm *shardedMap) put(k string, s *session) {
	sh := &sm.shards[fnv32(k)%shardCount]
	sh.mu.Lock()
	sh.m[k] = s
	sh.mu.Unlock()
}

func (sm *shardedMap) del(k string) {
	sh := &sm.shards[fnv32(k)%shardCount]
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// values returns every stored session (in no particular order).
func (sm *shardedMap) values() []*session {
	var out []*session
	for i := range sm.shards {
		sh := &sm.shards[i]
		sh.mu.RLock()
		for _, s := range sh.m {
			out = append(out, s)
		}
		sh.mu.RUnlock()
	}
	return out
}

// store holds every session, indexed by id, by auth token and by session image id.
// Expiry is lazy: nothing is swept; lookups compare times against the clock.
type store struct {
	byID    *shardedMap
	byToken *shardedMap
	byImage *shardedMap
	// faces is the v1.3 abuse-monitoring index of faces seen per key.
	faces *faceIndex

	// deleted is a FIFO of deleted session ids used to forget the oldest deleted
	// sessions once there are more than limit of them (limit < 0: never).
	// deleted[head:] are the retained deleted ids, oldest first; the consumed prefix
	// is compacted away only when it is the larger half, so trimming is amortised O(1).
	deletedMu sync.Mutex
	deleted   []string
	head      int
	limit     int
}

func newStore(limit int) *store {
	return &store{byID: newShardedMap(), byToken: newShardedMap(), byImage: newShardedMap(), faces: newFaceIndex(), limit: limit}
}

// add publishes a fully built session.
func (st *store) add(s *session) {
	st.byID.put(s.id, s)
	st.byToken.put(s.token, s)
}

// markDeleted records a delete for inventory trimming and drops the session's images
// ("deleted session and all correlated data"). The token stays indexed so that the
// attempts endpoint can say the token was revoked rather than unknown.
func (st *store) markDeleted(s *session, imageIDs []string) {
	for _, id := range imageIDs {
		st.byImage.del(id)
	}
	if st.limit < 0 {
		return
	}
	st.deletedMu.Lock()
	st.deleted = append(st.deleted, s.id)
	var evict []string
	for len(st.deleted)-st.head > st.limit {
		evict = append(evict, st.deleted[st.head])
		st.deleted[st.head] = ""
		st.head++
	}
	if st.head > len(st.deleted)/2 {
		st.deleted = append(st.deleted[:0], st.deleted[st.head:]...)
		st.head = 0
	}
	st.deletedMu.Unlock()
	for _, id := range evict {
		if old := st.byID.get(id); old != nil {
			st.byToken.del(old.token)
			st.byID.del(id)
		}
	}
}

// list returns inventory entries ordered by creation time (then id, for ties).
func (st *store) list(now time.Time) []SessionInfo {
	all := st.byID.values()
	out := make([]SessionInfo, 0, len(all))
	for _, s := range all {
		out = append(out, s.info(now))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedDateTime.Equal(out[j].CreatedDateTime) {
			return out[i].CreatedDateTime.Before(out[j].CreatedDateTime)
		}
		return out[i].SessionID < out[j].SessionID
	})
	return out
}

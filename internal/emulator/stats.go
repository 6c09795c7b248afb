package emulator

import (
	"maps"
	"sync"
)

// Operation names used in Stats.ByOperation: the spec's operationIds without their
// group prefix, plus Unknown for requests that matched no operation.
const (
	OpCreateLivenessSession              = "CreateLivenessSession"              // POST /detectLiveness-sessions
	OpGetLivenessSessionResult           = "GetLivenessSessionResult"           // GET /detectLiveness-sessions/{id}
	OpDeleteLivenessSession              = "DeleteLivenessSession"              // DELETE /detectLiveness-sessions/{id}
	OpCreateLivenessWithVerifySession    = "CreateLivenessWithVerifySession"    // POST /detectLivenessWithVerify-sessions
	OpGetLivenessWithVerifySessionResult = "GetLivenessWithVerifySessionResult" // GET /detectLivenessWithVerify-sessions/{id}
	OpDeleteLivenessWithVerifySession    = "DeleteLivenessWithVerifySession"    // DELETE /detectLivenessWithVerify-sessions/{id}
	OpGetSessionImage                    = "GetSessionImage"                    // GET /sessionImages/{id}
	OpDetectFromSessionImageID           = "DetectFromSessionImageId"           // POST /detect
	OpGetSettings                        = "GetSettings"                        // GET /settings (v1.3-preview.1)
	OpPatchSettings                      = "PatchSettings"                      // PATCH /settings (v1.3-preview.1)
	OpGetClientAssetsAccessToken         = "GetClientAssetsAccessToken"         // GET /settings/getClientAssetsAccessToken (v1.3-preview.1)
	OpUnknown                            = "Unknown"                            // no operation matched
)

// Status keys used in Stats besides the decimal HTTP status codes.
const (
	// StatusDropped counts requests whose connection was closed without an answer
	// (drop and commit-then-drop faults).
	StatusDropped = "dropped"
	// StatusClientGone counts requests whose client went away during injected latency.
	StatusClientGone = "clientGone"
)

// Stats are the counters of the Face API routes (GET /emulator/stats and
// Server.Stats). Requests to /emulator/* are not counted.
type Stats struct {
	// TotalRequests counts every request to the Face API routes.
	TotalRequests int64 `json:"totalRequests"`
	// ByOperation counts requests per operation, split by status.
	ByOperation map[string]OperationStats `json:"byOperation"`
	// ByStatus counts requests per HTTP status ("200", "429", ...) or StatusDropped.
	ByStatus map[string]int64 `json:"byStatus"`
	// ByAPIVersion counts requests per API version of their path ("v1.2",
	// "v1.3-preview.1"), so a test can tell which version a client spoke. Requests
	// under no served version are not in it.
	ByAPIVersion map[string]int64 `json:"byAPIVersion"`
	// Throttled counts 429 answers given by the quota.
	Throttled int64 `json:"throttled"`
	// ThrottledByKey splits Throttled by key identity ("key#0").
	ThrottledByKey map[string]int64 `json:"throttledByKey"`
	// RequestsInsideRetryAfter counts requests that arrived while their key was still
	// inside a Retry-After window the emulator had given it (on a 429, or on an
	// injected 503 with RetryAfter503): a well-behaved client keeps this at zero.
	RequestsInsideRetryAfter int64 `json:"requestsInsideRetryAfter"`
	// RequestsInsideRetryAfterByKey splits RequestsInsideRetryAfter by key identity.
	RequestsInsideRetryAfterByKey map[string]int64 `json:"requestsInsideRetryAfterByKey"`
	// Faults counts injected faults.
	Faults FaultStats `json:"faults"`
}

// OperationStats are the counters of one operation.
type OperationStats struct {
	// Total counts the operation's requests.
	Total int64 `json:"total"`
	// ByStatus splits Total by HTTP status or StatusDropped.
	ByStatus map[string]int64 `json:"byStatus"`
}

// FaultStats count injected faults.
type FaultStats struct {
	// Injected500 counts injected 500 answers.
	Injected500 int64 `json:"injected500"`
	// Injected503 counts injected 503 answers.
	Injected503 int64 `json:"injected503"`
	// Dropped counts connections closed without running the operation.
	Dropped int64 `json:"dropped"`
	// CommitThenDropped counts creates stored but never answered.
	CommitThenDropped int64 `json:"commitThenDropped"`
	// Delayed counts requests that got injected latency.
	Delayed int64 `json:"delayed"`
}

// statsRecorder accumulates Stats. One short critical section per request is far
// below the cost of the HTTP exchange itself, so a plain mutex is enough.
type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	r.s = Stats{
		ByOperation:                   map[string]OperationStats{},
		ByStatus:                      map[string]int64{},
		ByAPIVersion:                  map[string]int64{},
		ThrottledByKey:                map[string]int64{},
		RequestsInsideRetryAfterByKey: map[string]int64{},
	}
	r.mu.Unlock()
}

func (r *statsRecorder) request(op, version, status string) {
	r.mu.Lock()
	r.s.TotalRequests++
	r.s.ByStatus[status]++
	if version != "" {
		r.s.ByAPIVersion[version]++
	}
	os := r.s.ByOperation[op]
	if os.ByStatus == nil {
		os.ByStatus = map[string]int64{}
	}
	os.Total++
	os.ByStatus[status]++
	r.s.ByOperation[op] = os
	r.mu.Unlock()
}

func (r *statsRecorder) insideRetryAfter(key string) {
	r.mu.Lock()
	r.s.RequestsInsideRetryAfter++
	r.s.RequestsInsideRetryAfterByKey[key]++
	r.mu.Unlock()
}

func (r *statsRecorder) throttled(key string) {
	r.mu.Lock()
	r.s.Throttled++
	r.s.ThrottledByKey[key]++
	r.mu.Unlock()
}

func (r *statsRecorder) fault(update func(*FaultStats)) {
	r.mu.Lock()
	update(&r.s.Faults)
	r.mu.Unlock()
}

// snapshot deep-copies the counters so callers can keep them.
func (r *statsRecorder) snapshot() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.s
	s.ByOperation = make(map[string]OperationStats, len(r.s.ByOperation))
	for k, v := range r.s.ByOperation {
		s.ByOperation[k] = OperationStats{Total: v.Total, ByStatus: maps.Clone(v.ByStatus)}
	}
	s.ByStatus = maps.Clone(r.s.ByStatus)
	s.ByAPIVersion = maps.Clone(r.s.ByAPIVersion)
	s.ThrottledByKey = maps.Clone(r.s.ThrottledByKey)
	s.RequestsInsideRetryAfterByKey = maps.Clone(r.s.RequestsInsideRetryAfterByKey)
	return s
}

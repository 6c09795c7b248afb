package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Defaults applied by New when the corresponding Config field is zero.
const (
	// DefaultSessionLifetime is how long a session stays readable after creation.
	// The real service keeps session results for 48 hours.
	DefaultSessionLifetime = 48 * time.Hour
	// DefaultInventoryLimit bounds how many deleted sessions the inventory keeps,
	// so that a long soak test cannot grow memory without limit.
	DefaultInventoryLimit = 100000
	// DefaultVerifyConfidenceThreshold is the threshold used for isIdentical when a
	// liveness-with-verify session did not set verifyConfidenceThreshold. The spec does
	// not state the service's default; 0.5 is the emulator's documented choice.
	DefaultVerifyConfidenceThreshold = 0.5
	// DefaultSeed seeds the fault RNG when Config.Seed is zero, so runs are
	// reproducible unless a caller asks otherwise.
	DefaultSeed uint64 = 1
	// DefaultAbuseWindow is how far back v1.3 abuse monitoring looks for the same face
	// under another user correlation id. The service does not document its window; a
	// day covers a retry storm or a farm of accounts without flagging someone who
	// legitimately re-enrolled weeks later.
	DefaultAbuseWindow = 24 * time.Hour
)

// Config configures a Server. The zero value of every field means "default" or "off".
type Config struct {
	// APIKeys are the accepted values of the Ocp-Apim-Subscription-Key header (the
	// resource's key1, key2, ...). A key is identified in the inventory and stats by
	// its index ("key#0"), never by its value.
	APIKeys []string
	// BearerTokens are accepted values of "Authorization: Bearer <token>", standing in
	// for Entra ID tokens. Identified as "bearer#0", "bearer#1", ...
	// With neither APIKeys nor BearerTokens every Face API request gets 401, as a real
	// resource would answer a caller without credentials.
	BearerTokens []string
	// Now is the clock used for token expiry, session expiry, timestamps and quota.
	// Tests pass a fake clock; nil means time.Now.
	Now func() time.Time
	// SessionLifetime is how long after creation a session can be read or deleted
	// before it answers 404. Zero means DefaultSessionLifetime (48h).
	SessionLifetime time.Duration
	// InventoryLimit is the number of deleted sessions kept for inspection; the oldest
	// deleted ones are forgotten beyond it. Zero means DefaultInventoryLimit; negative
	// means unlimited.
	InventoryLimit int
	// StaleSessionStatus keeps every session's status at NotStarted even after an
	// attempt, as the published examples show. Use it to check that a client derives
	// the outcome from results.attempts rather than from status.
	StaleSessionStatus bool
	// Quota is the initial rate limit per key (off by default). Change it at run time
	// with SetQuota or PUT /emulator/quota.
	Quota Quota
	// Faults is the initial fault injection (off by default). Change it at run time
	// with SetFaults or PUT /emulator/faults.
	Faults Faults
	// Seed seeds the random source behind the fault rates. Zero means DefaultSeed, so
	// that a sequential test sees the same fault sequence on every run.
	Seed uint64
	// RequestLog, when set, receives one line per Face API request (method, path,
	// status, duration). Used by the binary's --verbose flag.
	RequestLog func(line string)

	// The fields below concern /face/v1.3-preview.1/ only.

	// AbuseWindow is how far back abuse monitoring looks for the same face under a
	// different user correlation id. Zero means DefaultAbuseWindow (24h).
	AbuseWindow time.Duration
	// AbuseMonitoringOffByDefault starts every key's livenessAbuseMonitoring setting
	// disabled. The default is enabled, as the published examples show it.
	AbuseMonitoringOffByDefault bool
	// RequireUserCorrelationIDOnMultipart makes the liveness-with-verify create refuse
	// a body without a userCorrelationId part, as the service is reported to do. Off
	// by default because the spec declares no such part, so a client that follows the
	// spec could not send it.
	RequireUserCorrelationIDOnMultipart bool
	// EnforceExpectedClientIP fails an attempt whose client IP is outside the
	// session's expectedClientIpAddress, with the emulator-only error code
	// EmulatorClientIpMismatch. Off by default: the service's behaviour is
	// undocumented, so by default the IP is only recorded and the attempt gets its
	// result, which leaves the check to the client.
	EnforceExpectedClientIP bool
}

// Quota is a per-key rate limit. All fields zero means no limit.
type Quota struct {
	// RequestsPerSecond is the sustained rate of a token bucket per key (0 = off).
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	// Burst is the bucket size; 0 with a rate set means max(1, ceil(rate)).
	Burst int `json:"burst"`
	// RequestsPerMinute is a fixed one-minute window per key (0 = off), like the
	// F0 tier's 20 calls per minute.
	RequestsPerMinute int `json:"requestsPerMinute"`
}

// Validate reports a Quota that cannot be applied.
func (q Quota) Validate() error {
	if q.RequestsPerSecond < 0 || math.IsNaN(q.RequestsPerSecond) || math.IsInf(q.RequestsPerSecond, 0) {
		return fmt.Errorf("requestsPerSecond must be a finite number >= 0 (got %v)", q.RequestsPerSecond)
	}
	if q.Burst < 0 {
		return fmt.Errorf("burst must be >= 0 (got %d)", q.Burst)
	}
	if q.RequestsPerMinute < 0 {
		return fmt.Errorf("requestsPerMinute must be >= 0 (got %d)", q.RequestsPerMinute)
	}
	return nil
}

// effectiveBurst is the bucket size actually used for a rate.
func (q Quota) effectiveBurst() float64 {
	if q.Burst > 0 {
		return float64(q.Burst)
	}
	return math.Max(1, math.Ceil(q.RequestsPerSecond))
}

// Faults describes injected failures on the Face API routes (never on /emulator/*).
// Rates are probabilities in [0,1]; ErrorRate500+ErrorRate503+DropRate must not
// exceed 1 because one draw picks at most one of them per request.
type Faults struct {
	// ErrorRate500 answers 500 InternalServerError before the operation runs.
	ErrorRate500 float64
	// ErrorRate503 answers 503 ServiceUnavailable before the operation runs.
	ErrorRate503 float64
	// RetryAfter503 adds "Retry-After: N" (seconds) to injected 503s; 0 omits it.
	RetryAfter503 int
	// Latency is added to every Face API request before it is handled.
	Latency time.Duration
	// LatencyJitter adds a uniform random extra delay in [0, LatencyJitter).
	LatencyJitter time.Duration
	// DropRate closes the connection without answering and without running the
	// operation.
	DropRate float64
	// CommitThenDropRate applies to the two create operations only: the session is
	// stored (and flagged responseDropped in the inventory) but the connection is
	// closed without an answer, so the caller cannot know the session exists.
	CommitThenDropRate float64
}

// Validate reports a Faults value that cannot be applied.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"errorRate500", f.ErrorRate500}, {"errorRate503", f.ErrorRate503}, {"dropRate", f.DropRate}, {"commitThenDropRate", f.CommitThenDropRate}} {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("%s must be between 0 and 1 (got %v)", r.name, r.v)
		}
	}
	if s := f.ErrorRate500 + f.ErrorRate503 + f.DropRate; s > 1+1e-9 {
		return fmt.Errorf("errorRate500 + errorRate503 + dropRate must not exceed 1 (got %v)", s)
	}
	if f.RetryAfter503 < 0 {
		return fmt.Errorf("retryAfter503Seconds must be >= 0 (got %d)", f.RetryAfter503)
	}
	if f.Latency < 0 || f.LatencyJitter < 0 {
		return fmt.Errorf("latency and latencyJitter must be >= 0")
	}
	return nil
}

// faultsJSON is the wire form of Faults: durations as Go duration strings ("250ms")
// because nanosecond integers are error-prone to type by hand in curl.
type faultsJSON struct {
	ErrorRate500       float64         `json:"errorRate500"`
	ErrorRate503       float64         `json:"errorRate503"`
	RetryAfter503      int             `json:"retryAfter503Seconds"`
	Latency            json.RawMessage `json:"latency,omitempty"`
	LatencyJitter      json.RawMessage `json:"latencyJitter,omitempty"`
	DropRate           float64         `json:"dropRate"`
	CommitThenDropRate float64         `json:"commitThenDropRate"`
}

// MarshalJSON encodes durations as strings such as "250ms".
func (f Faults) MarshalJSON() ([]byte, error) {
	lat, _ := json.Marshal(f.Latency.String())
	jit, _ := json.Marshal(f.LatencyJitter.String())
	return json.Marshal(faultsJSON{
		ErrorRate500: f.ErrorRate500, ErrorRate503: f.ErrorRate503, RetryAfter503: f.RetryAfter503,
		Latency: lat, LatencyJitter: jit, DropRate: f.DropRate, CommitThenDropRate: f.CommitThenDropRate,
	})
}

// UnmarshalJSON accepts durations as Go duration strings ("250ms") or as numbers of
// milliseconds, and refuses unknown fields so that a misspelt knob is not ignored.
func (f *Faults) UnmarshalJSON(b []byte) error {
	var w faultsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	lat, err := parseJSONDuration("latency", w.Latency)
	if err != nil {
		return err
	}
	jit, err := parseJSONDuration("latencyJitter", w.LatencyJitter)
	if err != nil {
		return err
	}
	*f = Faults{
		ErrorRate500: w.ErrorRate500, ErrorRate503: w.ErrorRate503, RetryAfter503: w.RetryAfter503,
		Latency: lat, LatencyJitter: jit, DropRate: w.DropRate, CommitThenDropRate: w.CommitThenDropRate,
	}
	return nil
}

func parseJSONDuration(name string, raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a duration such as \"250ms\"", name, s)
		}
		return d, nil
	}
	var ms float64
	if err := json.Unmarshal(raw, &ms); err != nil {
		return 0, fmt.Errorf("%s must be a duration string such as \"250ms\" or a number of milliseconds", name)
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

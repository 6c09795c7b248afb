package quota

import (
	"fmt"
	"math"
	"time"
)

const (
	// DefaultRequestsPerSecond is the S0 tier's quota, the tier production accounts use.
	DefaultRequestsPerSecond = 10
	// DefaultBurst is a full second of S0 quota, the size the emulator gives Face's own bucket.
	DefaultBurst = 10

	// MinRequestsPerSecond is the slowest rate accepted (one request per hour). Below it an
	// account is unusable anyway, and the bound keeps the bucket's nanosecond arithmetic far
	// from overflow.
	MinRequestsPerSecond = 1.0 / 3600
	// MaxBurst bounds Burst for the same overflow reason; no Face tier comes close.
	MaxBurst = 1_000_000

	// DefaultPause is how long the account is paused after a 429 that carried no Retry-After.
	// One second is a full refill of an S0 bucket, so the next calls are very likely accepted.
	DefaultPause = time.Second
	// DefaultMargin is the network-delay variation the limiter absorbs unless told otherwise
	// (see Limits.Margin). At S0 it costs one token of the burst and nothing of the rate; at F0
	// it stretches the 3 s interval by 100 ms (3 %).
	DefaultMargin = 100 * time.Millisecond
	// NoMargin, as Limits.Margin, makes the limiter grant exactly the quota.
	NoMargin = time.Duration(-1)
	// MaxMargin bounds Margin: more than a minute of delay variation is not jitter.
	MaxMargin = time.Minute

	// DefaultMaxConcurrentCalls is how many Face calls of one account may be in flight at once.
	// A hanging endpoint then holds at most that many workers (16 by default); the others get
	// ErrAccountBusy within CallSlotWait and are rescheduled. Face answers in milliseconds, so
	// a healthy account never reaches it at S0 rates.
	DefaultMaxConcurrentCalls = 8
	// CallSlotWait is the longest a call waits for a free call slot of its account.
	CallSlotWait = 2 * time.Second

	// MaxPause caps a pause. Face's windows are at most a minute (F0); a Retry-After far beyond
	// that is more likely a bad header than a request to stop the operator for hours.
	MaxPause = 5 * time.Minute
)

// Limits is an account's request quota as the limiter enforces it. The zero value means the
// S0 defaults; zero fields individually take their defaults.
type Limits struct {
	// RequestsPerSecond is the sustained rate. Zero means DefaultRequestsPerSecond. A
	// per-minute quota is expressed as a fraction (see PerMinute).
	RequestsPerSecond float64
	// Burst is how many tokens Face lets an account save up and spend at once; the limiter
	// itself spends Margin's worth less of it at once. Zero means
	// max(1, ceil(RequestsPerSecond)), which is DefaultBurst for the default rate and 1 for a
	// per-minute quota.
	Burst int
	// MaxConcurrentCalls caps the account's calls in flight; zero means
	// DefaultMaxConcurrentCalls. It is fixed when the limiter is created.
	MaxConcurrentCalls int
	// Margin is how much variation in network delay the limiter absorbs. Face counts a request
	// when it arrives, the limiter when it lets it go; a request that travels faster than an
	// earlier one arrives early, and at full load early means a 429 (measured on loopback with
	// exact limits: one to three per 3 s of saturation). The limiter keeps the margin in hand by
	// spending less of the burst (Margin's worth of tokens) and, when the burst is too small for
	// that, by spacing requests further apart. Zero means DefaultMargin, reduced where that
	// would cost more than the burst's saved-up tokens or, for a burst of 1, a tenth of the rate
	// (S0 and F0 get the full 100 ms). NoMargin (any negative value) grants exactly the quota.
	Margin time.Duration
	// FlowShare caps any one flow (a namespace) at this fraction of the account's rate and
	// burst, in (0, 1]; 0 means no cap: flows share the account fairly and a flow alone may
	// use all of it. A capped flow's unused share goes to the others.
	FlowShare float64
}

// DefaultLimits returns the S0 quota: 10 requests per second with a burst of 10.
// The limiter spends 9 of the 10 at once: see Margin.
func DefaultLimits() Limits {
	return Limits{RequestsPerSecond: DefaultRequestsPerSecond, Burst: DefaultBurst, Margin: DefaultMargin}
}

// PerMinute returns the limits for a quota stated per minute, such as F0's PerMinute(20): a
// rate of n/60 per second and a burst of 1. The burst must be 1 because Face counts such a
// quota per minute window: with a burst of b, b + n - 1 calls could land in one window. The
// default Margin then spaces calls 100 ms further apart, so the first call of a new window
// reaches Face a couple of seconds after the window turned, not on the very edge. n must be
// positive; PerMinute(0) would mean the defaults.
func PerMinute(n int) Limits {
	return Limits{RequestsPerSecond: float64(n) / 60, Burst: 1}
}

// Validate reports limits that cannot be applied, so that a bad value in an account's resource
// can be refused with a message instead of panicking in NewLimiter.
func (l Limits) Validate() error {
	r := l.RequestsPerSecond
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || (r > 0 && r < MinRequestsPerSecond) {
		return fmt.Errorf("quota: requestsPerSecond must be 0 (default) or a finite number >= %g (got %v)", MinRequestsPerSecond, r)
	}
	if l.MaxConcurrentCalls < 0 {
		return fmt.Errorf("quota: maxConcurrentCalls must be 0 (default) or positive (got %d)", l.MaxConcurrentCalls)
	}
	if l.Burst < 0 || l.Burst > MaxBurst {
		return fmt.Errorf("quota: burst must be between 0 (default) and %d (got %d)", MaxBurst, l.Burst)
	}
	if math.IsNaN(l.FlowShare) || l.FlowShare < 0 || l.FlowShare > 1 {
		return fmt.Errorf("quota: a namespace's share of the account must be 0 (no cap) or in (0, 1] (got %v)", l.FlowShare)
	}
	if l.Margin > MaxMargin {
		return fmt.Errorf("quota: margin must be at most %s (got %s)", MaxMargin, l.Margin)
	}
	return nil
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	if l.RequestsPerSecond == 0 {
		l.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if l.Burst == 0 {
		l.Burst = int(math.Max(1, math.Ceil(l.RequestsPerSecond)))
	}
	switch {
	case l.Margin == 0:
		// The default must stay cheap for any quota: never more than the saved-up part of the
		// burst, or, for a burst of 1, a tenth of the interval.
		every := l.interval()
		l.Margin = min(DefaultMargin, max(time.Duration(l.Burst-1)*every, every/10))
	case l.Margin < 0:
		l.Margin = NoMargin
	}
	return l
}

// interval is the time between two tokens. It is rounded up so the limiter is never faster
// than the quota, except that a value within a picosecond of a whole nanosecond is taken as
// exact: 60s/20 must be exactly 3s, not 3s+1ns, or a per-minute schedule would drift.
func (l Limits) interval() time.Duration {
	x := float64(time.Second) / l.RequestsPerSecond // l has its defaults
	if r := math.Round(x); math.Abs(x-r) < 1e-3 {
		return time.Duration(r)
	}
	return time.Duration(math.Ceil(x))
}

// tolerance is GCRA's burst tolerance: how far ahead of now the schedule may run. (Burst-1)
// intervals give the burst; the margin is taken off it, and when that makes it negative every
// request must wait that much beyond its interval, which is the spacing Margin promises.
func (l Limits) tolerance() time.Duration {
	return time.Duration(l.Burst-1)*l.interval() - max(l.Margin, 0)
}

// Package quota keeps the operator inside a Face resource's request quota.
//
// Every Azure AI Face resource (an "account" here: one endpoint and key) has a hard transaction
// quota: S0 allows 10 per second, F0 20 per minute. Requests above it are answered 429 with a
// Retry-After, and the service expects the caller to stay silent for that long. The operator runs
// several reconcile workers that all talk to the same account, so the quota is a property of the
// account, not of a worker: one Limiter per account is shared by every worker, and every Face call
// first takes a token from it.
//
// # Token bucket
//
// The bucket is a GCRA ("virtual scheduling") token bucket kept in integer nanoseconds: a rate of
// r requests per second is one token every 1/r, and up to Burst tokens can be saved up. Integer
// time keeps the arithmetic exact under a fake clock, so tests can assert "not one nanosecond
// early". Callers that find no token wait for one (respecting their context) instead of sending
// a request Face would reject: a rejected request is a wasted round trip and, worse, starts a
// Retry-After window for the whole account.
//
// Face counts a request when it arrives, the limiter when it lets it go. A request that travels
// faster than the one before arrives early, and with the account at full load early means 429:
// with limits exactly equal to the emulator's quota, 16 workers saw one to three 429s in 3 s.
// Limits.Margin (100 ms by default) absorbs that variation: at S0 the limiter spends 9 of the 10
// burst tokens at once and keeps one in hand, at no cost in rate; with a burst of 1 (F0) it
// spaces requests 100 ms further apart, so a minute window's first call arrives well after the
// window turned.
//
// # Priorities
//
// Waiters queue in two FIFO queues. High priority is every call that changes something or that a
// user is waiting on right now: creates, deletes, session images and detect. Low priority is
// result polling (GetLivenessSessionResult, GetLivenessWithVerifySessionResult), which is
// repeatable and whose cadence can stretch. When a token becomes available and both queues hold
// waiters, the oldest high-priority waiter gets it: with many sessions open, polling cannot
// starve creates and deletes. Within a priority the order is first come, first served.
//
// Strict priority could in principle starve polls, but high-priority demand is bounded (each
// session is created once and deleted once), and polls that wait too long give up and are
// rescheduled (ErrWaitAborted), so they never hold a worker for long.
//
// # Pause on 429
//
// A 429 means Face's own bucket for the account is empty and Face has asked for silence for its
// Retry-After. Pause stops granting tokens to anyone until that moment (DefaultPause when Face
// sent no Retry-After), and also empties our bucket: Face's is empty, so ours was optimistic.
// A 503 with a Retry-After is treated the same, since it asks for the same silence (and the
// emulator counts calls inside it). Callers that arrive during a pause wait for its end, unless
// their context ends first; a caller whose deadline falls before the end of the pause fails at
// once rather than holding a worker for nothing. The throttled call itself still returns its error to its caller, which
// reschedules it; PausedUntil lets a controller report the pause in a condition.
//
// # Interaction with the Face client's own retries
//
// face.HTTPClient retries GET and DELETE on 429 (and 408/5xx) inside azcore's retry policy,
// honouring the Retry-After. Those retries would happen below the wrapper: they take no token,
// and a 429 followed by a successful retry would never be seen by the wrapper, so the account
// would not be paused and the other workers would keep calling inside Face's window (measured
// against the emulator with the margin off: 1 to 17 requests per 3 s run arrived inside a
// Retry-After window with 2 client retries, none without). The limiter must therefore be the
// only thing that reacts to throttling: clients it wraps are built with
// face.Options.NoThrottleRetries, which keeps the 5xx and timeout retries but hands every 429
// straight to the wrapper (accounts.Registry does this for every account).
package quota

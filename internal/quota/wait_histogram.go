package quota

import "time"

// WaitHistogramBounds are the upper bounds of the wait histogram's buckets: from a token at
// once to a minute, the longest a blocking create waits.
var WaitHistogramBounds = []time.Duration{
	10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
	30 * time.Second, time.Minute,
}

// WaitHistogram counts how long granted calls waited for their token, in the buckets of
// WaitHistogramBounds, for a Prometheus histogram (quota wait by account and priority).
type WaitHistogram struct {
	// Counts[i] counts waits <= WaitHistogramBounds[i] and above the bound before (not
	// cumulative); Counts[len(WaitHistogramBounds)] counts the longer ones.
	Counts [12]uint64
	// Count and Sum are the number and total of the waits observed.
	Count uint64
	Sum   time.Duration
}

// observe records one wait.
func (h *WaitHistogram) observe(d time.Duration) {
	i := 0
	for i < len(WaitHistogramBounds) && d > WaitHistogramBounds[i] {
		i++
	}
	h.Counts[i]++
	h.Count++
	h.Sum += d
}

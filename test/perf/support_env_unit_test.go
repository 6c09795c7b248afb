package perf

import (
	"strings"
	"testing"
	"time"
)

// Overrides set only the fields whose variables are set, keep the first malformed value's
// error (naming the variable), and read nothing after it.
func TestEnvOverrides(t *testing.T) {
	t.Setenv("LIVENESS_TEST_INT", "7")
	t.Setenv("LIVENESS_TEST_DUR", "250ms")
	t.Setenv("LIVENESS_TEST_FLOATS", "30, 45.5,60")
	t.Setenv("LIVENESS_TEST_BAD", "fast")
	t.Setenv("LIVENESS_TEST_LATER", "9")
	var env envOverrides
	n, unset, d, rates, later := 1, 2, time.Second, []float64{1}, 3
	env.int("LIVENESS_TEST_INT", &n)
	env.int("LIVENESS_TEST_UNSET", &unset)
	env.duration("LIVENESS_TEST_DUR", &d)
	env.floats("LIVENESS_TEST_FLOATS", &rates)
	if n != 7 || unset != 2 || d != 250*time.Millisecond || len(rates) != 3 || rates[1] != 45.5 || env.err != nil {
		t.Fatalf("got %d %d %s %v err %v", n, unset, d, rates, env.err)
	}
	var f float64
	env.float("LIVENESS_TEST_BAD", &f)
	env.int("LIVENESS_TEST_LATER", &later)
	if env.err == nil || !strings.Contains(env.err.Error(), "LIVENESS_TEST_BAD") || later != 3 {
		t.Fatalf("err %v, later %d: want the bad variable named and nothing read after it", env.err, later)
	}
}

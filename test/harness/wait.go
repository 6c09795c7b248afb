package harness

import (
	"testing"
	"time"
)

// Eventually calls check every 20 ms until it returns "" (done) or the timeout passes; then it
// fails the test with check's last answer, which should say what was still missing.
func Eventually(t testing.TB, timeout time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not reached within %s: %s", timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package tokenmac

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignVerify(t *testing.T) {
	s, err := New([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sig := s.Sign("session-1", "uid-1", exp)
	require.True(t, s.Verify(sig, "session-1", "uid-1", exp))
	require.False(t, s.Verify(sig, "session-2", "uid-1", exp), "another session id")
	require.False(t, s.Verify(sig, "session-1", "uid-2", exp), "another owner")
	require.False(t, s.Verify(sig, "session-1", "uid-1", exp.Add(time.Second)), "another expiry")
	require.False(t, s.Verify("", "session-1", "uid-1", exp), "no signature")
	other, err := New([]byte("fedcba9876543210fedcba9876543210"))
	require.NoError(t, err)
	require.False(t, other.Verify(sig, "session-1", "uid-1", exp), "another key")
	_, err = New([]byte("short"))
	require.Error(t, err)
}

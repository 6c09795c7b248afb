package accounts

import (
	"testing"

	"github.com/stretchr/testify/require"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// The administrator's call slots (--face-max-concurrent-calls) apply to every account set
// afterwards, the default account and FaceAccounts alike; without them each account gets
// quota.DefaultMaxConcurrentCalls.
func TestCallSlotsApplyToEveryAccount(t *testing.T) {
	cfg := Config{Endpoint: "http://127.0.0.1:1", Credential: Credential{APIKey: "k"}, Limits: quota.DefaultLimits()}
	tenant := Key{Kind: facev1.AccountKindFaceAccount, Namespace: "team-a", Name: "face"}

	plain := NewRegistry(face.Options{}, nil)
	_, err := plain.Set(tenant, cfg)
	require.NoError(t, err)
	_, lim, _ := plain.Get(tenant)
	require.Equal(t, quota.DefaultMaxConcurrentCalls, lim.CallSlots())

	raised := NewRegistry(face.Options{}, nil)
	raised.SetCallSlots(32)
	for _, key := range []Key{DefaultKey, tenant} {
		_, err := raised.Set(key, cfg)
		require.NoError(t, err)
		_, lim, _ := raised.Get(key)
		require.Equal(t, 32, lim.CallSlots(), "%s", key)
	}
}

package controllers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/sharding"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// A sharded manager handles the accounts and sessions of its shard only: a session of its
// shard whose account carries no shard label is told why the account looks missing, and works
// once the account is labelled like it; the account of another shard is never probed.
func TestShardSeesOnlyItsAccountsAndSessions(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{APIKeys: []string{"shard-key"}})
	shard, err := sharding.Parse(sharding.Key + " in (shard1)")
	require.NoError(t, err)
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Shard: shard})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", "shard-key")))
	account := faceAccount(ns, "face", emu.URL, "face-key") // no shard label yet
	require.NoError(t, k8sClient.Create(ctx, account))
	ls := sessionWithAccount(ns, "s", facev1.AccountReference{Name: "face"})
	ls.Labels = map[string]string{sharding.Key: "shard1"}
	require.NoError(t, k8sClient.Create(ctx, ls))
	other := sessionWithAccount(ns, "other", facev1.AccountReference{Name: "face"})
	other.Labels = map[string]string{sharding.Key: "shard2"}
	require.NoError(t, k8sClient.Create(ctx, other))

	got := waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionFalse, facev1.ReasonAccountNotFound)
	msg := apimeta.FindStatusCondition(got.Status.Conditions, facev1.ConditionReady).Message
	require.True(t, strings.Contains(msg, "outside this manager's shard") && strings.Contains(msg, "shard1"), msg)
	cur := &facev1.FaceAccount{}
	require.NoError(t, k8sClient.Get(ctx, client.ObjectKeyFromObject(account), cur))
	require.Empty(t, cur.Status.Conditions, "an account outside the shard is not reconciled")
	cur.Labels = map[string]string{sharding.Key: "shard1"}
	require.NoError(t, k8sClient.Update(ctx, cur))
	waitAccount(t, ns, "face", metav1.ConditionTrue, facev1.ReasonCredentialsValid)
	waitCondition(t, ns, "s", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	require.Len(t, emu.SessionsFor(ns+"-s"), 1)
	require.Empty(t, emu.SessionsFor(ns+"-other"), "another shard's session is never created here")
	require.Empty(t, get(t, ns, "other").Status.Conditions)
}

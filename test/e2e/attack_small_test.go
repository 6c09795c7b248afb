package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// The smaller tenant tricks, against the real manager:
//   - a 70-character name whose label cut lands on '-' (it used to make the token Secret invalid
//     and the operator create and delete billed sessions forever): one create, Ready;
//   - a flood of sync-requested-at values: at most one forced poll per second;
//   - forged create claims on a session not created yet: after three unconfirmed creates the
//     operator stalls instead of creating again and again;
//   - a session image Secret named like the token Secret: refused at admission.
func TestAttackSmallTenantTricks(t *testing.T) {
	env := startOperatorEnv(t)
	ctx := context.Background()
	env.namespace(t, "tenant-e")
	session := func(name, device string) *facev1.LivenessSession {
		return &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-e", Name: name},
			Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: device}}
	}

	long := strings.Repeat("a", 62) + "--" + "tail-x"
	require.NoError(t, env.admin.Create(ctx, session(long, "long-device")))
	waitSession(t, env, "tenant-e", long, isReady)
	creates := env.emulatorStats(t).ByOperation[emulator.OpCreateLivenessSession].Total
	require.Equal(t, int64(1), creates, "one billed create for the long name")

	require.NoError(t, env.admin.Create(ctx, session("chatty", "chatty-device")))
	waitSession(t, env, "tenant-e", "chatty", isReady)
	time.Sleep(8 * time.Second) // past the schedule's first polls (1 s, 3 s, 7 s)
	before := env.emulatorStats(t).ByOperation[emulator.OpGetLivenessSessionResult].Total
	start := time.Now()
	for i := range 20 {
		kubectl(t, env.adminKC, "annotate", "--overwrite", "livenesssession", "-n", "tenant-e", "chatty",
			facev1.AnnotationSyncRequestedAt+"="+time.Now().Format(time.RFC3339Nano)+"-"+string(rune('a'+i)))
	}
	time.Sleep(1500 * time.Millisecond)
	polls := env.emulatorStats(t).ByOperation[emulator.OpGetLivenessSessionResult].Total - before
	require.LessOrEqual(t, polls, int64(time.Since(start)/time.Second)+2, "%d polls for 20 sync requests in %s", polls, time.Since(start))

	// A session not created yet (it waits for its reference image) whose claim the tenant keeps
	// forging: each forged claim is reported as an unconfirmed create; after three the operator
	// stalls, and makes no create even once the image is there.
	waiting := session("claims", "claims-device")
	waiting.Spec.Verification = &facev1.VerificationSpec{ReferenceImage: facev1.ReferenceImageSource{
		SecretKeyRef: &facev1.ImageKeyRef{Name: "claims-image", Key: "face.png"}}}
	require.NoError(t, env.admin.Create(ctx, waiting))
	waiting = waitSession(t, env, "tenant-e", "claims", func(ls *facev1.LivenessSession) bool {
		return hasReason(ls, facev1.ConditionReady, facev1.ReasonReferenceImageNotFound)
	})
	for i := 1; i <= 3; i++ {
		forgeClaim(t, env, waiting)
		waitSession(t, env, "tenant-e", "claims", func(ls *facev1.LivenessSession) bool { return ls.Status.UnconfirmedCreates >= int32(i) })
		time.Sleep(10 * time.Millisecond) // a new claim value each time (the annotation carries the time)
	}
	waitSession(t, env, "tenant-e", "claims", func(ls *facev1.LivenessSession) bool {
		return hasReason(ls, facev1.ConditionStalled, facev1.ReasonTooManyUnconfirmedCreates)
	})
	verifyCreates := func() int64 {
		return env.emulatorStats(t).ByOperation[emulator.OpCreateLivenessWithVerifySession].Total
	}
	require.Zero(t, verifyCreates())

	bad := session("img", "img-device")
	bad.Spec.EnableSessionImage, bad.Spec.SessionImageSecretName = true, "img"
	err := env.admin.Create(ctx, bad)
	require.Error(t, err)
	require.Contains(t, err.Error(), "spec.sessionImageSecretName must differ")
}

// hasReason says whether the session's condition has the reason.
func hasReason(ls *facev1.LivenessSession, condType, reason string) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, condType)
	return c != nil && c.Reason == reason
}

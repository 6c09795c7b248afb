package livenessclient_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// An uploaded reference image goes into a Secret owned by the session (garbage-collected with
// it), created right after the session, which waits for it.
func TestVerifyWithUploadedImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	img := referenceFace(t)
	s, err := e.client.Start(ctx, livenessclient.Spec{Verification: &livenessclient.Verification{
		ReferenceImage: img, ConfidenceThreshold: "0.8", ReturnVerifyImageHash: true,
	}})
	require.NoError(t, err)

	cloud, _ := e.emu.Session(s.SessionID)
	require.Equal(t, "livenessWithVerify", cloud.Kind)
	sum := sha256.Sum256(img)
	require.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), strings.ToUpper(cloud.VerifyImage.SHA256), "Face got the uploaded bytes")

	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: s.Name}, ls))
	ref := &corev1.Secret{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: s.Name + "-reference"}, ref))
	require.Equal(t, img, ref.Data[livenessclient.ReferenceImageKey])
	require.Len(t, ref.OwnerReferences, 1)
	owner := ref.OwnerReferences[0]
	require.Equal(t, ls.UID, owner.UID, "owned by the session, so deleted with it")
	require.Equal(t, "LivenessSession", owner.Kind)
	require.Nil(t, metav1.GetControllerOf(ref), "not a controller reference: the operator's Secrets are its own")

	_, err = e.emu.Attempt(s.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: ptr.To(0.93)})
	require.NoError(t, err)
	require.NoError(t, e.client.Completed(ctx, s.Name))
	r, err := e.client.Outcome(ctx, s.Name)
	require.NoError(t, err)
	require.Equal(t, facev1.OutcomeVerified, r.Outcome)
	require.Equal(t, "0.93", r.Latest().MatchConfidence)
	require.True(t, *r.Latest().IsIdentical)
}

func TestVerifyWithExistingReference(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, admin.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "faces"},
		BinaryData: map[string][]byte{"alice.png": referenceFace(t)},
	}))
	s, err := e.client.Start(ctx, livenessclient.Spec{Verification: &livenessclient.Verification{
		Reference: &facev1.ReferenceImageSource{ConfigMapKeyRef: &facev1.ImageKeyRef{Name: "faces", Key: "alice.png"}},
	}})
	require.NoError(t, err)
	_, err = e.emu.Attempt(s.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: ptr.To(0.2)})
	require.NoError(t, err)
	require.NoError(t, e.client.Completed(ctx, s.Name))
	r, err := e.client.Outcome(ctx, s.Name)
	require.NoError(t, err)
	require.Equal(t, facev1.OutcomeNotVerified, r.Outcome)
}

// An image the operator refuses is a StalledError with its reason and message, and no bytes.
func TestVerifyWithUnusableImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := e.client.Start(ctx, livenessclient.Spec{Name: "tiny", Verification: &livenessclient.Verification{ReferenceImage: tinyPNG(t)}})
	var stalled *livenessclient.StalledError
	require.ErrorAs(t, err, &stalled)
	require.Equal(t, facev1.ReasonInvalidReferenceImage, stalled.Reason)
	require.Contains(t, stalled.Message, "Face needs at least 1 KB")
	require.Contains(t, stalled.Message, `Secret "tiny-reference"`)
	require.Empty(t, e.emu.Sessions(), "nothing reached Face")
}

package controllers_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// noisyPNG is a PNG of random pixels: noise does not compress, so the byte size follows the
// dimensions and stays above Face's 1 KB minimum for any usable size.
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// verifySession is a LivenessSession with verification against key "face.png" of Secret "ref".
func verifySession(ns, name string) *facev1.LivenessSession {
	ls := newSession(ns, name)
	ls.Spec.Verification = &facev1.VerificationSpec{
		ReferenceImage:        facev1.ReferenceImageSource{SecretKeyRef: &facev1.ImageKeyRef{Name: "ref", Key: "face.png"}},
		ConfidenceThreshold:   "0.8",
		ReturnVerifyImageHash: true,
	}
	return ls
}

func createReferenceSecret(t *testing.T, ns string, img []byte) {
	t.Helper()
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ref"},
		Data:       map[string][]byte{"face.png": img},
	}))
}

func TestVerifySessionMatched(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	img := noisyPNG(t, 480, 640)
	createReferenceSecret(t, ns, img)
	require.NoError(t, k8sClient.Create(context.Background(), verifySession(ns, "kyc")))

	ls := waitCondition(t, ns, "kyc", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady)
	require.Len(t, ls.Status.VerifyReferences, 1, "status shows the reference as Face saw it")
	ref := ls.Status.VerifyReferences[0]
	require.NotNil(t, ref.FaceRectangle)
	require.Positive(t, ref.FaceRectangle.Width)
	require.NotEmpty(t, ref.QualityForRecognition)
	sessions := emu.SessionsFor(ns + "-kyc")
	require.Len(t, sessions, 1)
	require.Equal(t, "livenessWithVerify", sessions[0].Kind)

	token := string(tokenSecret(t, ns, "kyc").Data[facev1.SecretKeyAuthToken])
	_, err := emu.Attempt(token, emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: ptr.To(0.93)})
	require.NoError(t, err)
	requestSync(t, ns, "kyc")
	ls = waitCondition(t, ns, "kyc", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeVerified))
	a := ls.Status.Attempts[0]
	require.Equal(t, "0.93", a.MatchConfidence)
	require.True(t, *a.IsIdentical)
	sum := sha256.Sum256(img)
	require.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), strings.ToUpper(a.VerifyImageHash), "the hash of the image the operator sent")

	// Changing the reference image later does not touch the session.
	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "ref"}, s))
	s.Data["face.png"] = noisyPNG(t, 300, 300)
	require.NoError(t, k8sClient.Update(context.Background(), s))
	time.Sleep(500 * time.Millisecond)
	require.Len(t, emu.SessionsFor(ns+"-kyc"), 1)

	require.NoError(t, k8sClient.Delete(context.Background(), ls))
	waitGone(t, ns, "kyc")
	gone, _ := emu.Session(ls.Status.SessionID)
	require.True(t, gone.Deleted, "deleted with the with-verify delete operation")
	require.Equal(t, int64(1), emu.Stats().ByOperation[emulator.OpDeleteLivenessWithVerifySession].ByStatus["204"])
}

func TestVerifySessionNotMatched(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	createReferenceSecret(t, ns, noisyPNG(t, 200, 200))
	require.NoError(t, k8sClient.Create(context.Background(), verifySession(ns, "other-person")))
	waitCondition(t, ns, "other-person", facev1.ConditionReady, metav1.ConditionTrue, "")

	token := string(tokenSecret(t, ns, "other-person").Data[facev1.SecretKeyAuthToken])
	_, err := emu.Attempt(token, emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: ptr.To(0.42)})
	require.NoError(t, err)
	requestSync(t, ns, "other-person")
	ls := waitCondition(t, ns, "other-person", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeNotVerified))
	require.False(t, *ls.Status.Attempts[0].IsIdentical)
	require.Equal(t, "realface", ls.Status.LivenessDecision)
}

func TestVerifyFromConfigMapBinaryData(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "faces"},
		BinaryData: map[string][]byte{"alice.png": noisyPNG(t, 128, 128)},
	}))
	ls := newSession(ns, "cm")
	ls.Spec.Verification = &facev1.VerificationSpec{ReferenceImage: facev1.ReferenceImageSource{
		ConfigMapKeyRef: &facev1.ImageKeyRef{Name: "faces", Key: "alice.png"}}}
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	ls = waitCondition(t, ns, "cm", facev1.ConditionReady, metav1.ConditionTrue, "")
	require.Equal(t, "low", ls.Status.VerifyReferences[0].QualityForRecognition, "a 128 px reference is low quality")
}

// A missing reference image is waited for, named in the reason, and picked up when it appears;
// nothing reaches Face before.
func TestVerifyWaitsForMissingReference(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), verifySession(ns, "early")))
	ls := waitCondition(t, ns, "early", facev1.ConditionReconciling, metav1.ConditionTrue, facev1.ReasonReferenceImageNotFound)
	require.Contains(t, conditionMessage(ls, facev1.ConditionReady), `key "face.png" of Secret "ref"`)

	// The Secret appears without the key: still waiting, for the key.
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ref"}, Data: map[string][]byte{"other.png": {1}},
	}))
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, emu.SessionsFor(ns+"-early"))

	// The key appears: the watch reacts at once (the fallback recheck is a minute away).
	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "ref"}, s))
	s.Data["face.png"] = noisyPNG(t, 300, 300)
	require.NoError(t, k8sClient.Update(context.Background(), s))
	waitConditionWithin(t, ns, "early", facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady, 10*time.Second)
	require.Len(t, emu.SessionsFor(ns+"-early"), 1)
}

// Unusable reference images stop before Face, with a message that says what is wrong and
// never the bytes.
func TestVerifyRejectsBadReferenceImages(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	tiny := noisyPNG(t, 8, 8)
	require.Less(t, len(tiny), 1024)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"not-an-image": {bytes.Repeat([]byte("this is text, not a picture. "), 100), "is not a PNG, JPEG, BMP or GIF image"},
		"too-small":    {tiny, "Face needs at least 1 KB"},
		"too-few-px":   {noisyPNG(t, 30, 30), "is 30x30 pixels; Face needs 36x36 to 4096x4096"},
		"too-many-px":  {noisyPNG(t, 4100, 40), "is 4100x40 pixels"},
		"truncated":    {noisyPNG(t, 100, 100)[:3000], "damaged png image"},
	}
	for name, tc := range cases {
		require.NoError(t, k8sClient.Create(context.Background(), &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ref-" + name}, Data: map[string][]byte{"face.png": tc.data},
		}))
		ls := verifySession(ns, name)
		ls.Spec.Verification.ReferenceImage.SecretKeyRef.Name = "ref-" + name
		require.NoError(t, k8sClient.Create(context.Background(), ls))
	}
	for name, tc := range cases {
		ls := waitCondition(t, ns, name, facev1.ConditionStalled, metav1.ConditionTrue, facev1.ReasonInvalidReferenceImage)
		msg := conditionMessage(ls, facev1.ConditionReady)
		require.Contains(t, msg, tc.want, name)
		require.Less(t, len(msg), 400, "%s: a message explains, it does not dump", name)
	}
	require.Zero(t, emu.Stats().ByOperation[emulator.OpCreateLivenessWithVerifySession].Total, "no bad image reached Face")
}

func TestVerifyReferenceInAnotherNamespaceIsRejectedAtAdmission(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ls := verifySession(ns, "cross")
	ls.Spec.Verification.ReferenceImage.SecretKeyRef.Namespace = "other"
	err := k8sClient.Create(context.Background(), ls)
	require.Error(t, err)
	require.Contains(t, err.Error(), "the reference image must be in the LivenessSession's own namespace")

	ls = verifySession(ns, "both")
	ls.Spec.Verification.ReferenceImage.ConfigMapKeyRef = &facev1.ImageKeyRef{Name: "x", Key: "y"}
	require.ErrorContains(t, k8sClient.Create(context.Background(), ls), "set exactly one of spec.verification.referenceImage.secretKeyRef")

	ls = verifySession(ns, "threshold")
	ls.Spec.Verification.ConfidenceThreshold = "1.5"
	require.ErrorContains(t, k8sClient.Create(context.Background(), ls), "must be a decimal number from 0 to 1")
}

func TestSessionImageExportedAndDeletedWithTheResource(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{})
	ls := newSession(ns, "with-image")
	ls.Spec.EnableSessionImage = true
	ls.Spec.SessionImageSecretName = "with-image-capture"
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	waitCondition(t, ns, "with-image", facev1.ConditionReady, metav1.ConditionTrue, "")
	token := string(tokenSecret(t, ns, "with-image").Data[facev1.SecretKeyAuthToken])
	_, err := emu.Attempt(token, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	requestSync(t, ns, "with-image")

	ls = waitCondition(t, ns, "with-image", facev1.ConditionSessionImageExported, metav1.ConditionTrue, facev1.ReasonSessionImageExported)
	require.NotEmpty(t, ls.Status.Attempts[0].SessionImageID)
	require.Equal(t, "with-image-capture", ls.Status.SessionImageSecretName)
	img := tokenSecret(t, ns, "with-image-capture")
	require.True(t, metav1.IsControlledBy(img, ls))
	require.Equal(t, ls.Status.Attempts[0].SessionImageID, string(img.Data[facev1.SecretKeySessionImageID]))
	_, _, err = image.DecodeConfig(bytes.NewReader(img.Data[facev1.SecretKeySessionImage]))
	require.NoError(t, err, "the Secret holds the real session image")

	require.NoError(t, k8sClient.Delete(context.Background(), ls))
	waitGone(t, ns, "with-image")
	err = k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "with-image-capture"}, &corev1.Secret{})
	require.True(t, apierrors.IsNotFound(err), "the biometric session image goes with the resource")
}

func TestSessionImageSecretNeedsSessionImages(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ls := newSession(ns, "no-image")
	ls.Spec.SessionImageSecretName = "capture"
	require.ErrorContains(t, k8sClient.Create(context.Background(), ls), "spec.sessionImageSecretName needs spec.enableSessionImage: true")
}

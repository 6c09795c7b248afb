package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // reference images may be GIF
	_ "image/jpeg" // or JPEG
	_ "image/png"  // or PNG
	"time"

	_ "golang.org/x/image/bmp" // or BMP, as Face accepts
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/faceimage"
)

// referenceImage is a validated reference image, ready for the multipart create.
type referenceImage struct {
	data     []byte
	filename string
}

// errReferenceNotFound: the Secret, ConfigMap or key does not exist (yet). Waiting is right:
// GitOps tools often apply the image and the session together, in any order.
type errReferenceNotFound struct{ what string }

func (e errReferenceNotFound) Error() string { return e.what + " not found" }

// errInvalidReferenceImage: the bytes are there but unusable; waiting will not help.
type errInvalidReferenceImage struct{ why string }

func (e errInvalidReferenceImage) Error() string { return e.why }

// loadReferenceImage reads the reference image named by the spec, live from the API server
// (user Secrets are not cached), and validates it. It is called only before a create: the
// image is read once, and later changes to its source do not touch an existing session.
func (r *Reconciler) loadReferenceImage(ctx context.Context, ls *facev1.LivenessSession) (*referenceImage, error) {
	src := ls.Spec.Verification.ReferenceImage
	var (
		data  []byte
		found bool
		what  string
	)
	switch {
	case src.SecretKeyRef != nil:
		what = fmt.Sprintf("key %q of Secret %q", src.SecretKeyRef.Key, src.SecretKeyRef.Name)
		s := &corev1.Secret{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: src.SecretKeyRef.Name}, s)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("read reference image Secret: %w", err)
		}
		data, found = s.Data[src.SecretKeyRef.Key]
	case src.ConfigMapKeyRef != nil:
		what = fmt.Sprintf("key %q of ConfigMap %q (binaryData)", src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Name)
		cm := &corev1.ConfigMap{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: src.ConfigMapKeyRef.Name}, cm)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("read reference image ConfigMap: %w", err)
		}
		data, found = cm.BinaryData[src.ConfigMapKeyRef.Key]
	default:
		return nil, errInvalidReferenceImage{"spec.verification.referenceImage names no source"}
	}
	if !found {
		return nil, errReferenceNotFound{what}
	}
	format, err := validateReferenceImage(data)
	if err != nil {
		return nil, errInvalidReferenceImage{fmt.Sprintf("reference image (%s) %s", what, err)}
	}
	return &referenceImage{data: data, filename: "reference." + format}, nil
}

// validateReferenceImage checks Face's limits (package faceimage), before anything is sent so a
// bad reference image never reaches the cloud and its problem is explained in status: a decodable PNG, JPEG, BMP or GIF of 1 KB to
// 6 MB and 36x36 to 4096x4096 pixels. It returns the format, or an error that says what to fix
// and never contains the bytes.
func validateReferenceImage(data []byte) (string, error) {
	if len(data) < faceimage.MinBytes {
		return "", fmt.Errorf("is %d bytes; Face needs at least 1 KB", len(data))
	}
	if len(data) > faceimage.MaxBytes {
		return "", fmt.Errorf("is %.1f MB; Face accepts at most 6 MB", float64(len(data))/(1<<20))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", errors.New("is not a PNG, JPEG, BMP or GIF image")
	}
	if cfg.Width < faceimage.MinDimension || cfg.Height < faceimage.MinDimension ||
		cfg.Width > faceimage.MaxDimension || cfg.Height > faceimage.MaxDimension {
		return "", fmt.Errorf("is %dx%d pixels; Face needs 36x36 to 4096x4096", cfg.Width, cfg.Height)
	}
	// The header was fine; a truncated or corrupt body is only found by decoding it all
	// (dimensions are bounded above, so this is bounded too).
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("is a damaged %s image (%v)", format, err)
	}
	return format, nil
}

// referenceWait is the fallback recheck of a missing reference image; the watch on Secrets and
// ConfigMaps normally reacts first, when it appears.
const referenceWait = time.Minute

// referenceImageOrWait loads the reference image of a verify session. When it cannot be used
// it returns nil and sets the conditions: a missing Secret, ConfigMap or key is waited for
// (Reconciling, ReferenceImageNotFound, naming it); an unusable image is Stalled
// (InvalidReferenceImage, saying what is wrong) until its source changes. Either way nothing
// reaches Face.
func (r *Reconciler) referenceImageOrWait(ctx context.Context, ls *facev1.LivenessSession) (*referenceImage, ctrl.Result, error) {
	ref, err := r.loadReferenceImage(ctx, ls)
	var notFound errReferenceNotFound
	var invalid errInvalidReferenceImage
	switch {
	case err == nil:
		return ref, ctrl.Result{}, nil
	case errors.As(err, &notFound):
		setProgressing(ls, facev1.ReasonReferenceImageNotFound, fmt.Sprintf(
			"waiting for the reference image: %s in namespace %s does not exist", notFound.what, ls.Namespace))
		return nil, ctrl.Result{RequeueAfter: referenceWait}, nil
	case errors.As(err, &invalid):
		r.stall(ls, facev1.ReasonInvalidReferenceImage, invalid.why+"; fix the image and the operator retries")
		return nil, ctrl.Result{}, nil
	default:
		return nil, ctrl.Result{}, err
	}
}

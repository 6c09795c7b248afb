package livenessclient

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// nameSuffixLength is the random part of a generated name: 27^10 names per prefix, so a
// collision (retried) is rare even with millions of open sessions.
const nameSuffixLength = 10

// generateAttempts bounds the retries when a generated name is taken.
const generateAttempts = 5

// cleanupTimeout bounds the deletion of a session that Start or Create could not finish; it
// runs even when the caller's context has ended, so nothing is left behind.
const cleanupTimeout = 10 * time.Second

// Start creates a LivenessSession for spec and returns once the operator has published its
// token Secret: the session's name, Face session id, auth token and expiry.
//
// It returns a *StalledError (errors.As) carrying the operator's reason and message when the
// operator stalls the session instead, for example SecretConflict, InvalidReferenceImage or
// CredentialsRejected; and the context's error, with what the session was waiting for, when
// ctx ends first. On any error Start deletes the session it created: a caller cannot use it,
// and leaving it would leak one resource per failed request.
func (c *Client) Start(ctx context.Context, spec Spec) (*Session, error) {
	ls, err := c.create(ctx, spec)
	if err != nil {
		return nil, err
	}
	s, err := c.awaitToken(ctx, ls)
	if err != nil {
		c.cleanup(ctx, ls)
		return nil, err
	}
	return s, nil
}

// Create creates a LivenessSession for spec, and the Secret holding its uploaded reference
// image if any, and returns the session's name without waiting for the operator; Session
// then waits for its token.
func (c *Client) Create(ctx context.Context, spec Spec) (string, error) {
	ls, err := c.create(ctx, spec)
	if err != nil {
		return "", err
	}
	return ls.Name, nil
}

// create makes the LivenessSession first and the reference image Secret right after: the
// Secret's owner reference needs the session's UID, and the operator waits for a reference
// image that does not exist yet (ReferenceImageNotFound) and reacts as soon as it appears.
func (c *Client) create(ctx context.Context, spec Spec) (*facev1.LivenessSession, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	ls, err := c.createSession(ctx, spec)
	if err != nil {
		return nil, err
	}
	if v := spec.Verification; v != nil && v.ReferenceImage != nil {
		if err := c.kube.Create(ctx, referenceSecret(ls, v.ReferenceImage)); err != nil {
			c.cleanup(ctx, ls)
			return nil, contextOr(ctx, fmt.Errorf("livenessclient: create reference image Secret for %s: %w", ls.Name, err))
		}
	}
	return ls, nil
}

// createSession creates the LivenessSession under spec.Name or a generated name. The name is
// generated here rather than by the API server (metadata.generateName) because a verify
// session's spec must name its reference image Secret, which is named after the session.
func (c *Client) createSession(ctx context.Context, spec Spec) (*facev1.LivenessSession, error) {
	prefix := spec.NamePrefix
	if prefix == "" {
		prefix = DefaultNamePrefix
	}
	for range generateAttempts {
		name := spec.Name
		if name == "" {
			name = prefix + utilrand.String(nameSuffixLength)
		}
		ls := spec.object(c.namespace, name)
		err := c.kube.Create(ctx, ls)
		if err == nil {
			return ls, nil
		}
		if !apierrors.IsAlreadyExists(err) || spec.Name != "" {
			return nil, contextOr(ctx, fmt.Errorf("livenessclient: create LivenessSession %s: %w", name, err))
		}
	}
	return nil, fmt.Errorf("livenessclient: %d generated names starting %q were all taken", generateAttempts, prefix)
}

// cleanup deletes a session the caller will never get, with its own deadline: the caller's
// context may be the reason it failed. The UID precondition spares a namesake created since.
func (c *Client) cleanup(ctx context.Context, ls *facev1.LivenessSession) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = c.kube.Delete(ctx, ls, client.Preconditions{UID: &ls.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
}

// key is the namespaced name of a session.
func (c *Client) key(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: c.namespace, Name: name}
}

// apiError turns a NotFound into ErrNotFound and prefers the context's error.
func (c *Client) apiError(ctx context.Context, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return notFound(name)
	}
	return contextOr(ctx, fmt.Errorf("livenessclient: %s: %w", name, err))
}

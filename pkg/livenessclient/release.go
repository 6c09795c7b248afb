package livenessclient

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Release deletes the session and waits until it is gone: with deletionPolicy Delete, the
// operator's finalizer has then deleted the cloud session, so the token no longer works.
// Garbage collection removes the token Secret and an uploaded reference image with it. It
// returns an error matching ErrNotFound for an unknown session, and the context's error if
// the operator has not finished when ctx ends (the deletion stays requested).
func (c *Client) Release(ctx context.Context, name string) error {
	ls := &facev1.LivenessSession{}
	if err := c.kube.Get(ctx, c.key(name), ls); err != nil {
		return c.apiError(ctx, name, err)
	}
	// The UID precondition makes sure a namesake created since the read is not deleted.
	err := c.kube.Delete(ctx, ls, client.Preconditions{UID: &ls.UID}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil {
		return c.apiError(ctx, name, err)
	}
	return c.watchNamed(ctx, &facev1.LivenessSessionList{}, name, func(obj client.Object) (bool, error) {
		current, ok := obj.(*facev1.LivenessSession)
		return !ok || current.UID != ls.UID, nil
	})
}

package livenessclient

import (
	"context"
	"encoding/json"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Completed tells the operator that the frontend reported the end user's check as done, so it
// reads the result from Face at once instead of at its next scheduled poll. It sets the
// annotation face.liveness-operator.io/sync-requested-at to the current time (with
// nanoseconds, so two calls in the same second are two requests), by a merge patch that needs
// no read first. It returns an error matching ErrNotFound for an unknown session.
func (c *Client) Completed(ctx context.Context, name string) error {
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"annotations": map[string]string{facev1.AnnotationSyncRequestedAt: time.Now().UTC().Format(time.RFC3339Nano)},
		},
	})
	if err != nil {
		return err
	}
	ls := &facev1.LivenessSession{}
	ls.Namespace, ls.Name = c.namespace, name
	if err := c.kube.Patch(ctx, ls, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return c.apiError(ctx, name, err)
	}
	return nil
}

package livenessclient

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// observer is told each state of a watched object: nil while it does not exist. It returns
// done to stop watching, or an error to stop with it.
type observer func(obj client.Object) (done bool, err error)

// watchNamed lists the one object called name (into list, whose kind is the object's list
// kind), tells observe what it found, then follows a watch from that list's resource version
// until observe is done, fails, or ctx ends. A watch the server closes (they time out after
// minutes) is resumed from the last resource version seen; one whose version has expired
// starts over with a list. Nothing is polled: between changes it costs no requests.
func (c *Client) watchNamed(ctx context.Context, list client.ObjectList, name string, observe observer) error {
	selector := fields.OneTermEqualSelector("metadata.name", name)
	for {
		if err := c.kube.List(ctx, list, client.InNamespace(c.namespace), client.MatchingFieldsSelector{Selector: selector}); err != nil {
			return contextOr(ctx, fmt.Errorf("list %s: %w", name, err))
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		var current client.Object
		if len(items) > 0 {
			current, _ = items[0].(client.Object)
		}
		if done, err := observe(current); done || err != nil {
			return err
		}
		relist, err := c.follow(ctx, list, selector, list.GetResourceVersion(), observe)
		if !relist {
			return err
		}
	}
}

// follow watches from resourceVersion, reconnecting as needed. It returns relist=true when the
// version has expired and the caller must list again.
func (c *Client) follow(ctx context.Context, list client.ObjectList, selector fields.Selector, resourceVersion string, observe observer) (relist bool, err error) {
	for {
		w, err := c.kube.Watch(ctx, list, client.InNamespace(c.namespace), &client.ListOptions{
			FieldSelector: selector,
			Raw:           &metav1.ListOptions{ResourceVersion: resourceVersion, AllowWatchBookmarks: true},
		})
		switch {
		case err == nil:
		case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
			return true, nil
		default:
			return false, contextOr(ctx, fmt.Errorf("watch: %w", err))
		}
		var done bool
		resourceVersion, relist, done, err = drain(ctx, w, resourceVersion, observe)
		w.Stop()
		if done || relist || err != nil {
			return relist, err
		}
	}
}

// drain reads one watch until it closes (done, relist and err all zero: reconnect from the
// returned version), observe is done or fails, the version expires, or ctx ends.
func drain(ctx context.Context, w watch.Interface, resourceVersion string, observe observer) (string, bool, bool, error) {
	for {
		select {
		case <-ctx.Done():
			return resourceVersion, false, false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return resourceVersion, false, false, nil
			}
			var current client.Object
			switch ev.Type {
			case watch.Error:
				err := apierrors.FromObject(ev.Object)
				if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
					return resourceVersion, true, false, nil
				}
				return resourceVersion, false, false, fmt.Errorf("watch: %w", err)
			case watch.Bookmark:
				if obj, ok := ev.Object.(client.Object); ok {
					resourceVersion = obj.GetResourceVersion()
				}
				continue
			case watch.Added, watch.Modified:
				current, _ = ev.Object.(client.Object)
			}
			// A Deleted event leaves current nil: the object no longer exists.
			if obj, ok := ev.Object.(client.Object); ok {
				resourceVersion = obj.GetResourceVersion()
			}
			if done, err := observe(current); done || err != nil {
				return resourceVersion, false, done, err
			}
		}
	}
}

// contextOr prefers the context's error: a request that failed because the caller's deadline
// passed should say so, and errors.Is(err, context.DeadlineExceeded) should hold.
func contextOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

package accounts

import (
	"context"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// FaceClientResolver picks the Face client that serves a LivenessSession.
type FaceClientResolver interface {
	// ClientFor returns the client for the session, or an error saying why there is none.
	ClientFor(ctx context.Context, ls *facev1.LivenessSession) (face.Client, error)
}

// StaticFaceClient serves every session with one client, for reconcilers driven directly in
// tests; the manager resolves accounts with AccountResolver.
type StaticFaceClient struct {
	// Client is the Face client for every session.
	Client face.Client
}

// ClientFor returns the one client.
func (s StaticFaceClient) ClientFor(context.Context, *facev1.LivenessSession) (face.Client, error) {
	return s.Client, nil
}

// Package livenessclient is the app server's side of a liveness-operator flow: it creates a
// LivenessSession, hands back the auth token the operator publishes for the frontend, asks for
// an immediate result sync when the frontend reports completion, waits for the final outcome,
// and releases the session.
//
// Every wait is a Kubernetes watch on the LivenessSession, so a waiting call costs no API
// requests until something changes, and every call honours its context's deadline. The token
// Secret is read once the operator has recorded it in the session's status, and only if it is
// the Secret the operator recorded: a Secret someone else planted under its name is never
// handed out. The package never logs: tokens and reference images stay in the values it
// returns.
//
// A typical app server:
//
//	c, _ := livenessclient.NewFromKubeconfig("", "")    // in-cluster, or ~/.kube/config
//	s, err := c.Start(ctx, livenessclient.Spec{})        // token Secret published
//	// ... send s.AuthToken to the frontend; it runs the Face SDK ...
//	_ = c.Completed(ctx, s.Name)                         // the frontend said it is done
//	r, err := c.Outcome(ctx, s.Name)                     // Live, Spoof, Verified, ...
//	_ = c.Release(ctx, s.Name)                           // cloud session deleted, token revoked
//
// The RBAC it needs in its namespace: create, get, list, watch, patch and delete on
// livenesssessions; get, list and watch on Secrets (to read token Secrets); and create on
// Secrets when it uploads reference images (Verification.ReferenceImage).
package livenessclient

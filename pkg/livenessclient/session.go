package livenessclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Session is a liveness session whose token is published: what an app server hands to its
// frontend. Its String and LogValue leave the token out, so logging a Session is safe.
type Session struct {
	// Name is the LivenessSession's name: the handle for Completed, Outcome and Release.
	Name string
	// Namespace is the LivenessSession's namespace.
	Namespace string
	// SessionID is the Face session id.
	SessionID string
	// AuthToken is the session's auth token for the Face client SDK. It is a credential:
	// send it only to the end user's device, and never log it.
	AuthToken string
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
}

// String describes the session without its token.
func (s *Session) String() string {
	return fmt.Sprintf("liveness session %s/%s (Face session %s, token expires %s)",
		s.Namespace, s.Name, s.SessionID, s.ExpiresAt.UTC().Format(time.RFC3339))
}

// LogValue is what log/slog records for a Session: everything but the token.
func (s *Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", s.Name),
		slog.String("namespace", s.Namespace),
		slog.String("sessionId", s.SessionID),
		slog.Time("expiresAt", s.ExpiresAt),
	)
}

// Session waits until the named LivenessSession's token Secret is published and returns it.
// It returns a *StalledError if the operator stalls the session first, an error matching
// ErrNotFound if the session does not exist or is deleted, ErrTokenUnavailable if its token
// Secret is gone or is not the operator's, and the context's error (with the session's last
// Ready condition) if ctx ends first.
func (c *Client) Session(ctx context.Context, name string) (*Session, error) {
	ls := &facev1.LivenessSession{}
	if err := c.kube.Get(ctx, c.key(name), ls); err != nil {
		return nil, c.apiError(ctx, name, err)
	}
	return c.awaitToken(ctx, ls)
}

// awaitToken watches the LivenessSession until the operator records its cloud session and
// token Secret in status (the write that also sets Ready=True, right after it created the
// Secret), then reads that Secret once. The Secret alone is not trusted: anyone allowed to
// create Secrets in the namespace could create one under the token Secret's name, with an
// owner reference to the session, before the operator does. The operator then stalls the
// session (SecretConflict) instead of recording it, and a Secret whose session id differs from
// the one the operator recorded is refused, so a forged token is never handed out.
func (c *Client) awaitToken(ctx context.Context, ls *facev1.LivenessSession) (*Session, error) {
	var last lastReady
	published, err := c.watchUntilPublished(ctx, ls, &last)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("liveness session %s: token Secret not published yet (%s): %w", ls.Name, last.String(), err)
		}
		return nil, err
	}
	secret := &corev1.Secret{}
	if err := c.kube.Get(ctx, c.key(published.Status.TokenSecretName), secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("liveness session %s: token Secret %s is gone (%s): %w",
				ls.Name, published.Status.TokenSecretName, facev1.ReasonTokenSecretLost, ErrTokenUnavailable)
		}
		return nil, contextOr(ctx, fmt.Errorf("liveness session %s: read token Secret: %w", ls.Name, err))
	}
	return sessionFromSecret(published, secret)
}

// watchUntilPublished returns the session once status names its cloud session and token
// Secret; a *StalledError if the operator stalls it first; ErrNotFound once it is deleted (or
// replaced by a namesake). It records the Ready condition on the way, so a timeout can say what
// the session was waiting for.
func (c *Client) watchUntilPublished(ctx context.Context, ls *facev1.LivenessSession, last *lastReady) (*facev1.LivenessSession, error) {
	var published *facev1.LivenessSession
	err := c.watchNamed(ctx, &facev1.LivenessSessionList{}, ls.Name, func(obj client.Object) (bool, error) {
		current, ok := obj.(*facev1.LivenessSession)
		if !ok || current.UID != ls.UID {
			return false, notFound(ls.Name)
		}
		last.set(meta.FindStatusCondition(current.Status.Conditions, facev1.ConditionReady))
		if meta.IsStatusConditionTrue(current.Status.Conditions, facev1.ConditionStalled) &&
			hasReason(current, facev1.ConditionStalled, facev1.ReasonTokenSecretLost) {
			return false, stalled(current)
		}
		if current.Status.SessionID != "" && current.Status.TokenSecretName != "" {
			published = current
			return true, nil
		}
		return false, stalled(current)
	})
	return published, err
}

// sessionFromSecret reads the token Secret's contract keys (docs/token-secret.md) and checks
// that it is the Secret the operator recorded for this session.
func sessionFromSecret(ls *facev1.LivenessSession, secret *corev1.Secret) (*Session, error) {
	token := string(secret.Data[facev1.SecretKeyAuthToken])
	id := string(secret.Data[facev1.SecretKeySessionID])
	if !metav1.IsControlledBy(secret, ls) || secret.Type != facev1.SecretType || id != ls.Status.SessionID {
		return nil, fmt.Errorf("liveness session %s: Secret %s is not the token Secret the operator recorded for session %s: %w",
			ls.Name, secret.Name, ls.Status.SessionID, ErrTokenUnavailable)
	}
	expiresAt, err := time.Parse(time.RFC3339, string(secret.Data[facev1.SecretKeyExpiresAt]))
	if token == "" || err != nil {
		return nil, fmt.Errorf("liveness session %s: token Secret %s lacks %s or an RFC 3339 %s: %w",
			ls.Name, secret.Name, facev1.SecretKeyAuthToken, facev1.SecretKeyExpiresAt, ErrTokenUnavailable)
	}
	return &Session{Name: ls.Name, Namespace: ls.Namespace, SessionID: id, AuthToken: token, ExpiresAt: expiresAt}, nil
}

// hasReason says whether the condition is present with the given reason.
func hasReason(ls *facev1.LivenessSession, conditionType, reason string) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, conditionType)
	return c != nil && c.Reason == reason
}

// stalled is a *StalledError when the session's Stalled condition is True, else nil.
func stalled(ls *facev1.LivenessSession) error {
	c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue {
		return nil
	}
	return &StalledError{Name: ls.Name, Reason: c.Reason, Message: c.Message}
}

// lastReady is the latest Ready condition a watcher saw.
type lastReady struct {
	mu   sync.Mutex
	cond *metav1.Condition
}

func (l *lastReady) set(c *metav1.Condition) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cond = c
}

// String says what the session was doing: "Ready=False Creating: message", or that the
// operator has not reported on it at all (is the manager running?).
func (l *lastReady) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cond == nil {
		return "the operator has not reported on it yet"
	}
	return fmt.Sprintf("Ready=%s %s: %s", l.cond.Status, l.cond.Reason, l.cond.Message)
}

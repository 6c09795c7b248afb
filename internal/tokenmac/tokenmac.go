// Package tokenmac signs the token Secrets the operator writes, so that it acts only on cloud
// sessions it created itself. Ownership of a Secret is an ownerReference, which anyone who can
// create Secrets in a namespace can write; a signature over the session id, the owning
// resource's UID and the token's expiry, made with a key only the operator holds, cannot be
// forged that way. The operator adopts, polls, exports or deletes a session found in a token
// Secret only when its signature verifies.
package tokenmac

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// KeySecretName is the Secret in the operator's namespace that holds the signing key.
	KeySecretName = "liveness-operator-token-signing-key"
	// keyField is the Secret's key holding the key bytes.
	keyField = "key"
	// keySize is the key length: HMAC-SHA256's block-sized key.
	keySize = 32
	// version prefixes what is signed, so a later scheme can never verify an old signature.
	version = "v1"
)

// Signer signs and verifies token Secrets with the operator's key.
type Signer struct {
	key []byte
}

// New returns a Signer for a key of at least 32 bytes.
func New(key []byte) (*Signer, error) {
	if len(key) < keySize {
		return nil, fmt.Errorf("token signing key: need at least %d bytes, got %d", keySize, len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Sign is the signature of a session id, its owning resource's UID and its token's expiry
// (to the second), base64url-encoded.
func (s *Signer) Sign(sessionID string, owner types.UID, expiresAt time.Time) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%s", version, sessionID, owner, expiresAt.UTC().Format(time.RFC3339))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify says whether signature is Sign's for these values, in constant time.
func (s *Signer) Verify(signature, sessionID string, owner types.UID, expiresAt time.Time) bool {
	if signature == "" || sessionID == "" || owner == "" {
		return false
	}
	want := s.Sign(sessionID, owner, expiresAt)
	return hmac.Equal([]byte(signature), []byte(want))
}

// LoadOrCreate reads the signing key from Secret KeySecretName in namespace, creating it with a
// fresh random key on first start. Replicas starting together agree: the first create wins and
// the others read its key.
func LoadOrCreate(ctx context.Context, c client.Client, namespace string) (*Signer, error) {
	key := types.NamespacedName{Namespace: namespace, Name: KeySecretName}
	for attempt := 0; attempt < 2; attempt++ {
		s := &corev1.Secret{}
		err := c.Get(ctx, key, s)
		if err == nil {
			return New(s.Data[keyField])
		}
		if !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("read token signing key Secret %s: %w", key, err)
		}
		fresh := make([]byte, keySize)
		if _, err := rand.Read(fresh); err != nil {
			return nil, fmt.Errorf("generate token signing key: %w", err)
		}
		err = c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: KeySecretName,
				Labels: map[string]string{"app.kubernetes.io/name": "liveness-operator", "app.kubernetes.io/component": "token-signing-key"}},
			Immutable: ptr.To(true),
			Data:      map[string][]byte{keyField: fresh},
		})
		switch {
		case err == nil:
			return New(fresh)
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("create token signing key Secret %s: namespace %s does not exist: create it or set --operator-namespace", key, namespace)
		case !apierrors.IsAlreadyExists(err):
			return nil, fmt.Errorf("create token signing key Secret %s: %w", key, err)
		}
		// Another replica created it first: read that one.
	}
	return nil, errors.New("token signing key Secret keeps changing; try again")
}

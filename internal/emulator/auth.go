package emulator

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
)

// credentials are the accepted API keys and bearer tokens with their public
// identities ("key#0", "bearer#0"), which the inventory and quota use instead of the
// secrets.
type credentials struct {
	keys     []string
	keyIDs   []string
	tokens   []string
	tokenIDs []string
}

func newCredentials(keys, tokens []string) credentials {
	c := credentials{}
	for i, k := range keys {
		if k == "" {
			continue
		}
		c.keys = append(c.keys, k)
		c.keyIDs = append(c.keyIDs, "key#"+strconv.Itoa(i))
	}
	for i, t := range tokens {
		if t == "" {
			continue
		}
		c.tokens = append(c.tokens, t)
		c.tokenIDs = append(c.tokenIDs, "bearer#"+strconv.Itoa(i))
	}
	return c
}

// authenticate returns the caller's identity, or ok=false for a wrong or missing
// credential. A present Ocp-Apim-Subscription-Key header decides on its own (a wrong
// key is refused even next to a valid bearer token), as API Management checks the
// subscription key first.
func (c credentials) authenticate(r *http.Request) (id string, ok bool) {
	if vals, present := r.Header["Ocp-Apim-Subscription-Key"]; present {
		if len(vals) != 1 {
			return "", false
		}
		return match(vals[0], c.keys, c.keyIDs)
	}
	if t, ok := bearerToken(r); ok {
		return match(t, c.tokens, c.tokenIDs)
	}
	return "", false
}

// match compares in constant time so that the emulator does not teach anyone a
// timing side channel, even though it is only a test double.
func match(got string, secrets, ids []string) (string, bool) {
	for i, s := range secrets {
		if subtle.ConstantTimeCompare([]byte(got), []byte(s)) == 1 {
			return ids[i], true
		}
	}
	return "", false
}

// unauthorized is the Cognitive Services 401, word for word.
func unauthorized() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: msgUnauthorized}
}

// bearerToken extracts the token of an "Authorization: Bearer ..." header.
func bearerToken(r *http.Request) (string, bool) {
	authz := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(authz) <= len(prefix) || !strings.EqualFold(authz[:len(prefix)], prefix) {
		return "", false
	}
	t := strings.TrimSpace(authz[len(prefix):])
	return t, t != ""
}

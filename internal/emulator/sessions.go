package emulator

import (
	"net/http"
	"time"
)

// The six session operations: create, get and delete for both session kinds.

func (s *Server) createLiveness(w *recorder, r *http.Request, c call) {
	p, e := parseCreateJSON(r, c.v13)
	if e != nil {
		writeError(w, e)
		return
	}
	s.commitCreate(w, s.newSession(kindLiveness, p, c), c)
}

func (s *Server) createWithVerify(w *recorder, r *http.Request, c call) {
	p, e := parseCreateMultipart(r, c.v13, s.cfg.RequireUserCorrelationIDOnMultipart)
	if e != nil {
		writeError(w, e)
		return
	}
	s.commitCreate(w, s.newSession(kindLivenessWithVerify, p, c), c)
}

// newSession builds a session from validated inputs. modelVersion is always the
// latest (and only) model, which is what the service picks when none is given.
func (s *Server) newSession(kind sessionKind, p createParams, c call) *session {
	id := newUUID()
	tokenExpires := c.now.Add(time.Duration(p.ttl) * time.Second)
	sess := &session{
		id:                  id,
		kind:                kind,
		token:               newAuthToken(id, c.now, tokenExpires),
		keyID:               c.keyID,
		createdAt:           c.now,
		expiresAt:           c.now.Add(s.cfg.SessionLifetime),
		tokenExpiresAt:      tokenExpires,
		ttlSeconds:          p.ttl,
		mode:                p.mode,
		deviceCorrelationID: p.correlationID,
		correlationInClient: p.inClient,
		enableSessionImage:  p.enableImage,
		modelVersion:        modelVersion20241115,
		status:              stateNotStarted,
		apiVersion:          APIVersionV12,
		attemptsAllowed:     p.attemptsAllowed,
	}
	if c.v13 {
		sess.apiVersion = APIVersionV13Preview1
		sess.userCorrelationID = p.userCorrelationID
		sess.userInClient = p.userInClient
		sess.expectedIP = p.expectedIP
		// A snapshot: a later PATCH /settings affects only sessions created after it
		// (LIVENESS-API-v1.3.md §9.3).
		sess.abuseMonitoring = s.settings.enabled(c.keyID)
	}
	if kind == kindLivenessWithVerify {
		sess.verify = &verifySettings{
			threshold:  p.threshold,
			returnHash: p.returnHash,
			imageHash:  upperHexSHA256(p.image),
			image:      p.imageInfo,
			imageBytes: len(p.image),
			reference:  referenceFor(p.imageInfo),
		}
	}
	return sess
}

// commitCreate stores the session and answers with it, unless the commit-then-drop
// fault fires: then the session exists but the caller never hears of it.
func (s *Server) commitCreate(w *recorder, sess *session, c call) {
	s.store.Load().add(sess)
	if s.faults.commitThenDrop(c.faults) {
		sess.mu.Lock()
		sess.responseDropped = true
		sess.mu.Unlock()
		s.stats.fault(func(fs *FaultStats) { fs.CommitThenDropped++ })
		w.drop()
		return
	}
	sess.mu.Lock()
	ws := sess.wireLocked(c.v13)
	sess.mu.Unlock()
	writeJSON(w, http.StatusOK, ws)
}

func (s *Server) getLiveness(w *recorder, r *http.Request, c call) {
	s.getSession(w, kindLiveness, c)
}

func (s *Server) getWithVerify(w *recorder, r *http.Request, c call) {
	s.getSession(w, kindLivenessWithVerify, c)
}

func (s *Server) deleteLiveness(w *recorder, r *http.Request, c call) {
	s.deleteSession(w, kindLiveness, c)
}

func (s *Server) deleteWithVerify(w *recorder, r *http.Request, c call) {
	s.deleteSession(w, kindLivenessWithVerify, c)
}

// lookup finds a session of the given kind that the Face API can still see. The two
// kinds are separate namespaces, as their URLs are.
func (s *Server) lookup(kind sessionKind, id string) *session {
	sess := s.store.Load().byID.get(id)
	if sess == nil || sess.kind != kind {
		return nil
	}
	return sess
}

func sessionNotFound(kind sessionKind, id string) *apiError {
	what := "Liveness session"
	if kind == kindLivenessWithVerify {
		what = "Liveness-with-verify session"
	}
	return newAPIError(http.StatusNotFound, codeSessionNotFound,
		"%s '%s' was not found. It may never have existed, have been deleted, or have expired.", what, id)
}

// lockVisible returns the session locked when it exists and has neither been deleted nor
// expired; otherwise it answers 404, as the service does for all three, and returns nil.
func (s *Server) lockVisible(w *recorder, kind sessionKind, c call) *session {
	if sess := s.lookup(kind, c.id); sess != nil {
		sess.mu.Lock()
		if sess.visibleLocked(c.now) {
			return sess
		}
		sess.mu.Unlock()
	}
	writeError(w, sessionNotFound(kind, c.id))
	return nil
}

func (s *Server) getSession(w *recorder, kind sessionKind, c call) {
	sess := s.lockVisible(w, kind, c)
	if sess == nil {
		return
	}
	ws := sess.wireLocked(c.v13)
	sess.mu.Unlock()
	writeJSON(w, http.StatusOK, ws)
}

// deleteSession answers 204 with no body. The session stays in the inventory
// flagged deleted; its token is revoked and its session images are gone.
func (s *Server) deleteSession(w *recorder, kind sessionKind, c call) {
	sess := s.lockVisible(w, kind, c)
	if sess == nil {
		return
	}
	sess.deleted, sess.deletedAt = true, c.now
	var images []string
	for _, a := range sess.attempts {
		if a.imageID != "" {
			images = append(images, a.imageID)
		}
	}
	sess.mu.Unlock()
	s.store.Load().markDeleted(sess, images)
	w.WriteHeader(http.StatusNoContent)
}

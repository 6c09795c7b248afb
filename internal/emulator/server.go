package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// API versions served, as path segments: {endpoint}/face/{version}/...
const (
	// APIVersionV12 is Face v1.2 (GA), served under /face/v1.2/.
	APIVersionV12 = "v1.2"
	// APIVersionV13Preview1 is Face v1.3-preview.1, served under /face/v1.3-preview.1/.
	APIVersionV13Preview1 = "v1.3-preview.1"
)

// facePrefix is where the Face v1.2 operations live; facePrefixV13 where the
// v1.3-preview.1 ones do.
const (
	facePrefix    = "/face/" + APIVersionV12 + "/"
	facePrefixV13 = "/face/" + APIVersionV13Preview1 + "/"
)

// Server is the emulator. It implements http.Handler: mount it at the root of an
// HTTP server and use that server's URL as the Face endpoint.
type Server struct {
	cfg    Config
	now    func() time.Time
	creds  credentials
	store  atomic.Pointer[store]
	faults *faultEngine
	quota  *quotaEngine
	stats  *statsRecorder
	admin  http.Handler
	// settings are the v1.3 per-key resource settings (abuse monitoring).
	settings *settingsStore
}

// New builds a Server from cfg, applying defaults for zero fields. Invalid Quota or
// Faults values are replaced by "off" rather than failing, because New has no error
// result; use SetQuota/SetFaults to get a validation error.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.InventoryLimit == 0 {
		cfg.InventoryLimit = DefaultInventoryLimit
	}
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	if cfg.Quota.Validate() != nil {
		cfg.Quota = Quota{}
	}
	if cfg.Faults.Validate() != nil {
		cfg.Faults = Faults{}
	}
	if cfg.AbuseWindow <= 0 {
		cfg.AbuseWindow = DefaultAbuseWindow
	}
	s := &Server{
		cfg:    cfg,
		now:    cfg.Now,
		creds:  newCredentials(cfg.APIKeys, cfg.BearerTokens),
		faults: newFaultEngine(cfg.Faults, cfg.Seed),
		quota:  newQuotaEngine(cfg.Quota),
		stats:  newStatsRecorder(),
	}
	s.settings = newSettingsStore(!cfg.AbuseMonitoringOffByDefault)
	s.store.Store(newStore(cfg.InventoryLimit))
	s.admin = s.adminMux()
	return s
}

// ServeHTTP routes /emulator/* to the side door and everything else to the Face API.
// Every response carries an apim-request-id, as the real service's do.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("apim-request-id", newUUID())
	if r.URL.Path == "/emulator" || strings.HasPrefix(r.URL.Path, "/emulator/") {
		s.admin.ServeHTTP(w, r)
		return
	}
	s.serveFace(w, r)
}

// call is what a Face operation handler needs besides the request.
type call struct {
	id     string // path parameter (sessionId / sessionImageId), if any
	keyID  string // caller identity
	now    time.Time
	faults Faults
	v13    bool // the request came in under /face/v1.3-preview.1/
}

type faceHandler func(s *Server, w *recorder, r *http.Request, c call)

// serveFace runs the Face API pipeline: latency, routing, auth, quota, faults, then
// the operation.
func (s *Server) serveFace(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	op, id, version, h := route(r.Method, r.URL.Path)
	rec.onDrop = func() {
		s.stats.request(op, version, StatusDropped)
		rec.counted = true
	}
	defer func() {
		status := rec.statusKey()
		if !rec.counted {
			s.stats.request(op, version, status)
		}
		if s.cfg.RequestLog != nil {
			s.cfg.RequestLog(fmt.Sprintf("%s %s -> %s (%s)", r.Method, r.URL.RequestURI(), status, time.Since(start).Round(time.Microsecond)))
		}
	}()

	f := s.faults.current()
	if d := s.faults.delay(f); d > 0 {
		s.stats.fault(func(fs *FaultStats) { fs.Delayed++ })
		if !sleepCtx(r, d) {
			rec.gone = true
			return
		}
	}
	if h == nil {
		writeError(rec, notFoundRoute(r.Method, r.URL.Path))
		return
	}
	keyID, ok := s.creds.authenticate(r)
	if !ok {
		writeError(rec, unauthorized())
		return
	}
	now := s.now()
	inside, retryAfter := s.quota.admit(keyID, now)
	if inside {
		s.stats.insideRetryAfter(keyID)
	}
	if retryAfter > 0 {
		s.stats.throttled(keyID)
		writeError(rec, rateLimited(retryAfter))
		return
	}
	switch s.faults.draw(f) {
	case fault500:
		s.stats.fault(func(fs *FaultStats) { fs.Injected500++ })
		writeError(rec, injected500())
		return
	case fault503:
		s.stats.fault(func(fs *FaultStats) { fs.Injected503++ })
		s.quota.noteRetryAfter(keyID, now, f.RetryAfter503)
		writeError(rec, injected503(f.RetryAfter503))
		return
	case faultDrop:
		s.stats.fault(func(fs *FaultStats) { fs.Dropped++ })
		rec.drop()
		return
	}
	h(s, rec, r, call{id: id, keyID: keyID, now: now, faults: f, v13: version == APIVersionV13Preview1})
}

// route maps a method and path to an operation and the API version of its prefix. A
// nil handler means no operation matches; op is then OpUnknown (version is still set
// when the prefix was a served one).
func route(method, path string) (op, id, version string, h faceHandler) {
	var rest string
	if r, ok := strings.CutPrefix(path, facePrefix); ok {
		rest, version = r, APIVersionV12
	} else if r, ok := strings.CutPrefix(path, facePrefixV13); ok {
		rest, version = r, APIVersionV13Preview1
	} else {
		return OpUnknown, "", "", nil
	}
	op, id, h = routeOperation(method, rest, version == APIVersionV13Preview1)
	return op, id, version, h
}

// routeOperation maps the path after the version prefix. The eight v1.2 operations
// exist in both versions; the settings operations only in v1.3-preview.1.
func routeOperation(method, rest string, v13 bool) (op, id string, h faceHandler) {
	coll, id, hasID := strings.Cut(rest, "/")
	if hasID && (id == "" || strings.Contains(id, "/")) {
		return OpUnknown, "", nil
	}
	switch coll {
	case "settings":
		switch {
		case !v13:
		case !hasID && method == http.MethodGet:
			return OpGetSettings, "", (*Server).getSettings
		case !hasID && method == http.MethodPatch:
			return OpPatchSettings, "", (*Server).patchSettings
		case hasID && id == "getClientAssetsAccessToken" && method == http.MethodGet:
			return OpGetClientAssetsAccessToken, "", (*Server).getClientAssetsAccessToken
		}
	case "detectLiveness-sessions":
		switch {
		case !hasID && method == http.MethodPost:
			return OpCreateLivenessSession, "", (*Server).createLiveness
		case hasID && method == http.MethodGet:
			return OpGetLivenessSessionResult, id, (*Server).getLiveness
		case hasID && method == http.MethodDelete:
			return OpDeleteLivenessSession, id, (*Server).deleteLiveness
		}
	case "detectLivenessWithVerify-sessions":
		switch {
		case !hasID && method == http.MethodPost:
			return OpCreateLivenessWithVerifySession, "", (*Server).createWithVerify
		case hasID && method == http.MethodGet:
			return OpGetLivenessWithVerifySessionResult, id, (*Server).getWithVerify
		case hasID && method == http.MethodDelete:
			return OpDeleteLivenessWithVerifySession, id, (*Server).deleteWithVerify
		}
	case "sessionImages":
		if hasID && method == http.MethodGet {
			return OpGetSessionImage, id, (*Server).getSessionImage
		}
	case "detect":
		if !hasID && method == http.MethodPost {
			return OpDetectFromSessionImageID, "", (*Server).detect
		}
	}
	return OpUnknown, "", nil
}

// notFoundRoute answers a path or method no operation has, with hints for the usual
// mistakes (pre-GA paths, other API versions, v1.3 operations under v1.2).
func notFoundRoute(method, path string) *apiError {
	version, rest, ok := APIVersionV12, "", false
	if r, found := strings.CutPrefix(path, facePrefix); found {
		rest, ok = r, true
	} else if r, found := strings.CutPrefix(path, facePrefixV13); found {
		version, rest, ok = APIVersionV13Preview1, r, true
	}
	msg := fmt.Sprintf("Resource not found: no Face %s operation matches %s %s.", version, method, path)
	switch {
	case !ok && strings.HasPrefix(path, "/face/"):
		msg += " This emulator serves only /face/v1.2/ and /face/v1.3-preview.1/."
	case ok && (strings.HasPrefix(rest, "detectLiveness/") || strings.HasPrefix(rest, "detectLivenessWithVerify/")):
		msg += " That is a pre-GA (preview) path; use /detectLiveness-sessions and /detectLivenessWithVerify-sessions."
	case ok && method == http.MethodGet && (rest == "detectLiveness-sessions" || rest == "detectLivenessWithVerify-sessions"):
		msg += " Face " + version + " has no list-sessions operation."
	case ok && version == APIVersionV12 && (rest == "settings" || strings.HasPrefix(rest, "settings/")):
		msg += " The settings operations exist only in v1.3-preview.1: use /face/v1.3-preview.1/" + rest + "."
	}
	return newAPIError(http.StatusNotFound, codeNotFound, "%s", msg)
}

// recorder remembers the status a handler wrote, or that it dropped the connection,
// for the stats. Unwrap lets http.ResponseController reach the real writer.
type recorder struct {
	http.ResponseWriter
	status  int
	dropped bool
	gone    bool
	// onDrop runs just before a dropped connection is closed. The request is counted there,
	// not after the handler returns: the client sees the closed connection at once, and a test
	// that then reads the stats must find the drop already counted.
	onDrop  func()
	counted bool
}

// WriteHeader records the first status written.
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200 when no status was written.
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) drop() {
	w.dropped = true
	if w.onDrop != nil {
		w.onDrop()
	}
	dropConnection(w.ResponseWriter)
}

func (w *recorder) statusKey() string {
	switch {
	case w.dropped:
		return StatusDropped
	case w.gone:
		return StatusClientGone
	case w.status == 0:
		return "200"
	}
	return strconv.Itoa(w.status)
}

// Sessions returns the inventory (the same data as GET /emulator/sessions), ordered
// by creation time.
func (s *Server) Sessions() []SessionInfo { return s.store.Load().list(s.now()) }

// Session returns one inventory entry, deleted and expired sessions included.
func (s *Server) Session(id string) (SessionInfo, bool) {
	sess := s.store.Load().byID.get(id)
	if sess == nil {
		return SessionInfo{}, false
	}
	return sess.info(s.now()), true
}

// Stats returns the counters (the same data as GET /emulator/stats).
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Faults returns the fault injection in effect.
func (s *Server) Faults() Faults { return s.faults.current() }

// SetFaults replaces the fault injection at run time.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.faults.set(f)
	return nil
}

// Quota returns the rate limit in effect.
func (s *Server) Quota() Quota { return s.quota.current() }

// SetQuota replaces the rate limit at run time; every key's bucket starts full.
func (s *Server) SetQuota(q Quota) error {
	if err := q.Validate(); err != nil {
		return err
	}
	s.quota.set(q)
	return nil
}

// Reset forgets every session (and with them the faces seen for abuse monitoring),
// counter and quota state (Retry-After windows included), and puts every key's
// v1.3 settings back to their default. Faults and quota settings stay as they are.
func (s *Server) Reset() {
	s.store.Store(newStore(s.cfg.InventoryLimit))
	s.stats.reset()
	s.quota.reset()
	s.settings.reset()
}

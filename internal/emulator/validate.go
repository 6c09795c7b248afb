package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Limits from the spec (CreateLivenessSessionContent and the multipart parameters).
const (
	minTokenTTL     = 60
	maxTokenTTL     = 86400
	defaultTokenTTL = 600

	maxJSONBody      = 1 << 20
	maxMultipartBody = maxImageBytes + 1<<20
	maxTextPart      = 4 << 10
)

// Spec field names, used in messages so that a failing client sees the exact name.
const (
	fMode          = "livenessOperationMode"
	fInClient      = "deviceCorrelationIdSetInClient"
	fCorrelationID = "deviceCorrelationId"
	fEnableImage   = "enableSessionImage"
	fModelVersion  = "livenessModelVersion"
	fTTL           = "authTokenTimeToLiveInSeconds"
	fReturnHash    = "returnVerifyImageHash"
	fThreshold     = "verifyConfidenceThreshold"
	fVerifyImage   = "verifyImage"

	// v1.3-preview.1 fields.
	fAttemptsAllowed   = "numberOfClientAttemptsAllowed"
	fUserCorrelationID = "userCorrelationId"
	fUserInClient      = "userCorrelationIdSetInClient"
	fExpectedIP        = "expectedClientIpAddress"
)

// Limits of numberOfClientAttemptsAllowed (v1.3-preview.1).
const (
	minAttemptsAllowed     = 1
	maxAttemptsAllowed     = 3
	defaultAttemptsAllowed = 1
)

// multipartFields are the part names of CreateLivenessWithVerifySession, exactly as
// the spec spells them (lower camelCase).
var multipartFields = []string{fMode, fInClient, fEnableImage, fModelVersion, fReturnHash, fThreshold, fVerifyImage, fCorrelationID, fTTL}

// multipartFieldsV13 adds the v1.3-preview.1 parts: numberOfClientAttemptsAllowed (in
// the spec) and userCorrelationId (not in the spec; accepted because the service is
// reported to require it, LIVENESS-API-v1.3.md §8).
var multipartFieldsV13 = append(append([]string(nil), multipartFields...), fAttemptsAllowed, fUserCorrelationID)

// rawCreate holds the create inputs as received, before the cross-field rules.
type rawCreate struct {
	mode          *string
	inClient      *bool
	correlationID *string
	enableImage   *bool
	modelVersion  *string
	ttl           *int64
	returnHash    *bool
	threshold     *float64
	image         []byte
	imagePresent  bool

	// v1.3-preview.1
	attemptsAllowed   *int64
	userCorrelationID *string
	userInClient      *bool
	expectedIP        *string
}

// createParams are validated create inputs.
type createParams struct {
	mode          string
	inClient      bool
	correlationID string
	enableImage   bool
	ttl           int
	returnHash    bool
	threshold     float64
	image         []byte
	imageInfo     imageInfo

	// v1.3-preview.1 (zero for v1.2, where attemptsAllowed is 1)
	attemptsAllowed   int
	userCorrelationID string
	userInClient      bool
	expectedIP        string
}

// createRules are what changes between the versions and routes of create.
type createRules struct {
	verify bool // the multipart with-verify create
	v13    bool // the request came in under /face/v1.3-preview.1/
	// requireUser enforces the userCorrelationId / SetInClient exclusive-or.
	requireUser bool
}

// requireMediaType checks the request's Content-Type and returns its parameters.
func requireMediaType(r *http.Request, want string) (map[string]string, *apiError) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Missing Content-Type header; this operation requires '%s'.", want)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.EqualFold(mt, want) {
		return nil, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Unsupported Content-Type '%s'; this operation requires '%s'.", ct, want)
	}
	return params, nil
}

// readBody reads the whole body up to limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, *apiError) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, badArgument("Could not read the request body: %v.", err)
	}
	if int64(len(b)) > limit {
		return nil, newAPIError(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
			"Request body is larger than %d bytes.", limit)
	}
	return b, nil
}

// decodeJSONObject parses a JSON object body into its raw members. Member names are
// matched exactly later (encoding/json would match them case-insensitively, which
// would hide a client that misspells a field).
func decodeJSONObject(r *http.Request) (map[string]json.RawMessage, *apiError) {
	if _, e := requireMediaType(r, "application/json"); e != nil {
		return nil, e
	}
	b, e := readBody(r, maxJSONBody)
	if e != nil {
		return nil, e
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil, badArgument("Request body is required and must be a JSON object.")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, badArgument("Request body must be a JSON object (got a JSON %s).", te.Value)
		}
		return nil, badArgument("Request body is not valid JSON: %v.", err)
	}
	if m == nil {
		return nil, badArgument("Request body must be a JSON object (got null).")
	}
	return m, nil
}

// parseCreateJSON reads CreateLivenessSessionContent. Under v1.3 it also reads the four
// v1.3 fields; under v1.2 they are unknown members and ignored like any other.
func parseCreateJSON(r *http.Request, v13 bool) (createParams, *apiError) {
	m, e := decodeJSONObject(r)
	if e != nil {
		return createParams{}, e
	}
	var raw rawCreate
	for _, step := range []func() *apiError{
		func() (e *apiError) { raw.mode, e = jsonString(m, fMode); return },
		func() (e *apiError) { raw.inClient, e = jsonBool(m, fInClient); return },
		func() (e *apiError) { raw.correlationID, e = jsonString(m, fCorrelationID); return },
		func() (e *apiError) { raw.enableImage, e = jsonBool(m, fEnableImage); return },
		func() (e *apiError) { raw.modelVersion, e = jsonString(m, fModelVersion); return },
		func() (e *apiError) { raw.ttl, e = jsonInt(m, fTTL); return },
	} {
		if e := step(); e != nil {
			return createParams{}, e
		}
	}
	if v13 {
		for _, step := range []func() *apiError{
			func() (e *apiError) { raw.attemptsAllowed, e = jsonInt(m, fAttemptsAllowed); return },
			func() (e *apiError) { raw.userCorrelationID, e = jsonString(m, fUserCorrelationID); return },
			func() (e *apiError) { raw.userInClient, e = jsonBool(m, fUserInClient); return },
			func() (e *apiError) { raw.expectedIP, e = jsonString(m, fExpectedIP); return },
		} {
			if e := step(); e != nil {
				return createParams{}, e
			}
		}
	}
	// The JSON route always enforces the user correlation rule under v1.3: the field
	// text requires it and the service is reported to (LIVENESS-API-v1.3.md §8).
	return raw.validate(createRules{v13: v13, requireUser: v13})
}

func jsonString(m map[string]json.RawMessage, name string) (*string, *apiError) {
	v, ok := m[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, badArgument("Field '%s' must be a string (got %s).", name, jsonKind(v))
	}
	return &s, nil
}

func jsonBool(m map[string]json.RawMessage, name string) (*bool, *apiError) {
	v, ok := m[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return nil, badArgument("Field '%s' must be a boolean (got %s).", name, jsonKind(v))
	}
	return &b, nil
}

func jsonInt(m map[string]json.RawMessage, name string) (*int64, *apiError) {
	v, ok := m[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return nil, badArgument("Field '%s' must be an integer (got %s).", name, jsonKind(v))
	}
	if f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
		return nil, badArgument("Field '%s' must be a 32-bit integer (got %s).", name, string(v))
	}
	i := int64(f)
	return &i, nil
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	switch {
	case s == "":
		return "nothing"
	case s[0] == '"':
		return "a string"
	case s[0] == '{':
		return "an object"
	case s[0] == '[':
		return "an array"
	case s == "true" || s == "false":
		return "a boolean"
	default:
		return "a number"
	}
}

// parseCreateMultipart reads the multipart/form-data of
// CreateLivenessWithVerifySession: one part per field, lowercase names, verifyImage a
// file part with a filename. Under v1.3 the v1.3 parts are known too; requireUser
// (Config.RequireUserCorrelationIDOnMultipart) makes userCorrelationId required.
func parseCreateMultipart(r *http.Request, v13, requireUser bool) (createParams, *apiError) {
	fields := multipartFields
	if v13 {
		fields = multipartFieldsV13
	}
	params, e := requireMediaType(r, "multipart/form-data")
	if e != nil {
		return createParams{}, e
	}
	boundary := params["boundary"]
	if boundary == "" {
		return createParams{}, newAPIError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Content-Type multipart/form-data must carry a boundary parameter.")
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, r.Body, maxMultipartBody), boundary)
	var raw rawCreate
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return createParams{}, multipartReadError(err)
		}
		name := p.FormName()
		if name == "" {
			return createParams{}, badArgument("Every multipart part must have a Content-Disposition: form-data header with a name.")
		}
		if seen[name] {
			return createParams{}, badArgument("Multipart part '%s' appears more than once.", name)
		}
		seen[name] = true
		if name == fVerifyImage {
			if p.FileName() == "" {
				return createParams{}, badArgument("Part '%s' must carry a filename in its Content-Disposition header (e.g. filename=\"face.jpg\").", fVerifyImage)
			}
			b, err := io.ReadAll(io.LimitReader(p, maxImageBytes+1))
			if err != nil {
				return createParams{}, multipartReadError(err)
			}
			raw.image, raw.imagePresent = b, true
			continue
		}
		if !slices.Contains(fields, name) {
			return createParams{}, unknownPart(name, fields, v13)
		}
		b, err := io.ReadAll(io.LimitReader(p, maxTextPart+1))
		if err != nil {
			return createParams{}, multipartReadError(err)
		}
		if len(b) > maxTextPart {
			return createParams{}, badArgument("Part '%s' is longer than %d bytes.", name, maxTextPart)
		}
		if e := raw.setText(name, string(b)); e != nil {
			return createParams{}, e
		}
	}
	return raw.validate(createRules{verify: true, v13: v13, requireUser: v13 && requireUser})
}

func multipartReadError(err error) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newAPIError(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
			"Request body is larger than %d bytes.", mbe.Limit)
	}
	return badArgument("Malformed multipart/form-data body: %v.", err)
}

// unknownPart explains an unexpected part name, pointing at the classic mistakes:
// wrong case, the pre-GA "Parameters"/"VerifyImage" design, and a v1.3 part sent to
// v1.2 or a JSON-only v1.3 field sent as a part.
func unknownPart(name string, fields []string, v13 bool) *apiError {
	if name == "Parameters" {
		return badArgument("Unknown multipart part 'Parameters': that is the pre-GA design. Face v1.2 expects one part per field (%s).",
			strings.Join(fields, ", "))
	}
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			return badArgument("Unknown multipart part '%s'; part names are case-sensitive, expected '%s'.", name, f)
		}
	}
	switch {
	case !v13 && (name == fAttemptsAllowed || name == fUserCorrelationID):
		return badArgument("Unknown multipart part '%s': it exists only in Face v1.3-preview.1 (/face/v1.3-preview.1/); allowed parts: %s.", name, strings.Join(fields, ", "))
	case v13 && (name == fUserInClient || name == fExpectedIP):
		return badArgument("Unknown multipart part '%s': v1.3-preview.1 declares it on the JSON create only; allowed parts: %s.", name, strings.Join(fields, ", "))
	}
	return badArgument("Unknown multipart part '%s'; allowed parts: %s.", name, strings.Join(fields, ", "))
}

// setText parses one non-file multipart part. Values are text: booleans as
// true/false, numbers in decimal.
func (raw *rawCreate) setText(name, v string) *apiError {
	switch name {
	case fMode:
		raw.mode = &v
	case fCorrelationID:
		raw.correlationID = &v
	case fUserCorrelationID:
		raw.userCorrelationID = &v
	case fAttemptsAllowed:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return badArgument("Part '%s' must be an integer between %d and %d (got '%s').", fAttemptsAllowed, minAttemptsAllowed, maxAttemptsAllowed, v)
		}
		raw.attemptsAllowed = &i
	case fModelVersion:
		raw.modelVersion = &v
	case fInClient, fEnableImage, fReturnHash:
		lower := strings.ToLower(strings.TrimSpace(v))
		if lower != "true" && lower != "false" {
			return badArgument("Part '%s' must be 'true' or 'false' (got '%s').", name, v)
		}
		b := lower == "true"
		switch name {
		case fInClient:
			raw.inClient = &b
		case fEnableImage:
			raw.enableImage = &b
		default:
			raw.returnHash = &b
		}
	case fTTL:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return badArgument("Part '%s' must be an integer between %d and %d (got '%s').", fTTL, minTokenTTL, maxTokenTTL, v)
		}
		raw.ttl = &i
	case fThreshold:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return badArgument("Part '%s' must be a number between 0 and 1 (got '%s').", fThreshold, v)
		}
		raw.threshold = &f
	}
	return nil
}

// validate applies the spec's rules shared by both creates, plus the verify-only
// rules for the multipart route and the v1.3 rules under v1.3.
func (raw *rawCreate) validate(rules createRules) (createParams, *apiError) {
	var p createParams
	if raw.mode == nil {
		return p, badArgument("Field '%s' is required; allowed values: Passive, PassiveActive.", fMode)
	}
	mode, ok := operationMode(*raw.mode, rules.v13)
	if !ok {
		if rules.v13 {
			return p, badArgument("Field '%s' has invalid value '%s'; allowed values: Passive, PassiveActive.", fMode, *raw.mode)
		}
		return p, badArgument("Field '%s' has invalid value '%s'; allowed values (case-sensitive): Passive, PassiveActive.", fMode, *raw.mode)
	}
	p.mode = mode
	if raw.inClient != nil {
		p.inClient = *raw.inClient
	}
	if p.inClient {
		if raw.correlationID != nil {
			return p, badArgument("Field '%s' must be absent or null when '%s' is true.", fCorrelationID, fInClient)
		}
	} else {
		if raw.correlationID == nil || *raw.correlationID == "" {
			return p, badArgument("Field '%s' is required when '%s' is false or absent.", fCorrelationID, fInClient)
		}
		p.correlationID = *raw.correlationID
	}
	if raw.enableImage != nil {
		p.enableImage = *raw.enableImage
	}
	if raw.modelVersion != nil && *raw.modelVersion != modelVersion20241115 {
		return p, badArgument("Field '%s' has invalid value '%s'; the only supported model is '%s'.", fModelVersion, *raw.modelVersion, modelVersion20241115)
	}
	p.ttl = defaultTokenTTL
	if raw.ttl != nil {
		if *raw.ttl < minTokenTTL || *raw.ttl > maxTokenTTL {
			return p, badArgument("Field '%s' must be between %d and %d seconds (got %d).", fTTL, minTokenTTL, maxTokenTTL, *raw.ttl)
		}
		p.ttl = int(*raw.ttl)
	}
	if rules.v13 {
		if e := raw.validateV13(&p, rules); e != nil {
			return p, e
		}
	} else {
		p.attemptsAllowed = 1 // v1.2: one attempt per session
	}
	if !rules.verify {
		return p, nil
	}
	if raw.returnHash != nil {
		p.returnHash = *raw.returnHash
	}
	p.threshold = DefaultVerifyConfidenceThreshold
	if raw.threshold != nil {
		if *raw.threshold < 0 || *raw.threshold > 1 {
			return p, badArgument("Part '%s' must be between 0 and 1 (got %v).", fThreshold, *raw.threshold)
		}
		p.threshold = *raw.threshold
	}
	if !raw.imagePresent {
		return p, badArgument("Part '%s' is required: a file part carrying the reference face image (JPEG, PNG, GIF or BMP, 1 KB to 6 MB).", fVerifyImage)
	}
	info, e := inspectImage(raw.image)
	if e != nil {
		return p, e
	}
	p.image, p.imageInfo = raw.image, info
	return p, nil
}

// operationMode returns livenessOperationMode in spec spelling. v1.2 matches it
// exactly, as it always has here; v1.3 matches it case-insensitively, because the
// service's own tutorial sends "passiveactive" and the enum is an extensible
// (modelAsString) string. The spec spelling is what is stored and reported.
func operationMode(v string, v13 bool) (string, bool) {
	for _, m := range []string{"Passive", "PassiveActive"} {
		if v == m || (v13 && strings.EqualFold(v, m)) {
			return m, true
		}
	}
	return "", false
}

// validateV13 applies the v1.3-preview.1 create rules (LIVENESS-API-v1.3.md §3, §4,
// §8 and §9.3).
func (raw *rawCreate) validateV13(p *createParams, rules createRules) *apiError {
	p.attemptsAllowed = defaultAttemptsAllowed
	if raw.attemptsAllowed != nil {
		if n := *raw.attemptsAllowed; n < minAttemptsAllowed || n > maxAttemptsAllowed {
			return badArgument("Field '%s' must be between %d and %d (got %d).", fAttemptsAllowed, minAttemptsAllowed, maxAttemptsAllowed, n)
		}
		p.attemptsAllowed = int(*raw.attemptsAllowed)
	}
	if raw.userInClient != nil {
		p.userInClient = *raw.userInClient
	}
	hasUser := raw.userCorrelationID != nil && *raw.userCorrelationID != ""
	switch {
	case p.userInClient && raw.userCorrelationID != nil:
		return badArgument("Field '%s' must be absent or null when '%s' is true.", fUserCorrelationID, fUserInClient)
	case !p.userInClient && !hasUser && rules.requireUser && rules.verify:
		return badArgument("Part '%s' is required: the service requires a user correlation id on the liveness-with-verify create (emulator started with RequireUserCorrelationIDOnMultipart).", fUserCorrelationID)
	case !p.userInClient && !hasUser && rules.requireUser:
		return badArgument("Field '%s' is required when '%s' is false or absent.", fUserCorrelationID, fUserInClient)
	}
	if hasUser {
		p.userCorrelationID = *raw.userCorrelationID
	}
	if raw.expectedIP != nil {
		v := strings.TrimSpace(*raw.expectedIP)
		if _, err := parseIPOrPrefix(v); err != nil {
			return badArgument("Field '%s' must be an IP address or a CIDR block, IPv4 or IPv6 (got '%s').", fExpectedIP, *raw.expectedIP)
		}
		p.expectedIP = *raw.expectedIP
	}
	return nil
}

// parseIPOrPrefix reads an IP address or CIDR block; an address is its own
// single-address prefix. IPv4-mapped IPv6 is unmapped so it matches IPv4 ranges.
func parseIPOrPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pf, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if pf.Addr().Is4In6() && pf.Bits() >= 96 {
			pf = netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-96)
		}
		return pf.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

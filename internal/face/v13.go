package face

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrUnsupportedByAPIVersion is in the chain, next to ErrInvalidRequest, when a request uses a
// field or an operation that the client's API version does not have (for example
// numberOfClientAttemptsAllowed on a v1.2 client). Sending the request without it would change
// its meaning silently, so nothing is sent; the caller should report the account's API version.
var ErrUnsupportedByAPIVersion = errors.New("not supported by the client's Face API version")

// Limits of numberOfClientAttemptsAllowed (LIVENESS-API-v1.3.md §3, §4 and §7).
const (
	// MinClientAttemptsAllowed is the lower bound of NumberOfClientAttemptsAllowed.
	MinClientAttemptsAllowed = 1
	// MaxClientAttemptsAllowed is the upper bound of NumberOfClientAttemptsAllowed.
	MaxClientAttemptsAllowed = 3
	// DefaultClientAttemptsAllowed is what the service applies when the field is not sent.
	DefaultClientAttemptsAllowed = 1
)

// v13CreateFields names the v1.3 fields a create request sets, in wire spelling.
func v13CreateFields(r CreateLivenessSessionRequest) []string {
	var set []string
	if r.NumberOfClientAttemptsAllowed != nil {
		set = append(set, "numberOfClientAttemptsAllowed")
	}
	if r.UserCorrelationID != "" {
		set = append(set, "userCorrelationId")
	}
	if r.UserCorrelationIDSetInClient != nil {
		set = append(set, "userCorrelationIdSetInClient")
	}
	if r.ExpectedClientIPAddress != "" {
		set = append(set, "expectedClientIpAddress")
	}
	return set
}

// unsupported builds the error for a field or operation the client's version lacks.
func (h *HTTPClient) unsupported(op, what, needs string) error {
	return fmt.Errorf("face %s: %w: %w: %s needs Face API %s, this client speaks %s",
		op, ErrInvalidRequest, ErrUnsupportedByAPIVersion, what, needs, h.apiVersion)
}

// checkCreate applies the version gate and the v1.3 rules the client can check without the
// service. multipart is true for the with-verify create, whose form has fewer v1.3 parts.
// Everything it refuses is terminal: retrying the same request cannot help.
func (h *HTTPClient) checkCreate(op string, r CreateLivenessSessionRequest, multipart bool) error {
	set := v13CreateFields(r)
	if len(set) == 0 {
		return nil
	}
	if !h.isV13() {
		return h.unsupported(op, strings.Join(set, ", "), APIVersionV13Preview1)
	}
	if n := r.NumberOfClientAttemptsAllowed; n != nil && (*n < MinClientAttemptsAllowed || *n > MaxClientAttemptsAllowed) {
		return fmt.Errorf("face %s: %w: numberOfClientAttemptsAllowed must be %d..%d, got %d",
			op, ErrInvalidRequest, MinClientAttemptsAllowed, MaxClientAttemptsAllowed, *n)
	}
	inClient := r.UserCorrelationIDSetInClient != nil && *r.UserCorrelationIDSetInClient
	if inClient && r.UserCorrelationID != "" {
		return fmt.Errorf("face %s: %w: userCorrelationId must be empty when userCorrelationIdSetInClient is true", op, ErrInvalidRequest)
	}
	if multipart {
		// The v1.3 multipart create declares no part for these: refusing them is the only way
		// not to drop them. userCorrelationIdSetInClient false is the default and means
		// nothing to send.
		if inClient {
			return fmt.Errorf("face %s: %w: the liveness-with-verify create has no userCorrelationIdSetInClient part; send UserCorrelationID", op, ErrInvalidRequest)
		}
		if r.ExpectedClientIPAddress != "" {
			return fmt.Errorf("face %s: %w: the liveness-with-verify create has no expectedClientIpAddress part", op, ErrInvalidRequest)
		}
	}
	if r.ExpectedClientIPAddress != "" {
		if _, err := parseIPOrPrefix(r.ExpectedClientIPAddress); err != nil {
			return fmt.Errorf("face %s: %w: expectedClientIpAddress: %v", op, ErrInvalidRequest, err)
		}
	}
	return nil
}

// parseIPOrPrefix reads an IP address (IPv4 or IPv6) or a CIDR block; an address is the
// single-address prefix. IPv4-mapped IPv6 forms are unmapped so that ::ffff:10.0.0.1 matches
// 10.0.0.0/8.
func parseIPOrPrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), nil
	}
	a, err := parseClientIP(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseClientIP reads an address the service reported. Its format is unspecified, so an
// address with a port (1.2.3.4:5, [::1]:5) is accepted too.
func parseClientIP(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return ap.Addr().Unmap(), nil
}

// CheckClientIPs reports whether every address the service saw is within expected (an IP or
// a CIDR block, IPv4 or IPv6). It fails closed: a malformed expectation, a malformed address,
// or no address at all is an error, because the service's own handling of a mismatch is
// undocumented and a leaked token used from elsewhere must never pass. An empty expected means
// no expectation and always passes.
func CheckClientIPs(expected string, infos []ClientInformation) error {
	if strings.TrimSpace(expected) == "" {
		return nil
	}
	want, err := parseIPOrPrefix(expected)
	if err != nil {
		return fmt.Errorf("expected client IP: %w", err)
	}
	if len(infos) == 0 {
		return fmt.Errorf("the service reported no client IP for an attempt, expected %s", expected)
	}
	for _, ci := range infos {
		a, err := parseClientIP(ci.IP)
		if err != nil {
			return fmt.Errorf("client IP: %w", err)
		}
		if !want.Contains(a) {
			return fmt.Errorf("client IP %s is outside the expected %s", a, expected)
		}
	}
	return nil
}

// VerdictOptions are what the caller knows of a session that its record does not show.
type VerdictOptions struct {
	// AttemptsAllowed is the numberOfClientAttemptsAllowed the session was created with; zero
	// means DefaultClientAttemptsAllowed. The service does not send it back.
	AttemptsAllowed int32
	// ExpectedClientIPAddress is the IP/CIDR the session was created with. When empty, the
	// session's own echo (ExpectedClientIPAddress in the response) is used.
	ExpectedClientIPAddress string
}

// Verdict is the reading of a session's attempts that LIVENESS-API-v1.3.md §9 takes as the
// safest. It never lets a spoof through by retrying until one attempt passes.
type Verdict struct {
	// Final is true once no further attempt can change the outcome: an attempt Succeeded, as
	// many attempts as allowed are terminal, or an attempt came from outside the expected
	// client IP. The two other final conditions (the token TTL has passed, GET answers 404)
	// are for the caller, who knows the time and the answer.
	Final bool
	// Passed is true only if the highest-attemptId attempt is Succeeded with realface, no
	// attempt is spoofface, no attempt has abuse detected, and every attempt's client IP is
	// within the expectation. It is meaningful once Final (or once the caller decides the
	// session is final for its own reasons).
	Passed bool
	// AttemptsUsed counts the attempts listed (whatever their state: each takes a slot).
	AttemptsUsed int32
	// AttemptsRemaining is AttemptsAllowed minus AttemptsUsed, never negative; zero once
	// Final, because a final session takes no further attempts.
	AttemptsRemaining int32
	// SpoofDetected is true when any attempt's decision is spoofface.
	SpoofDetected bool
	// AbuseDetected is true when any attempt's abuse monitoring result flags abuse.
	AbuseDetected bool
	// ClientIPMismatch says why an attempt's client IP failed the expectation; empty if none did.
	ClientIPMismatch string
}

// attemptView is what Verdict needs of either kind of attempt.
type attemptView struct {
	id       int32
	state    OperationState
	decision LivenessDecision // empty when the attempt has no result
	ips      []ClientInformation
	abuse    bool
}

// Verdict reads the session's attempts by the rule of LIVENESS-API-v1.3.md §9. For a v1.2
// session (one attempt, no client IP) it gives the v1.2 outcome.
func (s *LivenessSession) Verdict(o VerdictOptions) Verdict {
	if s == nil {
		return verdictOf(nil, o, "")
	}
	views := make([]attemptView, 0, len(s.Results.Attempts))
	for _, a := range s.Results.Attempts {
		v := attemptView{id: a.AttemptID, state: a.AttemptStatus, ips: a.ClientInformation}
		if a.Result != nil {
			v.decision = a.Result.LivenessDecision
		}
		v.abuse = a.AbuseMonitoringResult != nil && a.AbuseMonitoringResult.IsAbuseDetected
		views = append(views, v)
	}
	return verdictOf(views, o, s.ExpectedClientIPAddress)
}

// Verdict reads the session's attempts by the rule of LIVENESS-API-v1.3.md §9; see
// LivenessSession.Verdict. The face-verification match is not part of it: check
// VerifyResult.IsIdentical of the latest attempt as well.
func (s *LivenessWithVerifySession) Verdict(o VerdictOptions) Verdict {
	if s == nil {
		return verdictOf(nil, o, "")
	}
	views := make([]attemptView, 0, len(s.Results.Attempts))
	for _, a := range s.Results.Attempts {
		v := attemptView{id: a.AttemptID, state: a.AttemptStatus, ips: a.ClientInformation}
		if a.Result != nil {
			v.decision = a.Result.LivenessDecision
		}
		v.abuse = a.AbuseMonitoringResult != nil && a.AbuseMonitoringResult.IsAbuseDetected
		views = append(views, v)
	}
	return verdictOf(views, o, s.ExpectedClientIPAddress)
}

func verdictOf(attempts []attemptView, o VerdictOptions, echoedIP string) Verdict {
	allowed := o.AttemptsAllowed
	if allowed <= 0 {
		allowed = DefaultClientAttemptsAllowed
	}
	expected := o.ExpectedClientIPAddress
	if expected == "" {
		expected = echoedIP
	}
	var v Verdict
	var latest *attemptView
	var terminal int32
	succeeded := false
	for i := range attempts {
		a := &attempts[i]
		v.AttemptsUsed++
		if latest == nil || a.id > latest.id {
			latest = a
		}
		if a.state.IsTerminal() {
			terminal++
		}
		if a.state.Is(OperationStateSucceeded) {
			succeeded = true
		}
		if a.decision.Is(LivenessDecisionSpoofFace) {
			v.SpoofDetected = true
		}
		if a.abuse {
			v.AbuseDetected = true
		}
		if v.ClientIPMismatch == "" {
			if err := CheckClientIPs(expected, a.ips); err != nil {
				v.ClientIPMismatch = fmt.Sprintf("attempt %d: %v", a.id, err)
			}
		}
	}
	v.Final = succeeded || terminal >= allowed || v.ClientIPMismatch != ""
	if !v.Final && allowed > v.AttemptsUsed {
		v.AttemptsRemaining = allowed - v.AttemptsUsed
	}
	v.Passed = latest != nil && latest.state.Is(OperationStateSucceeded) && latest.decision.Is(LivenessDecisionRealFace) &&
		!v.SpoofDetected && !v.AbuseDetected && v.ClientIPMismatch == ""
	return v
}

// Package endpoints decides which Face endpoints the operator may send credentials to. A
// namespaced FaceAccount is written by a tenant, and its endpoint receives the API key the
// account names (any Secret key of the tenant's namespace) or a bearer token: without a check a
// tenant could point it at a server it controls. An administrator lists the allowed hosts with
// the manager's --allowed-face-endpoints; a FaceAccount whose endpoint is not on the list gets
// no request at all.
package endpoints

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultPatterns are Azure's public and sovereign clouds' Cognitive Services hosts.
var DefaultPatterns = []string{
	"*.cognitiveservices.azure.com",
	"*.cognitiveservices.azure.us",
	"*.cognitiveservices.azure.cn",
}

// AllowList is a set of host patterns. A pattern is a host name or IP address, optionally with
// a port; a leading "*." matches any subdomain (at least one more label) of what follows,
// never the bare domain. A pattern without a port allows any port; one with a port only that
// port. Host names compare case-insensitively.
type AllowList struct {
	patterns []pattern
}

type pattern struct {
	host     string // lower case, without "*."
	wildcard bool
	port     string // empty: any
}

// Parse reads a comma-separated list of patterns (as the flag takes it), refusing ones that
// cannot be meant: empty entries, schemes, paths, or a wildcard anywhere but the front.
func Parse(list string) (*AllowList, error) {
	a := &AllowList{}
	for _, raw := range strings.Split(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if strings.Contains(raw, "/") {
			return nil, fmt.Errorf("allowed endpoint %q: give a host pattern (e.g. *.cognitiveservices.azure.com or 127.0.0.1:8080), not a URL", raw)
		}
		host, port := raw, ""
		if h, p, err := net.SplitHostPort(raw); err == nil {
			host, port = h, p
		}
		p := pattern{host: strings.ToLower(host), port: port}
		if strings.HasPrefix(p.host, "*.") {
			p.host, p.wildcard = p.host[2:], true
		}
		if p.host == "" || strings.Contains(p.host, "*") {
			return nil, fmt.Errorf("allowed endpoint %q: a wildcard may only stand first, as in *.cognitiveservices.azure.com", raw)
		}
		a.patterns = append(a.patterns, p)
	}
	if len(a.patterns) == 0 {
		return nil, fmt.Errorf("no allowed Face endpoints: list at least one host pattern")
	}
	return a, nil
}

// MustParse is Parse for lists known to be valid (the defaults, tests).
func MustParse(list string) *AllowList {
	a, err := Parse(list)
	if err != nil {
		panic(err)
	}
	return a
}

// Default is the allow list of DefaultPatterns.
func Default() *AllowList { return MustParse(strings.Join(DefaultPatterns, ",")) }

// String is the list as the flag takes it.
func (a *AllowList) String() string {
	out := make([]string, 0, len(a.patterns))
	for _, p := range a.patterns {
		s := p.host
		if p.wildcard {
			s = "*." + s
		}
		if p.port != "" {
			s = net.JoinHostPort(s, p.port)
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// Allows says whether the endpoint URL's host (userinfo, path and query ignored, as the client
// would send them to the host alone) matches a pattern. An unparsable endpoint is not allowed.
func (a *AllowList) Allows(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	host, port := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), u.Port()
	for _, p := range a.patterns {
		if p.port != "" && p.port != port {
			continue
		}
		if p.wildcard && strings.HasSuffix(host, "."+p.host) && len(host) > len(p.host)+1 {
			return true
		}
		if !p.wildcard && host == p.host {
			return true
		}
	}
	return false
}

package loadtest

// The guard: load goes only to the stack's own site, or to a host the operator named. A
// load test aimed at the wrong host (a typo, a stale URL, someone else's site) is an attack.

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/example/scalable-wordpress/internal/stack"
)

// HostRefusedError is CheckHost's refusal.
type HostRefusedError struct {
	Host     string // the target's host
	SiteHost string // the stack's site host; "" when it is unknown
	Unknown  string // why the site host is unknown, when it is
}

func (e *HostRefusedError) Error() string {
	if e.SiteHost == "" {
		return fmt.Sprintf("refusing to send load to host %q: the stack's site host is unknown (%s)", e.Host, e.Unknown)
	}
	return fmt.Sprintf("refusing to send load to host %q: it is not the stack's site host %q", e.Host, e.SiteHost)
}

// CheckHost allows targetURL when it is an http(s) URL whose host is the host of siteURL
// (the stack's siteUrl output) or is named in allow. Ports are not compared: the guard is
// about whose machine receives the load. siteURL may be "" when it could not be read;
// unknownReason then says why, for the refusal.
func CheckHost(targetURL, siteURL, unknownReason string, allow []string) error {
	u, err := ParseSiteURL(targetURL)
	if err != nil {
		return err
	}
	host := normalHost(u.Hostname())
	if Allowed(targetURL, allow) {
		return nil
	}
	if siteURL == "" {
		return &HostRefusedError{Host: host, Unknown: unknownReason}
	}
	site, err := ParseSiteURL(siteURL)
	if err != nil {
		return &HostRefusedError{Host: host, Unknown: fmt.Sprintf("%s: %v", stack.KeySiteURL, err)}
	}
	if siteHost := normalHost(site.Hostname()); siteHost != host {
		return &HostRefusedError{Host: host, SiteHost: siteHost}
	}
	return nil
}

// Allowed reports whether targetURL's host is named in allow (the operator's explicit
// override), so that the stack need not be asked.
func Allowed(targetURL string, allow []string) bool {
	u, err := ParseSiteURL(targetURL)
	if err != nil {
		return false
	}
	host := normalHost(u.Hostname())
	return slices.ContainsFunc(allow, func(a string) bool { return allowEntryHost(a) == host })
}

// allowEntryHost is the host an --allow-host entry names; a port, if given, is dropped
// like the target's.
func allowEntryHost(a string) string {
	a = strings.TrimSpace(a)
	if h, _, err := net.SplitHostPort(a); err == nil {
		a = h
	}
	return normalHost(strings.TrimSuffix(strings.TrimPrefix(a, "["), "]"))
}

// normalHost compares hosts the way DNS does: case-insensitively, with or without the
// root's trailing dot.
func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

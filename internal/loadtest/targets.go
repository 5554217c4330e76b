package loadtest

// Building the targets from a site URL, paths and "Name: value" headers, so that no path
// can point the attack at another host than the one the guard checked.

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Targets returns one target per path on the site at base, each with method and header.
// A path must be absolute on the site ("/", "/?p=1", "/wp-admin/"); a URL or a
// protocol-relative "//host/x" is refused, as it could leave the site.
func Targets(base, method string, paths []string, header http.Header) ([]Target, error) {
	u, err := ParseSiteURL(base)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	out := make([]Target, 0, len(paths))
	for _, p := range paths {
		t, err := targetAt(u, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Target{Method: method, URL: t, Header: header.Clone()})
	}
	return out, nil
}

// targetAt is the URL of path p on the site u.
func targetAt(u *url.URL, p string) (string, error) {
	ref, err := url.Parse(p)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", p, err)
	}
	if ref.Scheme != "" || ref.Host != "" || ref.User != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "", fmt.Errorf("path %q must start with a single / and name no host", p)
	}
	t := *u
	t.Path, t.RawPath, t.RawQuery, t.Fragment = ref.Path, ref.RawPath, ref.RawQuery, ""
	return t.String(), nil
}

// ParseHeader reads a "Name: value" header, as curl takes it.
func ParseHeader(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !validToken(name) {
		return "", "", fmt.Errorf("header %q is not of the form \"Name: value\"", redactHeader(s))
	}
	if strings.ContainsAny(value, "\r\n") {
		return "", "", fmt.Errorf("header %s has a line break in its value", name)
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// redactHeader keeps a malformed header's start only: it may be a cookie.
func redactHeader(s string) string {
	const keep = 12
	if len(s) <= keep {
		return s
	}
	return s[:keep] + "…"
}

// headerNames lists a header's names, never its values (they may be cookies or tokens).
func headerNames(h http.Header) []string {
	return slices.Sorted(maps.Keys(h))
}

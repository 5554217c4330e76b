package loadtest

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckHostAllowsOnlyTheSiteOrANamedHost(t *testing.T) {
	t.Parallel()
	const site = "https://d111.cloudfront.net"
	cases := []struct {
		name, target, site string
		allow              []string
		refusedHost        string // "" when allowed
	}{
		{"the site itself", "https://d111.cloudfront.net/", site, nil, ""},
		{"the site in other case, with the root's dot", "https://D111.CloudFront.net./?p=1", site, nil, ""},
		{"the site on another port or scheme", "http://d111.cloudfront.net:8080/", site, nil, ""},
		{"another host", "https://www.example.com/", site, nil, "www.example.com"},
		{"a subdomain of the site", "https://x.d111.cloudfront.net/", site, nil, "x.d111.cloudfront.net"},
		{"loopback not named", "http://127.0.0.1:8080/", site, nil, "127.0.0.1"},
		{"loopback named", "http://127.0.0.1:8080/", site, []string{"127.0.0.1"}, ""},
		{"named with a port", "http://127.0.0.1:8080/", site, []string{"127.0.0.1:9"}, ""},
		{"named IPv6", "http://[::1]:8080/", site, []string{"[::1]"}, ""},
		{"another host named", "http://127.0.0.2/", site, []string{"127.0.0.1"}, "127.0.0.2"},
		{"site unknown", "https://d111.cloudfront.net/", "", nil, "d111.cloudfront.net"},
		{"site unknown, host named", "http://localhost/", "", []string{"localhost"}, ""},
		{"site output not a URL", "https://d111.cloudfront.net/", "[secret]", nil, "d111.cloudfront.net"},
	}
	for _, c := range cases {
		err := CheckHost(c.target, c.site, "no stack selected", c.allow)
		var refused *HostRefusedError
		switch {
		case c.refusedHost == "" && err != nil:
			t.Errorf("%s: CheckHost(%q, %q, %v) = %v, want allowed", c.name, c.target, c.site, c.allow, err)
		case c.refusedHost != "" && !errors.As(err, &refused):
			t.Errorf("%s: CheckHost(%q, %q, %v) = %v, want a refusal", c.name, c.target, c.site, c.allow, err)
		case c.refusedHost != "" && (refused.Host != c.refusedHost || !strings.Contains(err.Error(), c.refusedHost)):
			t.Errorf("%s: refusal %q names host %q, want %q", c.name, err, refused.Host, c.refusedHost)
		}
	}
}

func TestCheckHostSaysWhyTheSiteIsUnknown(t *testing.T) {
	t.Parallel()
	err := CheckHost("https://www.example.com/", "", "pulumi: no stack selected", nil)
	if err == nil || !strings.Contains(err.Error(), "no stack selected") {
		t.Errorf("CheckHost without a site = %v, want the reason the site is unknown", err)
	}
}

func TestCheckHostRefusesOtherSchemes(t *testing.T) {
	t.Parallel()
	for _, target := range []string{"ftp://d111.cloudfront.net/", "file:///etc/passwd", "d111.cloudfront.net", ""} {
		if err := CheckHost(target, "https://d111.cloudfront.net", "", []string{"d111.cloudfront.net"}); err == nil {
			t.Errorf("CheckHost(%q) allowed it, want only http(s) URLs", target)
		}
	}
}

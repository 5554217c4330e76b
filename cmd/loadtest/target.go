package main

// Which site the load goes to, and the guard that keeps it on the stack's own site.

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/example/scalable-wordpress/internal/loadtest"
	"github.com/example/scalable-wordpress/internal/stack"
)

// target is the site the load goes to and why it is allowed.
type target struct {
	base      string // the URL the targets are built on
	URL       string `json:"url"` // base, without a password
	Host      string `json:"host"`
	Stack     string `json:"stack,omitempty"`
	SiteURL   string `json:"siteUrl,omitempty"` // the stack's siteUrl output, when read
	AllowedBy string `json:"allowedBy"`         // "stack siteUrl" or "--allow-host"
}

// resolveTarget finds the site URL and checks its host before anything is sent: with
// --stack, the stack's siteUrl (and --url, if given, must be on its host); with --url
// alone, the selected stack's siteUrl must be on the same host, unless --allow-host names it.
func resolveTarget(ctx context.Context, o options, run stack.Runner) (target, error) {
	t := target{URL: o.url, Stack: o.stack}
	if o.stack == "" && loadtest.Allowed(o.url, o.allowHosts) {
		t.AllowedBy = "--allow-host"
		return t.withHost(), nil
	}
	site, err := loadtest.SiteURL(ctx, run, o.cwd, o.stack)
	if err != nil && o.stack != "" {
		return target{}, fmt.Errorf("cannot read the site URL of stack %q: %w", o.stack, err)
	}
	unknown := ""
	if err != nil {
		unknown = fmt.Sprintf("could not read the selected stack's %s: %v", stack.KeySiteURL, err)
	}
	t.SiteURL = site
	if t.URL == "" {
		t.URL = site
	}
	if err := loadtest.CheckHost(t.URL, site, unknown, o.allowHosts); err != nil {
		return target{}, refusal(err)
	}
	t.AllowedBy = "stack " + stack.KeySiteURL
	if loadtest.Allowed(t.URL, o.allowHosts) {
		t.AllowedBy = "--allow-host"
	}
	return t.withHost(), nil
}

// refusal adds to a host refusal how to override it.
func refusal(err error) error {
	var refused *loadtest.HostRefusedError
	if errors.As(err, &refused) {
		return fmt.Errorf("%w; if that host is yours and meant to take this load, add --allow-host %s", err, refused.Host)
	}
	return err
}

func (t target) withHost() target {
	t.base = t.URL
	if u, err := url.Parse(t.URL); err == nil {
		t.Host = u.Hostname()
		t.URL = u.Redacted()
	}
	return t
}

//go:build lab

package main

// The render gate in the site test: a server of a new release completes its launch hook with
// CONTINUE only once its own Apache and PHP-FPM have rendered WordPress (the converge script's
// render check unit, boot/converge.sh.tmpl), so a release whose pages fail never takes
// traffic, although it installs, upgrades and passes the health check; the release the
// servers already run keeps serving throughout.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// fatalOnEveryPage is a release's regression that the boot cannot see and every page hits:
// general-template.php (which every request loads) calling, from get_language_attributes()
// (which every page's <html> tag prints, the login form's and WordPress's own error page's
// included), a function that the release does not ship, as a botched backport would. The
// install and the database upgrade render no page, and the health check loads no WordPress:
// they all pass.
func fatalOnEveryPage(body []byte) ([]byte, error) {
	const at = "function get_language_attributes( $doctype = 'html' ) {\n\t$attributes = array();"
	if !bytes.Contains(body, []byte(at)) {
		return nil, fmt.Errorf("general-template.php has no %q to break", at)
	}
	return bytes.Replace(body, []byte(at), []byte("function get_language_attributes( $doctype = 'html' ) {\n\t$attributes = wp_language_attribute_defaults();"), 1), nil
}

// checkRenderGate boots a server of the group from a new image twice, each beside the two that
// serve (the group's instance refresh launches before it terminates): a release whose every
// page fails, which must abandon its launch and never enter the load balancer, then one that
// renders, which must join and serve. Through the load balancer not one request may fail. The
// servers it adds are gone afterwards, and the load balancer is as it found it.
func checkRenderGate(t *testing.T, rs *runningSite, facts programFacts, recipe map[string]string, siteURL string, serving ...*webServer) {
	l := rs.l
	lbClient := l.client(labLBAddr, nil)
	host, https := hostOf(siteURL), strings.HasPrefix(siteURL, "https://")
	// The group's next servers, web3 and web4, out of rotation until their launch completes.
	l.startLB(l.lb.hc, host, https, 4)
	defer func() {
		l.startLB(l.lb.hc, host, https, len(serving))
		for _, s := range serving {
			if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
				t.Errorf("%s did not come back after the render gate's load balancer", s.name())
			}
		}
	}()
	for _, s := range serving {
		if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
			t.Errorf("%s is not in rotation, no render gate to check: %v", s.name(), l.lb.targets())
			return
		}
	}
	// The release the servers run (the previous subtest's), and two after it with the same
	// database version (no upgrade: the gate is the subject).
	base := nextRelease(t, facts.Version)
	broken, working := nextRelease(t, base), nextRelease(t, nextRelease(t, base))

	// launch builds the release's image and boots a server of the group from it, while a client
	// requests the site through the load balancer every 50 ms, until the boot has ended and the
	// load balancer had time to act on it.
	launch := func(t *testing.T, version, variant string, builder, n int, settle func(*webServer)) (*webServer, bootResult, outage) {
		t.Helper()
		facts := siteProgramFacts(t, merged(recipe, map[string]string{"wordpressVersion": version}))
		if variant == "" {
			l.serveRelease(facts.ArchiveURL, facts.Version, 1)
		} else {
			l.serveReleaseWith(facts.ArchiveURL, facts.Version, 1, variant, "wp-includes/general-template.php", fatalOnEveryPage)
		}
		b := l.newServer(builder)
		b.prepareBaseImage(rs.hosts)
		b.firstBoot(facts.BuilderUserData)
		b.stop()
		s := l.newServer(n)
		s.cloneDiskFrom(b)
		l.asg.launch(s.id, s.name())
		ctx, cancel := context.WithCancel(context.Background())
		results := probe(ctx, lbClient, siteURL+"/", 50*time.Millisecond)
		time.Sleep(500 * time.Millisecond)
		began := time.Now()
		r := s.firstBootE(facts.ServerUserData)
		settle(s)
		cancel()
		return s, r, summarise(<-results, began)
	}
	// direct asks the server itself for a page, as the load balancer does.
	scheme, _, _ := strings.Cut(siteURL, "://")
	direct := func(s *webServer, path string) (reply, error) {
		return fetch(l.client(s.addr, nil), http.MethodGet, "http://"+host+path, http.Header{"X-Forwarded-Proto": {scheme}}, nil)
	}

	t.Run("a release whose every page fails PHP is refused at its launch hook, never enters the load balancer, and the old release serves every request", func(t *testing.T) {
		s, r, o := launch(t, broken, "fatal", 6, 3, func(*webServer) { time.Sleep(2 * time.Second) })
		defer s.stop()
		defer l.asg.terminate(s.id)
		t.Logf("WordPress %s (a PHP fatal on every page) on %s: boot %.1fs, converge %q, render check %q; through the load balancer meanwhile %s",
			broken, s.name(), r.Duration.Seconds(), r.Status, r.Check, o)
		if r.Status != "0" || r.Check == "0" || r.Check == "" {
			t.Fatalf("want the converge to succeed (the install and the health check see nothing wrong) and the render check to fail:\n%s", tailLines(r.Log, 30))
		}
		if got := l.asg.completions(s.id); !slices.Equal(got, []string{"ABANDON"}) || l.asg.state(s.id) != "Terminating" {
			t.Errorf("the launch hook got %v (state %s), want one ABANDON", got, l.asg.state(s.id))
		}
		if st := l.lb.targets()[s.name()].Status; !strings.HasPrefix(st, "MAINT") {
			t.Errorf("%s is %q in the load balancer, want never enabled (MAINT)", s.name(), st)
		}
		if o.Failed > 0 || o.Requests < 20 {
			t.Errorf("through the load balancer while the broken release booted: %s; want every request served", o)
		}
		if n := strings.Count(r.Log, convergeFailedMarker); n != 1 || !strings.Contains(r.Log, convergeFailedMarker+": "+convergeCheck+" (exit ") ||
			!strings.Contains(r.Log, "render check: /?wordpress-converge=") || strings.Contains(r.Log, "WordPress renders") {
			t.Errorf("the journal must say which page failed, in one FAILED line (%d):\n%s", n, tailLines(r.Log, 15))
		}
		// What the gate saw: the health check passes, the pages fail.
		if hc, err := fetch(l.client(s.addr, nil), http.MethodGet, "http://"+s.addr+facts.HealthCheck.Path, nil, nil); err != nil || hc.Code != http.StatusOK {
			t.Errorf("%s's health check: %v %s; the gate's point is that it passes", s.name(), err, hc.Status)
		}
		for _, path := range []string{"/", "/wp-login.php"} {
			if page, err := direct(s, path); err != nil || page.Code < 500 {
				t.Errorf("%s %s answered %v %s, want the release's fatal error (5xx)", s.name(), path, err, page.Status)
			}
		}
	})

	t.Run("a release that renders joins through its launch hook and serves, and no request fails", func(t *testing.T) {
		s, r, o := launch(t, working, "", 5, 4, func(s *webServer) {
			if !l.lb.waitTarget(s.name(), "UP", 30*time.Second) {
				t.Errorf("%s never became healthy in the load balancer: %v", s.name(), l.lb.targets())
			}
			time.Sleep(time.Second)
		})
		defer s.stop()
		defer l.asg.terminate(s.id)
		defer l.lb.disable(s.name())
		t.Logf("WordPress %s on %s: boot %.1fs; through the load balancer meanwhile %s", working, s.name(), r.Duration.Seconds(), o)
		if r.Err != nil {
			t.Fatalf("the server of a release that works failed its boot: %v\n%s", r.Err, tailLines(r.Log, 30))
		}
		if got := l.asg.completions(s.id); !slices.Equal(got, []string{"CONTINUE"}) || l.asg.state(s.id) != "InService" {
			t.Errorf("the launch hook got %v (state %s), want one CONTINUE", got, l.asg.state(s.id))
		}
		if rendered, continued := strings.Index(r.Log, "WordPress renders"), strings.Index(r.Log, "completing the launch of "+s.id+" in "+facts.Group+": CONTINUE"); rendered < 0 || continued < rendered ||
			strings.Contains(r.Log, convergeFailedMarker) {
			t.Errorf("the server must complete its launch only once WordPress rendered, and fail nothing:\n%s", tailLines(r.Log, 15))
		}
		if o.Failed > 0 {
			t.Errorf("through the load balancer while the new server joined: %s", o)
		}
		page, err := direct(s, "/")
		if err != nil || page.Code != http.StatusOK || !strings.Contains(page.Body, `content="WordPress `+working+`"`) || page.Header.Get("X-Lab-Probe") != s.addr {
			t.Errorf("%s does not serve WordPress %s with the lab plugin: %v %s", s.name(), working, err, page.Status)
		}
		served := false
		for range 12 {
			if got, err := fetch(lbClient, http.MethodGet, siteURL+"/", nil, nil); err == nil && got.Code == http.StatusOK && got.Header.Get("X-Lab-Probe") == s.addr {
				served = true
				break
			}
		}
		if !served {
			t.Errorf("the load balancer sent none of 12 requests to %s", s.name())
		}
	})
}

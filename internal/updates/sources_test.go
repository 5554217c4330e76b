package updates

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/wporg"
)

var (
	themeSHA = strings.Repeat("ab", 32)
	// testPins are a stack's pins: WordPress 7.0 in Japanese, two plugins and a theme.
	testPins = Pins{
		Locale: "ja", WordPress: "7.0",
		Plugins: []wporg.Package{{Slug: "akismet", Version: "5.3.3"}, {Slug: "hello-dolly", Version: "1.7.2"}},
		Themes:  []wporg.Package{{Slug: "twentytwentyfive", Version: "1.2", SHA256: themeSHA}},
		PHP:     "8.3", DBEngine: "8.4",
	}
)

// current publishes every pin of testPins as wordpress.org's newest: nothing to update.
func (s *standIn) current() {
	s.release("ja", "7.0", false)
	s.release("ja", "6.9.1", false)
	s.stable["7.0"] = "latest"
	s.plugins["akismet"] = pkgRelease{Version: "5.3.3", Files: pluginFiles("akismet", "5.3.3")}
	s.plugins["hello-dolly"] = pkgRelease{Version: "1.7.2", Files: pluginFiles("hello-dolly", "1.7.2")}
	s.themes["twentytwentyfive"] = pkgRelease{Version: "1.2", Files: themeFiles("1.2", "= 1.2 =\n* Released.\n")}
}

func checkAll(t *testing.T, s *standIn, pins Pins) ([]Update, []error) {
	t.Helper()
	return Check(context.Background(), pins, s.sources(3))
}

func TestNoUpdateWhenEverythingIsCurrent(t *testing.T) {
	s := newStandIn(t)
	s.current()
	got, errs := checkAll(t, s, testPins)
	if len(got) != 0 || len(errs) != 0 {
		t.Fatalf("Check = %s, %v; want no update and no error", ids(got), errs)
	}
	if n := s.count("/wordpress-"); n != 0 {
		t.Errorf("%d release downloads with nothing to update, want none", n)
	}
}

func TestNewCoreRelease(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.release("ja", "7.0.1", false)
	s.release("en_US", "7.0.2", false) // English is ahead: the Japanese build of 7.0.2 is not out
	s.stable["7.0"] = "outdated"
	got, errs := checkAll(t, s, testPins)
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Check = %s, %v; want wordpress/7.0.1 only", ids(got), errs)
	}
	u := got[0]
	want := Update{ID: "wordpress/7.0.1", Key: KeyWordPress, Name: "WordPress", From: "7.0", To: "7.0.1", OldPin: "7.0", NewPin: "7.0.1",
		NotesURL: "https://wordpress.org/documentation/wordpress-version/version-7-0-1/"}
	if u.ID != want.ID || u.Key != want.Key || u.From != want.From || u.To != want.To || u.OldPin != want.OldPin || u.NewPin != want.NewPin || u.NotesURL != want.NotesURL {
		t.Errorf("update = %+v, want %+v", u, want)
	}
	if u.Security || !strings.Contains(u.SecurityNote, "outdated") {
		t.Errorf("security = %v (%s), want not a security release (outdated)", u.Security, u.SecurityNote)
	}
	sum := sha1Of("a WordPress 7.0.1 archive for ja")
	if !strings.Contains(u.Verified, "https://ja.wordpress.org/wordpress-7.0.1-ja.tar.gz") || !strings.Contains(u.Verified, sum) {
		t.Errorf("Verified = %q, want the image's archive URL and its SHA-1 %s", u.Verified, sum)
	}
	if s.count("/wordpress-7.0.1-ja.tar.gz") != 2 { // the archive and its .sha1
		t.Errorf("requests %v: want the archive the image build fetches, and its .sha1", s.requests)
	}
}

func TestCoreSecurityRelease(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.release("ja", "7.0.1", false)
	s.stable["7.0"] = "insecure"
	got, errs := checkAll(t, s, testPins)
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Check = %s, %v; want wordpress/7.0.1", ids(got), errs)
	}
	if !got[0].Security || !strings.HasPrefix(got[0].Title("dev"), "SECURITY: ") {
		t.Errorf("update %+v: want a security release (stable-check calls 7.0 insecure), titled SECURITY", got[0])
	}
}

func TestCoreChecksumMismatchIsRefused(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.release("ja", "7.0.1", true)
	got, errs := checkAll(t, s, testPins)
	if len(got) != 0 {
		t.Errorf("Check proposed %s with a wrong SHA-1", ids(got))
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "WordPress core: checksum mismatch") {
		t.Errorf("errors = %v, want one: WordPress core: checksum mismatch", errs)
	}
}

func TestDowngradeIsNeverProposed(t *testing.T) {
	s := newStandIn(t)
	s.release("ja", "6.9.1", false) // older than the pin, as a lagging locale or a stale cache would offer
	s.stable["7.0"] = "latest"
	s.plugins["akismet"] = pkgRelease{Version: "5.3.2", Files: pluginFiles("akismet", "5.3.2")}         // the author moved the stable tag back
	s.plugins["hello-dolly"] = pkgRelease{Version: "1.7.2-beta", Files: pluginFiles("hello-dolly", "")} // a pre-release sorts before 1.7.2
	s.themes["twentytwentyfive"] = pkgRelease{Version: "1.2", Files: themeFiles("1.2", "")}
	got, errs := checkAll(t, s, testPins)
	if len(got) != 0 || len(errs) != 0 {
		t.Errorf("Check = %s, %v; want nothing: every offer is older than its pin", ids(got), errs)
	}
}

func TestNewPluginRelease(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.plugins["akismet"] = pkgRelease{Version: "5.3.5", Files: pluginFiles("akismet", "5.3.5"),
		Changelog: "<h4>5.3.5</h4>\n<ul><li>Faster comment checks.</li></ul>\n<h4>5.3.4</h4>\n<ul><li>Clearer settings.</li></ul>\n" +
			"<h4>5.3.2</h4>\n<ul><li>Security: an XSS fix.</li></ul>\n"} // before the pin: not this update's
	got, errs := checkAll(t, s, testPins)
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Check = %s, %v; want plugin-akismet/5.3.5", ids(got), errs)
	}
	u := got[0]
	if u.ID != "plugin-akismet/5.3.5" || u.Key != KeyPlugins || u.OldPin != "akismet@5.3.3" || u.NewPin != "akismet@5.3.5" ||
		u.NotesURL != "https://wordpress.org/plugins/akismet/#developers" {
		t.Errorf("update = %+v", u)
	}
	if u.Security || !strings.Contains(u.SecurityNote, "5.3.5, 5.3.4") || !strings.Contains(u.SecurityNote, "heuristic") {
		t.Errorf("security = %v (%s), want not flagged, naming the entries read and the heuristic", u.Security, u.SecurityNote)
	}
	if !strings.Contains(u.Verified, "each of its 3 files") || !strings.Contains(u.Verified, "plugin-checksums/akismet/5.3.5.json") {
		t.Errorf("Verified = %q, want the per-file check against the published checksums", u.Verified)
	}
}

func TestPluginSecurityHeuristic(t *testing.T) {
	for _, c := range []struct {
		name, changelog string
		want            bool
	}{
		{"an entry between the pin and the new version", "<h4>5.3.5</h4><p>Tidy.</p><h4>5.3.4 - 2026-01-02</h4><ul><li>Fixed a stored <strong>XSS</strong>.</li></ul>", true},
		{"the new version's own entry", "<h4>Version 5.3.5</h4><p>Addresses CVE-2026-1234.</p>", true},
		{"a CSRF fix", "<h4>5.3.5</h4><p>Nonce checks against csrf.</p>", true},
		{"a vulnerability", "<h4>5.3.5</h4><p>Closes a Vulnerability in the REST API.</p>", true},
		{"the pinned version's own entry", "<h4>5.3.5</h4><p>Speed.</p><h4>5.3.3</h4><p>Security hardening.</p>", false},
		{"no entry for the update", "<p>See the website.</p>", false},
		{"nothing about security", "<h4>5.3.5</h4><p>Speed.</p>", false},
	} {
		got, note := securityHeuristic(c.changelog, "The changelog", "5.3.3", "5.3.5")
		if got != c.want || !strings.Contains(note, "heuristic") {
			t.Errorf("%s: flagged %v (%s), want %v and the note saying it is a heuristic", c.name, got, note, c.want)
		}
	}

	s := newStandIn(t)
	s.current()
	s.plugins["hello-dolly"] = pkgRelease{Version: "1.7.3", Files: pluginFiles("hello-dolly", "1.7.3"),
		Changelog: "<h4>1.7.3</h4>\n<ul>\n<li>Security: escape the lyric.</li>\n</ul>"}
	got, errs := checkAll(t, s, testPins)
	if len(errs) != 0 || len(got) != 1 || !got[0].Security || !strings.Contains(got[0].SecurityNote, `"Security"`) {
		t.Fatalf("Check = %+v, %v; want plugin-hello-dolly/1.7.3 flagged for its changelog", got, errs)
	}
}

func TestPluginChecksumMismatchIsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		rel  pkgRelease
		want string
	}{
		{"a changed file", pkgRelease{Tamper: func(f map[string]string) { f["includes/class.php"] += "eval($_GET['x']);" }}, "includes/class.php (changed)"},
		{"an added file", pkgRelease{Tamper: func(f map[string]string) { f["shell.php"] = "<?php" }}, "shell.php (not published)"},
		{"a missing file", pkgRelease{Tamper: func(f map[string]string) { delete(f, "readme.txt") }}, "readme.txt (missing)"},
		{"no published checksums", pkgRelease{NoChecksums: true}, "no checksums to verify it against"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newStandIn(t)
			s.current()
			rel := c.rel
			rel.Version, rel.Files = "5.3.5", pluginFiles("akismet", "5.3.5")
			s.plugins["akismet"] = rel
			s.plugins["hello-dolly"] = pkgRelease{Version: "1.7.3", Files: pluginFiles("hello-dolly", "1.7.3")}
			got, errs := checkAll(t, s, testPins)
			if ids(got) != "[plugin-hello-dolly/1.7.3]" {
				t.Errorf("Check proposed %s; want only hello-dolly (akismet refused, the other still checked)", ids(got))
			}
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "plugins: ") || !strings.Contains(errs[0].Error(), c.want) {
				t.Errorf("errors = %v, want one for plugins naming %q", errs, c.want)
			}
		})
	}
}

func TestClosedOrUnknownPluginIsAnError(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.plugins["akismet"] = pkgRelease{Closed: "Security Issue"}
	delete(s.plugins, "hello-dolly")
	_, errs := checkAll(t, s, testPins)
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one for plugins", errs)
	}
	for _, want := range []string{"plugin akismet is closed on wordpress.org (reason: Security Issue)", "wordpress.org has no plugin hello-dolly"} {
		if !strings.Contains(errs[0].Error(), want) {
			t.Errorf("error %q does not say %q", errs[0], want)
		}
	}
}

func TestThemeReleaseCarriesTheArchivesSHA256(t *testing.T) {
	s := newStandIn(t)
	s.current()
	files := themeFiles("1.3", "= 1.3 =\n* Fixes a security issue in the search block.\n\n= 1.2 =\n* Released.\n")
	s.themes["twentytwentyfive"] = pkgRelease{Version: "1.3", Files: files}
	got, errs := checkAll(t, s, testPins)
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Check = %s, %v; want theme-twentytwentyfive/1.3", ids(got), errs)
	}
	u := got[0]
	sha := sha256Hex(zipOf("twentytwentyfive", files))
	if u.ID != "theme-twentytwentyfive/1.3" || u.OldPin != "twentytwentyfive@1.2:"+themeSHA || u.NewPin != "twentytwentyfive@1.3:"+sha {
		t.Errorf("update = %+v, want the new pin with the archive's SHA-256 %s", u, sha)
	}
	if !strings.Contains(u.Verified, sha) || !strings.Contains(u.Verified, "publishes no checksum") {
		t.Errorf("Verified = %q", u.Verified)
	}
	if !u.Security || !strings.Contains(u.SecurityNote, "readme.txt") {
		t.Errorf("security = %v (%s), want flagged from the readme's changelog", u.Security, u.SecurityNote)
	}

	// An archive that is not the version the API names is refused.
	s.themes["twentytwentyfive"] = pkgRelease{Version: "1.3", Files: themeFiles("1.2", "")}
	got, errs = checkAll(t, s, testPins)
	if len(got) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), `style.css declares version "1.2", not 1.3`) {
		t.Errorf("Check = %s, %v; want the theme refused for its style.css", ids(got), errs)
	}
}

func TestServiceDownIsOneErrorPerSource(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.down = 503
	got, errs := checkAll(t, s, testPins)
	if len(got) != 0 || len(errs) != 3 {
		t.Fatalf("Check = %s, %v; want no update and one error for each of the 3 sources", ids(got), errs)
	}
	for i, name := range []string{"WordPress core: ", "plugins: ", "themes: "} {
		if !strings.HasPrefix(errs[i].Error(), name) || !errors.Is(errs[i], ErrUnavailable) || strings.Count(errs[i].Error(), "\n") != 0 {
			t.Errorf("error %d = %q, want one line: %s... did not answer", i, errs[i], name)
		}
	}
	if !strings.Contains(errs[1].Error(), "not checked: akismet, hello-dolly") {
		t.Errorf("plugins' error %q should name the plugins it could not check", errs[1])
	}
	// Three attempts for core's first request, for the first plugin and the first theme.
	if n := len(s.requests); n != 9 {
		t.Errorf("%d requests, want 9 (3 attempts for each source's first request, then it stops)", n)
	}
}

func TestFetcherRetriesABusyServiceOnly(t *testing.T) {
	s := newStandIn(t)
	s.current()
	s.release("ja", "7.0.1", false)
	s.flaky = 2 // two 503s, then answers
	got, errs := Check(context.Background(), testPins, s.sources(3)[:1])
	if len(errs) != 0 || len(got) != 1 {
		t.Fatalf("Check = %s, %v; want the update after two retries", ids(got), errs)
	}
	// A 404 is an answer: not retried.
	s.requests = nil
	f := s.sources(3)[0].(Core).Fetch
	_, err := f.Get(context.Background(), s.srv.URL+"/nothing-here")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 404 || len(s.requests) != 1 {
		t.Errorf("Get of a missing file = %v after %d requests, want a 404 at once", err, len(s.requests))
	}
}

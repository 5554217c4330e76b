package updates

// A stand-in of wordpress.org on loopback (httptest): the version-check and stable-check APIs,
// the plugin and theme info APIs (1.2), downloads.wordpress.org's archives and plugin
// checksums, and a locale's release archives with their .sha1, in the shapes the real services
// answer with. Tests set what is published, and how it is broken.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// offer is a release the version-check API offers for a locale.
type offer struct{ Locale, Version string }

// pkgRelease is a plugin's or theme's current release on wordpress.org.
type pkgRelease struct {
	Version   string
	Changelog string            // the plugin API's sections.changelog (HTML)
	Files     map[string]string // the archive's files under <slug>/
	Closed    string            // a closed plugin's reason_text
	// Tamper changes the archive after its checksums were published (a file's content, or a
	// file added); NoChecksums publishes none.
	Tamper      func(files map[string]string)
	NoChecksums bool
}

type standIn struct {
	srv *httptest.Server

	mu       sync.Mutex
	offers   []offer
	stable   map[string]string // the stable-check API: version → latest, outdated or insecure
	releases map[string][]byte // a release archive's path (and .sha1's) → body
	plugins  map[string]pkgRelease
	themes   map[string]pkgRelease
	down     int // when set, every answer is this status: the service is down
	flaky    int // answer 503 to this many requests first
	requests []string
}

func newStandIn(t *testing.T) *standIn {
	s := &standIn{stable: map[string]string{}, releases: map[string][]byte{}, plugins: map[string]pkgRelease{}, themes: map[string]pkgRelease{}}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// release publishes WordPress version for locale: an offer, and its archive with its SHA-1
// at the path the image build fetches (wporg.ArchiveURL). badSum publishes a wrong SHA-1.
func (s *standIn) release(locale, version string, badSum bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.offers = append(s.offers, offer{locale, version})
	path := "/wordpress-" + version + "-" + locale + ".tar.gz"
	if locale == "en_US" {
		path = "/wordpress-" + version + ".tar.gz"
	}
	archive := []byte("a WordPress " + version + " archive for " + locale)
	sum := sha1.Sum(archive)
	if badSum {
		sum[0] ^= 0xff
	}
	s.releases[path] = archive
	s.releases[path+".sha1"] = []byte(hex.EncodeToString(sum[:]) + "\n")
}

func (s *standIn) count(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.URL.RequestURI())
	if s.down != 0 {
		http.Error(w, "down", s.down)
		return
	}
	if s.flaky > 0 {
		s.flaky--
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/core/version-check/1.7/":
		s.versionCheck(w, r.URL.Query().Get("locale"))
	case p == "/core/stable-check/1.0/":
		writeJSON(w, http.StatusOK, s.stable)
	case p == "/plugins/info/1.2/" || p == "/themes/info/1.2/":
		s.info(w, r)
	case strings.HasPrefix(p, "/plugin/") || strings.HasPrefix(p, "/theme/"):
		s.archive(w, p)
	case strings.HasPrefix(p, "/plugin-checksums/"):
		s.checksums(w, p)
	default:
		body, ok := s.releases[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}
}

// versionCheck answers as api.wordpress.org/core/version-check/1.7/ does: the locale's offers
// first, newest first, then English's.
func (s *standIn) versionCheck(w http.ResponseWriter, locale string) {
	var mine, english []offer
	for _, o := range s.offers {
		switch o.Locale {
		case locale:
			mine = append(mine, o)
		case "en_US":
			english = append(english, o)
		}
	}
	newestFirst := func(a, b offer) int { return compareVersions(b.Version, a.Version) }
	slices.SortFunc(mine, newestFirst)
	slices.SortFunc(english, newestFirst)
	offers := []map[string]any{}
	for _, o := range append(mine, english...) {
		full := "https://downloads.wordpress.org/release/" + o.Locale + "/wordpress-" + o.Version + ".zip"
		if o.Locale == "en_US" {
			full = "https://downloads.wordpress.org/release/wordpress-" + o.Version + ".zip"
		}
		offers = append(offers, map[string]any{
			"response": "upgrade", "download": full, "locale": o.Locale,
			"packages": map[string]any{"full": full, "no_content": false, "new_bundled": false, "partial": false, "rollback": false},
			"current":  o.Version, "version": o.Version, "php_version": "7.2.24", "mysql_version": "5.5.5",
			"new_bundled": "7.0", "partial_version": false,
		})
	}
	offers = append(offers, map[string]any{"response": "development", "locale": "en_US", "current": "7.1-alpha-60000", "version": "7.1-alpha-60000"})
	writeJSON(w, http.StatusOK, map[string]any{"offers": offers, "translations": []any{}})
}

// info answers as the plugin and theme info APIs (1.2) do.
func (s *standIn) info(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	slug := q.Get("request[slug]")
	kind, releases := "plugin", s.plugins
	if strings.HasPrefix(r.URL.Path, "/themes/") {
		kind, releases = "theme", s.themes
	}
	if q.Get("action") != kind+"_information" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "Action not implemented"})
		return
	}
	rel, ok := releases[slug]
	switch {
	case !ok && kind == "plugin":
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "Plugin not found."})
	case !ok:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "Theme not found"})
	case rel.Closed != "":
		writeJSON(w, http.StatusNotFound, map[string]any{
			"error": "closed", "name": slug, "slug": slug, "closed": true, "closed_date": "2026-01-05",
			"description": "This plugin has been closed as of January 5, 2026 and is not available for download. Reason: " + rel.Closed + ".",
			"reason":      "security-issue", "reason_text": rel.Closed,
		})
	case kind == "plugin":
		writeJSON(w, http.StatusOK, map[string]any{
			"name": slug, "slug": slug, "version": rel.Version, "requires": "6.4", "tested": "7.0", "requires_php": "7.4",
			"last_updated": "2026-01-02 3:04pm GMT", "homepage": "https://example.org/" + slug,
			"sections":      map[string]any{"description": "<p>A plugin.</p>", "installation": "<p>Install it.</p>", "changelog": rel.Changelog},
			"download_link": "https://downloads.wordpress.org/plugin/" + slug + "." + rel.Version + ".zip",
			"versions":      map[string]any{rel.Version: "https://downloads.wordpress.org/plugin/" + slug + "." + rel.Version + ".zip"},
		})
	default:
		writeJSON(w, http.StatusOK, map[string]any{
			"name": slug, "slug": slug, "version": rel.Version, "preview_url": "https://wp-themes.com/" + slug + "/",
			"homepage": "https://wordpress.org/themes/" + slug + "/", "requires": "6.7", "requires_php": "7.2",
			"sections":      map[string]any{"description": "A theme."},
			"download_link": "https://downloads.wordpress.org/theme/" + slug + "." + rel.Version + ".zip",
			"last_updated":  "2026-01-02",
		})
	}
}

// archive serves /plugin/<slug>.<version>.zip and /theme/<slug>.<version>.zip.
func (s *standIn) archive(w http.ResponseWriter, path string) {
	kind, file, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	releases := s.plugins
	if kind == "theme" {
		releases = s.themes
	}
	for slug, rel := range releases {
		if file == slug+"."+rel.Version+".zip" {
			files := maps(rel.Files)
			if rel.Tamper != nil {
				rel.Tamper(files)
			}
			_, _ = w.Write(zipOf(slug, files))
			return
		}
	}
	http.NotFound(w, nil)
}

// checksums serves /plugin-checksums/<slug>/<version>.json from the files as published.
func (s *standIn) checksums(w http.ResponseWriter, path string) {
	slug, file, _ := strings.Cut(strings.TrimPrefix(path, "/plugin-checksums/"), "/")
	rel, ok := s.plugins[slug]
	if !ok || rel.NoChecksums || file != rel.Version+".json" {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "Not found"})
		return
	}
	files := map[string]any{}
	for name, content := range rel.Files {
		sha := sha256.Sum256([]byte(content))
		sum := map[string]any{"md5": "0123", "sha256": hex.EncodeToString(sha[:])}
		if name == "readme.txt" { // a file that differed between builds: a list of digests
			sum["sha256"] = []string{strings.Repeat("0", 64), hex.EncodeToString(sha[:])}
		}
		files[name] = sum
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"plugin": slug, "version": rel.Version, "source": "https://plugins.svn.wordpress.org/" + slug + "/tags/" + rel.Version + "/",
		"zip": "https://downloads.wordpress.org/plugins/" + slug + "." + rel.Version + ".zip", "files": files,
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// zipOf is a zip holding files under slug/, as downloads.wordpress.org builds them (an
// in-memory zip does not fail).
func zipOf(slug string, files map[string]string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	if _, err := zw.Create(slug + "/"); err != nil {
		panic(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f, err := zw.Create(slug + "/" + n)
		if err != nil {
			panic(err)
		}
		_, _ = f.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// sources are the three sources pointed at the stand-in, with instant retries.
func (s *standIn) sources(attempts int) []Source {
	f := &Fetcher{
		Client: &http.Client{Timeout: 5 * time.Second}, Attempts: attempts, Backoff: time.Millisecond,
		Sleep: func(context.Context, time.Duration) error { return nil }, MaxBytes: 1 << 20, UserAgent: "test",
	}
	return []Source{
		Core{Fetch: f, API: s.srv.URL, Releases: s.srv.URL},
		Plugins{Fetch: f, API: s.srv.URL, Downloads: s.srv.URL},
		Themes{Fetch: f, API: s.srv.URL, Downloads: s.srv.URL},
	}
}

// flags point the command at the stand-in.
func (s *standIn) flags() []string {
	return []string{"--api", s.srv.URL, "--downloads", s.srv.URL, "--releases", s.srv.URL, "--backoff", "1ms", "--timeout", "5s"}
}

// pluginFiles are a plugin's files under its folder.
func pluginFiles(slug, version string) map[string]string {
	return map[string]string{
		slug + ".php":        "<?php\n/*\nPlugin Name: " + slug + "\nVersion: " + version + "\n*/\n",
		"readme.txt":         "=== " + slug + " ===\nStable tag: " + version + "\n",
		"includes/class.php": "<?php // " + version + "\n",
	}
}

// themeFiles are a theme's files, its style.css declaring version.
func themeFiles(version, changelog string) map[string]string {
	return map[string]string{
		"style.css":  "/*\nTheme Name: A theme\nVersion: " + version + "\nRequires at least: 6.7\n*/\n",
		"readme.txt": "=== A theme ===\nStable tag: " + version + "\n\n== Changelog ==\n\n" + changelog + "\n== Copyright ==\nGPL.\n",
		"theme.json": "{}\n",
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func ids(us []Update) string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return fmt.Sprint(out)
}

func sha1Of(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

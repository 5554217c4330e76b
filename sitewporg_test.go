//go:build lab

package main

// The site test's wordpress.org: release archives of the pinned version (built from Debian's
// real WordPress), their SHA-1, plugins and themes as downloads.wordpress.org publishes them
// (with the plugin-checksums API), and the RDS trust store, over HTTPS on labWebOrg.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const labDownloadsHost = "downloads.wordpress.org"

type wordpressOrg struct {
	srv      *http.Server
	mu       sync.Mutex
	requests map[string]int
	files    map[string][]byte
}

// startWordPressOrg serves the locale's release archive of the pinned version, its SHA-1
// beside it, the listed plugins and themes, and the RDS CA bundle, over HTTPS with a
// certificate from the public CA.
func (l *lab) startWordPressOrg(archiveURL, version, rdsBundleURL string, packages ...labPackage) {
	l.t.Helper()
	w := &wordpressOrg{requests: map[string]int{}, files: map[string][]byte{rdsBundleURL: l.rdsCA.pem}}
	l.wporg = w
	l.serveRelease(archiveURL, version, 0)
	for _, p := range packages {
		w.servePackage(p)
	}
	cert, key := issue(l.t, l.webCA, uniq([]string{hostOf(archiveURL), hostOf(rdsBundleURL), "api.wordpress.org", labDownloadsHost})...)
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		l.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(labWebOrg, "443"))
	if err != nil {
		l.t.Fatalf("wordpress.org stand-in: %v", err)
	}
	w.srv = &http.Server{Handler: w, TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = w.srv.ServeTLS(ln, "", "") }()
}

// serveRelease publishes a release archive and its SHA-1 at archiveURL: Debian's WordPress
// with version.php saying version, and the database version bumped by dbBump (a release
// whose database needs an upgrade).
func (l *lab) serveRelease(archiveURL, version string, dbBump int) {
	l.t.Helper()
	l.serveReleaseWith(archiveURL, version, dbBump, "", "", nil)
}

// serveReleaseWith is serveRelease with one file of the release changed: patch rewrites the
// file at rel (under wordpress/); variant names the change (the archives are cached by it).
func (l *lab) serveReleaseWith(archiveURL, version string, dbBump int, variant, rel string, patch func([]byte) ([]byte, error)) {
	l.t.Helper()
	archive, err := wordpressArchive(version, dbBump, variant, rel, patch)
	if err != nil {
		l.t.Fatalf("build the WordPress %s archive from %s: %v", version, labDebianWP, err)
	}
	sum := sha1.Sum(archive)
	l.wporg.set(archiveURL, archive)
	l.wporg.set(archiveURL+".sha1", []byte(hex.EncodeToString(sum[:])))
}

func (w *wordpressOrg) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	u := "https://" + r.Host + r.URL.Path
	w.mu.Lock()
	w.requests[u]++
	body, ok := w.files[u]
	w.mu.Unlock()
	if !ok {
		http.NotFound(rw, r) // api.wordpress.org and the like: nothing to offer offline
		return
	}
	_, _ = rw.Write(body)
}

// set publishes (or replaces) what a URL serves.
func (w *wordpressOrg) set(u string, body []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files[u] = body
}

func (w *wordpressOrg) count(u string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests[u]
}

// servePackage publishes a plugin's or theme's archive, and a plugin's checksums.
func (w *wordpressOrg) servePackage(p labPackage) {
	w.set(p.URL(), p.Zip())
	if p.Kind == "plugin" {
		w.set(p.ChecksumsURL(), p.Checksums())
	}
}

func hostOf(u string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	h, _, _ := strings.Cut(rest, "/")
	return h
}

func uniq(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// --- plugins and themes ---

// labPackage is a plugin or a theme as downloads.wordpress.org publishes it: a .zip holding
// the slug's folder.
type labPackage struct {
	Kind, Slug, Version string
	Files               map[string]string // path under the slug's folder → content
}

func (p labPackage) URL() string {
	return fmt.Sprintf("https://%s/%s/%s.%s.zip", labDownloadsHost, p.Kind, p.Slug, p.Version)
}

// ChecksumsURL is the plugin-checksums API's address for the plugin's version.
func (p labPackage) ChecksumsURL() string {
	return fmt.Sprintf("https://%s/plugin-checksums/%s/%s.json", labDownloadsHost, p.Slug, p.Version)
}

// Zip is the archive, byte for byte the same on every call (its SHA-256 is pinned in config).
func (p labPackage) Zip() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range slices.Sorted(maps.Keys(p.Files)) {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.Slug + "/" + name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			panic(err)
		}
		_, _ = f.Write([]byte(p.Files[name]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Checksums is the plugin-checksums API's answer for the plugin's files.
func (p labPackage) Checksums() []byte {
	files := map[string]map[string]string{}
	for name, body := range p.Files {
		s := sha256.Sum256([]byte(body))
		files[name] = map[string]string{"md5": "unused", "sha256": hex.EncodeToString(s[:])}
	}
	b, _ := json.Marshal(map[string]any{"plugin": p.Slug, "version": p.Version, "source": "lab", "zip": p.URL(), "files": files})
	return b
}

// Entry is the package as the config lists it: slug@version, and a theme's SHA-256.
func (p labPackage) Entry() string {
	if p.Kind == "theme" {
		s := sha256.Sum256(p.Zip())
		return p.Slug + "@" + p.Version + ":" + hex.EncodeToString(s[:])
	}
	return p.Slug + "@" + p.Version
}

// with returns a copy of the package with one file's content replaced (or added).
func (p labPackage) with(name, body string) labPackage {
	p.Files = maps.Clone(p.Files)
	p.Files[name] = body
	return p
}

// labProbe is the site test's plugin: every page it builds names the server that built it
// (X-Lab-Probe), and its scheduled event appends a line to the shared uploads, so that a
// test sees which server ran it and how many times.
var labProbe = labPackage{Kind: "plugin", Slug: "lab-probe", Version: "1.0.0", Files: map[string]string{
	"lab-probe.php": `<?php
/*
 * Plugin Name: Lab Probe
 * Description: The site test's plugin: marks each page with its server and logs its scheduled events.
 * Version: 1.0.0
 */
add_action( 'send_headers', function () {
	header( 'X-Lab-Probe: ' . ( $_SERVER['SERVER_ADDR'] ?? '' ) );
} );
add_action( 'lab_probe_event', function ( $token ) {
	file_put_contents( WP_CONTENT_DIR . '/uploads/lab-probe-cron.log', $token . "\n", FILE_APPEND | LOCK_EX );
} );
`,
	"readme.txt": "=== Lab Probe ===\nStable tag: 1.0.0\n",
}}

// labTheme is the site test's theme: a child of the release's default block theme, so the
// pages look the same, that marks every page it renders.
var labTheme = labPackage{Kind: "theme", Slug: "lab-theme", Version: "1.0.0", Files: map[string]string{
	"style.css": "/*\nTheme Name: Lab Theme\nTemplate: twentytwentythree\nVersion: 1.0.0\n*/\n",
	"functions.php": `<?php
add_action( 'wp_head', function () {
	echo '<meta name="lab-theme" content="1.0.0" />', "\n";
} );
`,
}}

// --- release archives ---

var (
	archivesMu sync.Mutex
	archives   = map[string][]byte{}
)

// wordpressArchive is a release archive as wordpress.org publishes it for "ja": the
// wordpress/ tree of Debian's real WordPress (symlinks to Debian's shared copies followed,
// Debian's own wp-config.php left out) with the theme and the Japanese language files, its
// version.php saying version (and the database version bumped by dbBump), and the file at
// patched rewritten by patch (when not nil: the variant named variant).
func wordpressArchive(version string, dbBump int, variant, patched string, patch func([]byte) ([]byte, error)) ([]byte, error) {
	archivesMu.Lock()
	defer archivesMu.Unlock()
	key := version + "+" + strconv.Itoa(dbBump) + "+" + variant
	if a, ok := archives[key]; ok {
		return a, nil
	}
	a, err := buildWordPressArchive(labDebianWP, func(rel string, body []byte) ([]byte, error) {
		switch {
		case rel == "wp-includes/version.php":
			return releaseVersion(body, version, dbBump)
		case rel == patched && patch != nil:
			return patch(body)
		}
		return body, nil
	})
	if err == nil {
		archives[key] = a
	}
	return a, err
}

var (
	wpVersionLine   = regexp.MustCompile(`(?m)^\$wp_version = '[^']*';`)
	wpDBVersionLine = regexp.MustCompile(`(?m)^\$wp_db_version = (\d+);`)
)

// releaseVersion rewrites version.php for another release.
func releaseVersion(body []byte, version string, dbBump int) ([]byte, error) {
	m := wpDBVersionLine.FindSubmatch(body)
	if m == nil || !wpVersionLine.Match(body) {
		return nil, fmt.Errorf("version.php has no $wp_version or $wp_db_version line")
	}
	db, _ := strconv.Atoi(string(m[1]))
	body = wpVersionLine.ReplaceAll(body, []byte("$$wp_version = '"+version+"';"))
	return wpDBVersionLine.ReplaceAll(body, []byte("$$wp_db_version = "+strconv.Itoa(db+dbBump)+";")), nil
}

// debianDBVersion is the database version of Debian's WordPress: what a site installed from
// the lab's first release records.
func debianDBVersion() (int, error) {
	b, err := os.ReadFile(filepath.Join(labDebianWP, "wp-includes", "version.php"))
	if err != nil {
		return 0, err
	}
	m := wpDBVersionLine.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no $wp_db_version in Debian's version.php")
	}
	return strconv.Atoi(string(m[1]))
}

func buildWordPressArchive(src string, patch func(rel string, body []byte) ([]byte, error)) ([]byte, error) {
	var buf bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "wp-config.php" {
			return nil
		}
		if strings.HasPrefix(rel, "wp-content/languages/") && !d.IsDir() && !strings.Contains(filepath.Base(rel), "ja") {
			return nil
		}
		info, err := os.Stat(path) // follows Debian's symlinks
		if err != nil {
			return nil // a dangling link: not part of the release
		}
		name := "wordpress/" + filepath.ToSlash(rel)
		if info.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: info.ModTime()})
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if body, err = patch(filepath.ToSlash(rel), body); err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg, ModTime: info.ModTime()}); err != nil {
			return err
		}
		_, err = tw.Write(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

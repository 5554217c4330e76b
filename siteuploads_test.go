//go:build lab

package main

// The site test's attacker at the uploads and its check of the security headers. One
// arbitrary-upload bug in any plugin writes what it likes into the shared uploads, which every
// server serves and every new server inherits (EFS): a webshell there would run everywhere and
// survive every new image. So the test writes what such a bug would (PHP under every name
// Apache or PHP-FPM might run, a .htaccess, a symbolic link to the secrets in /run) straight
// into the lab's EFS stand-in and asks each server directly and through the load balancer, as
// a visitor would; and it uploads real media, and PHP, through WordPress's own REST endpoint.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labSecurityHeaders are the values every answer must carry, from the servers (edge alb) or
// from CloudFront's policy (edge cloudfront); HSTS only over HTTPS.
var labSecurityHeaders = map[string]string{
	"X-Content-Type-Options": "nosniff",
	"X-Frame-Options":        "SAMEORIGIN",
	"Referrer-Policy":        "strict-origin-when-cross-origin",
}

const labHSTS = "max-age=31536000"

// webshell is a PHP program whose output cannot be mistaken for its source: it prints the
// reverse of the token its source holds.
type webshell struct{ token string }

func newWebshell() webshell {
	return webshell{token: fmt.Sprintf("lab-webshell-%d", time.Now().UnixNano())}
}

func (w webshell) source() string {
	return "<?php /* " + w.token + " */ echo strrev('" + w.token + "'), ' as ', get_current_user();\n"
}

// ran reports whether an answer is the program's output; leaked, whether it is its source.
func (w webshell) ran(body string) bool { return strings.Contains(body, reverse(w.token)) }

func (w webshell) leaked(body string) bool { return strings.Contains(body, w.token) }

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// uploadsOwner is who owns the shared uploads in the lab (the web server's uid, as the access
// point writes): what a plugin's upload bug writes is the web server's.
func (l *lab) uploadsOwner(t *testing.T) (uid, gid int) {
	t.Helper()
	st, err := os.Stat(filepath.Join(l.efs, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	sys := st.Sys().(*syscall.Stat_t)
	return int(sys.Uid), int(sys.Gid)
}

// dropIntoUploads writes files into the shared uploads as the web server would (rel: body);
// a body starting "symlink:" is a symbolic link to the rest. It returns a function that
// removes them.
func (l *lab) dropIntoUploads(t *testing.T, files map[string]string) (remove func()) {
	t.Helper()
	uid, gid := l.uploadsOwner(t)
	root := filepath.Join(l.efs, "uploads")
	var made []string
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Lchown(filepath.Dir(p), uid, gid)
		if target, ok := strings.CutPrefix(body, "symlink:"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
		made = append(made, p)
	}
	return func() {
		for _, p := range made {
			_ = os.Remove(p)
		}
	}
}

// viewers are the ways to the site the checks take: each server directly, and the load balancer.
func viewers(l *lab, servers ...*webServer) map[string]*http.Client {
	out := map[string]*http.Client{"the load balancer": l.client(labLBAddr, nil)}
	for _, s := range servers {
		out[s.name()] = l.client(s.addr, nil)
	}
	return out
}

// checkUploadsAreData drops PHP under every name and trick into the shared uploads and checks
// that no server runs or leaks any of it, that nothing there is handed to PHP through a
// .htaccess or reaches /run through a link, and that no folder lists its files.
func checkUploadsAreData(t *testing.T, l *lab, siteURL string, servers ...*webServer) {
	t.Helper()
	shell := newWebshell()
	month := time.Now().Format("2006/01")
	dir := month + "/"
	files := map[string]string{}
	for _, name := range []string{"shell.php", "shell.PHP", "shell.pHp", "shell.php5", "shell.php7", "shell.phtml", "shell.pht",
		"shell.phar", "shell.phps", "shell.jpg.php", "shell.php.jpg"} {
		files[dir+name] = shell.source()
	}
	// A .htaccess that would hand .jpg files to PHP-FPM and list the folder, and a .jpg for it.
	files[month[:4]+"/.htaccess"] = "SetHandler \"proxy:unix:/run/php-fpm/www.sock|fcgi://localhost\"\nOptions +Indexes\nAddHandler php-script .jpg\n"
	files[dir+"avatar.jpg"] = shell.source()
	// A link to the server's runtime config (the database password, the salts).
	files[dir+"notes.txt"] = "symlink:" + runtimeConfig
	defer l.dropIntoUploads(t, files)()

	base := "/wp-content/uploads/" + dir
	paths := []string{}
	for rel := range files {
		if strings.HasPrefix(rel, dir+"shell.") {
			paths = append(paths, "/wp-content/uploads/"+rel)
		}
	}
	slices.Sort(paths)
	paths = append(paths,
		base+"shell.php/lab.gif",                          // PATH_INFO: Apache maps it to shell.php
		base+"shell.php%2flab.gif",                        // an encoded slash
		base+"shell%2ephp",                                // an encoded dot
		"//wp-content//uploads//"+dir+"shell.php",         // doubled slashes
		"/wp-content/plugins/../uploads/"+dir+"shell.php", // a detour through the code
		base+"shell",                                      // content negotiation to shell.php
		"/wp-content/uploads/"+month[:4]+"/.htaccess",     // the dropped .htaccess itself
		base+"notes.txt",                                  // the link to /run
	)
	for via, c := range viewers(l, servers...) {
		for _, p := range paths {
			got, err := fetch(c, http.MethodGet, siteURL+p, nil, nil)
			switch {
			case err != nil:
				t.Errorf("%s %s: %v", via, p, err)
			case shell.ran(got.Body):
				t.Errorf("%s ran PHP from the shared uploads at %s (%s): %.120q", via, p, got.Status, got.Body)
			case shell.leaked(got.Body):
				t.Errorf("%s served the PHP source at %s (%s): %.120q", via, p, got.Status, got.Body)
			case strings.Contains(got.Body, labDBPassword) || strings.Contains(got.Body, "DB_PASSWORD"):
				t.Errorf("%s served the server's secrets at %s (%s)", via, p, got.Status) // not printed
			case got.Code != http.StatusForbidden && got.Code != http.StatusNotFound:
				t.Errorf("%s %s: %s, want 403 or 404", via, p, got.Status)
			}
		}
		// The .jpg the .htaccess wanted run is a file: its bytes, as an image, never run.
		img, err := fetch(c, http.MethodGet, siteURL+base+"avatar.jpg", nil, nil)
		if err != nil || shell.ran(img.Body) || (img.Code == http.StatusOK && (img.Body != shell.source() || img.Header.Get("Content-Type") != "image/jpeg")) {
			t.Errorf("%s %savatar.jpg under a dropped .htaccess: %v %s %q %.80q; want the file's bytes as image/jpeg, never run",
				via, base, err, img.Status, img.Header.Get("Content-Type"), img.Body)
		}
		checkNoListing(t, via, c, siteURL, map[string][]string{
			"/wp-content/uploads/":                   {month[:4] + "/"},
			"/wp-content/uploads/" + month[:4] + "/": {month[5:] + "/", ".htaccess"},
			"/wp-content/uploads/" + dir:             {"shell.php", "avatar.jpg"},
			"/wp-content/":                           {"plugins/", "uploads/"},
			"/wp-includes/":                          {"version.php", "js/"},
		})
	}
}

// checkNoListing: a folder URL answers 403 or 404, with none of its entries' names as links.
func checkNoListing(t *testing.T, via string, c *http.Client, siteURL string, folders map[string][]string) {
	t.Helper()
	for folder, entries := range folders {
		got, err := fetch(c, http.MethodGet, siteURL+folder, nil, nil)
		if err != nil {
			t.Errorf("%s %s: %v", via, folder, err)
			continue
		}
		listed := strings.Contains(got.Body, "Index of /")
		for _, e := range entries {
			listed = listed || strings.Contains(got.Body, `href="`+e+`"`)
		}
		if listed || (got.Code != http.StatusForbidden && got.Code != http.StatusNotFound) {
			t.Errorf("%s lists %s (%s, listing %v): %.200q", via, folder, got.Status, listed, got.Body)
		}
	}
}

// labMedia are files uploaded through WordPress: their paths, bytes and types.
type labMedia struct {
	paths []string
	bodys map[string][]byte
	types map[string]string
}

// restNonce logs in through c and returns the REST API's nonce for the logged-in user.
func restNonce(t *testing.T, c *http.Client, siteURL, user, password string) string {
	t.Helper()
	login(t, c, siteURL, user, password)
	got, err := fetch(c, http.MethodGet, siteURL+"/wp-admin/admin-ajax.php?action=rest-nonce", nil, nil)
	if err != nil || got.Code != http.StatusOK || !regexp.MustCompile(`^[0-9a-f]{10}$`).MatchString(got.Body) {
		t.Fatalf("the REST nonce: %v %s %q", err, got.Status, got.Body)
	}
	return got.Body
}

// restUpload posts a file to WordPress's media endpoint, as the block editor does.
func restUpload(c *http.Client, siteURL, nonce, name, contentType string, body []byte) (reply, error) {
	h := http.Header{"X-WP-Nonce": {nonce}, "Content-Type": {contentType},
		"Content-Disposition": {`attachment; filename="` + name + `"`}}
	return fetch(c, http.MethodPost, siteURL+"/wp-json/wp/v2/media", h, bytes.NewReader(body))
}

// labPNG is a real PNG (WordPress checks an image's bytes against its name).
func labPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{uint8(6 * x), uint8(8 * y), 0x80, 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const labPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
	"trailer << /Root 1 0 R >>\n%%EOF\n"

// checkMediaUploads uploads an image and a PDF through WordPress's REST endpoint as the
// administrator and checks every server serves them with their bytes and type; uploads PHP
// the same way and checks WordPress refuses it and writes nothing; and checks that WordPress's
// own PHP (login, wp-admin, a PHP file of the plugins folder) still runs.
func checkMediaUploads(t *testing.T, l *lab, siteURL, user, password string, servers ...*webServer) *labMedia {
	t.Helper()
	c := l.client(labLBAddr, newJar())
	nonce := restNonce(t, c, siteURL, user, password)
	stamp := time.Now().UnixNano()
	media := &labMedia{bodys: map[string][]byte{}, types: map[string]string{}}
	for _, f := range []struct {
		name, typ string
		body      []byte
	}{
		{fmt.Sprintf("lab-photo-%d.png", stamp), "image/png", labPNG(t)},
		{fmt.Sprintf("lab-doc-%d.pdf", stamp), "application/pdf", []byte(labPDF)},
	} {
		got, err := restUpload(c, siteURL, nonce, f.name, f.typ, f.body)
		var att struct {
			SourceURL string `json:"source_url"`
			MimeType  string `json:"mime_type"`
		}
		if err != nil || got.Code != http.StatusCreated || json.Unmarshal([]byte(got.Body), &att) != nil || att.MimeType != f.typ {
			t.Fatalf("upload %s through /wp-json/wp/v2/media: %v %s %.300q", f.name, err, got.Status, got.Body)
		}
		u, err := url.Parse(att.SourceURL)
		if err != nil || !strings.HasPrefix(u.Path, "/wp-content/uploads/") {
			t.Fatalf("%s is at %q, not under /wp-content/uploads/", f.name, att.SourceURL)
		}
		media.paths = append(media.paths, u.Path)
		media.bodys[u.Path], media.types[u.Path] = f.body, f.typ
	}
	for via, v := range viewers(l, servers...) {
		for _, p := range media.paths {
			got, err := fetch(v, http.MethodGet, siteURL+p, nil, nil)
			if err != nil || got.Code != http.StatusOK || got.Body != string(media.bodys[p]) || got.Header.Get("Content-Type") != media.types[p] {
				t.Errorf("%s serves %s: %v %s %q, %d bytes; want 200 %s with the %d bytes uploaded", via, p, err, got.Status,
					got.Header.Get("Content-Type"), len(got.Body), media.types[p], len(media.bodys[p]))
			}
		}
	}

	// PHP through the same endpoint, as an administrator: WordPress refuses it (an
	// administrator may upload anything only with ALLOW_UNFILTERED_UPLOADS, which the
	// servers' wp-config.php never defines), and nothing is written to the uploads.
	shell := newWebshell()
	for _, name := range []string{"lab-shell.php", "lab-shell.phtml", "lab-shell.phar", "lab-shell.php5"} {
		got, err := restUpload(c, siteURL, nonce, name, "application/x-php", []byte(shell.source()))
		if err != nil || got.Code < 400 || !strings.Contains(got.Body, `"code":"rest_upload_sideload_error"`) {
			t.Errorf("WordPress took %s through /wp-json/wp/v2/media: %v %s %.300q", name, err, got.Status, got.Body)
		}
	}
	_ = filepath.WalkDir(filepath.Join(l.efs, "uploads"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, rerr := os.ReadFile(p); rerr == nil && shell.leaked(string(b)) {
				t.Errorf("the refused PHP upload was written to the shared uploads: %s", p)
			}
		}
		return nil
	})
	if n := l.db.sql("USE " + dbName + "; SELECT COUNT(*) FROM wp_posts WHERE post_type = 'attachment' AND guid LIKE '%lab-shell%'"); n != "0" {
		t.Errorf("%s attachments for the refused PHP uploads", n)
	}

	// WordPress's own PHP still runs, outside the uploads: the login form, wp-admin, and a PHP
	// file of the plugins folder (plugins/index.php, which prints nothing).
	for via, v := range viewers(l, servers...) {
		form, err := fetch(v, http.MethodGet, siteURL+"/wp-login.php", nil, nil)
		if err != nil || form.Code != http.StatusOK || !strings.Contains(form.Body, `name="log"`) {
			t.Errorf("%s /wp-login.php: %v %s, login form %v", via, err, form.Status, strings.Contains(form.Body, `name="log"`))
		}
		idx, err := fetch(v, http.MethodGet, siteURL+"/wp-content/plugins/index.php", nil, nil)
		if err != nil || idx.Code != http.StatusOK || strings.Contains(idx.Body, "<?php") {
			t.Errorf("%s /wp-content/plugins/index.php: %v %s %.80q; want it run (200, no source)", via, err, idx.Status, idx.Body)
		}
	}
	checkDashboard(t, c, siteURL)
	return media
}

// checkOnlyPHPRuns drops a .phar into the code folder of each server (which only root writes:
// a plugin shipping one, say) and checks PHP-FPM itself refuses to run it.
func checkOnlyPHPRuns(t *testing.T, l *lab, siteURL string, servers ...*webServer) {
	t.Helper()
	shell := newWebshell()
	const path = docRoot + "/lab-code.phar"
	for _, s := range servers {
		if out, err := s.run("bash", "-c", `printf '%s' "$1" >"$2"`, "drop", shell.source(), path); err != nil {
			t.Fatalf("%s: write %s: %v %s", s.name(), path, err, out)
		}
		got, err := fetch(l.client(s.addr, nil), http.MethodGet, siteURL+"/lab-code.phar", nil, nil)
		if err != nil || shell.ran(got.Body) || got.Code != http.StatusForbidden {
			t.Errorf("%s /lab-code.phar (handed to PHP-FPM by php.conf): %v %s %.120q; want PHP-FPM's 403, not run", s.name(), err, got.Status, got.Body)
		}
		_, _ = s.run("rm", "-f", path)
	}
}

// checkSecurityHeaders: every kind of answer (a page, media, the login form, wp-admin and its
// redirect, a 404, a refused upload) through each client carries exactly one of each security
// header with its value, and HSTS exactly when hsts.
func checkSecurityHeaders(t *testing.T, l *lab, clients map[string]*http.Client, siteURL, user, password string, media *labMedia, hsts bool) {
	t.Helper()
	paths := []string{"/", "/?p=1", "/wp-login.php", "/wp-admin/", "/lab-no-such-page/", "/wp-content/uploads/lab-none.php", "/wp-includes/"}
	if media != nil {
		paths = append(paths, media.paths...)
	}
	for via, c := range clients {
		admin := &http.Client{Transport: c.Transport, Jar: newJar(), CheckRedirect: c.CheckRedirect, Timeout: c.Timeout}
		login(t, admin, siteURL, user, password)
		for _, p := range paths {
			for who, v := range map[string]*http.Client{"anonymous": c, "logged in": admin} {
				got, err := fetch(v, http.MethodGet, siteURL+p, nil, nil)
				if err != nil {
					t.Errorf("%s %s (%s): %v", via, p, who, err)
					continue
				}
				for name, want := range labSecurityHeaders {
					if vs := got.Header.Values(name); !slices.Equal(vs, []string{want}) {
						t.Errorf("%s %s (%s, %s): %s %q, want exactly %q", via, p, who, got.Status, name, vs, want)
					}
				}
				vs := got.Header.Values("Strict-Transport-Security")
				if hsts && !slices.Equal(vs, []string{labHSTS}) {
					t.Errorf("%s %s (%s, %s) over HTTPS: Strict-Transport-Security %q, want exactly %q", via, p, who, got.Status, vs, labHSTS)
				}
				if !hsts && len(vs) > 0 {
					t.Errorf("%s %s (%s, %s) over plain HTTP: Strict-Transport-Security %q, want none", via, p, who, got.Status, vs)
				}
				if v := got.Header.Get("Vary"); strings.Contains(strings.ToLower(v), "x-forwarded-proto") {
					t.Errorf("%s %s (%s): Vary %q names a header no viewer sends", via, p, who, v)
				}
			}
		}
	}
}

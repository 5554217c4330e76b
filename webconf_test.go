package main

// boot/wordpress.conf as the servers get it: the uploads folder's refusal of PHP, and the
// security headers the servers send with edge alb (no CloudFront to add them). The site test
// (siteuploads_test.go) shows Apache applying both; these fail fast, without root.

import (
	"regexp"
	"strings"
	"testing"
)

// uploadsSection is the body of wordpress.conf's <Directory> for the shared uploads.
func uploadsSection(t *testing.T, conf string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<Directory "` + regexp.QuoteMeta(docRoot+"/wp-content/uploads") + `">\n(.*?)\n</Directory>`).FindStringSubmatch(conf)
	if m == nil {
		t.Fatalf("boot/wordpress.conf has no <Directory \"%s/wp-content/uploads\">", docRoot)
	}
	return m[1]
}

// The uploads refuse every name PHP could run, in any case and with the extension anywhere
// in the name, and serve media, WordPress's own renaming of x.php.jpg (x.php_.jpg) included;
// nothing there is handed to a handler, no .htaccess counts, no folder lists.
func TestUploadsRefuseWhatPHPCouldRun(t *testing.T) {
	section := uploadsSection(t, withoutCommentLines(bootFile(t, "wordpress.conf")))
	m := regexp.MustCompile(`(?s)<FilesMatch "([^"]+)">\s*Require all denied\s*</FilesMatch>`).FindStringSubmatch(section)
	if m == nil {
		t.Fatalf("the uploads section denies no <FilesMatch>:\n%s", section)
	}
	deny, err := regexp.Compile(m[1]) // the PCRE subset Go shares (Apache's is PCRE)
	if err != nil {
		t.Fatalf("the uploads' FilesMatch %q: %v", m[1], err)
	}
	for _, name := range []string{"shell.php", "shell.PHP", "shell.pHp", "shell.php3", "shell.php5", "shell.php7", "shell.php8",
		"shell.phtml", "shell.PHTML", "shell.pht", "shell.phar", "shell.phps", "shell.jpg.php", "shell.php.jpg", "shell.php.", "a.b.Phar.png"} {
		if !deny.MatchString(name) {
			t.Errorf("%s in the uploads is not refused by %q", name, m[1])
		}
	}
	for _, name := range []string{"photo.jpg", "photo.JPEG", "doc.pdf", "clip.mp4", "x.php_.jpg", "philosophy.png", "graph.phtmlx", "notes.txt", "php.png"} {
		if deny.MatchString(name) {
			t.Errorf("media named %s is refused by %q", name, m[1])
		}
	}
	for _, want := range []string{"AllowOverride None", "SetHandler None", "-Indexes", "-FollowSymLinks +SymLinksIfOwnerMatch", "-ExecCGI", "-MultiViews"} {
		if !strings.Contains(section, want) {
			t.Errorf("the uploads section lacks %q:\n%s", want, section)
		}
	}
}

// With edge alb the servers send the security headers the CloudFront policy adds with edge
// cloudfront, with the same values, on every answer (errors, redirects and static files
// included: "always"), and HSTS only when the load balancer says the viewer came over HTTPS.
func TestApacheSendsTheEdgesSecurityHeaders(t *testing.T) {
	conf := withoutCommentLines(bootFile(t, "wordpress.conf"))
	set := regexp.MustCompile(`(?m)^Header (\S+) set (\S+) "([^"]*)"(?: "expr=([^"]*)")?$`)
	got, when := map[string]string{}, map[string]string{}
	for _, m := range set.FindAllStringSubmatch(conf, -1) {
		if m[1] != "always" {
			t.Errorf("Header %s set %s: only on some answers; want always", m[1], m[2])
		}
		got[m[2]], when[m[2]] = m[3], m[4]
	}
	policy := mustRun(t, nil).one(t, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
	want := policyHeaders(t, policy)
	if len(got) != len(want) {
		t.Errorf("wordpress.conf sets %v; the CloudFront policy adds %+v", got, want)
	}
	for _, h := range want {
		if got[h.name] != h.value {
			t.Errorf("wordpress.conf sets %s %q; the CloudFront policy %q", h.name, got[h.name], h.value)
		}
		cond := ""
		if h.name == "Strict-Transport-Security" {
			// the load balancer's header, read without a Vary on it (a header viewers never send)
			cond = "%{req_novary:" + albProtoHeader + "} == 'https'"
		}
		if when[h.name] != cond {
			t.Errorf("wordpress.conf sets %s when %q, want %q", h.name, when[h.name], cond)
		}
	}
}

// The servers' copy of the Apache config drops its comment lines (the user data has 16 KB)
// and nothing else.
func TestApacheConfigLosesOnlyItsComments(t *testing.T) {
	in := "# Written by us.\n# why\nA b\n    # why, indented\n  C \"#not a comment\"\n\n"
	if got, want := withoutCommentLines(in), "# Written by us.\nA b\n  C \"#not a comment\"\n\n"; got != want {
		t.Errorf("withoutCommentLines:\n%q\nwant\n%q", got, want)
	}
}

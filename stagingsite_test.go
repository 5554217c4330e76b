//go:build lab

package main

// A staging copy of production, on the lab (sitelab_test.go): a site built at one URL (the
// "production" one, over HTTP) keeps its database, as a staging stack's database restored from
// production's snapshot does, and is switched to a staging stack's settings (another URL,
// staging on). The servers keep search engines away and send no mail; the program's import
// document, with importFrom.siteUrl alone, rewrites production's URLs to the staging one's.
// Run as root, under the lab lock:
//
//	flock /tmp/lab.lock go test -tags lab -count=1 -run 'TestStaging' -v .

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

func TestStagingFromProduction(t *testing.T) {
	requireLab(t)
	recipe := map[string]string{"wordpressPlugins": jsonList(labProbe.Entry()), "wordpressThemes": jsonList(labTheme.Entry())}
	facts := siteProgramFacts(t, recipe)
	rs := startSite(t, facts, 1, nil)
	l, site, s1 := rs.l, rs.site, rs.servers[0]
	oldHost, oldURL, newURL := rs.httpHost, "http://"+rs.httpHost, facts.HTTPSSiteURL
	q := func(sql string) string { return l.db.sql("USE " + dbName + "; " + sql) }

	// Production: a post, serialized options and a user holding its URL; and the marker of an
	// import it once had, which its snapshot carries to staging.
	buildOldSite(t, l, s1, oldHost)
	q(`INSERT INTO wp_options (option_name, option_value, autoload) VALUES ('scalable_wordpress_imported', 'a:1:{s:8:"database";s:10:"s3://x/y.z";}', 'no')`)
	if got := q("SELECT option_value FROM wp_options WHERE option_name = 'blog_public'"); got != "1" {
		t.Fatalf("production's blog_public is %q, want 1", got)
	}

	// The staging stack: the same data, its own URL, staging on.
	site[settingSiteURL] = newURL
	site[settingStaging] = "1"
	l.switchSite(t, facts, site, rs.httpsHost, true, s1)

	t.Run("search engines are discouraged, and kept so on every converge", func(t *testing.T) {
		if got := q("SELECT option_value FROM wp_options WHERE option_name = 'blog_public'"); got != "0" {
			t.Errorf("blog_public %q on staging, want 0", got)
		}
		q("UPDATE wp_options SET option_value = '1' WHERE option_name = 'blog_public'")
		if out, err := s1.run("/usr/local/sbin/wordpress-converge", "refresh"); err != nil {
			t.Fatalf("refresh: %v\n%s", err, out)
		}
		if got := q("SELECT option_value FROM wp_options WHERE option_name = 'blog_public'"); got != "0" {
			t.Errorf("blog_public %q after a converge, want 0 again", got)
		}
		page, err := fetch(l.client(labLBAddr, nil), http.MethodGet, newURL+"/", nil, nil)
		if err != nil || page.Code != http.StatusOK {
			t.Fatalf("the staging site: %v %s", err, page.Status)
		}
		if got := page.Header.Get("X-Robots-Tag"); !strings.Contains(got, "noindex") {
			t.Errorf("X-Robots-Tag %q, want noindex", got)
		}
		if !strings.Contains(page.Body, "noindex") {
			t.Errorf("the page has no robots noindex meta tag:\n%.400s", page.Body)
		}
	})

	t.Run("wp_mail sends nothing to anyone, and logs what it dropped", func(t *testing.T) {
		const code = `
$_SERVER['HTTP_HOST'] = $argv[1];
require '/var/www/html/wp-load.php';
add_action( 'phpmailer_init', function () { echo "SENT\n"; } );
var_dump( wp_mail( array( 'customer@example.com', 'editor@example.com' ), 'Your order', 'body' ) );
`
		out, err := s1.run("php", "-d", "error_log=", "-d", "log_errors=1", "-r", code, rs.httpsHost)
		if err != nil {
			t.Fatalf("wp_mail: %v\n%s", err, out)
		}
		if strings.Contains(out, "SENT") || !strings.Contains(out, "bool(false)") {
			t.Errorf("wp_mail on staging reached the mailer or did not say it sent nothing:\n%s", out)
		}
		if !strings.Contains(out, "staging: dropped mail to customer@example.com, editor@example.com: Your order") {
			t.Errorf("the dropped mail is not logged:\n%s", out)
		}
	})

	t.Run("a rewrite-only import replaces production's URL in posts and serialized options, once", func(t *testing.T) {
		script := importDocument(t, merged(recipe, map[string]string{"siteTitle": siteTitle, "edge": edgeALB, importFromKey: `{"siteUrl": "http://www.example.com"}`}),
			map[string]string{"database": "", "uploads": "", "siteUrl": oldURL})
		out, err := runImport(s1, script)
		if err != nil || !strings.Contains(out, "rewrote the site's URLs from "+oldURL+" to "+newURL) {
			t.Fatalf("the rewrite: %v\n%s", err, tailLines(out, 20))
		}
		t.Logf("%s", lastLineWith(out, "rewrote"))
		for _, table := range []string{"wp_posts", "wp_options", "wp_users", "wp_usermeta", "wp_postmeta"} {
			if got := q("SELECT COUNT(*) FROM " + table + " WHERE CONVERT(CONCAT_WS(' ', " + textColumns(t, l, table) + ") USING utf8mb4) LIKE '%" + oldHost + "%'"); got != "0" {
				t.Errorf("%s rows of %s still hold production's host %s: %s", got, table, oldHost,
					q("SELECT CONCAT_WS(' ', "+textColumns(t, l, table)+") FROM "+table+" WHERE CONVERT(CONCAT_WS(' ', "+textColumns(t, l, table)+") USING utf8mb4) LIKE '%"+oldHost+"%' LIMIT 3"))
			}
		}
		content := strings.ReplaceAll(q("SELECT post_content FROM wp_posts WHERE post_name = 'moved-post'"), `\\`, `\`)
		for _, want := range []string{`href="` + newURL + `/sample-page/"`, `src="//` + rs.httpsHost + `/wp-content/uploads/2024/01/moved-pixel.png"`,
			`"url":"` + strings.ReplaceAll(newURL, "/", `\/`) + `\/wp-content`} {
			if !strings.Contains(content, want) {
				t.Errorf("the post lacks %s:\n%s", want, content)
			}
		}
		for name, want := range map[string]string{"widget_text": newURL + "/about/", "lab_double": newURL + "/x", "lab_object": newURL + "/y"} {
			raw := q("SELECT option_value FROM wp_options WHERE option_name = '" + name + "'")
			cmd := exec.Command("php", "-r", labUnserialize)
			cmd.Stdin = strings.NewReader(raw)
			got, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(got), want) || strings.Contains(string(got), oldHost) {
				t.Errorf("%s is %s (%v), want valid serialization holding %s", name, got, err, want)
			}
		}
		if got := q("SELECT COUNT(*) FROM wp_users WHERE user_login = '" + labOldUser + "'"); got != "1" {
			t.Errorf("production's user is gone after the rewrite (%s)", got)
		}
		if got := q("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + dbName + "' AND TABLE_NAME NOT LIKE 'wp\\_%'"); got != "0" {
			t.Errorf("%s staging or retired tables left behind", got)
		}
		if got := q("SELECT option_value FROM wp_options WHERE option_name = 'blog_public'"); got != "0" {
			t.Errorf("blog_public %q after the rewrite, want 0", got)
		}
		again, err := runImport(s1, script)
		if err != nil || !strings.Contains(again, "rewritten to this stack's URL already: nothing to do") {
			t.Errorf("a re-run must do nothing: %v\n%s", err, tailLines(again, 5))
		}
		page, err := fetch(l.client(labLBAddr, nil), http.MethodGet, newURL+"/moved-post/", nil, nil)
		if err != nil || page.Code != http.StatusOK || !strings.Contains(page.Body, newURL+"/sample-page/") || strings.Contains(page.Body, oldHost) {
			t.Errorf("the rewritten post through the load balancer: %v %s\n%.500s", err, page.Status, page.Body)
		}
	})
}

//go:build lab

package main

// The site test's checks of WordPress's own database user (boot/dbuser.php): the servers run
// WordPress as it, it reaches nothing but its own database, no server keeps the master
// credential, and a database whose user is missing (an existing stack) or has another
// password (a new secret) converges on the next refresh.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dbAs runs SQL at the lab's database as user, over TLS, as a client on the servers' network
// would.
func (l *lab) dbAs(user, password, sql string) (string, error) {
	cmd := exec.Command("mariadb", "--no-defaults", "-h", labDBAddr, "-P", "3306", "-u", user, "--ssl", "-N", "-B", "-e", sql)
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+password)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// root is the server's root as its running web server sees it.
func (s *webServer) root(t *testing.T) string {
	t.Helper()
	pid := s.pid("httpd")
	if pid <= 0 {
		t.Fatalf("%s is not running", s.name())
	}
	return fmt.Sprintf("/proc/%d/root", pid)
}

// runtimeCredentials are the database credentials in the server's runtime config: what
// WordPress connects with, and what code running as the web server can read.
func (s *webServer) runtimeCredentials(t *testing.T) (user, password string) {
	t.Helper()
	// A copy: PHP resolves /proc/PID/root/... to the path outside the server's mounts.
	body, err := os.ReadFile(s.root(t) + runtimeConfig)
	if err != nil {
		t.Fatalf("%s: %v", s.name(), err)
	}
	cmd := exec.Command("php", "-r", `require getenv('RUNTIME'); echo json_encode(array(DB_USER, DB_PASSWORD));`)
	cmd.Env = append(os.Environ(), "RUNTIME="+writeTemp(t, "runtime.php", string(body)))
	out, err := cmd.Output()
	var creds []string
	if err != nil || json.Unmarshal(out, &creds) != nil || len(creds) != 2 {
		t.Fatalf("%s: the runtime config does not load: %v %s", s.name(), err, out)
	}
	return creds[0], creds[1]
}

// currentUser is the database user of WordPress's own connection on the server: SELECT
// CURRENT_USER() from a page that loads WordPress, served by the server's PHP.
func (s *webServer) currentUser(t *testing.T, siteURL string) string {
	t.Helper()
	page := s.root(t) + docRoot + "/lab-whoami.php"
	body := "<?php\nrequire __DIR__ . '/wp-load.php';\necho 'db-user=', $GLOBALS['wpdb']->get_var( 'SELECT CURRENT_USER()' );\n"
	if err := os.WriteFile(page, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(page)
	got, err := fetch(s.l.client(s.addr, nil), http.MethodGet, siteURL+"/lab-whoami.php", nil, nil)
	m := regexp.MustCompile(`db-user=(\S*)`).FindStringSubmatch(got.Body)
	if err != nil || got.Code != http.StatusOK || m == nil {
		t.Fatalf("%s: CURRENT_USER() through WordPress: %v %s %.300q", s.name(), err, got.Status, got.Body)
	}
	return m[1]
}

// holds lists where on the server a needle is: its disk, its /run (secrets' tmpfs), its
// journal, and the environment and command line of every process running in it.
func (s *webServer) holds(t *testing.T, needles ...string) []string {
	t.Helper()
	found := s.diskHolds(needles...)
	search := func(where string, b []byte) {
		for _, n := range needles {
			if n != "" && bytes.Contains(b, []byte(n)) {
				found = append(found, where+" holds "+n[:min(len(n), 6)]+"...")
			}
		}
	}
	root := s.root(t)
	_ = filepath.WalkDir(root+"/run", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			search(strings.TrimPrefix(p, root), b)
		}
		return nil
	})
	search("the converge journal", []byte(s.read("converge.log")))
	want, _ := filepath.EvalSymlinks(filepath.Join(s.dir, "root"))
	procs, _ := os.ReadDir("/proc")
	seen := 0
	for _, p := range procs {
		if r, err := os.Readlink("/proc/" + p.Name() + "/root"); err != nil || r != want {
			continue
		}
		seen++
		for _, f := range []string{"environ", "cmdline"} {
			b, _ := os.ReadFile("/proc/" + p.Name() + "/" + f)
			search(fmt.Sprintf("process %s's %s", p.Name(), f), b)
		}
	}
	if seen < 2 { // Apache and PHP-FPM at least: else this looked nowhere
		t.Fatalf("%s: found %d processes running in it", s.name(), seen)
	}
	return found
}

// publishPost publishes a post through WordPress's REST API as a logged-in user, and returns
// its link.
func publishPost(t *testing.T, c *http.Client, siteURL, title string) string {
	t.Helper()
	nonce, err := fetch(c, http.MethodGet, siteURL+"/wp-admin/admin-ajax.php?action=rest-nonce", nil, nil)
	if err != nil || nonce.Code != http.StatusOK || !regexp.MustCompile(`^[0-9a-f]+$`).MatchString(nonce.Body) {
		t.Fatalf("REST nonce: %v %s %.200q", err, nonce.Status, nonce.Body)
	}
	post, _ := json.Marshal(map[string]string{"title": title, "content": "Written through WordPress's own database user.", "status": "publish"})
	got, err := fetch(c, http.MethodPost, siteURL+"/?rest_route=/wp/v2/posts", http.Header{"X-WP-Nonce": {nonce.Body}, "Content-Type": {"application/json"}},
		bytes.NewReader(post))
	var created struct{ Link string }
	if err != nil || got.Code != http.StatusCreated || json.Unmarshal([]byte(got.Body), &created) != nil || created.Link == "" {
		t.Fatalf("publish a post: %v %s %.300q", err, got.Status, got.Body)
	}
	return created.Link
}

// checkOwnDatabaseUser: WordPress runs as its own database user on every server (install,
// login and a new post included), that user can reach nothing but its database and grant
// nothing, and no server holds the master credential.
func checkOwnDatabaseUser(t *testing.T, rs *runningSite, siteURL string) {
	l, site := rs.l, rs.site
	t.Run("WordPress runs as its own database user on every server: login and a new post too", func(t *testing.T) {
		for _, s := range rs.servers {
			if got := s.currentUser(t, siteURL); got != dbAppUser+"@%" {
				t.Errorf("%s: WordPress's connection runs as %s, want its own user %s@%%", s.name(), got, dbAppUser)
			}
		}
		jar := newJar()
		c := l.client(labLBAddr, jar)
		login(t, c, siteURL, site[settingAdminUser], labAdminPassword)
		title := fmt.Sprintf("lab-post-%d", time.Now().UnixNano())
		link := publishPost(t, c, siteURL, title)
		for _, s := range rs.servers {
			if page, err := fetch(l.client(s.addr, nil), http.MethodGet, link, nil, nil); err != nil || page.Code != http.StatusOK || !strings.Contains(page.Body, title) {
				t.Errorf("%s does not serve the new post %s: %v %s", s.name(), link, err, page.Status)
			}
		}
	})

	t.Run("WordPress's database credentials reach nothing but its own database, and grant nothing", func(t *testing.T) {
		user, password := rs.servers[0].runtimeCredentials(t) // what the web server (and code it runs) can read
		l.db.sql("CREATE DATABASE IF NOT EXISTS lab_other; CREATE TABLE IF NOT EXISTS lab_other.secrets (v TEXT); INSERT INTO lab_other.secrets VALUES ('the other app''s')")
		defer func() { // with l.db.query: the lab's sql fails the parent test, not this one
			_, _ = l.db.query("DROP DATABASE IF EXISTS lab_other; DROP DATABASE IF EXISTS lab_evil; DROP USER IF EXISTS 'lab_evil'@'%'; " +
				"DROP TRIGGER IF EXISTS " + dbName + ".lab_t; DROP PROCEDURE IF EXISTS " + dbName + ".lab_p")
		}()
		// What WordPress needs (dbDelta and plugins create, alter, index and drop their tables).
		for _, ok := range []string{
			"SELECT COUNT(*) FROM " + dbName + ".wp_options",
			"CREATE TABLE " + dbName + ".lab_probe (id INT); ALTER TABLE " + dbName + ".lab_probe ADD INDEX (id); DROP TABLE " + dbName + ".lab_probe",
		} {
			if out, err := l.dbAs(user, password, ok); err != nil {
				t.Errorf("WordPress's user cannot %q on its own database: %v %s", ok, err, out)
			}
		}
		for _, denied := range []string{
			"SELECT * FROM lab_other.secrets",
			"CREATE TABLE lab_other.planted (id INT)",
			"DROP TABLE lab_other.secrets",
			"DROP DATABASE lab_other",
			"CREATE DATABASE lab_evil",
			"SELECT User, Host FROM mysql.user",
			"GRANT ALL PRIVILEGES ON *.* TO " + sqlQuote(user) + "@'%'",
			"GRANT SELECT ON " + dbName + ".* TO " + sqlQuote(user) + "@'%'",
			"CREATE USER 'lab_evil'@'%' IDENTIFIED BY 'x'",
			"CREATE TRIGGER " + dbName + ".lab_t BEFORE INSERT ON " + dbName + ".wp_options FOR EACH ROW SET NEW.autoload = 'no'",
			"CREATE PROCEDURE " + dbName + ".lab_p() SELECT 1",
		} {
			out, err := l.dbAs(user, password, denied)
			if err == nil || !strings.Contains(strings.ToLower(out), "denied") {
				t.Errorf("WordPress's database user %s may %q: %v %s", user, denied, err, out)
			}
		}
		if got, err := l.db.query("SELECT COUNT(*) FROM lab_other.secrets"); err != nil || got != "1" {
			t.Errorf("the other database changed: %v %s", err, got)
		}
	})

	t.Run("no server holds the master credential: runtime config, /run, disk, journal, processes' environment", func(t *testing.T) {
		for _, s := range rs.servers {
			if user, _ := s.runtimeCredentials(t); user == dbUser {
				t.Errorf("%s: the runtime config holds the master user %s", s.name(), user)
			}
			if leaks := s.holds(t, labDBPassword); len(leaks) > 0 {
				t.Errorf("%s holds the master password: %v", s.name(), leaks)
			}
		}
	})
}

// checkDatabaseUserConverges: a database whose WordPress tables exist but whose WordPress
// user does not (an existing stack, whose servers connected as the master) gets the user on
// the next refresh, without reinstalling; a new password in the user's secret converges on
// the next refresh; and a server whose user is in place converges without the master
// credential (dbServersReadMaster off).
func checkDatabaseUserConverges(t *testing.T, rs *runningSite, facts programFacts) {
	l := rs.l
	refresh := func(t *testing.T, s *webServer) string {
		t.Helper()
		out, err := s.run(convergeCommand, "refresh")
		if err != nil || !strings.Contains(out, "refresh: converged") {
			t.Fatalf("refresh on %s: %v\n%s", s.name(), err, out)
		}
		return out
	}
	serves := func(t *testing.T, what string) {
		t.Helper()
		for _, s := range rs.servers {
			if page, err := fetch(l.client(s.addr, nil), http.MethodGet, facts.SiteURL+"/", nil, nil); err != nil || page.Code != http.StatusOK {
				t.Errorf("%s, %s does not serve the site: %v %s", what, s.name(), err, page.Status)
			}
		}
	}
	t.Run("an existing database without WordPress's own user gets it on the next refresh, without reinstalling", func(t *testing.T) {
		posts, _ := l.db.query("USE " + dbName + "; SELECT COUNT(*) FROM wp_posts")
		if out, err := l.db.query("DROP USER '" + dbAppUser + "'@'%'"); err != nil {
			t.Fatalf("drop WordPress's user: %v %s", err, out)
		}
		out := refresh(t, rs.servers[0])
		if !strings.Contains(out, "database user "+dbAppUser+" set up") || !strings.Contains(out, "already installed") || strings.Contains(out, "wordpress-converge: installed") {
			t.Errorf("the refresh did not set up WordPress's user on the existing site:\n%s", out)
		}
		if got, _ := l.db.query("USE " + dbName + "; SELECT COUNT(*) FROM wp_posts"); got != posts {
			t.Errorf("%s posts after the refresh, %s before", got, posts)
		}
		serves(t, "after the user was set up")
	})

	t.Run("a new password in WordPress's database secret converges on the next refresh; the old one stops working", func(t *testing.T) {
		const newPassword = `n3w'App"\pw%_$z`
		secret, err := dbCredentialsJSON(dbAppUser, newPassword)
		if err != nil {
			t.Fatal(err)
		}
		l.aws("secretsmanager", "put-secret-value", "--secret-id", rs.site[settingDBAppSecret], "--secret-string", secret)
		for _, s := range rs.servers { // as the settings association does
			refresh(t, s)
		}
		if user, password := rs.servers[1].runtimeCredentials(t); user != dbAppUser || password != newPassword {
			t.Errorf("%s's runtime config holds %s and not the new password", rs.servers[1].name(), user)
		}
		if out, err := l.dbAs(dbAppUser, labAppPassword, "SELECT 1"); err == nil {
			t.Errorf("the old password still logs in: %s", out)
		}
		serves(t, "with the new password")
	})

	t.Run("a server whose database user is in place converges without the master credential", func(t *testing.T) {
		gone := strings.Replace(rs.masterSecretARN, labMasterSecretName, "rds!db-gone", 1)
		l.putParameter(facts.SettingsPath+"/"+dbMasterSecretParameterLeaf, gone) // as if the role could not read it
		defer l.putParameter(facts.SettingsPath+"/"+dbMasterSecretParameterLeaf, rs.masterSecretARN)
		b := rs.servers[0].reboot()
		if !l.lb.waitTarget(rs.servers[0].name(), "UP", 30*time.Second) {
			t.Fatalf("%s did not come back without the master credential:\n%s", rs.servers[0].name(), tailLines(b.Log, 20))
		}
		if strings.Contains(b.Log, "needs setting up") {
			t.Errorf("the reboot asked for the master credential although WordPress's user is in place:\n%s", tailLines(b.Log, 20))
		}
	})
}

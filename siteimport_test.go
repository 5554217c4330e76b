//go:build lab

package main

// Moving a site in, on the lab (sitelab_test.go): a site built at one URL (the load
// balancer's, over HTTP) with a post, serialized options holding its URL, a user of its own
// and an upload is exported as its owner would (mariadb-dump of the real database, a tar of
// the uploads) into moto's S3; the stack then starts over at another URL (HTTPS, a fresh
// install) and the program's own import document runs on both servers at once. Each refusal
// runs first, on the fresh site, and must leave it whole. Run as root, under the lab lock:
//
//	flock /tmp/lab.lock go test -tags lab -count=1 -run 'TestSiteImport' -v .

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const (
	labImportBucket   = "lab-import"
	labOldUser        = "olduser"
	labOldPassword    = `Old-pass!9x#Moved(in)`
	labImportedUpload = "2024/01/moved-pixel.png"
)

// importDocument is the program's site import script with the association's parameters put
// in, as SSM runs it.
func importDocument(t *testing.T, config map[string]string, params map[string]string) string {
	t.Helper()
	r := mustRun(t, config)
	doc := r.m.Named("aws:ssm/document:Document", "site-import")
	if doc == nil {
		t.Fatal("the program registers no site import document with importFrom set")
	}
	var content struct {
		MainSteps []struct {
			Inputs struct {
				RunCommand []string `json:"runCommand"`
			} `json:"inputs"`
		} `json:"mainSteps"`
	}
	if err := json.Unmarshal([]byte(doc.Str("content")), &content); err != nil || len(content.MainSteps) != 1 {
		t.Fatalf("the import document: %v", err)
	}
	if len(doc.Str("content")) > 64*1024 {
		t.Errorf("the import document is %d bytes, over SSM's 64 KB", len(doc.Str("content")))
	}
	script := strings.Join(content.MainSteps[0].Inputs.RunCommand, "\n") + "\n"
	for k, v := range params {
		script = strings.ReplaceAll(script, "{{ "+k+" }}", v)
	}
	return script
}

// importArchive is a tar.gz of the entries (name: body; a body "symlink:T" is a link to T; a name
// ending in / a folder).
func importArchive(t *testing.T, entries [][2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}
		switch {
		case strings.HasSuffix(e[0], "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case strings.HasPrefix(e[1], "symlink:"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, strings.TrimPrefix(e[1], "symlink:"), 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e[1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// buildOldSite gives the running site what a real one has: a post linking its URL in every
// form, serialized options holding it (a widget, a theme mod, a value serialized twice, an
// object of a class no code here defines), a user of its own, and an upload.
func buildOldSite(t *testing.T, l *lab, s *webServer, oldHost string) {
	t.Helper()
	const code = `
$_SERVER['HTTP_HOST'] = $argv[1];
require '/var/www/html/wp-load.php';
global $wpdb;
$old = 'http://' . $argv[1];
$id = wp_insert_post( array( 'post_title' => 'Moved post', 'post_name' => 'moved-post', 'post_status' => 'publish', 'post_content' => 'x' ) );
$content = '<p><a href="' . $old . '/sample-page/">a link</a> <img src="//' . $argv[1] . '/wp-content/uploads/2024/01/moved-pixel.png"></p>'
	. "\n" . '<!-- wp:image {"url":"' . str_replace( '/', '\/', $old ) . '\/wp-content\/uploads\/2024\/01\/moved-pixel.png"} /-->';
$wpdb->update( $wpdb->posts, array( 'post_content' => $content ), array( 'ID' => $id ) );
$user = wp_insert_user( array( 'user_login' => 'olduser', 'user_pass' => $argv[2], 'role' => 'administrator', 'user_email' => 'old@example.com', 'user_url' => $old . '/' ) );
if ( is_wp_error( $user ) ) { echo $user->get_error_message(); exit( 1 ); }
update_option( 'widget_text', array( 2 => array( 'title' => 'Links', 'text' => '<a href="' . $old . '/about/">about</a>' ), '_multiwidget' => 1 ) );
set_theme_mod( 'lab_logo', $old . '/wp-content/uploads/2024/01/moved-pixel.png' );
update_option( 'lab_double', serialize( array( 'u' => 'https://' . $argv[1] . '/x' ) ) );
$url = $old . '/y';
$wpdb->insert( $wpdb->options, array( 'option_name' => 'lab_object', 'option_value' => 'O:11:"Lab_Unknown":1:{s:3:"url";s:' . strlen( $url ) . ':"' . $url . '";}', 'autoload' => 'no' ) );
echo "built $id\n";
`
	if out, err := s.run("php", "-r", code, oldHost, labOldPassword); err != nil || !strings.Contains(out, "built ") {
		t.Fatalf("build the old site: %v\n%s", err, out)
	}
	l.dropIntoUploads(t, map[string]string{labImportedUpload: "PNG-moved-in"})
}

// runImport runs the import document on a server, as the association does.
func runImport(s *webServer, script string) (string, error) {
	return s.run("bash", "-c", script)
}

func TestSiteImport(t *testing.T) {
	requireLab(t)
	recipe := map[string]string{"wordpressPlugins": jsonList(labProbe.Entry()), "wordpressThemes": jsonList(labTheme.Entry())}
	facts := siteProgramFacts(t, recipe)
	importConfig := merged(recipe, map[string]string{"siteTitle": siteTitle, "edge": edgeALB,
		importFromKey: `{"database": "s3://lab-import/scalable-wordpress-import/site.sql.gz", "uploads": "s3://lab-import/scalable-wordpress-import/uploads.tar.gz"}`})
	script := func(database, uploads string) string {
		return importDocument(t, importConfig, map[string]string{"database": database, "uploads": uploads, "siteUrl": ""})
	}
	rs := startSite(t, facts, 2, nil)
	l, site := rs.l, rs.site
	s1, s2 := rs.servers[0], rs.servers[1]
	oldHost, newURL := rs.httpHost, facts.HTTPSSiteURL
	q := func(sql string) string { return l.db.sql("USE " + dbName + "; " + sql) }

	// The old site, exported as its owner would.
	buildOldSite(t, l, s1, oldHost)
	oldUsers := q("SELECT GROUP_CONCAT(user_login, ' ', user_pass ORDER BY ID) FROM wp_users")
	dump, err := exec.Command("mariadb-dump", "--no-defaults", "-S", l.db.socket, "-uroot", "--single-transaction", dbName).Output()
	if err != nil {
		t.Fatalf("mariadb-dump: %v", err)
	}
	var gzDump bytes.Buffer
	zw := gzip.NewWriter(&gzDump)
	_, _ = zw.Write(dump)
	_ = zw.Close()
	uploadsTar := filepath.Join(l.dir, "uploads.tar.gz")
	if out, err := exec.Command("tar", "-czf", uploadsTar, "-C", l.efs, "uploads").CombinedOutput(); err != nil {
		t.Fatalf("tar the uploads: %v\n%s", err, out)
	}
	put := func(key string, body []byte) string {
		key = "scalable-wordpress-import/" + key // where the servers' boundary lets them read
		p := l.write("s3/"+key, body)
		l.aws("s3", "cp", "--only-show-errors", p, "s3://"+labImportBucket+"/"+key)
		return "s3://" + labImportBucket + "/" + key
	}
	l.aws("s3", "mb", "s3://"+labImportBucket)
	tarBytes, _ := os.ReadFile(uploadsTar)
	good, goodUploads := put("site.sql.gz", gzDump.Bytes()), put("uploads.tar.gz", tarBytes)
	notWP := put("other.sql", []byte("CREATE TABLE `things` (`id` int NOT NULL PRIMARY KEY);\nINSERT INTO `things` VALUES (1);\n"))
	wrongPrefix := put("prefixed.sql", bytes.ReplaceAll(bytes.ReplaceAll(dump, []byte("`wp_"), []byte("`xy_")), []byte("'wp_user_roles'"), []byte("'xy_user_roles'")))
	escaping := put("escaping.tar.gz", importArchive(t, [][2]string{{"uploads/", ""}, {"uploads/ok.txt", "ok"}, {"uploads/../../evil.txt", "evil"}}))
	linking := put("linking.tar.gz", importArchive(t, [][2]string{{"uploads/", ""}, {"uploads/secrets", "symlink:/run/wordpress/runtime.php"}}))
	withPHP := put("php.tar.gz", importArchive(t, [][2]string{{"uploads/", ""}, {"uploads/2024/shell.php.jpg", "<?php echo 1;"}}))

	// The new stack: an empty database and uploads, at another URL (HTTPS), freshly installed.
	l.db.sql("DROP DATABASE " + dbName + "; CREATE DATABASE " + dbName)
	if err := os.RemoveAll(filepath.Join(l.efs, "uploads", "2024")); err != nil {
		t.Fatal(err)
	}
	site[settingSiteURL] = newURL
	l.switchSite(t, facts, site, rs.httpsHost, true, s1, s2)
	if got := q("SELECT COUNT(*) FROM wp_users"); got != "1" {
		t.Fatalf("the new stack is not a fresh install: %s users", got)
	}

	// nothingImported: the fresh site, whole.
	nothingImported := func(t *testing.T) {
		t.Helper()
		if got := q("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + dbName + "' AND TABLE_NAME NOT LIKE 'wp\\_%'"); got != "0" {
			t.Errorf("%s staging or retired tables left behind", got)
		}
		if got := q("SELECT COUNT(*) FROM wp_posts WHERE post_title = 'Moved post'") + " " + q("SELECT COUNT(*) FROM wp_users"); got != "0 1" {
			t.Errorf("posts of the old site and users: %s, want the fresh install's (0 1)", got)
		}
		if got := q("SELECT option_value FROM wp_options WHERE option_name = 'siteurl'"); got != newURL {
			t.Errorf("siteurl %q, want %q", got, newURL)
		}
		if got := q("SELECT COUNT(*) FROM wp_options WHERE option_name = 'scalable_wordpress_imported'"); got != "0" {
			t.Errorf("the import marker was written")
		}
		for _, p := range []string{filepath.Join(l.efs, "uploads", labImportedUpload), filepath.Join(l.efs, "evil.txt"), filepath.Join(l.efs, "uploads", "ok.txt")} {
			if exists(p) {
				t.Errorf("%s was written", p)
			}
		}
		page, err := fetch(l.client(labLBAddr, nil), http.MethodGet, newURL+"/", nil, nil)
		if err != nil || page.Code != http.StatusOK {
			t.Errorf("the fresh site no longer serves: %v %s", err, page.Status)
		}
	}
	for _, c := range []struct{ name, database, uploads, want string }{
		{"a dump that is not WordPress", notWP, "", "is not a WordPress database"},
		{"a dump of another table prefix", wrongPrefix, "", "the dump's table prefix is xy_, this stack's is wp_"},
		{"an archive with a path outside the uploads", good, escaping, "escapes the uploads"},
		{"an archive with a symbolic link", good, linking, "is a link or a special file"},
		{"an archive with PHP", good, withPHP, "is PHP or server configuration"},
		{"an object that does not exist", "s3://lab-import/scalable-wordpress-import/missing.sql.gz", "", "cannot read s3://lab-import/scalable-wordpress-import/missing.sql.gz"},
	} {
		t.Run("refused, nothing imported: "+c.name, func(t *testing.T) {
			out, err := runImport(s1, script(c.database, c.uploads))
			if err == nil || !strings.Contains(out, c.want) || strings.Count(out, "FAILED") != 1 {
				t.Errorf("the import must fail with one FAILED line saying %q: %v\n%s", c.want, err, tailLines(out, 10))
			}
			t.Logf("%s", lastLine(out))
			nothingImported(t)
		})
	}

	t.Run("the site is imported once, by one of two servers running the document together", func(t *testing.T) {
		var wg sync.WaitGroup
		outs, errs := make([]string, 2), make([]error, 2)
		for i, s := range []*webServer{s1, s2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				outs[i], errs[i] = runImport(s, script(good, goodUploads))
			}()
		}
		wg.Wait()
		imported := 0
		for i := range outs {
			if errs[i] != nil {
				t.Fatalf("the import on web%d: %v\n%s", i+1, errs[i], tailLines(outs[i], 20))
			}
			if strings.Contains(outs[i], "imported the site from "+good) {
				imported++
				t.Logf("web%d: %s", i+1, lastLineWith(outs[i], "imported the site"))
			}
		}
		if imported != 1 {
			t.Errorf("%d servers imported, want exactly one:\n%s\n---\n%s", imported, outs[0], outs[1])
		}
		again, err := runImport(s1, script(good, goodUploads))
		if err != nil || !strings.Contains(again, "imported from "+good+" already: nothing to do") {
			t.Errorf("a re-run must do nothing: %v\n%s", err, tailLines(again, 5))
		}
		changed, err := runImport(s2, script(notWP, ""))
		if err == nil || !strings.Contains(changed, "A stack imports once") {
			t.Errorf("another source on an imported stack must be refused: %v\n%s", err, tailLines(changed, 5))
		}
		if got := q("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + dbName + "' AND TABLE_NAME NOT LIKE 'wp\\_%'"); got != "0" {
			t.Errorf("%s staging or retired tables left behind", got)
		}
	})

	t.Run("the imported site serves its post with the new URL everywhere, no old URL left", func(t *testing.T) {
		for _, table := range []string{"wp_posts", "wp_options", "wp_users", "wp_usermeta", "wp_postmeta"} {
			if got := q("SELECT COUNT(*) FROM " + table + " WHERE CONVERT(CONCAT_WS(' ', " + textColumns(t, l, table) + ") USING utf8mb4) LIKE '%" + oldHost + "%'"); got != "0" {
				t.Errorf("%s rows of %s still hold the old host %s", got, table, oldHost)
			}
		}
		// mariadb's batch output escapes backslashes (\\/), and newlines (\\n).
		content := strings.ReplaceAll(q("SELECT post_content FROM wp_posts WHERE post_name = 'moved-post'"), `\\`, `\`)
		for _, want := range []string{`href="` + newURL + `/sample-page/"`, `src="//` + rs.httpsHost + `/wp-content/uploads/2024/01/moved-pixel.png"`,
			`"url":"` + strings.ReplaceAll(newURL, "/", `\/`) + `\/wp-content`} {
			if !strings.Contains(content, want) {
				t.Errorf("the post lacks %s:\n%s", want, content)
			}
		}
		page, err := fetch(l.client(labLBAddr, nil), http.MethodGet, newURL+"/moved-post/", nil, nil)
		if err != nil || page.Code != http.StatusOK || !strings.Contains(page.Body, "Moved post") || !strings.Contains(page.Body, newURL+"/sample-page/") {
			t.Fatalf("the moved post through the load balancer: %v %s\n%.500s", err, page.Status, page.Body)
		}
		if strings.Contains(page.Body, oldHost) {
			t.Errorf("the moved post's page holds the old host %s", oldHost)
		}
	})

	t.Run("serialized options are valid PHP serialization holding the new URL; an unknown class is kept", func(t *testing.T) {
		for name, want := range map[string]string{
			"widget_text": newURL + "/about/", "theme_mods_lab-theme": newURL + "/wp-content/uploads/2024/01/moved-pixel.png",
			"lab_double": newURL + "/x", "lab_object": newURL + "/y",
		} {
			raw := q("SELECT option_value FROM wp_options WHERE option_name = '" + name + "'")
			cmd := exec.Command("php", "-r", labUnserialize)
			cmd.Stdin = strings.NewReader(raw)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%s is not valid PHP serialization: %v %s\n%s", name, err, out, raw)
				continue
			}
			if !strings.Contains(string(out), want) || strings.Contains(string(out), oldHost) {
				t.Errorf("%s holds %s, want %s", name, out, want)
			}
			if name == "lab_object" && !strings.Contains(string(out), "class Lab_Unknown") {
				t.Errorf("the object of an unknown class lost its class: %s", out)
			}
		}
	})

	t.Run("the old user logs in with the old password through the load balancer; the admin secret does not replace users", func(t *testing.T) {
		jar := newJar()
		c := l.client(labLBAddr, jar)
		login(t, c, newURL, labOldUser, labOldPassword)
		checkDashboard(t, c, newURL)
		// The old site's users, each with its own password hash: the stack's admin secret
		// neither adds a user nor resets one.
		if got := q("SELECT GROUP_CONCAT(user_login, ' ', user_pass ORDER BY ID) FROM wp_users"); got != oldUsers {
			t.Errorf("the users after the import %q, want the old site's %q", got, oldUsers)
		}
	})

	t.Run("the uploads are served by both servers, the web server's", func(t *testing.T) {
		for name, c := range viewers(l, s1, s2) {
			target := newURL + "/wp-content/uploads/" + labImportedUpload
			if name != "the load balancer" { // a server itself answers HTTP only, behind the load balancer's TLS
				target = "http://" + rs.httpsHost + "/wp-content/uploads/" + labImportedUpload
			}
			got, err := fetch(c, http.MethodGet, target, nil, nil)
			if err != nil || got.Code != http.StatusOK || got.Body != "PNG-moved-in" {
				t.Errorf("%s: the imported upload: %v %s %q", name, err, got.Status, got.Body)
			}
		}
		uid, _ := l.uploadsOwner(t)
		st, err := os.Stat(filepath.Join(l.efs, "uploads", labImportedUpload))
		if err != nil || int(st.Sys().(*syscall.Stat_t).Uid) != uid {
			t.Errorf("the imported upload is not the web server's: %v", err)
		}
	})
}

// labUnserialize reads a serialized value on stdin (allowed_classes false: nothing runs), and
// prints it as JSON (a value serialized twice, once more), and an unknown object's class.
const labUnserialize = `$raw = stream_get_contents(STDIN);
$v = unserialize($raw, ["allowed_classes" => false]);
if ($v === false && $raw !== "b:0;") { exit(1); }
if (is_string($v)) { $w = @unserialize($v, ["allowed_classes" => false]); if ($w !== false) { $v = $w; } }
echo json_encode((array) $v, JSON_UNESCAPED_SLASHES), "\n";
if ($v instanceof __PHP_Incomplete_Class) { echo "class ", ((array) $v)["__PHP_Incomplete_Class_Name"], "\n"; }`

// textColumns lists a table's text columns for CONCAT_WS.
func textColumns(t *testing.T, l *lab, table string) string {
	t.Helper()
	cols := l.db.sql("SELECT GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`')) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + dbName +
		"' AND TABLE_NAME = '" + table + "' AND DATA_TYPE IN ('char', 'varchar', 'text', 'mediumtext', 'longtext', 'tinytext')")
	return cols
}

func lastLine(s string) string { return tailLines(s, 1) }

func lastLineWith(s, needle string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], needle) {
			return lines[i]
		}
	}
	return ""
}

// The uploads archive's members: plain files and folders under one uploads root, nothing
// escaping it, no PHP, no link; import.php names the member it refuses.
func TestSiteImportArchiveMembers(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	for _, c := range []struct {
		name, names, types, want string
		ok                       bool
	}{
		{"tar of uploads/", "uploads/\nuploads/2024/\nuploads/2024/a.png\n", "d\nd\n-\n", "uploads/", true},
		{"wp-content/uploads", "./wp-content/\n./wp-content/uploads/\n./wp-content/uploads/a.png\n", "d\nd\n-\n", "wp-content/uploads/", true},
		{"the folders' contents", "2024/\n2024/01/a.jpg\n", "d\n-\n", "", true},
		{"a path with ..", "uploads/\nuploads/../../x\n", "d\n-\n", "escapes the uploads", false},
		{"an absolute path", "/etc/passwd\n", "-\n", "absolute path", false},
		{"PHP", "uploads/a.PHP5\n", "-\n", "is PHP", false},
		{"PHP mid-name", "uploads/a.phtml.jpg\n", "-\n", "is PHP", false},
		{".htaccess", "uploads/.htaccess\n", "-\n", "server configuration", false},
		{"a symbolic link", "uploads/x\n", "l\n", "is a link", false},
		{"a hard link", "uploads/x\n", "h\n", "is a link", false},
		{"WordPress's renamed upload is data", "uploads/x.php_.jpg\n", "-\n", "uploads/", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			names, types := writeTemp(t, "names", c.names), writeTemp(t, "types", c.types)
			cmd := exec.Command(php, "boot/import.php", "members", names, types)
			raw, err := cmd.CombinedOutput()
			out := string(raw)
			if (err == nil) != c.ok || !strings.Contains(out, c.want) {
				t.Errorf("members %q: %v %q, want ok %v and %q", c.names, err, out, c.ok, c.want)
			}
		})
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// trickyTitle has everything that breaks naive quoting: quotes, $, backticks, backslashes,
// a newline-free mix of Japanese and shell syntax.
const trickyTitle = `はじめての "AWS" 'site' $(rm -rf /) ` + "`id`" + ` \n $HOME ;&|`

func sampleParams() BootstrapParams {
	return BootstrapParams{
		Region:           "ap-northeast-1",
		DBSecretID:       "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-credentials-abc123-XyZ123",
		WPSecretID:       "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:web-wordpress-abc123-XyZ123",
		DBHostParameter:  "/scalable-wordpress/dev/db-host",
		SiteURLParameter: "/scalable-wordpress/dev/site-url",
		DBName:           "wordpress",
		PHPVersion:       "8.3",
		Locale:           "ja",
		ArchiveURL:       wordpressArchiveURL("ja"),
		SiteTitle:        trickyTitle,
		AdminUser:        "wpadmin",
		AdminEmail:       "admin@example.com",
	}
}

// needTool returns the path of a checking tool. CI installs them (.ci/run), so there a
// missing tool fails the test; on a laptop without it the test says what to install.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run must install %s", name, pkg)
		}
		t.Skipf("%s is not installed (apt-get install %s); CI runs this check", name, pkg)
	}
	return path
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func renderedScripts(t *testing.T) map[string]string {
	t.Helper()
	converge, err := renderConverge(sampleParams())
	if err != nil {
		t.Fatal(err)
	}
	userData, err := renderUserData(sampleParams())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"wordpress-converge": converge, "user-data.sh": userData}
}

func TestRenderedScriptsPassBashAndShellcheck(t *testing.T) {
	shellcheck := needTool(t, "shellcheck", "shellcheck")
	for name, script := range renderedScripts(t) {
		path := writeTemp(t, name, script)
		if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", name, err, out)
		}
		if out, err := exec.Command(shellcheck, "--shell=bash", "--severity=style", path).CombinedOutput(); err != nil {
			t.Errorf("shellcheck %s: %v\n%s", name, err, out)
		}
	}
}

// bootFile is one of the files in boot/, as the program embeds it.
func bootFile(t *testing.T, name string) string {
	t.Helper()
	b, err := bootFiles.ReadFile("boot/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every PHP program of the boot script passes php -l as its own file, and the rendered
// script writes each boot file byte for byte.
func TestBootFilesAreValidAndInlinedVerbatim(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	entries, err := bootFiles.ReadDir("boot")
	if err != nil {
		t.Fatal(err)
	}
	converge := renderedScripts(t)["wordpress-converge"]
	phpFiles := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmpl") {
			continue
		}
		body := bootFile(t, name)
		if !strings.Contains(converge, "<<'PHP'\n"+body+"PHP\n") && !strings.Contains(converge, "<<'CONF'\n"+body+"CONF\n") {
			t.Errorf("the converge script does not write boot/%s verbatim", name)
		}
		if strings.HasSuffix(name, ".php") {
			phpFiles++
			if out, err := exec.Command(php, "-l", filepath.Join("boot", name)).CombinedOutput(); err != nil {
				t.Errorf("php -l boot/%s: %v\n%s", name, err, out)
			}
		}
	}
	// A delimiter that occurs in the file would end the heredoc early: the renderer refuses.
	if _, err := inlineBootFile("wp-config.php", "<?php"); err == nil {
		t.Error("a boot file holding its heredoc delimiter on a line must be refused")
	}
	if phpFiles != 4 {
		t.Errorf("want the 4 PHP programs (wp-config, runtime, install, healthz), found %d", phpFiles)
	}
}

// runtime.php turns the two secrets into PHP defines; values with quotes, backslashes and
// dollars must come out byte for byte, every salt under its own name, and a missing field
// must fail.
func TestRuntimeConfigWriter(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	password := `p'a"s\s$x{y}` + "`z`"
	salts := make([]string, len(wordpressSaltNames))
	for i := range salts {
		salts[i] = fmt.Sprintf(`salt%d'b\c"d$`, i) + strings.Repeat(string(rune('A'+i)), 40)
	}
	wpSecret, err := wordpressSecretJSON("admin-pw", salts)
	if err != nil {
		t.Fatal(err)
	}
	dbSecretJSON, _ := json.Marshal(map[string]any{"engine": "mysql", "username": "admin", "password": password, "dbname": "wordpress", "port": 3306})
	dbSecret := string(dbSecretJSON)
	run := func(stdin string) (string, error) {
		cmd := exec.Command(php, filepath.Join("boot", "runtime.php"))
		cmd.Env = append(os.Environ(), "DB_NAME=wordpress", "DB_HOST=db.example.internal", "SITE_URL=http://alb.example.com")
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		return string(out), err
	}
	out, err := run(dbSecret + "\n" + wpSecret + "\n")
	if err != nil {
		t.Fatalf("runtime writer failed: %v", err)
	}
	runtime := writeTemp(t, "runtime.php", out)
	names := append([]string{"DB_PASSWORD", "DB_USER", "DB_HOST", "DB_NAME", "WP_HOME", "WP_SITEURL"}, wordpressSaltNames...)
	check := writeTemp(t, "check.php", `<?php require $argv[1]; $out = array(); foreach ( array_slice( $argv, 2 ) as $k ) { $out[ $k ] = constant( $k ); } echo json_encode( $out );`)
	got, err := exec.Command(php, append([]string{check, runtime}, names...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("generated runtime.php does not load: %v\n%s", err, got)
	}
	var defs map[string]string
	if err := json.Unmarshal(got, &defs); err != nil {
		t.Fatalf("runtime.php defines: %v\n%s", err, got)
	}
	want := map[string]string{"DB_PASSWORD": password, "DB_USER": "admin", "DB_HOST": "db.example.internal", "DB_NAME": "wordpress",
		"WP_HOME": "http://alb.example.com", "WP_SITEURL": "http://alb.example.com"}
	for i, n := range wordpressSaltNames {
		want[n] = salts[i]
	}
	for k, v := range want {
		if defs[k] != v {
			t.Errorf("runtime.php defines %s = %q, want %q", k, defs[k], v)
		}
	}
	for _, broken := range []string{
		`{"username":"admin"}` + "\n" + wpSecret + "\n",                                         // no password
		"not json\n" + wpSecret + "\n",                                                          // not JSON
		dbSecret + "\n" + strings.Replace(wpSecret, `"NONCE_SALT"`, `"NONCE_SALT_X"`, 1) + "\n", // a salt missing
	} {
		if _, err := run(broken); err == nil {
			t.Errorf("a broken secret must fail: %.60q", broken)
		}
	}
}

// wp-config.php, executed with the runtime config and WordPress stubbed: code changes only
// by rebuilding, no debug output, TLS to the database, and HTTPS recognised behind the load
// balancer.
func TestWPConfigHardening(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	dir := t.TempDir()
	config := strings.Replace(bootFile(t, "wp-config.php"), "'/run/wordpress/runtime.php'", "__DIR__ . '/runtime.php'", 1)
	for name, body := range map[string]string{
		"wp-config.php":   config,
		"runtime.php":     "<?php\n",
		"wp-settings.php": `<?php echo json_encode( array( 'mods' => DISALLOW_FILE_MODS, 'edit' => DISALLOW_FILE_EDIT, 'debug' => WP_DEBUG, 'flags' => MYSQL_CLIENT_FLAGS, 'https' => $_SERVER['HTTPS'] ?? '', 'prefix' => $GLOBALS['table_prefix'] ) );`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(config, "'/run/wordpress/runtime.php'") || !strings.Contains(config, "__DIR__ . '/runtime.php'") {
		t.Fatal("wp-config.php no longer loads /run/wordpress/runtime.php")
	}
	for proto, https := range map[string]string{"https": "on", "http": ""} {
		cmd := exec.Command(php, "-r", `$_SERVER['HTTP_X_FORWARDED_PROTO'] = getenv('PROTO'); require getenv('CONFIG');`)
		cmd.Env = append(os.Environ(), "PROTO="+proto, "CONFIG="+filepath.Join(dir, "wp-config.php"))
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wp-config.php does not run: %v\n%s", err, got)
		}
		var c struct {
			Mods, Edit, Debug bool
			Flags             int
			HTTPS, Prefix     string
		}
		if err := json.Unmarshal(got, &c); err != nil {
			t.Fatalf("wp-config.php printed %s: %v", got, err)
		}
		if !c.Mods || !c.Edit {
			t.Errorf("DISALLOW_FILE_MODS %v, DISALLOW_FILE_EDIT %v: both must be on, or servers drift apart", c.Mods, c.Edit)
		}
		// MYSQLI_CLIENT_SSL (2048) encrypts; MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT (1<<30) makes
		// mysqlnd check the certificate and the host name, without which it trusts anyone.
		if c.Debug || c.Flags&2048 == 0 || c.Flags&(1<<30) == 0 || c.Prefix != "wp_" {
			t.Errorf("WP_DEBUG %v, MYSQL_CLIENT_FLAGS %d (want MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT), table prefix %q", c.Debug, c.Flags, c.Prefix)
		}
		if c.HTTPS != https {
			t.Errorf("X-Forwarded-Proto %s: $_SERVER['HTTPS'] = %q, want %q", proto, c.HTTPS, https)
		}
	}
}

func TestShellQuoteRoundTrips(t *testing.T) {
	for _, s := range []string{trickyTitle, "", "'", `'\''`, "a b\tc", "日本語"} {
		out, err := exec.Command("bash", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("shellQuote(%q) expands to %q (%v)", s, out, err)
		}
	}
}

func TestConvergeScriptCarriesParams(t *testing.T) {
	converge := renderedScripts(t)["wordpress-converge"]
	script := writeTemp(t, "vars.sh", strings.Split(converge, "\nexport AWS_DEFAULT_REGION")[0]+
		"\nprintf '%s\\n' \"$WP_TITLE\" \"$DB_SECRET_ID\" \"$DB_HOST_PARAM\" \"$WP_ARCHIVE_URL\" \"$PHP_VERSION\" \"$HANDOFF_TIMEOUT\"\n")
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		t.Fatalf("variable block does not run: %v", err)
	}
	p := sampleParams()
	want := strings.Join([]string{p.SiteTitle, p.DBSecretID, p.DBHostParameter, "https://ja.wordpress.org/latest-ja.tar.gz", "8.3", "3600"}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("script variables:\n got %q\nwant %q", out, want)
	}
}

func TestUserDataInstallsConvergeAndUnit(t *testing.T) {
	ud := renderedScripts(t)["user-data.sh"]
	for _, want := range []string{
		"cat >/usr/local/sbin/wordpress-converge <<'WORDPRESS_CONVERGE_EOF'",
		"ExecStart=/usr/local/sbin/wordpress-converge",
		"WantedBy=multi-user.target",
		"Requires=wordpress-converge.service",
		"systemctl enable wordpress-converge.service",
		"TimeoutStartSec=5400",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q", want)
		}
	}
	if len(ud) > userDataLimit {
		t.Errorf("user data is %d bytes, over %d", len(ud), userDataLimit)
	}
	t.Logf("user data: %d of %d bytes", len(ud), userDataLimit)
}

func TestRenderRejectsEmptyParamsAndDelimiter(t *testing.T) {
	p := sampleParams()
	p.DBSecretID = ""
	if _, err := renderUserData(p); err == nil || !strings.Contains(err.Error(), "DBSecretID") {
		t.Errorf("empty DBSecretID: err = %v", err)
	}
	p = sampleParams()
	p.SiteTitle = "x\n" + convergeDelimiter + "\ny" // config validation forbids this; the renderer checks anyway
	if _, err := renderUserData(p); err == nil {
		t.Error("a converge script with the delimiter on a line must be refused")
	}
}

func TestWordPressArchiveURL(t *testing.T) {
	for locale, want := range map[string]string{
		"ja":    "https://ja.wordpress.org/latest-ja.tar.gz",
		"en_US": "https://wordpress.org/latest.tar.gz",
		"pt_BR": "https://br.wordpress.org/latest-pt_BR.tar.gz",
		"de_DE": "https://de.wordpress.org/latest-de_DE.tar.gz",
	} {
		if got := wordpressArchiveURL(locale); got != want {
			t.Errorf("wordpressArchiveURL(%q) = %q, want %q", locale, got, want)
		}
	}
}

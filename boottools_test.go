//go:build lab

package main

// The boot files checked by the tools the servers' own software brings: bash -n and
// shellcheck on the rendered scripts, php -l on every PHP program, and the PHP programs run
// by php itself. Lab tests (lab_test.go): they need Debian's php-cli and shellcheck.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every PHP program of the boot script passes php -l as its own file.
func TestBootPHPFilesLint(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	entries, err := bootFiles.ReadDir("boot")
	if err != nil {
		t.Fatal(err)
	}
	linted := 0
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".php") {
			linted++
			if out, err := exec.Command(php, "-l", filepath.Join("boot", name)).CombinedOutput(); err != nil {
				t.Errorf("php -l boot/%s: %v\n%s", name, err, out)
			}
		}
	}
	if linted == 0 {
		t.Error("no PHP program found in boot/")
	}
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
	dbSecretJSON, _ := json.Marshal(map[string]any{"engine": "mysql", "username": dbAppUser, "password": password, "dbname": "wordpress", "port": 3306})
	dbSecret := string(dbSecretJSON)
	settings := writeTemp(t, "settings.json", `{"db-name":"wordpress","db-host":"db.example.internal","site-url":"http://alb.example.com",`+
		`"forwarded-proto-header":"CloudFront-Forwarded-Proto","cookie-hash":"0123456789abcdef0123456789abcdef"}`)
	run := func(stdin string) (string, error) {
		cmd := exec.Command(php, filepath.Join("boot", "runtime.php"))
		cmd.Env = append(os.Environ(), "SETTINGS_FILE="+settings)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		return string(out), err
	}
	out, err := run(dbSecret + "\n" + wpSecret + "\n")
	if err != nil {
		t.Fatalf("runtime writer failed: %v", err)
	}
	runtime := writeTemp(t, "runtime.php", out)
	names := append([]string{"DB_PASSWORD", "DB_USER", "DB_HOST", "DB_NAME", "WP_HOME", "WP_SITEURL", "WP_FORWARDED_PROTO_HEADER", "COOKIEHASH"}, wordpressSaltNames...)
	check := writeTemp(t, "check.php", `<?php require $argv[1]; $out = array(); foreach ( array_slice( $argv, 2 ) as $k ) { $out[ $k ] = constant( $k ); } echo json_encode( $out );`)
	got, err := exec.Command(php, append([]string{check, runtime}, names...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("generated runtime.php does not load: %v\n%s", err, got)
	}
	var defs map[string]string
	if err := json.Unmarshal(got, &defs); err != nil {
		t.Fatalf("runtime.php defines: %v\n%s", err, got)
	}
	want := map[string]string{"DB_PASSWORD": password, "DB_USER": dbAppUser, "DB_HOST": "db.example.internal", "DB_NAME": "wordpress",
		"WP_HOME": "http://alb.example.com", "WP_SITEURL": "http://alb.example.com",
		"WP_FORWARDED_PROTO_HEADER": "CloudFront-Forwarded-Proto", "COOKIEHASH": "0123456789abcdef0123456789abcdef"}
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
// by rebuilding, no debug output, TLS to the database, and HTTPS recognised from the header of
// the edge that alone reaches the servers, and from no other.
func TestWPConfigHardening(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	config := strings.Replace(bootFile(t, "wp-config.php"), "'/run/wordpress/runtime.php'", "__DIR__ . '/runtime.php'", 1)
	if strings.Contains(config, "'/run/wordpress/runtime.php'") || !strings.Contains(config, "__DIR__ . '/runtime.php'") {
		t.Fatal("wp-config.php no longer loads /run/wordpress/runtime.php")
	}
	cases := []struct {
		edge, header, xfp, cfp, https string
	}{
		{"alb", "X-Forwarded-Proto", "https", "", "on"},
		{"alb", "X-Forwarded-Proto", "http", "", ""},
		{"alb", "X-Forwarded-Proto", "http", "https", ""}, // a forged CloudFront header, straight to the ALB
		{"cloudfront", "CloudFront-Forwarded-Proto", "http", "https", "on"},
		{"cloudfront", "CloudFront-Forwarded-Proto", "https", "http", ""}, // the ALB's hop says nothing of the viewer
		{"cloudfront", "CloudFront-Forwarded-Proto", "", "", ""},
	}
	for _, c := range cases {
		dir := t.TempDir()
		for name, body := range map[string]string{
			"wp-config.php":   config,
			"runtime.php":     "<?php\ndefine( 'WP_FORWARDED_PROTO_HEADER', '" + c.header + "' );\n",
			"wp-settings.php": `<?php echo json_encode( array( 'mods' => DISALLOW_FILE_MODS, 'edit' => DISALLOW_FILE_EDIT, 'debug' => WP_DEBUG, 'flags' => MYSQL_CLIENT_FLAGS, 'https' => $_SERVER['HTTPS'] ?? '', 'prefix' => $GLOBALS['table_prefix'] ) );`,
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(php, "-r", `foreach ( array( 'HTTP_X_FORWARDED_PROTO' => 'XFP', 'HTTP_CLOUDFRONT_FORWARDED_PROTO' => 'CFP' ) as $k => $e ) { if ( '' !== getenv( $e ) ) { $_SERVER[ $k ] = getenv( $e ); } } require getenv('CONFIG');`)
		cmd.Env = append(os.Environ(), "XFP="+c.xfp, "CFP="+c.cfp, "CONFIG="+filepath.Join(dir, "wp-config.php"))
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wp-config.php does not run: %v\n%s", err, got)
		}
		var w struct {
			Mods, Edit, Debug bool
			Flags             int
			HTTPS, Prefix     string
		}
		if err := json.Unmarshal(got, &w); err != nil {
			t.Fatalf("wp-config.php printed %s: %v", got, err)
		}
		if !w.Mods || !w.Edit {
			t.Errorf("DISALLOW_FILE_MODS %v, DISALLOW_FILE_EDIT %v: both must be on, or servers drift apart", w.Mods, w.Edit)
		}
		// MYSQLI_CLIENT_SSL (2048) encrypts; MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT (1<<30) makes
		// mysqlnd check the certificate and the host name, without which it trusts anyone.
		if w.Debug || w.Flags&2048 == 0 || w.Flags&(1<<30) == 0 || w.Prefix != "wp_" {
			t.Errorf("WP_DEBUG %v, MYSQL_CLIENT_FLAGS %d (want MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT), table prefix %q", w.Debug, w.Flags, w.Prefix)
		}
		if w.HTTPS != c.https {
			t.Errorf("edge %s, X-Forwarded-Proto %q, CloudFront-Forwarded-Proto %q: $_SERVER['HTTPS'] = %q, want %q", c.edge, c.xfp, c.cfp, w.HTTPS, c.https)
		}
	}
}

// settings.php turns what get-parameters-by-path returns into the settings, and waits (fails)
// until every one the program publishes is there.
func TestSettingsReader(t *testing.T) {
	php := needTool(t, "php", "php-cli")
	site := map[string]string{}
	for _, k := range siteSettings {
		site[k] = "value of " + k
	}
	site[settingTitle] = trickyTitle
	siteJSON, _ := json.Marshal(site)
	param := func(leaf, value string) map[string]any {
		return map[string]any{"Name": "/p/s/" + leaf, "Type": "String", "Value": value, "Version": 1}
	}
	run := func(args []string, stdin any) (string, error) {
		in, _ := json.Marshal(stdin)
		cmd := exec.Command(php, append([]string{filepath.Join("boot", "settings.php")}, args...)...)
		cmd.Stdin = strings.NewReader(string(in))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	all := map[string]any{"Parameters": []any{param(siteParameterLeaf, string(siteJSON)), param(dbHostParameterLeaf, "db.example"),
		param(dbMasterSecretParameterLeaf, "arn:master"), param("unrelated", "x"), map[string]any{"Name": "/other/site", "Value": "{}"}}}
	out, err := run([]string{"collect", "/p/s"}, all)
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("collect printed %q: %v", out, err)
	}
	for _, k := range allSettings() {
		want := map[string]string{settingDBHost: "db.example", settingDBMasterSecret: "arn:master"}[k]
		if want == "" {
			want = site[k]
		}
		if got[k] != want {
			t.Errorf("setting %s = %q, want %q", k, got[k], want)
		}
	}
	if v, err := run([]string{"get", settingTitle}, got); err != nil || v != trickyTitle {
		t.Errorf("get %s = %q (%v)", settingTitle, v, err)
	}
	// The database endpoint and the master credential's secret come last (RDS takes 15-20
	// minutes): until then, collect fails.
	out, err = run([]string{"collect", "/p/s"}, map[string]any{"Parameters": []any{param(siteParameterLeaf, string(siteJSON))}})
	if err == nil || !strings.Contains(out, settingDBHost) || !strings.Contains(out, settingDBMasterSecret) {
		t.Errorf("collect without the endpoint and the master credential's secret must fail naming them, got %q (%v)", out, err)
	}
	delete(site, settingEmail)
	partial, _ := json.Marshal(site)
	out, err = run([]string{"collect", "/p/s"}, map[string]any{"Parameters": []any{param(siteParameterLeaf, string(partial)), param(dbHostParameterLeaf, "db"),
		param(dbMasterSecretParameterLeaf, "arn")}})
	if err == nil || !strings.Contains(out, settingEmail) {
		t.Errorf("collect without %s must fail naming it, got %q (%v)", settingEmail, out, err)
	}
}

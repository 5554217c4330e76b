package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// trickyTitle has everything that breaks naive quoting: quotes, $, backticks, backslashes,
// a newline-free mix of Japanese and shell syntax.
const trickyTitle = `はじめての "AWS" 'site' $(rm -rf /) ` + "`id`" + ` \n $HOME ;&|`

func sampleParams() BootParams {
	return BootParams{
		Region:       "ap-northeast-1",
		SettingsPath: "/scalable-wordpress/dev",
		PHPVersion:   "8.3",
		ArchiveURL:   wporg.ArchiveURL("ja", "7.0"),
		Plugins:      []wpPackage{{Slug: "akismet", Version: "5.3.3"}},
		Themes:       []wpPackage{{Slug: "twentytwentyfive", Version: "1.2", SHA256: strings.Repeat("ab", 32)}},
		Mode:         convergeBoot,
	}
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
	imp, err := importScript()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"wordpress-converge": converge, "user-data.sh": userData, "site-import.sh": imp}
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

// The rendered script writes each boot file byte for byte (boottools_test.go lints them),
// Apache config without its comment lines, and inlines sizing.sh without its own.
func TestBootFilesAreInlinedVerbatim(t *testing.T) {
	entries, err := bootFiles.ReadDir("boot")
	if err != nil {
		t.Fatal(err)
	}
	converge := renderedScripts(t)["wordpress-converge"]
	phpFiles := 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmpl") || name == "wait-prepared.sh" { // the latter runs through SSM (image.go)
			continue
		}
		if name == "import.php" { // the site import document's (siteimport.go), never the user data's
			if script, err := importScript(); err != nil || !strings.Contains(script, "<<'PHP'\n"+bootFile(t, name)+"PHP\n") {
				t.Errorf("the import document does not write boot/%s verbatim: %v", name, err)
			}
			if strings.Contains(converge, "wpimport_") {
				t.Error("the converge script (the user data) carries the import")
			}
			continue
		}
		body := bootFile(t, name)
		if strings.HasSuffix(name, ".conf") {
			body = withoutCommentLines(body)
		}
		if name == "sizing.sh" { // inlined as the script's own functions, without its comments, not written to a file
			if !strings.Contains(converge, "\n"+shellWithoutComments(body, false)) {
				t.Errorf("the converge script does not inline boot/%s verbatim", name)
			}
			continue
		}
		if !slices.ContainsFunc([]string{"PHP", "CONF", "UNIT"}, func(d string) bool { return strings.Contains(converge, "<<'"+d+"'\n"+body+d+"\n") }) {
			t.Errorf("the converge script does not write boot/%s verbatim", name)
		}
		if strings.HasSuffix(name, ".php") {
			phpFiles++
		}
	}
	// A delimiter that occurs in the file would end the heredoc early: the renderer refuses.
	if _, err := inlineBootFile("wp-config.php", "<?php"); err == nil {
		t.Error("a boot file holding its heredoc delimiter on a line must be refused")
	}
	if phpFiles != 9 {
		t.Errorf("want the 9 PHP programs (wp-config, healthz, settings, runtime, install, dbuser, checksums, cron, edge-cache), found %d", phpFiles)
	}
}

// The converge script reaches servers without its comments (EC2's 16 KB), and without
// anything else: every other line of the template stays, in order, heredocs whole.
func TestConvergeTemplateLosesOnlyItsComments(t *testing.T) {
	in := "#!/bin/bash\n# usage: x [a|b]\n#\n# shellcheck disable=SC2016\nset -eu\n\n# a comment\n  # an indented one\n" +
		"# shellcheck disable=SC2086\necho \"# not a comment\" # a trailing one stays\ncat >f <<'CONF'\n# kept: the file's own\nCONF\n" +
		"cat >g <<CONF\n  # kept\nCONF\ncat >p <<'PHP'\n{{file \"x.php\" \"PHP\"}}PHP\n# dropped\nx=1\n"
	want := "#!/bin/bash\n# usage: x [a|b]\n#\n# shellcheck disable=SC2016\nset -eu\n\n" +
		"# shellcheck disable=SC2086\necho \"# not a comment\" # a trailing one stays\ncat >f <<'CONF'\n# kept: the file's own\nCONF\n" +
		"cat >g <<CONF\n  # kept\nCONF\ncat >p <<'PHP'\n{{file \"x.php\" \"PHP\"}}PHP\nx=1\n"
	if got := withoutComments(in); got != want {
		t.Errorf("withoutComments:\n got %q\nwant %q", got, want)
	}
	// An inlined file (sizing.sh) loses its opening comment block too.
	if got, want := shellWithoutComments("# shellcheck shell=bash\n# what it is\n#\nx=1\n", false), "# shellcheck shell=bash\nx=1\n"; got != want {
		t.Errorf("shellWithoutComments without the header:\n got %q\nwant %q", got, want)
	}
	var kept []string
	for _, line := range strings.Split(bootFile(t, "converge.sh.tmpl"), "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "# shellcheck") {
			kept = append(kept, line)
		}
	}
	var got []string
	for _, line := range strings.Split(withoutComments(bootFile(t, "converge.sh.tmpl")), "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") || strings.HasPrefix(l, "# shellcheck") {
			got = append(got, line)
		}
	}
	if !slices.Equal(got, kept) {
		t.Error("converge.sh.tmpl lost more than its comment lines")
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
	vars, _, found := strings.Cut(converge, "\nexport AWS_DEFAULT_REGION")
	if !found {
		t.Fatal("the converge script no longer exports AWS_DEFAULT_REGION after its variables")
	}
	script := writeTemp(t, "vars.sh", vars+
		"\nprintf '%s\\n' \"$PHP_VERSION\" \"$WP_ARCHIVE_URL\" \"$WP_PLUGINS\" \"$WP_THEMES\" \"$REGION\" \"$SETTINGS_PATH\" \"$HANDOFF_TIMEOUT\" \"$LAUNCH_HOOK\" \"$RECIPE\"\n")
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		t.Fatalf("variable block does not run: %v", err)
	}
	theme := "twentytwentyfive@1.2:" + strings.Repeat("ab", 32)
	want := strings.Join([]string{"8.3", "https://ja.wordpress.org/wordpress-7.0-ja.tar.gz", "akismet@5.3.3", theme,
		"ap-northeast-1", "/scalable-wordpress/dev", "3600", launchHookName,
		"php=8.3 wordpress=https://ja.wordpress.org/wordpress-7.0-ja.tar.gz plugins=akismet@5.3.3 themes=" + theme}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("script variables:\n got %q\nwant %q", out, want)
	}
}

func TestUserDataInstallsConvergeAndUnit(t *testing.T) {
	for _, mode := range []string{convergeBoot, convergePrepare} {
		p := sampleParams()
		p.Mode = mode
		ud, err := renderUserData(p)
		if err != nil {
			t.Fatal(err)
		}
		expectAll(t, ud, mode+" user data lacks", []string{
			"cat >/usr/local/sbin/wordpress-converge <<'WORDPRESS_CONVERGE_EOF'",
			"echo 'CONVERGE_MODE=" + mode + "' >/etc/sysconfig/wordpress-converge",
			"ExecStart=/usr/local/sbin/wordpress-converge $CONVERGE_MODE",
			"EnvironmentFile=-/etc/sysconfig/wordpress-converge",
			// A server from the image runs the script its own user data wrote, not the baked one.
			"After=network-online.target cloud-final.service",
			"WantedBy=multi-user.target",
			"Requires=wordpress-converge.service",
			"systemctl enable wordpress-converge.service",
			"TimeoutStartSec=5400",
			// The render gate: after the converge and the web server, never instead of them.
			"cat >/etc/systemd/system/wordpress-render-check.service <<'UNIT'",
			"Requires=wordpress-converge.service\nWants=httpd.service php-fpm.service\nAfter=wordpress-converge.service httpd.service php-fpm.service\n",
			"ExecStart=/usr/local/sbin/wordpress-converge " + convergeCheck + "\n",
		}...)
		if strings.Contains(ud, "systemctl enable "+renderCheckUnit) {
			t.Error("the render check unit must not be enabled: only a converge starts it")
		}
		payload, err := userDataPayload(ud)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeUserData(payload)
		if err != nil || back != ud {
			t.Fatalf("the payload does not decode back to the script (%v)", err)
		}
		again, _ := userDataPayload(ud)
		if again != payload {
			t.Error("the same script must give the same payload (else every run is a change)")
		}
		t.Logf("%s user data: %d bytes, %d compressed (EC2's limit %d)", mode, len(ud), len(payload)*3/4, userDataLimit)
	}
	if _, err := userDataPayload(strings.Repeat("x", 1<<20) + randomText(userDataLimit*2)); err == nil {
		t.Error("a payload over EC2's limit must be refused")
	}
}

// randomText is text that does not compress.
func randomText(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

func TestRenderRejectsEmptyParamsAndDelimiter(t *testing.T) {
	p := sampleParams()
	p.SettingsPath = ""
	if _, err := renderUserData(p); err == nil || !strings.Contains(err.Error(), "SettingsPath") {
		t.Errorf("empty SettingsPath: err = %v", err)
	}
	p = sampleParams()
	p.Mode = "configure"
	if _, err := renderUserData(p); err == nil || !strings.Contains(err.Error(), "configure") {
		t.Errorf("unknown mode: err = %v", err)
	}
	p = sampleParams()
	p.ArchiveURL = "https://x/\n" + convergeDelimiter + "\n" // config validation forbids this; the renderer checks anyway
	if _, err := renderUserData(p); err == nil {
		t.Error("a converge script with the delimiter on a line must be refused")
	}
}

// The image downloads each plugin and theme, and a plugin's checksums, from the URLs the
// updater verifies (internal/wporg): the converge script's, its variables set, are wporg's.
func TestPackageURLsAreTheUpdaters(t *testing.T) {
	script, err := renderConverge(sampleParams())
	if err != nil {
		t.Fatal(err)
	}
	find := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(script)
		if m == nil {
			t.Fatalf("the converge script has no %s", re)
		}
		return m[1]
	}
	downloads := find(`(?m)^readonly WP_DOWNLOADS=(\S+)$`)
	archive := find(`fetch --output "\$work/archive\.zip" "([^"]+)"`)
	checksums := find(`fetch --output "\$work/checksums\.json" "([^"]+)"`)
	p := wporg.Package{Slug: "akismet", Version: "5.3.3"}
	expand := func(s, kind string) string {
		return strings.NewReplacer("$WP_DOWNLOADS", downloads, "$kind", kind, "$slug", p.Slug, "$version", p.Version).Replace(s)
	}
	for _, kind := range []string{wporg.KindPlugin, wporg.KindTheme} {
		if got, want := expand(archive, kind), wporg.PackageArchiveURL(wporg.DownloadsURL, kind, p); got != want {
			t.Errorf("the converge script downloads the %s from %s, the updater verifies %s", kind, got, want)
		}
	}
	if got, want := expand(checksums, wporg.KindPlugin), wporg.PluginChecksumsURL(wporg.DownloadsURL, p); got != want {
		t.Errorf("the converge script checks the plugin against %s, the updater against %s", got, want)
	}
}

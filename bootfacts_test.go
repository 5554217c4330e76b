package main

// The facts of bootfacts.go and settings.go against the boot files that keep them as literals
// (the PHP programs, wordpress.conf, the cron unit, sizing.sh, wait-prepared.sh): each
// check reads the file's side and compares it with the Go constant, and a failure names the
// file and the fact. The templates get the facts rendered; they must not spell one out.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// factCheck is one fact as a boot file spells it: every group of every match of re must be
// want, and there must be at least min matches (a reworded literal that the pattern no
// longer finds fails too).
type factCheck struct {
	file, fact string
	re         *regexp.Regexp
	want       string
	min        int
}

func bootFactChecks() []factCheck {
	re := regexp.MustCompile
	return []factCheck{
		{"wp-config.php", "runtime config (runtimeConfig)", re(`require '([^']*)';`), runtimeConfig, 1},
		{"healthz.php", "runtime config (runtimeConfig)", re(`is_readable\( '(/[^']*)' \)`), runtimeConfig, 1},
		{"install.php", "document root (docRoot)", re(`require '([^']*)/wp-load\.php';`), docRoot, 1},
		{"cron.php", "document root (docRoot)", re(`require '([^']*)/wp-load\.php';`), docRoot, 1},
		{"import.php", "document root (docRoot)", re(`require '([^']*)/wp-load\.php';`), docRoot, 1},
		{"wordpress.conf", "document root (docRoot)", re(`<Directory "([^"]*?)(?:/wp-content/uploads)?">`), docRoot, 2},
		{"wordpress-cron.service", "web server's user (webServerUser)", re(`(?m)^(?:User|Group)=(.*)$`), webServerUser, 2},
		{"wordpress-cron.service", "PHP programs' directory (libDir)", re(`(?m)^ExecStart=\S+ (\S*)/cron\.php$`), libDir, 1},
		{"wordpress-cron.service", "converge unit (convergeUnit)", re(`(?m)^(?:After|Requires)=(\S*)\.service$`), convergeUnit, 2},
		{"sizing.sh", "web server's user (webServerUser)", re(`(?m)^(?:user|group|listen\.owner|listen\.group) = (.*)$`), webServerUser, 4},
		{"sizing.sh", "PHP error log (serverLogs, logs.go)", re(`(?m)^php_admin_value\[error_log\] = (.*)$`), serverLogFile("php-errors"), 1},
		{"wait-prepared.sh", "state directory (stateDir)", re(`(?m)^state=(.*)$`), stateDir, 1},
		{"wait-prepared.sh", "prepared marker (preparedMarker)", re(`-f \$state/(\S*) \]\]; then\n\s*echo "prepared: \$\(cat "\$state/([^"]*)"\)"`), preparedMarker, 1},
		{"wait-prepared.sh", "prepare-failed marker (prepareFailedMarker)", re(`-f \$state/(\S*) \]\]; then\n\s*echo "the prepare phase failed`), prepareFailedMarker, 1},
		{"wait-prepared.sh", "converge unit (convergeUnit)", re(`journalctl --unit (\S*)`), convergeUnit, 2},
		{"wait-prepared.sh", "prepare-wait polls (prepareWaitPolls)", re(`for \(\(i = 0; i < (\S*); i\+\+\)\)`), strconv.Itoa(prepareWaitPolls), 1},
		{"wait-prepared.sh", "prepare-wait poll interval (prepareWaitPollSeconds)", re(`(?m)^  sleep (\S*)$`), strconv.Itoa(prepareWaitPollSeconds), 1},
	}
}

// serverLogFile is the file the CloudWatch agent ships to the log group leaf.
func serverLogFile(leaf string) string {
	for _, l := range serverLogs {
		if l.leaf == leaf {
			return l.file
		}
	}
	return "(no server log " + leaf + ")"
}

// factSpellings are how a fact's value shows in a file: each must be one that a check of
// bootFactChecks reads (a verbatim file) or rendered (a template).
func factSpellings() map[string]*regexp.Regexp {
	path := func(v string) *regexp.Regexp {
		return regexp.MustCompile(regexp.QuoteMeta(v) + `(?:$|[^A-Za-z0-9_.-])`)
	}
	return map[string]*regexp.Regexp{
		"document root (docRoot)":               path(docRoot),
		"PHP programs' directory (libDir)":      path(libDir),
		"runtime directory (runtimeDir)":        path(runtimeDir),
		"state directory (stateDir)":            path(stateDir),
		"converge command (convergeCommand)":    path(convergeCommand),
		"converge mode file (convergeModeFile)": path(convergeModeFile),
		"converge lock (convergeLockFile)":      path(convergeLockFile),
		"RDS CA bundle (rdsCAFile)":             path(rdsCAFile),
		"agent config (agentConfigFile)":        path(agentConfigFile),
		"converge log (convergeLogFile)":        path(convergeLogFile),
		"converge unit (convergeUnit)":          regexp.MustCompile(`(?m)(?:^|[^/A-Za-z0-9_.-])` + regexp.QuoteMeta(convergeUnit) + `(?:\.service\b|[ \t]|$)`),
		"state marker (stateDir's markers)":     regexp.MustCompile(`\$state/[A-Za-z0-9._-]+`),
		"state marker (preparedMarker, prepareFailedMarker, wordpressFilesMarker)": regexp.MustCompile(
			`\$STATE_DIR/(?:` + regexp.QuoteMeta(preparedMarker) + `|` + regexp.QuoteMeta(prepareFailedMarker) + `|` + regexp.QuoteMeta(wordpressFilesMarker) + `)(?:$|[^A-Za-z0-9_.-])`),
		"web server's user (webServerUser)": regexp.MustCompile(`\b` + regexp.QuoteMeta(webServerUser) + `\b`),
	}
}

// commentLine tells a comment line of shell, PHP, INI or Apache config.
func commentLine(line string) bool {
	l := strings.TrimSpace(line)
	return strings.HasPrefix(l, "#") || strings.HasPrefix(l, "//") || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "*")
}

// uncovered lists where text spells a fact outside the spans covered and outside comments.
func uncovered(text string, covered [][2]int) []string {
	var out []string
	for fact, re := range factSpellings() {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if slices.ContainsFunc(covered, func(c [2]int) bool { return c[0] < m[1] && m[0] < c[1] }) {
				continue
			}
			start := strings.LastIndexByte(text[:m[0]], '\n') + 1
			end := strings.IndexByte(text[m[0]:], '\n')
			if end < 0 {
				end = len(text) - m[0]
			}
			line := text[start : m[0]+end]
			if commentLine(line) {
				continue
			}
			out = append(out, fmt.Sprintf("line %d spells the %s by hand: %q", strings.Count(text[:m[0]], "\n")+1, fact, strings.TrimSpace(line)))
		}
	}
	slices.Sort(out)
	return out
}

// The verbatim boot files keep each fact as bootfacts.go has it, and spell none of them
// anywhere this test does not read.
func TestBootFactsAgree(t *testing.T) {
	covered := map[string][][2]int{}
	for _, c := range bootFactChecks() {
		body := bootFile(t, c.file)
		matches := c.re.FindAllStringSubmatchIndex(body, -1)
		if len(matches) < c.min {
			t.Errorf("boot/%s: the %s: found %d of the at least %d places it is spelled (pattern %s); keep it where this test reads it, or update the check", c.file, c.fact, len(matches), c.min, c.re)
		}
		for _, m := range matches {
			for g := 2; g < len(m); g += 2 {
				if got := body[m[g]:m[g+1]]; got != c.want {
					t.Errorf("boot/%s line %d: the %s is %q, but bootfacts.go says %q", c.file, strings.Count(body[:m[g]], "\n")+1, c.fact, got, c.want)
				}
				covered[c.file] = append(covered[c.file], [2]int{m[g], m[g+1]})
			}
		}
	}
	entries, err := bootFiles.ReadDir("boot")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, u := range uncovered(bootFile(t, e.Name()), covered[e.Name()]) {
			hint := "check it in bootfacts_test.go"
			if strings.HasSuffix(e.Name(), ".tmpl") {
				hint = "render it from bootFacts"
			}
			t.Errorf("boot/%s %s; %s", e.Name(), u, hint)
		}
	}
}

// The converge journal's prefix: the converge-failures alarm counts convergeFailedMarker
// (logs.go), and the converge script takes install.php's last line as its word.
func TestBootFactsJournalPrefix(t *testing.T) {
	tmpl := bootFile(t, "converge.sh.tmpl")
	m := regexp.MustCompile(`(?m)^log\(\) \{ printf '([^']*)%s\\n'`).FindStringSubmatch(tmpl)
	if m == nil {
		t.Fatal("boot/converge.sh.tmpl: no log() printing a prefix")
	}
	prefix := m[1]
	if !strings.Contains(tmpl, `log "FAILED: `) || convergeFailedMarker != prefix+"FAILED" {
		t.Errorf("boot/converge.sh.tmpl logs %q then FAILED, but the alarm's filter (convergeFailedMarker, logs.go) counts %q", prefix, convergeFailedMarker)
	}
	if !strings.Contains(tmpl, `[[ $out == *"`+prefix+`"* ]]`) {
		t.Errorf("boot/converge.sh.tmpl: install_site must take install.php's line starting %q as its word", prefix)
	}
	install := bootFile(t, "install.php")
	for _, word := range []string{"installed", "already installed"} {
		if !strings.Contains(install, "echo '"+prefix+word+"'") {
			t.Errorf("boot/install.php: its last word must start %q (%s), as the converge script reads it", prefix, word)
		}
	}
}

// Every template fact is a plain shell word: the templates write them unquoted.
func TestBootFactsAreShellWords(t *testing.T) {
	word := regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			name, f := prefix+v.Type().Field(i).Name, v.Field(i)
			switch f.Kind() {
			case reflect.Struct:
				walk(name+".", f)
			case reflect.String:
				if !word.MatchString(f.String()) {
					t.Errorf("bootFacts.%s = %q is not a plain shell word", name, f.String())
				}
			case reflect.Int:
				if f.Int() <= 0 {
					t.Errorf("bootFacts.%s = %d", name, f.Int())
				}
			default:
				t.Errorf("bootFacts.%s: a %s, which the templates cannot write", name, f.Kind())
			}
		}
	}
	walk("", reflect.ValueOf(bootFactValues()))
	for _, p := range []string{docRoot, libDir, runtimeDir, runtimeConfig, convergeCommand, convergeModeFile, convergeLockFile, rdsCAFile, agentConfigFile, stateDir} {
		if !strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			t.Errorf("%q is not a clean absolute path", p)
		}
	}
}

// quoted is every single-quoted PHP string in s.
func quoted(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`'([^'\\]*)'`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// settings.php requires exactly the settings the program publishes (allSettings, in its
// order), under the parameter names settings.go gives them; every setting a PHP program or
// the converge script reads is one of them.
func TestBootFactsSettingsNames(t *testing.T) {
	php := bootFile(t, "settings.php")
	m := regexp.MustCompile(`(?s)const REQUIRED = array\((.*?)\);`).FindStringSubmatch(php)
	if m == nil {
		t.Fatal("boot/settings.php: no `const REQUIRED = array(...);` listing the settings")
	}
	required := quoted(m[1])
	for _, k := range allSettings() {
		if !slices.Contains(required, k) {
			t.Errorf("boot/settings.php: REQUIRED lacks the setting %q that settings.go publishes (allSettings)", k)
		}
	}
	for _, k := range required {
		if !slices.Contains(allSettings(), k) {
			t.Errorf("boot/settings.php: REQUIRED has the setting %q, which settings.go does not publish (add it to siteSettings, or drop it)", k)
		}
	}
	if !t.Failed() && !slices.Equal(required, allSettings()) {
		t.Errorf("boot/settings.php: REQUIRED lists the settings in the order %q, settings.go's allSettings in %q", required, allSettings())
	}
	leaves := regexp.MustCompile(`\$prefix \. '([^']*)' === \$name`).FindAllStringSubmatch(php, -1)
	var got []string
	for _, l := range leaves {
		got = append(got, l[1])
	}
	if want := []string{dbHostParameterLeaf, dbMasterSecretParameterLeaf, siteParameterLeaf}; !slices.Equal(got, want) {
		t.Errorf("boot/settings.php reads the parameters %q, settings.go publishes %q (dbHostParameterLeaf, dbMasterSecretParameterLeaf, siteParameterLeaf)", got, want)
	}

	// What the PHP programs read of the settings.
	for _, name := range []string{"runtime.php", "install.php", "dbuser.php"} {
		body := bootFile(t, name)
		reads := regexp.MustCompile(`\$settings\[ ?'([^']*)' ?\]`).FindAllStringSubmatch(body, -1)
		if len(reads) == 0 {
			t.Errorf("boot/%s reads no $settings['...']: update this test", name)
		}
		for _, r := range reads {
			if !slices.Contains(allSettings(), r[1]) {
				t.Errorf("boot/%s reads the setting %q, which settings.go does not publish", name, r[1])
			}
		}
	}
	for _, c := range regexp.MustCompile(`case '([^']*)':`).FindAllStringSubmatch(bootFile(t, "install.php"), -1) {
		if !slices.Contains(allSettings(), c[1]) {
			t.Errorf("boot/install.php applies the setting %q, which settings.go does not publish", c[1])
		}
	}
	// What the converge script reads itself (rendered from bootFacts.Setting).
	converge := renderedScripts(t)["wordpress-converge"]
	reads := regexp.MustCompile(`\$\(setting ([^)]*)\)`).FindAllStringSubmatch(converge, -1)
	if len(reads) == 0 {
		t.Error("the converge script reads no setting: update this test")
	}
	for _, r := range reads {
		if !slices.Contains(allSettings(), r[1]) {
			t.Errorf("the converge script reads the setting %q, which settings.go does not publish", r[1])
		}
	}
}

// runtime.php defines the salts the WordPress secret holds (wordpressSaltNames, compute.go),
// and reads the secret's fields by the names the program writes.
func TestBootFactsSecretShape(t *testing.T) {
	runtime := bootFile(t, "runtime.php")
	m := regexp.MustCompile(`foreach \( array\(([^)]*)\) as \$k \)`).FindStringSubmatch(runtime)
	if m == nil {
		t.Fatal("boot/runtime.php: no foreach over the salt names")
	}
	if got := quoted(m[1]); !slices.Equal(got, wordpressSaltNames) {
		t.Errorf("boot/runtime.php defines the salts %q, the WordPress secret holds %q (wordpressSaltNames, compute.go)", got, wordpressSaltNames)
	}
	secret, err := wordpressSecretJSON("pw", wordpressSaltNames)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(secret), &fields); err != nil {
		t.Fatal(err)
	}
	for file, re := range map[string]*regexp.Regexp{
		"runtime.php":      regexp.MustCompile(`\$wp\['([^']*)'\]`),
		"converge.sh.tmpl": regexp.MustCompile(`\$s\["([^"]*)"\]`),
	} {
		reads := re.FindAllStringSubmatch(bootFile(t, file), -1)
		if len(reads) == 0 {
			t.Errorf("boot/%s reads no field of the WordPress secret: update this test", file)
		}
		for _, r := range reads {
			if _, ok := fields[r[1]]; !ok {
				t.Errorf("boot/%s reads the WordPress secret's field %q, which the program does not write (wordpressSecretJSON, compute.go)", file, r[1])
			}
		}
	}
}

// The prepare wait as deployed: the wait script gives up before SSM stops it, and the
// provider waits for the association longer than SSM lets the command run.
func TestBootFactsPrepareWaitBudget(t *testing.T) {
	if prepareGiveUpSeconds >= prepareWaitSeconds || prepareWaitSeconds >= prepareAssociationWaitSeconds {
		t.Fatalf("want give-up %d < document timeout %d < association wait %d", prepareGiveUpSeconds, prepareWaitSeconds, prepareAssociationWaitSeconds)
	}
	r := mustRun(t, nil)
	wait := prepareWait(t, r)
	if got := wait.Str("waitForSuccessTimeoutSeconds"); got != strconv.Itoa(prepareAssociationWaitSeconds) {
		t.Errorf("%s: waitForSuccessTimeoutSeconds %s, want prepareAssociationWaitSeconds %d", wait.URN, got, prepareAssociationWaitSeconds)
	}
	doc := r.byID(wait.Str("name"))
	if doc == nil {
		t.Fatalf("%s: no document", wait.URN)
	}
	var content struct {
		MainSteps []struct {
			Inputs struct {
				TimeoutSeconds string   `json:"timeoutSeconds"`
				RunCommand     []string `json:"runCommand"`
			} `json:"inputs"`
		} `json:"mainSteps"`
	}
	if err := json.Unmarshal([]byte(doc.Str("content")), &content); err != nil || len(content.MainSteps) != 1 {
		t.Fatalf("%s: content is not one step (%v)", doc.URN, err)
	}
	in := content.MainSteps[0].Inputs
	if in.TimeoutSeconds != strconv.Itoa(prepareWaitSeconds) {
		t.Errorf("%s: timeoutSeconds %s, want prepareWaitSeconds %d", doc.URN, in.TimeoutSeconds, prepareWaitSeconds)
	}
	if strings.Join(in.RunCommand, "\n")+"\n" != bootFile(t, "wait-prepared.sh") {
		t.Errorf("%s: does not run boot/wait-prepared.sh", doc.URN)
	}
}

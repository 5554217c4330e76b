package updates

import (
	"strings"
	"testing"
)

// testProject is a Pulumi.yaml with the pins' declarations and defaults.
const testProject = `name: scalable-wordpress
runtime: go
config:
  wordpressLocale:
    type: string
    default: ja
  wordpressVersion:
    type: string
    default: "7.0"
  wordpressPlugins:
    type: array
    items: { type: string }
    default: []
  wordpressThemes:
    type: array
    items: { type: string }
    default: []
  phpVersion:
    type: string
    default: "8.3"
  dbEngineVersion:
    type: string
    default: "8.4"
  amiId:
    type: string
    default: ""
`

// testStack is a stack file as people write them: comments everywhere, every quoting style.
var testStack = `# The test stack: a Japanese site.
config:
  aws:region: ap-northeast-1
  # pinned by hand, reviewed monthly
  scalable-wordpress:wordpressVersion: "7.0" # keep quoted
  scalable-wordpress:wordpressPlugins:
    # spam filtering
    - akismet@5.3.3 # the hands-on's
    - 'hello-dolly@1.7.2'
  scalable-wordpress:wordpressThemes: ["twentytwentyfive@1.2:` + themeSHA + `"]
  scalable-wordpress:siteTitle: はじめてのAWS
  scalable-wordpress:phpVersion: "8.3"
# the end
`

func parse(t *testing.T, name, stack string) *StackFile {
	t.Helper()
	f, err := ParseStackFile(name, []byte(stack), []byte(testProject))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReadPins(t *testing.T) {
	p, err := parse(t, "Pulumi.dev.yaml", testStack).Pins()
	if err != nil {
		t.Fatal(err)
	}
	if p.Locale != "ja" || p.WordPress != "7.0" || len(p.Plugins) != 2 || p.Plugins[1].String() != "hello-dolly@1.7.2" ||
		len(p.Themes) != 1 || p.Themes[0].SHA256 != themeSHA || p.PHP != "8.3" || p.DBEngine != "8.4" {
		t.Errorf("pins = %+v", p)
	}
	if !p.Defaulted[KeyLocale] || p.Defaulted[KeyWordPress] || !p.Defaulted[KeyDBEngine] {
		t.Errorf("defaulted = %v, want the locale and dbEngineVersion from Pulumi.yaml, wordpressVersion from the stack file", p.Defaulted)
	}

	for _, c := range []struct{ line, want string }{
		{`scalable-wordpress:wordpressVersion: 7.10`, `7.10 is a YAML number`},
		{`scalable-wordpress:wordpressVersion: "7"`, `"7" is not a WordPress release number`},
		{`scalable-wordpress:wordpressLocale: xx`, `"xx" is not a supported locale`},
		{`scalable-wordpress:wordpressThemes: [twentytwentyfive@1.2]`, `"twentytwentyfive@1.2" is not a pin: want slug@version:sha256`},
		{`scalable-wordpress:wordpressPlugins: [a@1, a@2]`, `a is listed twice`},
		{`scalable-wordpress:wordpressPlugins: a@1`, `want a YAML list of strings`},
	} {
		_, err := parse(t, "Pulumi.prod.yaml", "config:\n  "+c.line+"\n").Pins()
		if err == nil || !strings.Contains(err.Error(), "Pulumi.prod.yaml: scalable-wordpress:") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to name the file, the key and %q", c.line, err, c.want)
		}
	}
	if _, err := ParseStackFile("dev.yaml", nil, []byte(testProject)); err == nil {
		t.Error("a stack file not named Pulumi.<stack>.yaml was accepted")
	}
}

// changedLines is the lines of after that differ from before's (same line count).
func changedLines(t *testing.T, before, after string) []string {
	t.Helper()
	b, a := strings.Split(before, "\n"), strings.Split(after, "\n")
	if len(a) != len(b) {
		t.Fatalf("the edit changed the line count:\n%s", after)
	}
	var out []string
	for i := range a {
		if a[i] != b[i] {
			out = append(out, a[i])
		}
	}
	return out
}

func TestApplyRewritesOnlyThatPin(t *testing.T) {
	newTheme := "twentytwentyfive@1.3:" + strings.Repeat("cd", 32)
	for _, c := range []struct {
		u    Update
		want string // the one changed line
	}{
		{Update{ID: "wordpress/7.0.1", Key: KeyWordPress, OldPin: "7.0", NewPin: "7.0.1"},
			`  scalable-wordpress:wordpressVersion: "7.0.1" # keep quoted`},
		{Update{ID: "plugin-akismet/5.3.5", Key: KeyPlugins, OldPin: "akismet@5.3.3", NewPin: "akismet@5.3.5"},
			`    - akismet@5.3.5 # the hands-on's`},
		{Update{ID: "plugin-hello-dolly/1.7.3", Key: KeyPlugins, OldPin: "hello-dolly@1.7.2", NewPin: "hello-dolly@1.7.3"},
			`    - 'hello-dolly@1.7.3'`},
		{Update{ID: "theme-twentytwentyfive/1.3", Key: KeyThemes, OldPin: "twentytwentyfive@1.2:" + themeSHA, NewPin: newTheme},
			`  scalable-wordpress:wordpressThemes: ["` + newTheme + `"]`},
	} {
		out, err := parse(t, "Pulumi.dev.yaml", testStack).Apply(c.u)
		if err != nil {
			t.Errorf("%s: %v", c.u.ID, err)
			continue
		}
		if got := changedLines(t, testStack, string(out)); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s changed %q, want only %q", c.u.ID, got, c.want)
		}
	}
}

func TestApplyAddsADefaultedKey(t *testing.T) {
	stack := "secretsprovider: awskms://alias/state\nconfig:\n    aws:region: ap-northeast-1 # Tokyo\n    scalable-wordpress:siteTitle: |-\n        はじめての\n        AWS\n\n# about the key below\nencryptedkey: abc\n"
	out, err := parse(t, "Pulumi.prod.yaml", stack).Apply(Update{ID: "wordpress/7.0.1", Key: KeyWordPress, OldPin: "7.0", NewPin: "7.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(stack, "        AWS\n", "        AWS\n    scalable-wordpress:wordpressVersion: \"7.0.1\"\n", 1)
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}

	// No config block at all; a list key (Pulumi.yaml's default [] with nothing to replace is
	// stale, so the project's default is given a plugin here).
	project := strings.Replace(testProject, "    default: []\n", "    default: [akismet@5.3.3]\n", 1)
	f, err := ParseStackFile("Pulumi.ci.yaml", []byte("encryptionsalt: x"), []byte(project))
	if err != nil {
		t.Fatal(err)
	}
	out, err = f.Apply(Update{ID: "plugin-akismet/5.3.5", Key: KeyPlugins, OldPin: "akismet@5.3.3", NewPin: "akismet@5.3.5"})
	if want := "encryptionsalt: x\nconfig:\n  scalable-wordpress:wordpressPlugins:\n    - akismet@5.3.5\n"; err != nil || string(out) != want {
		t.Errorf("Apply = %q, %v; want %q", out, err, want)
	}
}

func TestApplyRefusesAStaleUpdate(t *testing.T) {
	f := parse(t, "Pulumi.dev.yaml", testStack)
	for _, u := range []Update{
		{ID: "wordpress/7.0.2", Key: KeyWordPress, OldPin: "7.0.1", NewPin: "7.0.2"},
		{ID: "plugin-akismet/5.3.5", Key: KeyPlugins, OldPin: "akismet@5.3.4", NewPin: "akismet@5.3.5"},
		{ID: "plugin-gone/1.1", Key: KeyPlugins, OldPin: "gone@1.0", NewPin: "gone@1.1"},
		{ID: "plugin-akismet/5.3.5", Key: KeyPlugins, OldPin: "akismet@5.3.3", NewPin: "other@5.3.5"},
		{ID: "php/8.4", Key: KeyPHP, OldPin: "8.3", NewPin: "8.4"},
	} {
		if out, err := f.Apply(u); err == nil {
			t.Errorf("%s (%s → %s) was applied:\n%s", u.ID, u.OldPin, u.NewPin, out)
		}
	}
}

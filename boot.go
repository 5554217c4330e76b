package main

// The web servers' boot-time configuration, rendered from the files in boot/ by pure
// functions so that tests can check the exact script a server would run (bash -n,
// shellcheck, no secret values) without any Pulumi machinery. The PHP programs and the
// Apache config are files of their own (each linted by its own tool); the renderer inlines
// them into the converge script, which the user data carries whole, so a server needs
// nothing but its user data. The facts the files share (paths, state markers, the web
// server's user, setting names) are bootfacts.go's.

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/base64"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"text/template"

	"github.com/example/scalable-wordpress/internal/wporg"
)

//go:embed boot
var bootFiles embed.FS

// userDataLimit is EC2's limit on user data, before base64.
const userDataLimit = 16 * 1024

// convergeDelimiter ends the heredoc that carries the converge script in the user data.
const convergeDelimiter = "WORDPRESS_CONVERGE_EOF"

// Converge modes, as the user data sets them.
const (
	convergeBoot    = "boot"    // a server: prepare what is missing, then configure
	convergePrepare = "prepare" // the image builder: prepare only
	// convergeCheck is no user data's mode: the render check unit (renderCheckUnit) runs it
	// once the web server has started after a boot.
	convergeCheck = "check"
)

// launchHookName is the Auto Scaling group's launch lifecycle hook that a server completes
// once it has configured itself (the same name in every stack: the script finds its group).
const launchHookName = "wordpress-configured"

// BootParams are what the boot script is built from: the image recipe (PHP version and
// WordPress archive), where the stack's settings live, and the phases to run. Nothing else:
// site settings are read from SSM at boot and secrets from Secrets Manager, so a settings
// change never touches user data.
type BootParams struct {
	Region       string
	SettingsPath string // SSM path holding the stack's settings, e.g. /scalable-wordpress/dev
	PHPVersion   string
	ArchiveURL   string
	Plugins      []wpPackage
	Themes       []wpPackage
	Mode         string // convergeBoot or convergePrepare
}

var templateFuncs = template.FuncMap{"shq": shellQuote, "file": inlineBootFile, "dir": path.Dir}

var (
	convergeTemplate = bootTemplate("converge.sh.tmpl")
	userDataTemplate = bootTemplate("userdata.sh.tmpl")
)

// bootTemplate parses a script template of boot/ without its comment lines (withoutComments).
func bootTemplate(name string) *template.Template {
	return template.Must(template.New(name).Funcs(templateFuncs).Parse(withoutComments(mustBootFile(name))))
}

// mustBootFile is a file of boot/; the program cannot start without it.
func mustBootFile(name string) string {
	b, err := bootFiles.ReadFile("boot/" + name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var heredocStart = regexp.MustCompile(`[^<]<<-?'?([A-Za-z_][A-Za-z0-9_]*)'?$`)

// withoutComments is a shell script template without the comment lines after its header
// (the shebang and the comment block under it, which says what the script is and how to run
// it): the converge script's comments are for its readers here, and the user data that
// carries it must fit EC2's 16 KB. ShellCheck directives and every line of a heredoc stay (a
// heredoc ends at its delimiter, alone or after an action that inlines a file).
func withoutComments(script string) string { return shellWithoutComments(script, true) }

// shellWithoutComments is a shell script without its comment lines but ShellCheck's
// directives, heredocs whole; with keepHeader, the comment block that opens it stays too.
func shellWithoutComments(script string, keepHeader bool) string {
	var out []string
	header, heredoc := keepHeader, ""
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case heredoc != "":
			if line == heredoc || strings.HasSuffix(line, "}}"+heredoc) {
				heredoc = ""
			}
		case header && (trimmed == "" || strings.HasPrefix(trimmed, "#")):
		case strings.HasPrefix(trimmed, "#") && !strings.HasPrefix(trimmed, "# shellcheck "):
			continue
		default:
			header = false
			if m := heredocStart.FindStringSubmatch(line); m != nil {
				heredoc = m[1]
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// inlineBootFile is a file of boot/ as the body of a heredoc ended by delimiter (the
// template writes `<<'DELIM'`, the file, then DELIM).
func inlineBootFile(name, delimiter string) (string, error) {
	b, err := bootFiles.ReadFile("boot/" + name)
	if err != nil {
		return "", err
	}
	body := string(b)
	switch path.Ext(name) {
	case ".conf":
		body = withoutCommentLines(body)
	case ".sh": // inlined as the script's own code, whose comments stay in the repository too
		body = shellWithoutComments(body, false)
	}
	if !strings.HasSuffix(body, "\n") {
		return "", fmt.Errorf("boot/%s must end with a newline", name)
	}
	for _, line := range strings.Split(body, "\n") {
		if line == delimiter {
			return "", fmt.Errorf("boot/%s contains the heredoc delimiter %s on a line of its own", name, delimiter)
		}
	}
	return body, nil
}

// withoutCommentLines is an Apache config without its comment lines but the first (who wrote
// the file): they explain the repository's copy, and the user data has EC2's 16 KB.
func withoutCommentLines(body string) string {
	lines := strings.SplitAfter(body, "\n")
	out := lines[:1]
	for _, l := range lines[1:] {
		if !strings.HasPrefix(strings.TrimLeft(l, " \t"), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// shellQuote makes s one bash word that expands to exactly s.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// renderConverge renders the script that the systemd unit runs on every boot.
func renderConverge(p BootParams) (string, error) {
	for name, v := range map[string]string{
		"Region": p.Region, "SettingsPath": p.SettingsPath, "PHPVersion": p.PHPVersion, "ArchiveURL": p.ArchiveURL,
	} {
		if v == "" {
			return "", fmt.Errorf("render bootstrap: %s is empty", name)
		}
	}
	if p.Mode != convergeBoot && p.Mode != convergePrepare {
		return "", fmt.Errorf("render bootstrap: mode %q is neither %s nor %s", p.Mode, convergeBoot, convergePrepare)
	}
	agent, err := agentConfig(p.SettingsPath)
	if err != nil {
		return "", fmt.Errorf("render bootstrap: agent config: %w", err)
	}
	var b bytes.Buffer
	err = convergeTemplate.Execute(&b, struct {
		BootParams
		bootFacts
		LaunchHook            string
		Downloads             string // where plugins and themes come from, as the updater verifies them
		PluginList, ThemeList string
		AgentConfigJSON       string
	}{p, bootFactValues(), launchHookName, wporg.DownloadsURL, packageList(p.Plugins), packageList(p.Themes), agent})
	if err != nil {
		return "", fmt.Errorf("render bootstrap: %w", err)
	}
	return b.String(), nil
}

// renderUserData renders the EC2 user data: the converge script and its systemd unit.
func renderUserData(p BootParams) (string, error) {
	converge, err := renderConverge(p)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(converge, "\n") {
		if line == convergeDelimiter {
			return "", fmt.Errorf("render user data: the converge script contains the heredoc delimiter %s", convergeDelimiter)
		}
	}
	var b bytes.Buffer
	err = userDataTemplate.Execute(&b, struct {
		bootFacts
		Converge, Delimiter, Mode string
	}{bootFactValues(), converge, convergeDelimiter, p.Mode})
	if err != nil {
		return "", fmt.Errorf("render user data: %w", err)
	}
	return b.String(), nil
}

// userDataPayload is user data as EC2 takes it: gzip-compressed (cloud-init recognises and
// unpacks it), so that the script with its PHP programs fits EC2's 16 KB, then base64. The
// compressed bytes depend only on the script (no name or time in the header), so the same
// script is the same user data on every run.
func userDataPayload(script string) (string, error) {
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write([]byte(script)); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	if b.Len() > userDataLimit {
		return "", fmt.Errorf("user data: %d bytes compressed, over EC2's %d-byte limit", b.Len(), userDataLimit)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// decodeUserData reverses userDataPayload (for tests and reviewers).
func decodeUserData(payload string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(zr)
	return string(b), err
}

// packageList is the boot script's form of a plugin or theme list: the pins (slug@version,
// with :sha256 when pinned) separated by spaces. The pin syntax (internal/wporg) keeps every
// part free of spaces and shell characters.
func packageList(pkgs []wpPackage) string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, p.String())
	}
	return strings.Join(out, " ")
}

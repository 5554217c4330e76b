// Package updates finds newer releases of what a stack's image is built from (the WordPress
// release, its plugins and themes, as Pulumi.<stack>.yaml pins them), verifies each new
// archive as the image build will, and rewrites one pin at a time, so that the updates
// workflow (.github/workflows/updates.yml) opens one pull request per update. cmd/updates is
// its command line.
//
// Each kind of pin has a Source. wordpress.org answers anonymously for core, plugins and
// themes; PHP's streams on Amazon Linux 2023, Amazon Linux images and RDS's minor versions
// are published only through AWS's APIs, which need credentials, so they have no source yet
// (NotCheckedPins says why): an AWS-backed Source would plug in beside the others.
package updates

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// A Source checks one kind of pin for newer releases. It returns only updates whose archive
// it verified, and one error for what it could not check or refused (a verification that
// failed, a service that did not answer): an unverified pin never reaches a pull request.
type Source interface {
	Name() string // names the source in errors: "WordPress core", "plugins", "themes"
	Check(ctx context.Context, pins Pins) ([]Update, error)
}

// Check runs each source over the pins, in order: the updates they verified, and one error
// per source that failed, naming it.
func Check(ctx context.Context, pins Pins, sources []Source) ([]Update, []error) {
	var (
		out  []Update
		errs []error
	)
	for _, s := range sources {
		found, err := s.Check(ctx, pins)
		out = append(out, found...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	return out, errs
}

// Update is one proposed pin change, with what its pull request says.
type Update struct {
	// ID is <pin>/<version> (wordpress/7.0.1, plugin-akismet/5.3.5): the branch is
	// updates/<stack>/<ID>, so a newer release of the same pin gets a branch of its own and
	// the workflow finds the older one's by the <pin>/ prefix.
	ID   string `json:"id"`
	Key  string `json:"key"`  // the config key rewritten
	Name string `json:"name"` // "WordPress", "plugin akismet", "theme twentytwentyfive"
	From string `json:"from"` // the pinned version
	To   string `json:"to"`   // the proposed version
	// OldPin and NewPin are the config value (wordpressVersion) or list entry replaced.
	OldPin string `json:"oldPin"`
	NewPin string `json:"newPin"`
	// Security says the update fixes a security issue; SecurityNote says how that was
	// decided (and when it is only a heuristic).
	Security     bool   `json:"security"`
	SecurityNote string `json:"securityNote"`
	NotesURL     string `json:"notesUrl"` // the release notes or changelog
	Verified     string `json:"verified"` // how the new archive was checked
}

// refSafe is what an ID may be: two parts a git branch name accepts.
var refSafe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*/[0-9A-Za-z][0-9A-Za-z+-]*(?:\.[0-9A-Za-z+-]+)*$`)

// newID is the ID of an update of pin to version; an error when the version would not make a
// branch name (wordpress.org's versions always do).
func newID(pin, version string) (string, error) {
	id := pin + "/" + version
	if !refSafe.MatchString(id) || strings.HasSuffix(id, ".lock") {
		return "", fmt.Errorf("version %q does not make a branch name (updates/<stack>/%s)", version, id)
	}
	return id, nil
}

// NotChecked is a pin the updater has no source for, and why.
type NotChecked struct {
	Key string `json:"key"`
	Why string `json:"why"`
}

// NotCheckedPins are the pins without a source: their releases are published only through
// AWS's APIs, which need credentials the updates workflow does not have. They are said, not
// faked.
var NotCheckedPins = []NotChecked{
	{KeyPHP, "Amazon Linux 2023 publishes its PHP streams only in its package repositories (dnf), with no anonymous API; " +
		"the image installs the pinned stream's latest patch release at every build, and a new stream is a choice to make by hand"},
	{KeyAMI, "empty (the default) resolves the latest Amazon Linux 2023 image at every deploy; a pinned image's successors " +
		"are listed in AWS's public SSM parameters, which need AWS credentials"},
	{KeyDBEngine, "the program pins RDS for MySQL's major version only; RDS applies minor versions itself " +
		"(auto minor version upgrade, in the maintenance window), and listing them needs AWS credentials"},
}

// Title is the pull request's title and the commit's subject.
func (u Update) Title(stack string) string {
	t := fmt.Sprintf("Update %s %s to %s (stack %s)", u.Name, u.From, u.To, stack)
	if u.Security {
		t = "SECURITY: " + t
	}
	return t
}

// Body is the pull request's description (Markdown, without '#' lines, so that it is also a
// commit message's body as it is).
func (u Update) Body(stackFile string, defaulted bool) string {
	var b strings.Builder
	if u.Security {
		fmt.Fprintf(&b, "**SECURITY release.** %s\n\n", u.SecurityNote)
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| pin | `%s` in `%s` |\n", u.Key, stackFile)
	fmt.Fprintf(&b, "| old | `%s` |\n", u.OldPin)
	fmt.Fprintf(&b, "| new | `%s` |\n", u.NewPin)
	fmt.Fprintf(&b, "| release notes | %s |\n", u.NotesURL)
	fmt.Fprintf(&b, "| security release | %s |\n\n", yesNo(u.Security))
	fmt.Fprintf(&b, "**Checksum.** %s\n\n", u.Verified)
	if !u.Security {
		fmt.Fprintf(&b, "**Security.** %s\n\n", u.SecurityNote)
	}
	if defaulted {
		fmt.Fprintf(&b, "**Pinned here from now on.** `%s` left `%s` to Pulumi.yaml's default; this change sets it in the stack file, "+
			"so a later change of the default no longer reaches this stack.\n\n", stackFile, u.Key)
	}
	b.WriteString("**What merging does.** The pull request's preview shows it: `pulumi up` builds a new image and rolls the servers " +
		"(an instance refresh, launch before terminate); see docs/operations.md. ")
	if u.Key == KeyWordPress && branch(u.From) != branch(u.To) {
		fmt.Fprintf(&b, "WordPress %s is a new major or minor release: the database is snapshotted first, and the stack cannot go back "+
			"to %s without restoring that snapshot (docs/operations.md, \"Going back a WordPress release\"). ", u.To, u.From)
	}
	b.WriteString("Not checked by the updater: the PHP stream, the Amazon Linux image and RDS's minor version (docs/updates.md).\n\n")
	b.WriteString("Opened by the updates workflow (`go run ./cmd/updates`, .github/workflows/updates.yml).\n")
	return b.String()
}

// branch is a release's major and minor number (7.1 of 7.1.2), which its database schema
// follows.
func branch(release string) string {
	parts := strings.SplitN(release, ".", 3)
	return strings.Join(parts[:min(len(parts), 2)], ".")
}

func yesNo(b bool) string {
	if b {
		return "**yes**"
	}
	return "no"
}

package updates

// The command line (cmd/updates is its main):
//
//	updates check --stack-file Pulumi.dev.yaml [--json]        what is newer, verified
//	updates apply --stack-file Pulumi.dev.yaml --from FILE --id ID [--pr-body]
//
// check prints one line per update ("no updates" when there is none), or with --json the
// report apply reads. apply rewrites that one pin in the stack file and, with --pr-body,
// prints the pull request's title, a blank line and its body (a commit message as well).

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Exit codes: done (updates or none); a source failed or an update was refused (the updates
// that verified are still reported); the command could not run (usage, an unreadable stack
// file, a stale report).
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitCouldNot = 2
)

// Env is what the command needs from the outside world.
type Env struct {
	Stdout, Stderr io.Writer
	Sleep          func(ctx context.Context, d time.Duration) error // between attempts
}

// APIURL is where wordpress.org's APIs answer.
const APIURL = "https://api.wordpress.org"

// Report is what check finds, as --json prints it and apply reads it.
type Report struct {
	Stack      string       `json:"stack"`
	StackFile  string       `json:"stackFile"`
	Updates    []Update     `json:"updates"`
	NotChecked []NotChecked `json:"notChecked"`
}

// Main runs the command with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, "usage: updates check|apply --stack-file Pulumi.<stack>.yaml ... (updates <command> -h for its flags)")
		return ExitCouldNot
	}
	switch args[0] {
	case "check":
		return check(ctx, args[1:], env)
	case "apply":
		return apply(args[1:], env)
	}
	fmt.Fprintf(env.Stderr, "updates: unknown command %q: want check or apply\n", args[0])
	return ExitCouldNot
}

// fail prints an error naming the command and returns ExitCouldNot.
func fail(env Env, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "updates: "+format+"\n", a...)
	return ExitCouldNot
}

// stackFlags are the flags both commands take.
type stackFlags struct{ stackFile, projectFile string }

func (s *stackFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.stackFile, "stack-file", "", "the stack's settings, Pulumi.<stack>.yaml (required)")
	fs.StringVar(&s.projectFile, "project-file", "", "the project file (default: Pulumi.yaml beside the stack file)")
}

// load reads the stack file and its project file.
func (s *stackFlags) load() (*StackFile, error) {
	if s.stackFile == "" {
		return nil, errors.New("--stack-file is required (Pulumi.<stack>.yaml)")
	}
	if s.projectFile == "" {
		s.projectFile = filepath.Join(filepath.Dir(s.stackFile), "Pulumi.yaml")
	}
	src, err := os.ReadFile(s.stackFile)
	if err != nil {
		return nil, err
	}
	project, err := os.ReadFile(s.projectFile)
	if err != nil {
		return nil, err
	}
	return ParseStackFile(s.stackFile, src, project)
}

func check(ctx context.Context, args []string, env Env) int {
	fs := flag.NewFlagSet("updates check", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		sf                       stackFlags
		asJSON                   bool
		api, downloads, releases string
		fetch                    = &Fetcher{Sleep: env.Sleep, MaxBytes: 256 << 20, UserAgent: "scalable-wordpress-updates (+https://github.com/example/scalable-wordpress)"}
		timeout                  time.Duration
	)
	sf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON, for apply --from")
	fs.StringVar(&api, "api", APIURL, "wordpress.org's API origin")
	fs.StringVar(&downloads, "downloads", wporg.DownloadsURL, "where plugins' and themes' archives and checksums are published")
	fs.StringVar(&releases, "releases", "", "fetch release archives from this origin, same path (default: the locale's host, as the image build)")
	fs.DurationVar(&timeout, "timeout", 2*time.Minute, "time limit of each request, its body included")
	fs.IntVar(&fetch.Attempts, "attempts", 3, "attempts per request when wordpress.org does not answer (1-10)")
	fs.DurationVar(&fetch.Backoff, "backoff", 5*time.Second, "wait before the second attempt, doubled after each")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	if fs.NArg() > 0 {
		return fail(env, "check: unexpected arguments %q", fs.Args())
	}
	if timeout <= 0 || fetch.Attempts < 1 || fetch.Attempts > 10 || fetch.Backoff < 0 {
		return fail(env, "check: --timeout must be positive, --attempts 1 to 10 and --backoff not negative")
	}
	fetch.Client = &http.Client{Timeout: timeout}
	f, err := sf.load()
	if err != nil {
		return fail(env, "check: %v", err)
	}
	pins, err := f.Pins()
	if err != nil {
		return fail(env, "check: %v", err)
	}
	sources := []Source{
		Core{Fetch: fetch, API: api, Releases: releases},
		Plugins{Fetch: fetch, API: api, Downloads: downloads},
		Themes{Fetch: fetch, API: api, Downloads: downloads},
	}
	found, errs := Check(ctx, pins, sources)
	report := Report{Stack: f.Stack, StackFile: f.Path, Updates: found, NotChecked: NotCheckedPins}
	if report.Updates == nil {
		report.Updates = []Update{}
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return fail(env, "check: %v", err)
		}
	} else {
		printReport(env.Stdout, report, len(errs) > 0)
	}
	for _, err := range errs {
		fmt.Fprintf(env.Stderr, "updates: %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if len(errs) > 0 {
		return ExitFailed
	}
	return ExitOK
}

// printReport is check's text output; "no updates" only when every source answered.
func printReport(w io.Writer, r Report, failed bool) {
	if len(r.Updates) == 0 && !failed {
		fmt.Fprintln(w, "no updates")
	}
	for _, u := range r.Updates {
		fmt.Fprintf(w, "%-40s %s\n", u.ID, u.Title(r.Stack))
	}
	keys := make([]string, len(r.NotChecked))
	for i, n := range r.NotChecked {
		keys[i] = n.Key
	}
	fmt.Fprintf(w, "not checked: %s (no anonymous API publishes them: docs/updates.md)\n", strings.Join(keys, ", "))
}

func apply(args []string, env Env) int {
	fs := flag.NewFlagSet("updates apply", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		sf       stackFlags
		from, id string
		prBody   bool
	)
	sf.register(fs)
	fs.StringVar(&from, "from", "", "the report of check --json (required)")
	fs.StringVar(&id, "id", "", "the update to apply, as the report names it (required)")
	fs.BoolVar(&prBody, "pr-body", false, "print the pull request's title, a blank line and its body")
	if err := fs.Parse(args); err != nil {
		return ExitCouldNot
	}
	switch {
	case fs.NArg() > 0:
		return fail(env, "apply: unexpected arguments %q", fs.Args())
	case from == "" || id == "":
		return fail(env, "apply: --from (the report of check --json) and --id are required")
	}
	f, err := sf.load()
	if err != nil {
		return fail(env, "apply: %v", err)
	}
	u, err := findUpdate(from, f.Stack, id)
	if err != nil {
		return fail(env, "apply: %v", err)
	}
	pins, err := f.Pins()
	if err != nil {
		return fail(env, "apply: %v", err)
	}
	out, err := f.Apply(u)
	if err != nil {
		return fail(env, "apply: %v", err)
	}
	info, err := os.Stat(f.Path)
	if err != nil {
		return fail(env, "apply: %v", err)
	}
	if err := os.WriteFile(f.Path, out, info.Mode().Perm()); err != nil {
		return fail(env, "apply: %v", err)
	}
	fmt.Fprintf(env.Stderr, "updates: %s: %s %s → %s\n", f.Path, u.Key, u.OldPin, u.NewPin)
	if prBody {
		fmt.Fprintf(env.Stdout, "%s\n\n%s", u.Title(f.Stack), u.Body(f.Path, pins.Defaulted[u.Key]))
	}
	return ExitOK
}

// findUpdate reads the report and finds the update; the report must be the stack's.
func findUpdate(path, stack, id string) (Update, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the operator's own report
	if err != nil {
		return Update{}, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return Update{}, fmt.Errorf("%s is not a report of check --json: %w", path, err)
	}
	if r.Stack != stack {
		return Update{}, fmt.Errorf("%s reports on stack %q, not %q", path, r.Stack, stack)
	}
	ids := make([]string, 0, len(r.Updates))
	for _, u := range r.Updates {
		if u.ID == id {
			return u, nil
		}
		ids = append(ids, u.ID)
	}
	return Update{}, fmt.Errorf("%s has no update %s (it has: %s)", path, id, or(strings.Join(ids, ", "), "none"))
}

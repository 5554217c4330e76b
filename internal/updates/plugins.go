package updates

// Plugins: the version wordpress.org's plugin directory offers, proposed only once every file
// of its archive matches the per-file checksums wordpress.org publishes, as the image build
// requires (boot/checksums.php), and flagged as a security release by a heuristic over its
// changelog.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Plugins is the wordpressPlugins source.
type Plugins struct {
	Fetch     *Fetcher
	API       string // https://api.wordpress.org
	Downloads string // https://downloads.wordpress.org
}

// Name names the source in errors.
func (Plugins) Name() string { return "plugins" }

// Check proposes each plugin's newer version. A plugin that cannot be checked or is refused
// does not stop the others; a service that does not answer stops the source.
func (s Plugins) Check(ctx context.Context, pins Pins) ([]Update, error) {
	return checkEach(ctx, pins.Plugins, s.check)
}

// checkEach checks each pinned package: one that cannot be checked or is refused does not
// stop the others; a service that does not answer stops them all, naming what it left.
func checkEach(ctx context.Context, pinned []wporg.Package, check func(context.Context, wporg.Package) (Update, bool, error)) ([]Update, error) {
	var (
		out  []Update
		errs []error
	)
	for i, p := range pinned {
		u, ok, err := check(ctx, p)
		if errors.Is(err, ErrUnavailable) {
			return out, fmt.Errorf("%w; not checked: %s", err, slugs(pinned[i:]))
		}
		if err != nil {
			errs = append(errs, err)
		} else if ok {
			out = append(out, u)
		}
	}
	return out, errors.Join(errs...)
}

func (s Plugins) check(ctx context.Context, pinned wporg.Package) (Update, bool, error) {
	pi, err := info(ctx, s.Fetch, s.API, wporg.KindPlugin, pinned.Slug)
	if err != nil {
		return Update{}, false, err
	}
	next, ok, err := newerPin(wporg.KindPlugin, pinned, pi.Version)
	if !ok || err != nil {
		return Update{}, false, err
	}
	id, err := newID("plugin-"+pinned.Slug, next.Version)
	if err != nil {
		return Update{}, false, err
	}
	verified, err := s.verify(ctx, next)
	if err != nil {
		return Update{}, false, err
	}
	security, note := securityHeuristic(pi.section("changelog"), "The plugin's changelog", pinned.Version, next.Version)
	return Update{
		ID: id, Key: KeyPlugins, Name: "plugin " + pinned.Slug, From: pinned.Version, To: next.Version,
		OldPin: pinned.String(), NewPin: next.String(),
		Security: security, SecurityNote: note,
		NotesURL: "https://wordpress.org/plugins/" + pinned.Slug + "/#developers",
		Verified: verified,
	}, true, nil
}

// pluginChecksums is the plugin-checksums API's answer: each file's SHA-256, one or several
// (a file that differs between the archive's builds).
type pluginChecksums struct {
	Files map[string]struct {
		SHA256 digests `json:"sha256"`
	} `json:"files"`
}

// digests reads a checksum published as one string or a list of them.
type digests []string

// UnmarshalJSON takes "…" or ["…", …].
func (d *digests) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*d = digests{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*d = many
	return nil
}

// verify downloads the plugin's archive as the image build does and checks its files against
// wordpress.org's checksums as boot/checksums.php does: every published file there with a
// published SHA-256, and no other file.
func (s Plugins) verify(ctx context.Context, p wporg.Package) (string, error) {
	var sums pluginChecksums
	if err := s.Fetch.GetJSON(ctx, wporg.PluginChecksumsURL(s.Downloads, p), &sums); err != nil {
		return "", fmt.Errorf("plugin %s %s: no checksums to verify it against (the image build would refuse it too): %w", p.Slug, p.Version, err)
	}
	if len(sums.Files) == 0 {
		return "", fmt.Errorf("plugin %s %s: wordpress.org publishes an empty checksum list: not proposed", p.Slug, p.Version)
	}
	archive, err := s.Fetch.Get(ctx, wporg.PackageArchiveURL(s.Downloads, wporg.KindPlugin, p))
	if err != nil {
		return "", fmt.Errorf("plugin %s %s: %w", p.Slug, p.Version, err)
	}
	got := map[string]string{}
	err = walkZip(archive, p.Slug, func(rel string, r io.Reader) error {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return err
		}
		got[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("plugin %s %s: the archive %w: not proposed", p.Slug, p.Version, err)
	}
	if bad := mismatches(sums, got); len(bad) > 0 {
		return "", fmt.Errorf("checksum mismatch: plugin %s %s: %d file(s) are not what wordpress.org published: %s: not proposed",
			p.Slug, p.Version, len(bad), strings.Join(bad[:min(len(bad), 5)], ", "))
	}
	canonical := wporg.PackageArchiveURL(wporg.DownloadsURL, wporg.KindPlugin, p)
	return fmt.Sprintf("The updater downloaded %s (%d bytes), the archive the image build downloads: each of its %d files has the SHA-256 "+
		"wordpress.org publishes at %s, none is missing and none added. The image build checks the same (boot/checksums.php).",
		canonical, len(archive), len(got), wporg.PluginChecksumsURL(wporg.DownloadsURL, p)), nil
}

// mismatches lists, sorted, each file that is missing, changed, unpublished or published
// without a SHA-256.
func mismatches(sums pluginChecksums, got map[string]string) []string {
	var bad []string
	published := map[string]bool{}
	for path, sum := range sums.Files {
		rel := strings.TrimLeft(path, "/")
		published[rel] = true
		have, ok := got[rel]
		switch {
		case len(sum.SHA256) == 0:
			bad = append(bad, rel+" (no SHA-256 published)")
		case !ok:
			bad = append(bad, rel+" (missing)")
		case !slices.ContainsFunc(sum.SHA256, func(w string) bool { return strings.EqualFold(w, have) }):
			bad = append(bad, rel+" (changed)")
		}
	}
	for rel := range got {
		if !published[rel] {
			bad = append(bad, rel+" (not published)")
		}
	}
	slices.Sort(bad)
	return bad
}

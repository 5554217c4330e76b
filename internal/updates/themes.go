package updates

// Themes: the version wordpress.org's theme directory offers. wordpress.org publishes no
// checksum for themes, so the new pin carries the SHA-256 the updater computes of the archive
// the image build will download (and then refuses any other); the archive must hold the
// theme's folder with a style.css declaring that version. The security heuristic reads the
// changelog in the theme's readme.txt, since the theme API publishes none.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Themes is the wordpressThemes source.
type Themes struct {
	Fetch     *Fetcher
	API       string // https://api.wordpress.org
	Downloads string // https://downloads.wordpress.org
}

// Name names the source in errors.
func (Themes) Name() string { return "themes" }

// Check proposes each theme's newer version, as Plugins.Check does.
func (s Themes) Check(ctx context.Context, pins Pins) ([]Update, error) {
	return checkEach(ctx, pins.Themes, s.check)
}

func (s Themes) check(ctx context.Context, pinned wporg.Package) (Update, bool, error) {
	pi, err := info(ctx, s.Fetch, s.API, wporg.KindTheme, pinned.Slug)
	if err != nil {
		return Update{}, false, err
	}
	next, ok, err := newerPin(wporg.KindTheme, pinned, pi.Version)
	if !ok || err != nil {
		return Update{}, false, err
	}
	id, err := newID("theme-"+pinned.Slug, next.Version)
	if err != nil {
		return Update{}, false, err
	}
	a, err := s.inspect(ctx, next)
	if err != nil {
		return Update{}, false, err
	}
	next.SHA256 = a.sha256
	security, note := false, "Not known: the theme's archive has no readme.txt with a changelog (wordpress.org's theme API publishes none); read the theme's changes."
	if a.changelog != "" {
		security, note = securityHeuristic(a.changelog, "The theme's changelog (readme.txt)", pinned.Version, next.Version)
	}
	canonical := wporg.PackageArchiveURL(wporg.DownloadsURL, wporg.KindTheme, next)
	return Update{
		ID: id, Key: KeyThemes, Name: "theme " + pinned.Slug, From: pinned.Version, To: next.Version,
		OldPin: pinned.String(), NewPin: next.String(),
		Security: security, SecurityNote: note,
		NotesURL: "https://wordpress.org/themes/" + pinned.Slug + "/",
		Verified: fmt.Sprintf("wordpress.org publishes no checksum for themes. The updater downloaded %s (%d bytes), the archive the image "+
			"build downloads, found `%s/style.css` declaring version %s, and pins the archive's SHA-256 `%s`: the image build refuses any "+
			"other archive. Only review vouches for what is in it: read the theme's changes before merging.",
			canonical, a.size, next.Slug, next.Version, a.sha256),
	}, true, nil
}

// themeArchive is what the updater learns from a theme's archive.
type themeArchive struct {
	sha256    string
	size      int
	changelog string // readme.txt's changelog as headed HTML, "" when there is none
}

// styleVersion is style.css's Version header, as WordPress's get_file_data reads it.
var styleVersion = regexp.MustCompile(`(?mi)^[ \t/*#@]*Version:(.*)$`)

// inspect downloads the theme's archive, checks that it holds the theme at that version and
// hashes it.
func (s Themes) inspect(ctx context.Context, p wporg.Package) (themeArchive, error) {
	archive, err := s.Fetch.Get(ctx, wporg.PackageArchiveURL(s.Downloads, wporg.KindTheme, p))
	if err != nil {
		return themeArchive{}, fmt.Errorf("theme %s %s: %w", p.Slug, p.Version, err)
	}
	var style, readme []byte
	err = walkZip(archive, p.Slug, func(rel string, r io.Reader) error {
		var err error
		switch rel {
		case "style.css":
			style, err = io.ReadAll(r)
		case "readme.txt":
			readme, err = io.ReadAll(r)
		}
		return err
	})
	if err != nil {
		return themeArchive{}, fmt.Errorf("theme %s %s: the archive %w: not proposed", p.Slug, p.Version, err)
	}
	declared := ""
	if m := styleVersion.FindSubmatch(style); m != nil {
		declared = strings.TrimSpace(string(m[1]))
	}
	if declared != p.Version {
		return themeArchive{}, fmt.Errorf("theme %s %s: the archive's %s/style.css declares version %q, not %s: not proposed", p.Slug, p.Version, p.Slug, declared, p.Version)
	}
	sum := sha256.Sum256(archive)
	return themeArchive{sha256: hex.EncodeToString(sum[:]), size: len(archive), changelog: readmeChangelog(readme)}, nil
}

var (
	readmeSection = regexp.MustCompile(`(?m)^==\s*(.+?)\s*==\s*$`)
	readmeEntry   = regexp.MustCompile(`(?m)^=\s*(.+?)\s*=\s*$`)
)

// readmeChangelog is a readme.txt's "== Changelog ==" section with its "= 1.2 =" entry lines
// as <h4> headings, the form the plugin API renders, "" when there is none.
func readmeChangelog(readme []byte) string {
	sections := readmeSection.FindAllSubmatchIndex(readme, -1)
	for i, m := range sections {
		if !strings.EqualFold(string(readme[m[2]:m[3]]), "changelog") {
			continue
		}
		end := len(readme)
		if i+1 < len(sections) {
			end = sections[i+1][0]
		}
		body := bytes.TrimSpace(readme[m[1]:end])
		return readmeEntry.ReplaceAllString(string(body), "<h4>$1</h4>")
	}
	return ""
}

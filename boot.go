package main

// The web servers' boot-time configuration, rendered from the files in boot/ by pure
// functions so that tests can check the exact script a server would run (bash -n,
// shellcheck, no secret values) without any Pulumi machinery. The PHP programs and the
// Apache config are files of their own (each linted by its own tool); the renderer inlines
// them into the converge script, which the user data carries whole, so a server needs
// nothing but its user data.

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed boot
var bootFiles embed.FS

// userDataLimit is EC2's limit on user data before base64.
const userDataLimit = 16 * 1024

// handoffTimeoutSeconds bounds how long a server waits for the database endpoint: a Multi-AZ
// RDS instance usually takes 15-20 minutes and occasionally much longer.
const handoffTimeoutSeconds = 3600

// convergeDelimiter ends the heredoc that carries the converge script in the user data.
const convergeDelimiter = "WORDPRESS_CONVERGE_EOF"

// BootstrapParams are the non-secret facts a server needs; secrets are referenced by ARN.
type BootstrapParams struct {
	Region           string
	DBSecretID       string
	WPSecretID       string
	DBHostParameter  string
	SiteURLParameter string
	DBName           string
	PHPVersion       string
	Locale           string
	ArchiveURL       string
	SiteTitle        string
	AdminUser        string
	AdminEmail       string
}

var templateFuncs = template.FuncMap{"shq": shellQuote, "file": inlineBootFile}

var (
	convergeTemplate = template.Must(template.New("converge.sh.tmpl").Funcs(templateFuncs).ParseFS(bootFiles, "boot/converge.sh.tmpl"))
	userDataTemplate = template.Must(template.New("userdata.sh.tmpl").ParseFS(bootFiles, "boot/userdata.sh.tmpl"))
)

// inlineBootFile is a file of boot/ as the body of a heredoc ended by delimiter (the
// template writes `<<'DELIM'`, the file, then DELIM).
func inlineBootFile(name, delimiter string) (string, error) {
	b, err := bootFiles.ReadFile("boot/" + name)
	if err != nil {
		return "", err
	}
	body := string(b)
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

// shellQuote makes s one bash word that expands to exactly s.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// renderConverge renders the script that the systemd unit runs on every boot.
func renderConverge(p BootstrapParams) (string, error) {
	for name, v := range map[string]string{
		"Region": p.Region, "DBSecretID": p.DBSecretID, "WPSecretID": p.WPSecretID,
		"DBHostParameter": p.DBHostParameter, "SiteURLParameter": p.SiteURLParameter, "DBName": p.DBName,
		"PHPVersion": p.PHPVersion, "Locale": p.Locale, "ArchiveURL": p.ArchiveURL,
		"SiteTitle": p.SiteTitle, "AdminUser": p.AdminUser, "AdminEmail": p.AdminEmail,
	} {
		if v == "" {
			return "", fmt.Errorf("render bootstrap: %s is empty", name)
		}
	}
	var b bytes.Buffer
	err := convergeTemplate.Execute(&b, struct {
		BootstrapParams
		HandoffTimeoutSeconds int
	}{p, handoffTimeoutSeconds})
	if err != nil {
		return "", fmt.Errorf("render bootstrap: %w", err)
	}
	return b.String(), nil
}

// renderUserData renders the EC2 user data: the converge script and its systemd unit.
func renderUserData(p BootstrapParams) (string, error) {
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
	err = userDataTemplate.Execute(&b, map[string]any{
		"Converge":           converge,
		"Delimiter":          convergeDelimiter,
		"UnitTimeoutSeconds": handoffTimeoutSeconds + 1800,
	})
	if err != nil {
		return "", fmt.Errorf("render user data: %w", err)
	}
	if b.Len() > userDataLimit {
		return "", fmt.Errorf("render user data: %d bytes, over EC2's %d-byte limit", b.Len(), userDataLimit)
	}
	return b.String(), nil
}

// wordpressArchiveURL is where the release archive for a locale is published; the
// checksum is the same URL with ".sha1" appended.
func wordpressArchiveURL(locale string) string {
	host := wordpressDownloadHosts[locale]
	if locale == "en_US" {
		return "https://" + host + "/latest.tar.gz"
	}
	return "https://" + host + "/latest-" + locale + ".tar.gz"
}

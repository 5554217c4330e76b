package main

// Moving an existing site in (importFrom, docs/operations.md#moving-a-site-in): a new stack
// starts from the old site's database dump and uploads archive in S3 instead of a fresh
// install. The import is not in the user data (which has EC2's 16 KB, nearly all taken by the
// converge script): it is an SSM Command document (boot/import.sh.tmpl, with boot/import.php
// inlined) that an association runs on the site's servers, one at a time. Each waits for its
// own converge (which installs the fresh site the import replaces), and the first to take the
// install lock imports; the marker the import writes into the database with the site makes
// every later run, on this server or another, do nothing.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// importFromKey is the config key naming the site to move in.
const importFromKey = "importFrom"

// The fields of importFrom.
const (
	importDatabase = "database" // s3:// URI of the dump (mysqldump or wp db export, gzip or not); without it, a rewrite of the stack's own database
	importUploads  = "uploads"  // s3:// URI of the uploads archive (tar, tar.gz or zip), optional
	importSiteURL  = "siteUrl"  // the old site's URL: optional with a dump (else its siteurl option), required without
)

// importWaitSeconds bounds one run of the import document: the wait for the server's own
// converge, the downloads, the load and the copy of the uploads.
const importWaitSeconds = 3600

var (
	// s3ObjectRe is an S3 object's URI: a bucket name as S3 allows it, and a key of the
	// characters S3 calls safe (no quote, space or shell metacharacter: the document puts the
	// values in a shell script, and the role's policy names the object's ARN).
	s3ObjectRe = regexp.MustCompile(`^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([A-Za-z0-9!_.*()/-]+)$`)
	// oldSiteURLRe is a site URL: scheme, host, optional port and path, no query.
	oldSiteURLRe = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$`)
)

// importSource is importFrom, validated.
type importSource struct{ Database, Uploads, SiteURL string }

// importSource is the site to move in, or nil for a fresh install.
func (c Config) importSource() *importSource {
	if len(c.ImportFrom) == 0 {
		return nil
	}
	return &importSource{Database: c.ImportFrom[importDatabase], Uploads: c.ImportFrom[importUploads],
		SiteURL: strings.TrimRight(c.ImportFrom[importSiteURL], "/")}
}

// validateImport checks importFrom: known fields only, the dump named, each object an s3://
// URI whose key says what it holds, the old URL a site URL.
func (c Config) validateImport() error {
	if len(c.ImportFrom) == 0 {
		return nil
	}
	const shape = `want {"database": "s3://BUCKET/PROJECT-import/NAME.sql[.gz]", "uploads": "s3://BUCKET/PROJECT-import/NAME.tar.gz|.tgz|.tar|.zip" (optional), "siteUrl": "https://old.example.com" (optional)}, or, to rewrite the URLs of the database this stack has (restored from another stack's snapshot), {"siteUrl": "https://www.example.com", "uploads": ... (optional)}`
	for k := range c.ImportFrom {
		if k != importDatabase && k != importUploads && k != importSiteURL {
			return invalid(importFromKey, strconv.Quote(k), "unknown field: %s", shape)
		}
	}
	src := c.importSource()
	// The servers' permissions boundary (pipeline.ServerBoundary) lets them read only keys
	// under this prefix, whatever the bucket.
	prefix := c.Project + "-import/"
	checkObject := func(field, value string, suffixes ...string) error {
		m := s3ObjectRe.FindStringSubmatch(value)
		if m == nil || strings.Contains(m[2], "//") || strings.Contains("/"+m[2]+"/", "/../") || strings.HasSuffix(m[2], "/") {
			return invalid(importFromKey+"."+field, strconv.Quote(value), "want an S3 object's URI, s3://BUCKET/KEY (key of letters, digits and !_.*()/-): %s", shape)
		}
		if !strings.HasPrefix(m[2], prefix) {
			return invalid(importFromKey+"."+field, strconv.Quote(value), "want a key under %s (s3://BUCKET/%sNAME): the servers' permissions boundary lets them read only those", prefix, prefix)
		}
		for _, s := range suffixes {
			if strings.HasSuffix(strings.ToLower(m[2]), s) {
				return nil
			}
		}
		return invalid(importFromKey+"."+field, strconv.Quote(value), "want a key ending in %s", strings.Join(suffixes, ", "))
	}
	if src.Database == "" && src.SiteURL == "" {
		return invalid(importFromKey, "{...}", "name the database dump, or the siteUrl to rewrite the stack's own database from: %s", shape)
	}
	if src.Database != "" {
		if err := checkObject(importDatabase, src.Database, ".sql", ".sql.gz"); err != nil {
			return err
		}
	}
	if src.Uploads != "" {
		if err := checkObject(importUploads, src.Uploads, ".tar.gz", ".tgz", ".tar", ".zip"); err != nil {
			return err
		}
	}
	if src.SiteURL != "" && !oldSiteURLRe.MatchString(src.SiteURL) {
		return invalid(importFromKey+"."+importSiteURL, strconv.Quote(src.SiteURL), "want the old site's URL, e.g. https://old.example.com (scheme, host, optional port and path)")
	}
	return nil
}

// objectARN is an s3:// URI's object ARN.
func objectARN(partition, uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("arn:%s:s3:::%s%s", partition, u.Host, u.Path)
}

// importReadPolicy lets the servers read exactly the named objects. SSE-S3 objects need
// nothing more; SSE-KMS with a customer key is not supported (the servers may not decrypt
// with keys outside Secrets Manager's use).
func importReadPolicy(partition string, src *importSource) (string, error) {
	var objects []string
	if src.Database != "" {
		objects = append(objects, objectARN(partition, src.Database))
	}
	if src.Uploads != "" {
		objects = append(objects, objectARN(partition, src.Uploads))
	}
	b, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{"Sid": "ReadImportSources", "Effect": "Allow", "Action": "s3:GetObject",
			"Resource": objects}},
	})
	return string(b), err
}

// The import document's parameters, which the association passes (SSM substitutes them into
// the script; validateImport keeps them plain words).
var importParams = map[string]string{
	"database": "s3:// URI of the old site's database dump, or empty: rewrite the stack's own database from siteUrl",
	"uploads":  "s3:// URI of the old site's uploads archive, or empty",
	"siteUrl":  "the old site's URL, or empty for the dump's siteurl (required without a dump)",
}

// importScript is the document's script: boot/import.sh.tmpl rendered with the boot facts and
// the parameters' SSM placeholders.
func importScript() (string, error) {
	tmpl, err := template.New("import.sh.tmpl").Funcs(templateFuncs).Parse(withoutComments(mustBootFile("import.sh.tmpl")))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, struct {
		bootFacts
		Database, Uploads, SiteURL string
	}{bootFactValues(), "{{ database }}", "{{ uploads }}", "{{ siteUrl }}"})
	return b.String(), err
}

// SiteImportArgs are the site to move in and the servers that import it.
type SiteImportArgs struct {
	Source     *importSource
	ServerRole pulumi.StringInput // the servers' role's name
	Partition  string
	SiteTag    string
	Tags       Tags
}

// newSiteImport lets the servers read the named objects and runs the import document on them.
// Without a dump it is a rewrite of the stack's own database (restored from another stack's
// snapshot, a staging copy of production: docs/staging.md) from siteUrl to the stack's URL.
func newSiteImport(ctx *pulumi.Context, name string, args *SiteImportArgs, opts ...pulumi.ResourceOption) (*ssm.Association, error) {
	var after []pulumi.Resource
	if args.Source.Database != "" || args.Source.Uploads != "" { // a rewrite alone reads nothing
		policy, err := importReadPolicy(args.Partition, args.Source)
		if err != nil {
			return nil, err
		}
		read, err := iam.NewRolePolicy(ctx, name+"-read-sources", &iam.RolePolicyArgs{Role: args.ServerRole, Policy: pulumi.String(policy)}, opts...)
		if err != nil {
			return nil, fmt.Errorf("create the servers' read of the import sources: %w", err)
		}
		after = append(after, read)
	}
	script, err := importScript()
	if err != nil {
		return nil, err
	}
	content, err := commandDocument("Moves an existing WordPress site (database dump and uploads in S3) into this stack, once.",
		"importSite", script, importWaitSeconds, importParams)
	if err != nil {
		return nil, err
	}
	doc, err := ssm.NewDocument(ctx, name, &ssm.DocumentArgs{
		Name:           pulumi.String(documentName(ctx, "site-import")),
		DocumentType:   pulumi.String("Command"),
		DocumentFormat: pulumi.String("JSON"),
		Content:        pulumi.String(content),
		Tags:           args.Tags.Named("site-import"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("create the site import document: %w", err)
	}
	// One server at a time: the first imports, the others find the marker. A failure on one
	// (bad input fails the same everywhere) does not stop the others from saying so too.
	assoc, err := ssm.NewAssociation(ctx, name, &ssm.AssociationArgs{
		Name: doc.Name,
		Targets: ssm.AssociationTargetArray{&ssm.AssociationTargetArgs{
			Key:    pulumi.String("tag:" + siteTagKey),
			Values: pulumi.StringArray{pulumi.String(args.SiteTag)},
		}},
		Parameters: pulumi.StringMap{"database": pulumi.String(args.Source.Database),
			"uploads": pulumi.String(args.Source.Uploads), "siteUrl": pulumi.String(args.Source.SiteURL)},
		MaxConcurrency: pulumi.String("1"),
		MaxErrors:      pulumi.String("100%"),
		Tags:           args.Tags.Named("site-import"),
	}, append(opts, pulumi.DependsOn(after))...)
	if err != nil {
		return nil, fmt.Errorf("create the site import association: %w", err)
	}
	return assoc, nil
}

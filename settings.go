package main

// SiteSettings are the stack-specific settings the web servers read at boot, in SSM Parameter
// Store under the stack's path: <path>/site holds the site's settings as one JSON document,
// <path>/db-host the database endpoint and <path>/db-master-secret-arn the master
// credential's secret, which both exist only once RDS is up. A change
// reaches servers that are already running through an SSM association that runs the boot
// script's refresh on every serving instance whenever the site's settings change (its
// settingsVersion parameter is a digest of them). User data never holds them, so no
// settings change touches a server's user data, restarts it or replaces it.
//
// What needs new servers instead (the base image, the PHP version, the WordPress release)
// is in the image recipe (compute.go) and rolls through the Auto Scaling group.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The settings, by name. boot/settings.php requires exactly allSettings, and the boot files
// read them by these names (the templates get them rendered; TestBootFactsAgree checks the
// PHP programs).
const (
	settingDBHost    = "db-host"
	settingDBName    = "db-name"
	settingWPSecret  = "wordpress-secret-arn"
	settingSiteURL   = "site-url"
	settingTitle     = "site-title"
	settingAdminUser = "admin-user"
	settingEmail     = "admin-email"
	settingLocale    = "locale"
	settingUploadsFS = "uploads-file-system-id"
	settingUploadsAP = "uploads-access-point-id"
	settingProto     = "forwarded-proto-header" // the edge's header saying the viewer's protocol
	settingCookie    = "cookie-hash"            // WordPress's COOKIEHASH, which the CDN's cache key names
	settingStaging   = "staging"                // "1" on a staging stack (no mail, no indexing), else "0"
)

// The database's credentials, by the ARNs of their secrets (names of settings, not
// credentials).
//
//nolint:gosec // setting names
const (
	// settingDBAppSecret names WordPress's own database user's secret, the credentials
	// runtime.php holds.
	settingDBAppSecret = "db-app-secret-arn"
	// settingDBMasterSecret names the master credential's secret, which only the boot script
	// (root) reads, and only when WordPress's user must be created or realigned
	// (boot/dbuser.php).
	settingDBMasterSecret = "db-master-secret-arn"
	// settingDBSecret named the master credential's secret, from which servers of the
	// release before WordPress had a database user of its own built WordPress's config. It
	// is published only while the Pulumi-generated master credential exists (an existing
	// stack's migration, dbManagedMasterPassword false), so that those servers keep working
	// until the new ones replace them; this release's servers never read it.
	settingDBSecret = "db-secret-arn"
)

// siteSettings are the settings kept together in the site parameter; the database endpoint
// and the master credential's secret have parameters of their own.
var siteSettings = []string{settingDBName, settingDBAppSecret, settingWPSecret, settingSiteURL, settingTitle,
	settingAdminUser, settingEmail, settingLocale, settingUploadsFS, settingUploadsAP, settingProto, settingCookie, settingStaging}

// legacySiteSettings are published in the site parameter when given, and required by no
// server of this release.
var legacySiteSettings = []string{settingDBSecret}

// The parameters' leaf names under the stack's path.
const (
	siteParameterLeaf           = "site"
	dbHostParameterLeaf         = settingDBHost
	dbMasterSecretParameterLeaf = settingDBMasterSecret
)

// SiteSettingsArgs are the settings' values and where servers find them.
type SiteSettingsArgs struct {
	Path           string                        // the stack's path, e.g. /scalable-wordpress/dev
	DBHost         pulumi.StringInput            // the database endpoint (once RDS is up)
	DBMasterSecret pulumi.StringInput            // the master credential's secret's ARN (RDS's: once RDS is up)
	Site           map[string]pulumi.StringInput // every one of siteSettings, and of legacySiteSettings when published
	SiteTag        string                        // value of siteTagKey on the serving instances
	// DBGeneration is the serving database generation's id (dbrestore.go): with a restored
	// one the endpoint and master credential are part of the refresh's digest.
	DBGeneration string
	// RefreshAfter is what a restored generation's refresh waits for besides the parameters:
	// the servers' read of its master credential, which may be new (RDS's secret of it).
	RefreshAfter []pulumi.Resource
	Tags         Tags
}

// SiteSettings is the settings component.
type SiteSettings struct {
	pulumi.ResourceState

	Site         *ssm.Parameter
	DBHost       *ssm.Parameter
	MasterSecret *ssm.Parameter
	Refresh      *ssm.Association
}

// NewSiteSettings creates the three parameters and the refresh association.
func NewSiteSettings(ctx *pulumi.Context, name string, args *SiteSettingsArgs, opts ...pulumi.ResourceOption) (*SiteSettings, error) {
	values := pulumi.StringMap{}
	for _, k := range siteSettings {
		if args.Site[k] == nil {
			return nil, fmt.Errorf("site settings %s: no value for %s", name, k)
		}
		values[k] = args.Site[k]
	}
	for _, k := range legacySiteSettings {
		if args.Site[k] != nil {
			values[k] = args.Site[k]
		}
	}
	if args.DBMasterSecret == nil {
		return nil, fmt.Errorf("site settings %s: no value for %s", name, settingDBMasterSecret)
	}
	st := &SiteSettings{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:settings:SiteSettings", name, st, opts...); err != nil {
		return nil, fmt.Errorf("register settings component: %w", err)
	}
	parent := pulumi.Parent(st)

	site := values.ToStringMapOutput().ApplyT(func(m map[string]string) (string, error) {
		b, err := json.Marshal(m) // keys sorted: the same settings are the same document
		return string(b), err
	}).(pulumi.StringOutput)
	var err error
	st.Site, err = ssm.NewParameter(ctx, name+"-site", &ssm.ParameterArgs{
		Name:          pulumi.String(args.Path + "/" + siteParameterLeaf),
		Description:   pulumi.String("WordPress site settings (JSON), read by the web servers at boot and applied to running ones on change"),
		Type:          pulumi.String("String"),
		InsecureValue: site,
		Tags:          args.Tags.Named("site-settings"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create the site settings parameter: %w", err)
	}
	// Created by the database component in the first layout; the alias keeps it.
	st.DBHost, err = ssm.NewParameter(ctx, "db-host", &ssm.ParameterArgs{
		Name:          pulumi.String(args.Path + "/" + dbHostParameterLeaf),
		Description:   pulumi.String("WordPress database endpoint, read by the web servers at boot"),
		Type:          pulumi.String("String"),
		InsecureValue: args.DBHost,
		Tags:          args.Tags.Named("db-host"),
	}, parent, movedFrom(ctx, "db"))
	if err != nil {
		return nil, fmt.Errorf("create the database endpoint parameter: %w", err)
	}
	// Not a secret: who may read the secret it names is the servers' role's business.
	st.MasterSecret, err = ssm.NewParameter(ctx, name+"-db-master-secret", &ssm.ParameterArgs{
		Name:          pulumi.String(args.Path + "/" + dbMasterSecretParameterLeaf),
		Description:   pulumi.String("ARN of the WordPress database's master credential, which the web servers' boot script reads only to create or realign WordPress's own database user"),
		Type:          pulumi.String("String"),
		InsecureValue: args.DBMasterSecret,
		Tags:          args.Tags.Named("db-master-secret"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create the master credential's parameter: %w", err)
	}
	// With the original database, neither its endpoint nor its master credential's ARN is in
	// the digest: they exist only once RDS is up, and waiting for them would put the refresh
	// on a new stack's critical path. The endpoint never changes while a database lives (a
	// failover keeps the name); servers read the master credential's ARN afresh whenever they
	// need it. A restore (dbRestore) is the one way the endpoint changes: once a restored
	// generation serves, the digest holds its id and the two parameters' values, so the
	// refresh runs once they hold the new database's, and only then.
	version := st.Site.InsecureValue.ApplyT(func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return hex.EncodeToString(sum[:8])
	}).(pulumi.StringOutput)
	if args.DBGeneration != "" && args.DBGeneration != originalGeneration {
		version = pulumi.All(st.Site.InsecureValue, st.DBHost.InsecureValue, st.MasterSecret.InsecureValue).ApplyT(func(v []any) string {
			sum := sha256.Sum256([]byte(fmt.Sprintf("%s\n%s\n%s\n%s", v[0], args.DBGeneration, v[1], v[2])))
			return hex.EncodeToString(sum[:8])
		}).(pulumi.StringOutput)
	}
	refreshOpts := []pulumi.ResourceOption{parent}
	if args.DBGeneration != "" && args.DBGeneration != originalGeneration && len(args.RefreshAfter) > 0 {
		refreshOpts = append(refreshOpts, pulumi.DependsOn(args.RefreshAfter))
	}
	if st.Refresh, err = newSettingsRefresh(ctx, name, args, version, refreshOpts...); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(st, pulumi.Map{"path": pulumi.String(args.Path)}); err != nil {
		return nil, fmt.Errorf("register settings outputs: %w", err)
	}
	return st, nil
}

// refreshScript is what the refresh association runs on each server.
const refreshScript = `echo "applying settings version {{ settingsVersion }}"
` + convergeCommand + ` refresh`

// newSettingsRefresh runs the boot script's refresh on every serving instance of the stack
// when the settings change (and on servers that join later, where it finds nothing to do).
// Half the servers at a time; the refresh replaces the runtime settings file atomically and
// restarts nothing, so no request is dropped.
func newSettingsRefresh(ctx *pulumi.Context, name string, args *SiteSettingsArgs, version pulumi.StringOutput, opts ...pulumi.ResourceOption) (*ssm.Association, error) {
	parent := opts[0]
	content, err := commandDocument("Re-applies the stack's WordPress settings on this server (wordpress-converge refresh).",
		"refresh", refreshScript, 900, map[string]string{"settingsVersion": "Digest of the settings; a new value re-runs the refresh"})
	if err != nil {
		return nil, err
	}
	doc, err := ssm.NewDocument(ctx, name+"-refresh", &ssm.DocumentArgs{
		Name:           pulumi.String(documentName(ctx, "settings-refresh")),
		DocumentType:   pulumi.String("Command"),
		DocumentFormat: pulumi.String("JSON"),
		Content:        pulumi.String(content),
		Tags:           args.Tags.Named("settings-refresh"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create the settings refresh document: %w", err)
	}
	assoc, err := ssm.NewAssociation(ctx, name+"-refresh", &ssm.AssociationArgs{
		Name: doc.Name,
		Targets: ssm.AssociationTargetArray{&ssm.AssociationTargetArgs{
			Key:    pulumi.String("tag:" + siteTagKey),
			Values: pulumi.StringArray{pulumi.String(args.SiteTag)},
		}},
		Parameters:     pulumi.StringMap{"settingsVersion": version},
		MaxConcurrency: pulumi.String("50%"),
		MaxErrors:      pulumi.String("50%"),
		Tags:           args.Tags.Named("settings-refresh"),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("create the settings refresh association: %w", err)
	}
	return assoc, nil
}

// allSettings are every setting a server needs, in the order boot/settings.php lists them.
func allSettings() []string {
	return append([]string{settingDBHost, settingDBMasterSecret}, slices.Clone(siteSettings)...)
}

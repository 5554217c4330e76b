package main

//go:generate go run ./cmd/configref

// Config is the stack's settings, typed and validated before any resource exists.
//
// Pulumi.yaml is the one source of the defaults: it declares every key with its type,
// description and default, and the Pulumi CLI hands those defaults to the program for every
// key a stack file leaves unset. The code therefore holds no default of its own; a key that
// reaches it unset is a project file without that declaration, and fails naming the key.
// The unit tests load the same Pulumi.yaml (mocks_test.go), so they see what the engine sees.

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/example/scalable-wordpress/internal/wporg"
)

// Config holds every knob of the stack. Field comments name the config key.
type Config struct {
	Project string
	Stack   string
	Region  string // aws:region

	AvailabilityZones  []string // availabilityZones
	VpcCidr            string   // vpcCidr
	PublicSubnetCidrs  []string // publicSubnetCidrs
	PrivateSubnetCidrs []string // privateSubnetCidrs

	WebTierMode       string // webTierMode: "autoscaling" (default) or "fixed" (the hands-on's layout)
	InstanceType      string // instanceType
	WebServerCount    int    // webServerCount: servers of the fixed mode
	WebMinSize        int    // webMinSize
	WebMaxSize        int    // webMaxSize
	WebDesired        int    // webDesiredCapacity: at creation; the scaling policy owns it after
	ScalingMetric     string // scalingMetric: "requests" or "cpu"
	ScalingRequests   int    // scalingRequestsPerTarget: ALB requests per target per minute (0 in config: derived)
	ScalingCPUPercent int    // scalingCpuPercent: average CPU of the group
	BakeMinutes       int    // releaseBakeMinutes: the refresh's wait at its first checkpoint
	AmiID             string // amiId: pins the image; empty resolves the current Amazon Linux 2023
	RootVolumeSizeGiB int    // rootVolumeSizeGiB
	ImagesKept        int    // imagesKept: golden images left launchable; cmd/rollout prunes older ones
	SSHCidr           string // sshCidr: empty keeps port 22 closed
	KeyPairName       string // keyPairName

	WordPressLocale  string   // wordpressLocale
	WordPressVersion string   // wordpressVersion
	Plugins          []string // wordpressPlugins: slug@version
	Themes           []string // wordpressThemes: slug@version:sha256
	PHPVersion       string   // phpVersion
	// AllowWordPressDowngrade (allowWordPressDowngrade) lets wordpressVersion go below the
	// last deploy's: only once the database went back too (release.go).
	AllowWordPressDowngrade bool

	plugins, themes []wpPackage // the two lists parsed, by validateCode

	// ImportFrom (importFrom) names an existing site to move in: its database dump, uploads
	// archive and old URL (siteimport.go); empty for a fresh install.
	ImportFrom map[string]string

	UploadsThroughputMode string // uploadsThroughputMode
	UploadsBackup         bool   // uploadsBackup
	UploadsProtection     bool   // uploadsProtection: Pulumi refuses to delete or replace the file system
	// Ephemeral (ephemeral) declares a throwaway stack (staging, dev): destroyed without a
	// final database snapshot or a final uploads backup, and with nothing protected.
	Ephemeral bool
	// Staging (staging) makes an ephemeral stack a staging copy of another: search engines
	// discouraged (blog_public 0, kept so on every converge) and no e-mail sent to anyone
	// (docs/staging.md).
	Staging    bool
	SiteTitle  string // siteTitle
	AdminUser  string // adminUser
	AdminEmail string // adminEmail

	DBEngineVersion          string // dbEngineVersion (major, e.g. 8.4)
	DBInstanceClass          string // dbInstanceClass
	DBAllocatedStorageGiB    int    // dbAllocatedStorageGiB
	DBMaxStorageGiB          int    // dbMaxAllocatedStorageGiB
	DBMultiAZ                bool   // dbMultiAz
	DBApplyImmediately       bool   // dbApplyImmediately: else changes wait for the maintenance window
	DBBackupRetentionDays    int    // dbBackupRetentionDays
	DBDeletionProtection     bool   // dbDeletionProtection
	DBFinalSnapshot          bool   // dbFinalSnapshot
	DBManagedMasterPassword  bool   // dbManagedMasterPassword: RDS keeps and rotates the master password
	DBServersReadMaster      bool   // dbServersReadMaster: the servers' role may read the master credential
	SecretRecoveryWindowDays int    // secretRecoveryWindowDays
	// DBRestore (dbRestore) asks the next up for a new database restored from a point in time
	// or a snapshot; DBRetire (dbRetire) lists generations that leave the stack, kept in RDS
	// (dbrestore.go).
	DBRestore    DBRestore
	DBRetire     []string
	dbRestoreRaw map[string]string
	// UploadsRestore (uploadsRestore) hands the servers a restored uploads file system
	// (uploadsrestore.go).
	UploadsRestore    UploadsRestore
	uploadsRestoreRaw map[string]string

	AlarmEmail       string          // alarmEmail: "" subscribes no one
	Alarms           AlarmThresholds // alarm* keys
	LogRetentionDays int             // logRetentionDays

	Edge            string            // edge: "cloudfront" (default) or "alb" (the hands-on's internet-facing ALB)
	PageTTLSeconds  int               // cdnPageTtlSeconds: how long CloudFront keeps an anonymous page
	CDNAccessLogs   bool              // cdnAccessLogs: CloudFront's access logs in CloudWatch Logs (us-east-1)
	WAF             bool              // waf: a web ACL in front of the site
	WAFLoginLimit   int               // wafLoginRateLimit: requests to wp-login.php and xmlrpc.php per IP per 5 minutes
	HealthCheckPath string            // healthCheckPath
	CertificateArn  string            // certificateArn: in us-east-1 for CloudFront, aws:region for the ALB; empty: see siteURL
	SiteDomain      string            // siteDomain: DNS name users reach the site by; empty uses the edge's own name
	ExtraTags       map[string]string // tags

	IAMPermissionsBoundary string // iamPermissionsBoundary: ARN every role the program creates carries; "" for none
}

// dbEngineMajors lists the RDS for MySQL majors in standard support, with the date it ends.
// 8.0 is absent on purpose: its standard support ended 2026-07-31 and RDS now bills
// Extended Support for it.
var dbEngineMajors = map[string]string{
	"8.4": "2029-07-31",
}

// Web tier modes: an Auto Scaling group that rolls changes without downtime, or the
// hands-on's fixed servers (server 1 and clones of its image).
const (
	modeAutoScaling = "autoscaling"
	modeFixed       = "fixed"
)

// Scaling metrics of the target-tracking policy.
const (
	metricRequests = "requests"
	metricCPU      = "cpu"
)

// Edges: what visitors connect to.
const (
	edgeCloudFront = "cloudfront" // CloudFront in front of an internal load balancer (a VPC origin)
	edgeALB        = "alb"        // the hands-on's internet-facing load balancer
)

// cloudFrontCertificateRegion is the one region CloudFront takes ACM certificates (and web ACLs) from.
const cloudFrontCertificateRegion = "us-east-1"

// minRootVolumeGiB is the smallest root volume a web server may have: Amazon Linux 2023's own.
const minRootVolumeGiB = 8

// Golden images kept (imagesKept): the current one and at least the one before, which an
// instance refresh that rolls back launches again; at most a number whose snapshots cost
// little (an 8 GiB image each).
const (
	minImagesKept = 2
	maxImagesKept = 20
)

// minWordPress is the oldest release the servers' PHP (8.3 and later) supports.
var minWordPress = [2]int{6, 4}

// wpPackage is one plugin or theme of the image recipe; its syntax is internal/wporg's, which
// the updater (internal/updates) shares.
type wpPackage = wporg.Package

// parsePackages reads a plugin or theme list; needHash says every entry must carry its
// archive's SHA-256. The error names the key and the entry.
func parsePackages(key string, list []string, needHash bool) ([]wpPackage, error) {
	form := "slug@version, e.g. akismet@5.3.3 (the slug and version of its wordpress.org page)"
	if needHash {
		form = "slug@version:sha256, e.g. twentytwentyfive@1.2:<64 hex digits> (wordpress.org publishes no checksums for themes: pin the archive's SHA-256, from sha256sum of the .zip)"
	}
	var out []wpPackage
	seen := map[string]bool{}
	for _, entry := range list {
		p, ok := wporg.ParsePackage(entry)
		if !ok || (needHash && p.SHA256 == "") {
			return nil, invalid(key, fmt.Sprintf("%q", entry), "want %s", form)
		}
		if seen[p.Slug] {
			return nil, invalid(key, fmt.Sprintf("%q", entry), "%s is listed twice; list each slug once", p.Slug)
		}
		seen[p.Slug] = true
		out = append(out, p)
	}
	return out, nil
}

// validateCode checks what the image is built from besides PHP: the WordPress release, its
// plugins and themes, and where uploads live.
func (c *Config) validateCode() error {
	m := wporg.ReleaseRe.FindStringSubmatch(c.WordPressVersion)
	if m == nil {
		return invalid("wordpressVersion", fmt.Sprintf("%q", c.WordPressVersion), "want a WordPress release number such as 7.0 or 6.8.3%s", quoteHint(c.WordPressVersion))
	}
	if major, minor := atoi(m[1]), atoi(m[2]); major < minWordPress[0] || (major == minWordPress[0] && minor < minWordPress[1]) {
		return invalid("wordpressVersion", c.WordPressVersion, "want %d.%d or later (older releases do not support PHP 8.3)", minWordPress[0], minWordPress[1])
	}
	var err error
	if c.plugins, err = parsePackages("wordpressPlugins", c.Plugins, false); err != nil {
		return err
	}
	if c.themes, err = parsePackages("wordpressThemes", c.Themes, true); err != nil {
		return err
	}
	if c.UploadsThroughputMode != throughputElastic && c.UploadsThroughputMode != throughputBursting {
		return invalid("uploadsThroughputMode", c.UploadsThroughputMode, "want %s (pay per GB transferred) or %s (credits that grow with the stored size)", throughputElastic, throughputBursting)
	}
	return nil
}

// recipe is what the golden image is built from (the lists as validateCode parsed them).
func (c Config) recipe() ImageRecipe {
	return ImageRecipe{PHPVersion: c.PHPVersion, Locale: c.WordPressLocale, WordPressVersion: c.WordPressVersion,
		Plugins: c.plugins, Themes: c.themes}
}

// atoi is strconv.Atoi for digits a pattern already matched.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// phpVersions are the PHP 8.x streams Amazon Linux 2023 packages that still get security fixes.
var phpVersions = []string{"8.3", "8.4"}

// loadConfig reads the stack's config and validates it. It makes one invoke (the region's
// AZs) and registers nothing, so a bad stack fails before any resource.
func loadConfig(ctx *pulumi.Context) (Config, error) {
	c := Config{Project: ctx.Project(), Stack: ctx.Stack()}
	if region := config.New(ctx, "aws").Get("region"); region != "" {
		c.Region = region
	} else {
		return c, errors.New("config aws:region is not set: set it with `pulumi config set aws:region ap-northeast-1`")
	}
	r := &configReader{c: config.New(ctx, "")}
	const (
		wholeNumber = "want a whole number"
		trueFalse   = "want true or false"
		stringList  = `want a list of strings, e.g. ["a", "b"]`
	)
	c.AvailabilityZones = read(r, "availabilityZones", stringList, tryJSON[[]string](r.c))
	c.VpcCidr = read(r, "vpcCidr", "", r.c.Try)
	c.PublicSubnetCidrs = read(r, "publicSubnetCidrs", stringList, tryJSON[[]string](r.c))
	c.PrivateSubnetCidrs = read(r, "privateSubnetCidrs", stringList, tryJSON[[]string](r.c))
	c.WebTierMode = read(r, "webTierMode", "", r.c.Try)
	c.InstanceType = read(r, "instanceType", "", r.c.Try)
	c.WebServerCount = read(r, "webServerCount", wholeNumber, r.c.TryInt)
	c.WebMinSize = read(r, "webMinSize", wholeNumber, r.c.TryInt)
	c.WebMaxSize = read(r, "webMaxSize", wholeNumber, r.c.TryInt)
	c.WebDesired = read(r, "webDesiredCapacity", wholeNumber, r.c.TryInt)
	c.ScalingMetric = read(r, "scalingMetric", "", r.c.Try)
	c.ScalingRequests = read(r, "scalingRequestsPerTarget", wholeNumber, r.c.TryInt)
	c.ScalingCPUPercent = read(r, "scalingCpuPercent", wholeNumber, r.c.TryInt)
	c.BakeMinutes = read(r, "releaseBakeMinutes", wholeNumber, r.c.TryInt)
	c.AmiID = read(r, "amiId", "", r.c.Try)
	c.RootVolumeSizeGiB = read(r, "rootVolumeSizeGiB", wholeNumber, r.c.TryInt)
	c.ImagesKept = read(r, "imagesKept", wholeNumber, r.c.TryInt)
	c.SSHCidr = read(r, "sshCidr", "", r.c.Try)
	c.KeyPairName = read(r, "keyPairName", "", r.c.Try)
	c.WordPressLocale = read(r, "wordpressLocale", "", r.c.Try)
	c.PHPVersion = read(r, "phpVersion", "", r.c.Try)
	c.WordPressVersion = read(r, "wordpressVersion", "", r.c.Try)
	c.AllowWordPressDowngrade = read(r, "allowWordPressDowngrade", trueFalse, r.c.TryBool)
	c.Plugins = read(r, "wordpressPlugins", stringList, tryJSON[[]string](r.c))
	c.Themes = read(r, "wordpressThemes", stringList, tryJSON[[]string](r.c))
	c.UploadsThroughputMode = read(r, "uploadsThroughputMode", "", r.c.Try)
	c.UploadsBackup = read(r, "uploadsBackup", trueFalse, r.c.TryBool)
	c.UploadsProtection = read(r, "uploadsProtection", trueFalse, r.c.TryBool)
	c.Ephemeral = read(r, "ephemeral", trueFalse, r.c.TryBool)
	c.Staging = read(r, "staging", trueFalse, r.c.TryBool)
	c.SiteTitle = read(r, "siteTitle", "", r.c.Try)
	c.AdminUser = read(r, "adminUser", "", r.c.Try)
	c.AdminEmail = read(r, "adminEmail", "", r.c.Try)
	c.DBEngineVersion = read(r, "dbEngineVersion", "", r.c.Try)
	c.DBInstanceClass = read(r, "dbInstanceClass", "", r.c.Try)
	c.DBAllocatedStorageGiB = read(r, "dbAllocatedStorageGiB", wholeNumber, r.c.TryInt)
	c.DBMaxStorageGiB = read(r, "dbMaxAllocatedStorageGiB", wholeNumber, r.c.TryInt)
	c.DBMultiAZ = read(r, "dbMultiAz", trueFalse, r.c.TryBool)
	c.DBApplyImmediately = read(r, "dbApplyImmediately", trueFalse, r.c.TryBool)
	c.DBBackupRetentionDays = read(r, "dbBackupRetentionDays", wholeNumber, r.c.TryInt)
	c.DBDeletionProtection = read(r, "dbDeletionProtection", trueFalse, r.c.TryBool)
	c.DBFinalSnapshot = read(r, "dbFinalSnapshot", trueFalse, r.c.TryBool)
	c.DBManagedMasterPassword = read(r, "dbManagedMasterPassword", trueFalse, r.c.TryBool)
	c.DBServersReadMaster = read(r, "dbServersReadMaster", trueFalse, r.c.TryBool)
	c.SecretRecoveryWindowDays = read(r, "secretRecoveryWindowDays", wholeNumber, r.c.TryInt)
	c.dbRestoreRaw = read(r, "dbRestore", restoreForm, tryJSON[map[string]string](r.c))
	c.DBRetire = read(r, "dbRetire", stringList, tryJSON[[]string](r.c))
	c.uploadsRestoreRaw = read(r, "uploadsRestore", uploadsRestoreForm, tryJSON[map[string]string](r.c))
	c.Edge = read(r, "edge", "", r.c.Try)
	c.PageTTLSeconds = read(r, "cdnPageTtlSeconds", wholeNumber, r.c.TryInt)
	c.CDNAccessLogs = read(r, "cdnAccessLogs", trueFalse, r.c.TryBool)
	c.WAF = read(r, "waf", trueFalse, r.c.TryBool)
	c.WAFLoginLimit = read(r, "wafLoginRateLimit", wholeNumber, r.c.TryInt)
	c.HealthCheckPath = read(r, "healthCheckPath", "", r.c.Try)
	c.CertificateArn = read(r, "certificateArn", "", r.c.Try)
	c.SiteDomain = read(r, "siteDomain", "", r.c.Try)
	c.AlarmEmail = read(r, "alarmEmail", "", r.c.Try)
	c.Alarms.FiveXXPercent = read(r, "alarm5xxPercent", wholeNumber, r.c.TryInt)
	c.Alarms.LatencyP95Ms = read(r, "alarmLatencyP95Ms", wholeNumber, r.c.TryInt)
	c.Alarms.DBCPUPercent = read(r, "alarmDbCpuPercent", wholeNumber, r.c.TryInt)
	c.Alarms.DBFreeStorageGiB = read(r, "alarmDbFreeStorageGiB", wholeNumber, r.c.TryInt)
	c.Alarms.DBFreeMemoryMiB = read(r, "alarmDbFreeMemoryMiB", wholeNumber, r.c.TryInt)
	c.Alarms.DBConnections = read(r, "alarmDbConnections", wholeNumber, r.c.TryInt)
	c.Alarms.UploadsThroughputPercent = read(r, "alarmUploadsThroughputPercent", wholeNumber, r.c.TryInt)
	c.LogRetentionDays = read(r, "logRetentionDays", wholeNumber, r.c.TryInt)
	c.IAMPermissionsBoundary = read(r, "iamPermissionsBoundary", "", r.c.Try)
	c.ImportFrom = read(r, importFromKey, `want an object, e.g. {"database": "s3://bucket/site.sql.gz", "uploads": "s3://bucket/uploads.tar.gz"}`, tryJSON[map[string]string](r.c))
	c.ExtraTags = read(r, "tags", `want a map of strings, e.g. {"owner": "web-team"}`, tryJSON[map[string]string](r.c))
	if r.err != nil {
		return c, r.err
	}
	if c.ScalingRequests == 0 {
		c.ScalingRequests = derivedScalingRequests(c.InstanceType)
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	return c, c.resolveZones(ctx)
}

// requiredKeys have no default in Pulumi.yaml: every stack must set them.
var requiredKeys = map[string]string{
	"adminEmail": "the WordPress administrator's e-mail, e.g. `pulumi config set adminEmail you@example.com`",
}

// configReader reads keys with the SDK's typed getters and keeps the first error.
type configReader struct {
	c   *config.Config
	err error
}

// read gets one key through a typed getter. The error names the key and, for a value that
// does not parse, the value and what is allowed.
func read[T any](r *configReader, key, allowed string, try func(string) (T, error)) T {
	var zero T
	if r.err != nil {
		return zero
	}
	v, err := try(key)
	switch {
	case errors.Is(err, config.ErrMissingVar):
		if why, ok := requiredKeys[key]; ok {
			r.err = invalid(key, `""`, "it is required: %s", why)
		} else {
			r.err = fmt.Errorf("config %s is not set and no default reached the program: Pulumi.yaml must declare it with a default (and the Pulumi CLI must be 3.x, which applies project defaults)", key)
		}
		return zero
	case err != nil:
		raw, _ := r.c.Try(key)
		r.err = invalid(key, strconv.Quote(raw), "%s", allowed)
		return zero
	}
	if s, ok := any(v).(string); ok {
		return any(strings.TrimSpace(s)).(T)
	}
	return v
}

// tryJSON is the typed getter for list and map keys, which Pulumi passes as JSON.
func tryJSON[T any](c *config.Config) func(string) (T, error) {
	return func(key string) (T, error) {
		var v T
		err := c.TryObject(key, &v)
		return v, err
	}
}

var (
	instanceTypeRe  = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	dbClassRe       = regexp.MustCompile(`^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$`)
	adminUserRe     = regexp.MustCompile(`^[A-Za-z0-9._-]{3,60}$`)
	keyPairRe       = regexp.MustCompile(`^[\x20-\x7E]{1,255}$`)
	amiIDRe         = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	healthPathRe    = regexp.MustCompile(`^/[A-Za-z0-9._~/%-]*$`)
	policyARNRe     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$`)
	certificateRe   = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[0-9a-f-]+$`)
	domainRe        = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	tagKeyRe        = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	reservedTagKeys = []string{"Name", "project", "stack", "managed-by"}
)

// validate checks every field; the error names the key, the value and what is allowed. It
// keeps what it parses (the pointer receiver is for that alone).
func (c *Config) validate() error {
	for _, check := range []func() error{c.validateNetwork, c.validateWeb, c.validateDatabase, c.validateRestore, c.validateMonitoring, c.validateEdge, c.validateIAM, c.validateImport} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func invalid(key string, value any, allowed string, args ...any) error {
	return fmt.Errorf("config %s: %v is not valid: %s", key, value, fmt.Sprintf(allowed, args...))
}

func (c Config) validateNetwork() error {
	if len(c.AvailabilityZones) == 1 {
		return invalid("availabilityZones", c.AvailabilityZones, "want at least two distinct AZs of %s, e.g. [\"%sa\", \"%sc\"], or none for the region's first %d", c.Region, c.Region, c.Region, defaultZoneCount)
	}
	seen := map[string]bool{}
	for _, az := range c.AvailabilityZones {
		if !strings.HasPrefix(az, c.Region) || len(az) <= len(c.Region) {
			return invalid("availabilityZones", az, "every AZ must be in aws:region %s (e.g. %sa)", c.Region, c.Region)
		}
		if seen[az] {
			return invalid("availabilityZones", c.AvailabilityZones, "AZs must be distinct (%s appears twice)", az)
		}
		seen[az] = true
	}
	vpc, err := netip.ParsePrefix(c.VpcCidr)
	if err != nil || !vpc.Addr().Is4() || vpc.Masked() != vpc || vpc.Bits() < 16 || vpc.Bits() > 28 {
		return invalid("vpcCidr", c.VpcCidr, "want an IPv4 network CIDR from /16 to /28 with no host bits set, e.g. 10.0.0.0/16")
	}
	var all []netip.Prefix
	for _, set := range []struct {
		key   string
		cidrs []string
	}{{"publicSubnetCidrs", c.PublicSubnetCidrs}, {"privateSubnetCidrs", c.PrivateSubnetCidrs}} {
		if zones := c.zoneCount(); len(set.cidrs) != zones {
			return invalid(set.key, set.cidrs, "want one CIDR per AZ (%d), in the order of availabilityZones", zones)
		}
		for _, s := range set.cidrs {
			p, err := netip.ParsePrefix(s)
			if err != nil || !p.Addr().Is4() || p.Masked() != p {
				return invalid(set.key, s, "want an IPv4 network CIDR with no host bits set, e.g. 10.0.0.0/24")
			}
			if p.Bits() > minSubnetBits {
				return subnetSizeError(set.key, s)
			}
			if p.Bits() < vpc.Bits() || !vpc.Contains(p.Addr()) {
				return invalid(set.key, s, "subnet must lie inside vpcCidr %s", c.VpcCidr)
			}
			for _, q := range all {
				if p.Overlaps(q) {
					return invalid(set.key, s, "subnet overlaps %s; subnets must not overlap", q)
				}
			}
			all = append(all, p)
		}
	}
	return nil
}

func (c *Config) validateWeb() error {
	if err := c.validateScaling(); err != nil {
		return err
	}
	switch {
	case !instanceTypeRe.MatchString(c.InstanceType):
		return invalid("instanceType", c.InstanceType, "want an EC2 instance type such as t3.micro or t4g.small")
	case c.WebServerCount < 1 || c.WebServerCount > 20:
		return invalid("webServerCount", c.WebServerCount, "want 1 to 20 web servers")
	case c.AmiID != "" && !amiIDRe.MatchString(c.AmiID):
		return invalid("amiId", c.AmiID, "want an AMI ID such as ami-0123456789abcdef0, or leave it unset for the current Amazon Linux 2023")
	case c.RootVolumeSizeGiB < minRootVolumeGiB || c.RootVolumeSizeGiB > 1024:
		return invalid("rootVolumeSizeGiB", c.RootVolumeSizeGiB, "want %d to 1024 GiB (Amazon Linux 2023 needs at least %d)", minRootVolumeGiB, minRootVolumeGiB)
	case c.ImagesKept < minImagesKept || c.ImagesKept > maxImagesKept:
		return invalid("imagesKept", c.ImagesKept, "want %d to %d images (at least %d: the image of the release before must stay, so that a rollback can launch it)", minImagesKept, maxImagesKept, minImagesKept)
	case c.KeyPairName != "" && !keyPairRe.MatchString(c.KeyPairName):
		return invalid("keyPairName", c.KeyPairName, "want the name of an existing EC2 key pair (printable ASCII), or leave it unset")
	}
	if c.SSHCidr != "" {
		p, err := netip.ParsePrefix(c.SSHCidr)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return invalid("sshCidr", c.SSHCidr, "want an IPv4 network CIDR such as 203.0.113.10/32, or leave it unset and use SSM Session Manager")
		}
		if p.Bits() < 8 {
			return invalid("sshCidr", c.SSHCidr, "SSH must not be open to the internet; allow /8 or narrower, or leave it unset and use SSM Session Manager")
		}
	}
	if !wporg.Supported(c.WordPressLocale) {
		return invalid("wordpressLocale", c.WordPressLocale, "want one of %s", strings.Join(wporg.Locales(), ", "))
	}
	if err := c.validateCode(); err != nil {
		return err
	}
	if !slices.Contains(phpVersions, c.PHPVersion) {
		return invalid("phpVersion", c.PHPVersion, "want one of %s (PHP streams Amazon Linux 2023 packages with security support)%s", strings.Join(phpVersions, ", "), quoteHint(c.PHPVersion))
	}
	if t := strings.TrimSpace(c.SiteTitle); t == "" || len(c.SiteTitle) > 200 || strings.ContainsAny(c.SiteTitle, "\n\r") {
		return invalid("siteTitle", fmt.Sprintf("%q", c.SiteTitle), "want a one-line title of 1 to 200 bytes")
	}
	if !adminUserRe.MatchString(c.AdminUser) || strings.EqualFold(c.AdminUser, "admin") {
		return invalid("adminUser", c.AdminUser, "want 3 to 60 letters, digits, '.', '_' or '-', and not \"admin\" (the first name bots try)")
	}
	if c.AdminEmail == "" {
		return invalid("adminEmail", `""`, "it is required: %s", requiredKeys["adminEmail"])
	}
	if !bareEmail(c.AdminEmail) {
		return invalid("adminEmail", c.AdminEmail, "want a bare e-mail address such as you@example.com")
	}
	return nil
}

// validateScaling checks the web tier's mode, the group's sizes and the scaling policy.
func (c Config) validateScaling() error {
	switch {
	case c.WebTierMode != modeAutoScaling && c.WebTierMode != modeFixed:
		return invalid("webTierMode", c.WebTierMode, "want %s (an Auto Scaling group that rolls changes without downtime) or %s (the hands-on's fixed servers)", modeAutoScaling, modeFixed)
	case c.WebMinSize < 1 || c.WebMinSize > 100:
		return invalid("webMinSize", c.WebMinSize, "want 1 to 100 servers (2 or more to survive losing an AZ)")
	case c.WebMaxSize < c.WebMinSize || c.WebMaxSize > 100:
		return invalid("webMaxSize", c.WebMaxSize, "want from webMinSize (%d) to 100", c.WebMinSize)
	case c.WebDesired < c.WebMinSize || c.WebDesired > c.WebMaxSize:
		return invalid("webDesiredCapacity", c.WebDesired, "want from webMinSize (%d) to webMaxSize (%d)", c.WebMinSize, c.WebMaxSize)
	case c.ScalingMetric != metricRequests && c.ScalingMetric != metricCPU:
		return invalid("scalingMetric", c.ScalingMetric, "want %s (load balancer requests per server per minute) or %s (average CPU of the group)", metricRequests, metricCPU)
	case c.ScalingRequests < 1 || c.ScalingRequests > 1_000_000:
		return invalid("scalingRequestsPerTarget", c.ScalingRequests, "want 1 to 1000000 requests per server per minute, or 0 to derive it from instanceType's measured capacity")
	case c.ScalingCPUPercent < 10 || c.ScalingCPUPercent > 90:
		return invalid("scalingCpuPercent", c.ScalingCPUPercent, "want 10 to 90 percent")
	case c.BakeMinutes < minReleaseBakeMinutes() || c.BakeMinutes > maxReleaseBakeMinutes:
		return invalid("releaseBakeMinutes", c.BakeMinutes, "want %d to %d minutes: the rollout alarms need %d to fire (their longest evaluation window and CloudWatch's delay), and a bake longer than %d outlasts the deploy workflow's rollout watch",
			minReleaseBakeMinutes(), maxReleaseBakeMinutes, minReleaseBakeMinutes(), maxReleaseBakeMinutes)
	}
	return nil
}

// maxReleaseBakeMinutes bounds the bake: the longest refresh it makes (refreshMinutes) is
// what the deploy workflow's rollout watch waits for (its --timeout; a test checks).
const maxReleaseBakeMinutes = 30

// minReleaseBakeMinutes is the shortest bake in which the rollout alarms can roll a broken
// release back: the time they take to fire (rolloutAlarmSeconds), in whole minutes.
func minReleaseBakeMinutes() int {
	return (rolloutAlarmSeconds() + 59) / 60
}

func (c Config) validateDatabase() error {
	if _, ok := dbEngineMajors[c.DBEngineVersion]; !ok {
		return invalid("dbEngineVersion", c.DBEngineVersion, "want one of %s (RDS for MySQL majors in standard support; 8.0 left standard support on 2026-07-31)%s", strings.Join(sortedKeys(dbEngineMajors), ", "), quoteHint(c.DBEngineVersion))
	}
	switch {
	case !dbClassRe.MatchString(c.DBInstanceClass):
		return invalid("dbInstanceClass", c.DBInstanceClass, "want an RDS instance class such as db.t4g.micro or db.m7g.large")
	case c.DBAllocatedStorageGiB < 20 || c.DBAllocatedStorageGiB > 6144:
		return invalid("dbAllocatedStorageGiB", c.DBAllocatedStorageGiB, "want 20 to 6144 GiB (gp3)")
	case c.DBMaxStorageGiB != 0 && (c.DBMaxStorageGiB < c.DBAllocatedStorageGiB || c.DBMaxStorageGiB > 6144):
		return invalid("dbMaxAllocatedStorageGiB", c.DBMaxStorageGiB, "want 0 (no storage autoscaling) or from dbAllocatedStorageGiB (%d) to 6144", c.DBAllocatedStorageGiB)
	case c.DBBackupRetentionDays < 1 || c.DBBackupRetentionDays > 35:
		return invalid("dbBackupRetentionDays", c.DBBackupRetentionDays, "want 1 to 35 days (automated backups stay on)")
	case c.SecretRecoveryWindowDays != 0 && (c.SecretRecoveryWindowDays < 7 || c.SecretRecoveryWindowDays > 30):
		return invalid("secretRecoveryWindowDays", c.SecretRecoveryWindowDays, "want 0 (delete at once on destroy) or 7 to 30 days")
	}
	return c.validateTearDown()
}

// validateTearDown checks what a destroy keeps against the stack's kind. A stack that is not
// ephemeral keeps its database's final snapshot; an ephemeral one (a throwaway: staging, dev)
// must destroy cleanly, so nothing of it may be protected, and it leaves no final snapshot.
func (c Config) validateTearDown() error {
	const throwaway = "an ephemeral stack is a throwaway that destroys cleanly and leaves nothing behind"
	switch {
	case !c.Ephemeral && !c.DBFinalSnapshot:
		return invalid("dbFinalSnapshot", c.DBFinalSnapshot, "a stack that is not ephemeral keeps a final snapshot of its database when it is destroyed: set dbFinalSnapshot true, or declare the stack a throwaway (staging, dev) with ephemeral: true")
	case c.Ephemeral && c.DBFinalSnapshot:
		return invalid("dbFinalSnapshot", c.DBFinalSnapshot, "%s: set dbFinalSnapshot false, or ephemeral false for a stack whose database must outlive it", throwaway)
	case c.Ephemeral && c.DBDeletionProtection:
		return invalid("dbDeletionProtection", c.DBDeletionProtection, "%s: set dbDeletionProtection false, or ephemeral false for a stack whose database must be protected", throwaway)
	case c.Ephemeral && c.UploadsProtection:
		return invalid("uploadsProtection", c.UploadsProtection, "%s: set uploadsProtection false, or ephemeral false for a stack whose uploads must be protected", throwaway)
	case c.Staging && !c.Ephemeral:
		return invalid("staging", c.Staging, "a staging stack is a throwaway copy of another stack (docs/staging.md): set ephemeral true (with dbFinalSnapshot, dbDeletionProtection and uploadsProtection false), or staging false for a stack that serves the public")
	}
	return nil
}

// validateRestore checks dbRestore's and dbRetire's shapes (planDBLineage checks them against
// the stack's databases) and keeps the parsed restore.
func (c *Config) validateRestore() error {
	var err error
	if c.DBRestore, err = parseDBRestore(c.dbRestoreRaw); err != nil {
		return err
	}
	if c.UploadsRestore, err = parseUploadsRestore(c.uploadsRestoreRaw); err != nil {
		return err
	}
	return parseDBRetire(c.DBRetire)
}

// logRetentionValues are the retention periods CloudWatch Logs accepts (days).
var logRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func (c Config) validateMonitoring() error {
	a := c.Alarms
	switch {
	case c.AlarmEmail != "" && !bareEmail(c.AlarmEmail):
		return invalid("alarmEmail", c.AlarmEmail, "want an e-mail address such as ops@example.com, or leave it empty")
	case a.FiveXXPercent < 1 || a.FiveXXPercent > 100:
		return invalid("alarm5xxPercent", a.FiveXXPercent, "want 1 to 100 (percent of requests)")
	case a.LatencyP95Ms < 100 || a.LatencyP95Ms > 60000:
		return invalid("alarmLatencyP95Ms", a.LatencyP95Ms, "want 100 to 60000 ms (the load balancer's idle timeout is 60 s)")
	case a.DBCPUPercent < 1 || a.DBCPUPercent > 100:
		return invalid("alarmDbCpuPercent", a.DBCPUPercent, "want 1 to 100 (percent)")
	case a.DBFreeStorageGiB < 1 || a.DBFreeStorageGiB >= c.DBAllocatedStorageGiB:
		return invalid("alarmDbFreeStorageGiB", a.DBFreeStorageGiB, "want 1 GiB or more, below dbAllocatedStorageGiB (%d)", c.DBAllocatedStorageGiB)
	case a.DBFreeMemoryMiB < 16:
		return invalid("alarmDbFreeMemoryMiB", a.DBFreeMemoryMiB, "want 16 MiB or more")
	case a.DBConnections < 1:
		return invalid("alarmDbConnections", a.DBConnections, "want 1 or more")
	case a.UploadsThroughputPercent < 1 || a.UploadsThroughputPercent > 100:
		return invalid("alarmUploadsThroughputPercent", a.UploadsThroughputPercent, "want 1 to 100 (percent)")
	case !slices.Contains(logRetentionValues, c.LogRetentionDays):
		return invalid("logRetentionDays", c.LogRetentionDays, "want one of CloudWatch Logs' retention periods: %s days", joinInts(logRetentionValues))
	}
	return nil
}

// bareEmail: an address alone, no display name.
func bareEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// joinInts lists numbers for a message.
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

func (c Config) validateEdge() error {
	if !healthPathRe.MatchString(c.HealthCheckPath) || len(c.HealthCheckPath) > 1024 {
		return invalid("healthCheckPath", c.HealthCheckPath, "want a URL path starting with '/', e.g. /healthz.php")
	}
	if c.Edge != edgeCloudFront && c.Edge != edgeALB {
		return invalid("edge", c.Edge, "want %s (CloudFront in front of an internal load balancer: HTTPS without a domain) or %s (an internet-facing load balancer, as in the hands-on)", edgeCloudFront, edgeALB)
	}
	if c.PageTTLSeconds < 0 || c.PageTTLSeconds > maxPageTTLSeconds {
		return invalid("cdnPageTtlSeconds", c.PageTTLSeconds, "want 0 to %d seconds (CloudFront does not purge pages when a post changes, so keep it short)", maxPageTTLSeconds)
	}
	if c.WAFLoginLimit < 10 || c.WAFLoginLimit > 2000000000 {
		return invalid("wafLoginRateLimit", c.WAFLoginLimit, "want 10 to 2000000000 requests per IP address per 5 minutes (AWS WAF's range)")
	}
	if err := c.validateCertificate(); err != nil {
		return err
	}
	if c.SiteDomain != "" && (!domainRe.MatchString(c.SiteDomain) || len(c.SiteDomain) > 253) {
		return invalid("siteDomain", c.SiteDomain, "want a lower-case DNS name such as www.example.com (no scheme, no path), or leave it unset to use the %s's own name", c.edgeName())
	}
	for k, v := range c.ExtraTags {
		if !tagKeyRe.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws:") || slices.Contains(reservedTagKeys, k) {
			return invalid("tags", k, "tag keys are 1-128 letters, digits, spaces or _.:/=+-@, not starting with aws:, and not one of %s (set by the program)", strings.Join(reservedTagKeys, ", "))
		}
		if len(v) > 256 {
			return invalid("tags", k, "tag values are at most 256 characters")
		}
	}
	return nil
}

// validateIAM checks the permissions boundary: an IAM policy's ARN (the bootstrap's output
// serverBoundaryArn), or none.
func (c Config) validateIAM() error {
	if c.IAMPermissionsBoundary != "" && !policyARNRe.MatchString(c.IAMPermissionsBoundary) {
		return invalid("iamPermissionsBoundary", c.IAMPermissionsBoundary, "want an IAM policy ARN (arn:aws:iam::ACCOUNT:policy/NAME), the bootstrap's output serverBoundaryArn, or leave it empty for a stack run by a person")
	}
	return nil
}

// validateCertificate checks that the certificate is where the edge takes it from: CloudFront
// only from us-east-1, the load balancer only from its own region.
func (c Config) validateCertificate() error {
	if c.CertificateArn == "" {
		return nil
	}
	m := certificateRe.FindStringSubmatch(c.CertificateArn)
	if m == nil {
		return invalid("certificateArn", c.CertificateArn, "want an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID), or leave it unset")
	}
	want, where := c.Region, "aws:region "+c.Region+", where the load balancer is (edge alb)"
	if c.Edge == edgeCloudFront {
		want, where = cloudFrontCertificateRegion, cloudFrontCertificateRegion+", the only region CloudFront takes certificates from (edge cloudfront)"
	}
	if m[1] != want {
		return invalid("certificateArn", c.CertificateArn, "the certificate must be in %s", where)
	}
	if c.Edge == edgeCloudFront && c.SiteDomain == "" {
		return invalid("siteDomain", `""`, "certificateArn with edge cloudfront names the domain the certificate is for: set siteDomain to it (the distribution's *.cloudfront.net name has its own certificate)")
	}
	return nil
}

// edgeName is what visitors connect to, for messages.
func (c Config) edgeName() string {
	if c.Edge == edgeCloudFront {
		return "CloudFront distribution"
	}
	return "load balancer"
}

// maxPageTTLSeconds bounds how long CloudFront may keep a page: a day.
const maxPageTTLSeconds = 86400

// defaultZoneCount is how many AZs a stack that names none spreads over: two, as the
// hands-on does (a Multi-AZ database and a load balancer need two).
const defaultZoneCount = 2

// zoneCount is the number of AZs the stack spreads over.
func (c Config) zoneCount() int {
	if len(c.AvailabilityZones) == 0 {
		return defaultZoneCount
	}
	return len(c.AvailabilityZones)
}

// resolveZones asks AWS for the region's available AZs. With none configured the stack takes
// the first two in name order, so that choosing a region is one setting; the order is stable
// (AWS adds AZs with later letters), but a stack that must never move pins them. Configured
// AZs are checked so that a typo fails now, with the list of real names, rather than halfway
// through creating subnets.
func (c *Config) resolveZones(ctx *pulumi.Context) error {
	zones, err := lookupZones(ctx)
	if err != nil {
		return fmt.Errorf("look up availability zones of %s: %w", c.Region, err)
	}
	slices.Sort(zones)
	if len(c.AvailabilityZones) == 0 {
		if len(zones) < defaultZoneCount {
			return invalid("availabilityZones", "[]", "aws:region %s has %d available AZs (%s), the stack needs %d", c.Region, len(zones), strings.Join(zones, ", "), defaultZoneCount)
		}
		c.AvailabilityZones = zones[:defaultZoneCount]
		return nil
	}
	for _, az := range c.AvailabilityZones {
		if !slices.Contains(zones, az) {
			return invalid("availabilityZones", az, "not an available AZ of %s; available: %s", c.Region, strings.Join(zones, ", "))
		}
	}
	return nil
}

// quoteHint explains a version that lost its ".0" to YAML number parsing (8.0 → 8).
func quoteHint(v string) string {
	if _, err := strconv.Atoi(v); err == nil {
		return `; a YAML number loses ".0", so quote versions in stack files (dbEngineVersion: "8.4")`
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Tags are the tags every taggable resource of the stack carries: project, stack,
// managed-by and the configured extra tags, plus a human Name per resource.
type Tags struct {
	namePrefix string
	common     map[string]string
}

// Tags returns the stack's tag set.
func (c Config) Tags() Tags {
	common := map[string]string{}
	for k, v := range c.ExtraTags {
		common[k] = v
	}
	common["project"] = c.Project
	common["stack"] = c.Stack
	common["managed-by"] = "pulumi"
	return Tags{namePrefix: c.Project + "-" + c.Stack + "-", common: common}
}

// Named returns the common tags and Name "<project>-<stack>-<name>".
func (t Tags) Named(name string) pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range t.common {
		m[k] = pulumi.String(v)
	}
	m["Name"] = pulumi.String(t.namePrefix + name)
	return m
}

// name is "<project>-<stack>-<name>", the Name tag's value, for resources named by a field.
func (t Tags) name(name string) string {
	return t.namePrefix + name
}

// settingsPath is where this stack keeps the settings its servers read at boot. It is fixed
// for the stack's life, so that servers and their IAM policy know it before the values exist.
func (c Config) settingsPath() string {
	return "/" + c.Project + "/" + c.Stack
}

// siteTag identifies the stack's serving web servers (the value of their siteTagKey tag).
func (c Config) siteTag() string {
	return c.Project + "/" + c.Stack
}

// AlarmThresholds are the alarm* keys: where each alarm of the monitoring component fires.
type AlarmThresholds struct {
	FiveXXPercent            int // alarm5xxPercent
	LatencyP95Ms             int // alarmLatencyP95Ms
	DBCPUPercent             int // alarmDbCpuPercent
	DBFreeStorageGiB         int // alarmDbFreeStorageGiB
	DBFreeMemoryMiB          int // alarmDbFreeMemoryMiB
	DBConnections            int // alarmDbConnections
	UploadsThroughputPercent int // alarmUploadsThroughputPercent
}

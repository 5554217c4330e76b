// Command scalable-wordpress is a Pulumi program that deploys the AWS "scalable website"
// hands-on as code: a VPC over two AZs, a Multi-AZ MySQL, WordPress servers built from an
// image of the first one, and an ALB in front, configured end to end by `pulumi up`.
package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"

	"github.com/example/scalable-wordpress/internal/stack"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(run)
}

// infrastructure is every part the program builds, for tests to inspect.
type infrastructure struct {
	Config   Config
	Network  *Network
	Security *SecurityGroups
	Database *Database
	LB       *LoadBalancer
	Edge     *Edge     // nil with edge alb
	Firewall *Firewall // nil without waf
	Web      *WebTier
	Uploads  *SharedUploads
	// RestoredUploads is the restored file system the servers use (uploadsRestore); nil
	// while they use the stack's own.
	RestoredUploads *RestoredUploads
	UploadsRestore  UploadsRestore
	Settings        *SiteSettings
	Alerts          *Alerts
	Logs            *ServerLogs
	Monitor         *Monitoring
	Release         releasePlan
	// Lineage is every database generation this up declares or remembers (dbrestore.go).
	Lineage []dbGeneration
	// PreUpgradeSnapshot is the database snapshot taken before the release's upgrade; nil
	// before any major or minor upgrade.
	PreUpgradeSnapshot *rds.Snapshot
}

// run loads the config, builds the parts and exports the outputs.
func run(ctx *pulumi.Context) error {
	infra, err := createInfrastructure(ctx)
	if err != nil {
		return err
	}
	exportOutputs(ctx, infra)
	return nil
}

// createInfrastructure wires config → network → security groups → database → load
// balancer → web tier → settings. Each part gets exactly its Args; this function is the one
// place that maps the stack's config onto them. The web tier gets only the ARNs of the
// database's secrets, so it never waits for RDS; the endpoint and the master credential's
// ARN reach the servers through the settings.
func createInfrastructure(ctx *pulumi.Context) (*infrastructure, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	// Before anything is created: a release that would go back on the database, and a change
	// to a key fixed at the stack's creation (the network's address plan), are refused.
	last, err := readLastDeploy(ctx)
	if err != nil {
		return nil, err
	}
	release, err := planRelease(cfg, last)
	if err != nil {
		return nil, err
	}
	if err := checkFixedKeys(cfg, last.Network); err != nil {
		return nil, err
	}
	lineage, err := planDBLineage(cfg, last)
	if err != nil {
		return nil, err
	}
	uploadsRestore, err := planUploads(cfg, last)
	if err != nil {
		return nil, err
	}
	tags := cfg.Tags()
	network, err := NewNetwork(ctx, "network", &NetworkArgs{
		AvailabilityZones:  cfg.AvailabilityZones,
		VpcCidr:            cfg.VpcCidr,
		PublicSubnetCidrs:  cfg.PublicSubnetCidrs,
		PrivateSubnetCidrs: cfg.PrivateSubnetCidrs,
		Tags:               tags,
	})
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	originFacing := ""
	if cfg.Edge == edgeCloudFront {
		if originFacing, err = lookupOriginFacing(ctx); err != nil {
			return nil, err
		}
	}
	security, err := NewSecurityGroups(ctx, "security", &SecurityGroupsArgs{
		VpcID:          network.Vpc.ID().ToStringOutput(),
		ListenerPorts:  listenerPorts(cfg),
		FromPrefixList: originFacing,
		SSHCidr:        cfg.SSHCidr,
		Tags:           tags,
	})
	if err != nil {
		return nil, fmt.Errorf("security groups: %w", err)
	}
	database, err := NewDatabase(ctx, "db", &DatabaseArgs{
		SubnetIDs:             subnetIDs(network.PrivateSubnets),
		SecurityGroupID:       security.Database.ID().ToStringOutput(),
		EngineVersion:         cfg.DBEngineVersion,
		InstanceClass:         cfg.DBInstanceClass,
		AllocatedStorageGiB:   cfg.DBAllocatedStorageGiB,
		MaxStorageGiB:         cfg.DBMaxStorageGiB,
		MultiAZ:               cfg.DBMultiAZ,
		ApplyImmediately:      cfg.DBApplyImmediately,
		BackupRetentionDays:   cfg.DBBackupRetentionDays,
		DeletionProtection:    cfg.DBDeletionProtection,
		FinalSnapshotPrefix:   finalSnapshotPrefixIf(cfg),
		SecretRecoveryWindow:  cfg.SecretRecoveryWindowDays,
		ManagedMasterPassword: cfg.DBManagedMasterPassword,
		Generations:           lineage,
		Tags:                  tags,
	})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	preUpgrade, err := newPreUpgradeSnapshot(ctx, database, release, tags)
	if err != nil {
		return nil, err
	}
	// Monitoring is built in the RDS instance's shadow: the topic after the DB subnet group
	// (the last step before the instance), logs and the event rule after the file system.
	alerts, err := NewAlerts(ctx, "alerts", &AlertsArgs{Email: cfg.AlarmEmail, After: database.SubnetGroup, Tags: tags})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	internal := cfg.Edge == edgeCloudFront
	lbSubnets, albCertificate := network.PublicSubnets, cfg.CertificateArn
	if internal {
		lbSubnets, albCertificate = network.PrivateSubnets, ""
	}
	loadBalancer, err := NewLoadBalancer(ctx, "lb", &LoadBalancerArgs{
		VpcID:           network.Vpc.ID().ToStringOutput(),
		SubnetIDs:       subnetIDs(lbSubnets),
		SecurityGroupID: security.LoadBalancer.ID().ToStringOutput(),
		Internal:        internal,
		HealthCheckPath: cfg.HealthCheckPath,
		CertificateArn:  albCertificate,
		SiteDomain:      cfg.SiteDomain,
		AlarmTopic:      alerts.Topic.Arn,
		MetricsLabel:    pathLabel(cfg.settingsPath()),
		After:           database.SubnetGroup,
		Tags:            tags,
	})
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	front, err := newFront(ctx, cfg, loadBalancer)
	if err != nil {
		return nil, err
	}
	web, err := NewWebTier(ctx, "web", &WebTierArgs{
		Mode:              cfg.WebTierMode,
		Region:            cfg.Region,
		Subnets:           network.PublicSubnets,
		SecurityGroupID:   security.Web.ID().ToStringOutput(),
		InstanceType:      cfg.InstanceType,
		AmiID:             cfg.AmiID,
		RootVolumeSizeGiB: cfg.RootVolumeSizeGiB,
		KeyPairName:       cfg.KeyPairName,
		Recipe:            cfg.recipe(),
		ServerCount:       cfg.WebServerCount,
		Group: GroupSettings{Min: cfg.WebMinSize, Max: cfg.WebMaxSize, Desired: cfg.WebDesired,
			Metric: cfg.ScalingMetric, RequestsPerTarget: cfg.ScalingRequests, CPUPercent: cfg.ScalingCPUPercent, BakeMinutes: cfg.BakeMinutes},
		LoadBalancer:         loadBalancer.Target,
		SettingsPath:         cfg.settingsPath(),
		DBAppSecret:          database.AppSecret.Arn,
		DBMasterSecret:       masterSecretForServers(cfg, database),
		SecretRecoveryWindow: cfg.SecretRecoveryWindowDays,
		SiteTag:              cfg.siteTag(),
		PermissionsBoundary:  cfg.IAMPermissionsBoundary,
		After:                database.SubnetGroup,
		ReleaseGate:          resourceIf(preUpgrade),
		Tags:                 tags,
	})
	if err != nil {
		return nil, fmt.Errorf("web tier: %w", err)
	}
	uploadsArgs := &SharedUploadsArgs{
		SubnetIDs:           subnetIDs(network.PrivateSubnets),
		SecurityGroupID:     security.Uploads.ID().ToStringOutput(),
		ServerRoleArn:       web.Role.Arn,
		ThroughputMode:      cfg.UploadsThroughputMode,
		Backup:              cfg.UploadsBackup,
		Protect:             cfg.UploadsProtection,
		After:               database.SubnetGroup,
		PermissionsBoundary: cfg.IAMPermissionsBoundary,
		Tags:                tags,
	}
	uploads, err := NewSharedUploads(ctx, "uploads", uploadsArgs)
	if err != nil {
		return nil, fmt.Errorf("uploads: %w", err)
	}
	// The servers mount the stack's own file system, or a restored one (uploadsRestore).
	uploadsFS, uploadsAP := uploads.ReadyFileSystemID(), uploads.AccessPoint.ID().ToStringOutput()
	var restoredUploads *RestoredUploads
	if restored(uploadsRestore) {
		if restoredUploads, err = NewRestoredUploads(ctx, uploadsRestore, uploads.FileSystem, uploadsArgs); err != nil {
			return nil, fmt.Errorf("restored uploads: %w", err)
		}
		uploadsFS, uploadsAP = restoredUploads.ReadyFileSystemID(), restoredUploads.AccessPoint.ID().ToStringOutput()
	}
	site := map[string]pulumi.StringInput{
		settingDBName:      pulumi.String(dbName),
		settingDBAppSecret: database.AppSecret.Arn,
		settingWPSecret:    web.WordPressSecret.Arn,
		settingSiteURL:     front.siteURL,
		settingTitle:       pulumi.String(cfg.SiteTitle),
		settingAdminUser:   pulumi.String(cfg.AdminUser),
		settingEmail:       pulumi.String(cfg.AdminEmail),
		settingLocale:      pulumi.String(cfg.WordPressLocale),
		settingUploadsFS:   uploadsFS,
		settingUploadsAP:   uploadsAP,
		settingProto:       pulumi.String(front.protoHeader),
		settingCookie:      pulumi.String(cookieHash(cfg.settingsPath())),
		settingStaging:     pulumi.String(map[bool]string{true: "1", false: "0"}[cfg.Staging]),
	}
	if legacy := database.LegacySecret; legacy != nil {
		// Servers of the release before keep building WordPress's config from it until the
		// rollout replaces them (CHANGELOG.md).
		site[settingDBSecret] = legacy.Arn
	}
	settings, err := NewSiteSettings(ctx, "settings", &SiteSettingsArgs{
		Path:           cfg.settingsPath(),
		DBHost:         database.Instance.Address,
		DBMasterSecret: database.MasterSecretArn,
		Site:           site,
		SiteTag:        cfg.siteTag(),
		DBGeneration:   servingGeneration(lineage).ID,
		RefreshAfter:   resourcesIf(web.MasterRead),
		Tags:           tags,
	})
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if src := cfg.importSource(); src != nil {
		acct, err := lookupAccount(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := newSiteImport(ctx, "site-import", &SiteImportArgs{Source: src, ServerRole: web.Role.Name, Partition: acct.partition,
			SiteTag: cfg.siteTag(), Tags: tags}, pulumi.DependsOn([]pulumi.Resource{settings})); err != nil {
			return nil, fmt.Errorf("site import: %w", err)
		}
	}
	logs, err := NewServerLogs(ctx, "logs", &ServerLogsArgs{Prefix: cfg.settingsPath(), RetentionDays: cfg.LogRetentionDays,
		ServerRole: web.Role.Name, After: uploads.FileSystem, Tags: tags})
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	monitoring, err := NewMonitoring(ctx, "monitoring", monitoringArgs(cfg, alerts, loadBalancer, web, database, uploads, logs))
	if err != nil {
		return nil, fmt.Errorf("monitoring: %w", err)
	}
	return &infrastructure{Config: cfg, Network: network, Security: security, Database: database,
		LB: loadBalancer, Edge: front.edge, Firewall: front.firewall, Web: web, Uploads: uploads, RestoredUploads: restoredUploads, UploadsRestore: uploadsRestore, Settings: settings, Alerts: alerts, Logs: logs, Monitor: monitoring,
		Release: release, PreUpgradeSnapshot: preUpgrade, Lineage: lineage}, nil
}

// monitoringArgs are what the alarms and the dashboard watch, from the other components.
func monitoringArgs(cfg Config, alerts *Alerts, lb *LoadBalancer, web *WebTier, db *Database, uploads *SharedUploads, logs *ServerLogs) *MonitoringArgs {
	a := &MonitoringArgs{Topic: alerts.Topic.Arn, LoadBalancer: lb.ALB.ArnSuffix, TargetGroup: lb.TargetGroup.ArnSuffix,
		DBIdentifier: db.Instance.Identifier, FileSystemID: uploads.FileSystem.ID().ToStringOutput(), DBEvents: logs.Groups[dbEventsLogLeaf],
		Thresholds: cfg.Alarms, RolloutAlarms: lb.RolloutAlarms, Region: cfg.Region, Name: pathLabel(cfg.settingsPath()), After: uploads.FileSystem, Tags: cfg.Tags()}
	if web.Group != nil {
		a.Group = web.Group.Name
	}
	return a
}

// front is what visitors connect to: the distribution (edge cloudfront) or the load balancer
// (edge alb), the web ACL in front of either, the URL they serve and the header in which they
// tell the servers the viewer's protocol.
type front struct {
	edge        *Edge
	firewall    *Firewall
	siteURL     pulumi.StringOutput
	protoHeader string
}

// albProtoHeader is the header in which the load balancer tells the servers the viewer's protocol.
const albProtoHeader = "X-Forwarded-Proto"

// newFront builds the web ACL (with waf) and, with edge cloudfront, the distribution.
func newFront(ctx *pulumi.Context, cfg Config, loadBalancer *LoadBalancer) (front, error) {
	tags := cfg.Tags()
	f := front{siteURL: loadBalancer.SiteURL, protoHeader: albProtoHeader}
	cloudFront := cfg.Edge == edgeCloudFront
	var err error
	var webACL pulumi.StringInput
	if cfg.WAF {
		fw := &FirewallArgs{Scope: wafScopeRegional, LoginLimit: cfg.WAFLoginLimit, LogRetentionDays: cfg.LogRetentionDays,
			LoadBalancerArn: loadBalancer.ALB.Arn, Tags: tags}
		if cloudFront {
			fw.Scope, fw.LoadBalancerArn = wafScopeCloudFront, nil
		}
		if f.firewall, err = NewFirewall(ctx, "waf", fw); err != nil {
			return f, fmt.Errorf("firewall: %w", err)
		}
		webACL = f.firewall.WebACL.Arn
	}
	if !cloudFront {
		return f, nil
	}
	accessLogs := ""
	if cfg.CDNAccessLogs {
		accessLogs = logGroupName(cfg.settingsPath(), cdnAccessLogLeaf)
	}
	if f.edge, err = NewEdge(ctx, "edge", &EdgeArgs{
		LoadBalancerArn: loadBalancer.ALB.Arn, LoadBalancerDNS: loadBalancer.ALB.DnsName,
		SiteDomain: cfg.SiteDomain, CertificateArn: cfg.CertificateArn, PageTTLSeconds: cfg.PageTTLSeconds,
		CookieHash: cookieHash(cfg.settingsPath()), WebACLArn: webACL,
		AccessLogGroup: accessLogs, LogRetentionDays: cfg.LogRetentionDays, Tags: tags,
	}); err != nil {
		return f, fmt.Errorf("edge: %w", err)
	}
	f.siteURL, f.protoHeader = f.edge.SiteURL, forwardedProtoHeader
	return f, nil
}

// listenerPorts are the load balancer's listeners: HTTP, and HTTPS with a certificate for
// an internet-facing one (behind CloudFront the load balancer has no certificate).
func listenerPorts(cfg Config) []int {
	if cfg.CertificateArn != "" && cfg.Edge == edgeALB {
		return []int{httpPort, httpsPort}
	}
	return []int{httpPort}
}

// masterSecretForServers is the master credential's secret when the stack lets the servers'
// role read it (dbServersReadMaster), else nil.
func masterSecretForServers(cfg Config, db *Database) pulumi.StringInput {
	if !cfg.DBServersReadMaster {
		return nil
	}
	return db.MasterSecretArn
}

// finalSnapshotPrefixIf is the final snapshot's prefix when the stack keeps one, else "".
func finalSnapshotPrefixIf(cfg Config) string {
	if !cfg.DBFinalSnapshot {
		return ""
	}
	return finalSnapshotPrefix(cfg.Project, cfg.Stack)
}

// exportOutputs publishes the stack outputs.
func exportOutputs(ctx *pulumi.Context, infra *infrastructure) {
	for k, v := range stackOutputs(infra) {
		ctx.Export(k, v)
	}
}

// stackOutputs is what users, the availability drill, the rollout watcher and the load test
// need, under the names of the one contract (internal/stack); secrets by name only.
func stackOutputs(infra *infrastructure) pulumi.Map {
	var o stack.Outputs
	out := pulumi.Map{}
	set := func(field any, v pulumi.Input) { out[stack.Name(&o, field)] = v }
	servers := pulumi.Array{}
	for _, s := range infra.Web.Servers {
		var i stack.Instance
		servers = append(servers, pulumi.Map{
			stack.Name(&i, &i.ID):               s.Instance.ID(),
			stack.Name(&i, &i.AvailabilityZone): s.Instance.AvailabilityZone,
		})
	}
	cfg := infra.Config
	set(&o.Region, pulumi.String(cfg.Region))
	set(&o.SiteURL, infra.LB.SiteURL)
	set(&o.Edge, pulumi.String(cfg.Edge))
	set(&o.SettingsPath, pulumi.String(cfg.settingsPath()))
	set(&o.VpcID, infra.Network.Vpc.ID())
	set(&o.PublicSubnetIDs, subnetIDs(infra.Network.PublicSubnets))
	set(&o.PrivateSubnetIDs, subnetIDs(infra.Network.PrivateSubnets))
	set(&o.VpcCidr, pulumi.String(cfg.VpcCidr))
	set(&o.AvailabilityZones, pulumi.ToStringArray(cfg.AvailabilityZones))
	set(&o.PublicSubnetCidrs, pulumi.ToStringArray(cfg.PublicSubnetCidrs))
	set(&o.PrivateSubnetCidrs, pulumi.ToStringArray(cfg.PrivateSubnetCidrs))
	set(&o.Ephemeral, pulumi.Bool(cfg.Ephemeral))
	set(&o.ALBDNSName, infra.LB.ALB.DnsName)
	set(&o.TargetGroupARN, infra.LB.TargetGroup.Arn)
	set(&o.DBEndpoint, infra.Database.Instance.Endpoint)
	set(&o.DBIdentifier, infra.Database.Instance.Identifier)
	set(&o.DBAvailabilityZone, infra.Database.Instance.AvailabilityZone)
	set(&o.DBMultiAZ, infra.Database.Instance.MultiAz)
	set(&o.DBAppSecretName, infra.Database.AppSecret.Name)
	set(&o.DBMasterSecretARN, infra.Database.MasterSecretArn)
	if legacy := infra.Database.LegacySecret; legacy != nil {
		set(&o.DBSecretName, legacy.Name)
	}
	set(&o.DBHostParameter, infra.Settings.DBHost.Name)
	set(&o.DBLineage, lineageOutput(infra))
	set(&o.WordPressSecretName, infra.Web.WordPressSecret.Name)
	set(&o.WordPressAdminUser, pulumi.String(cfg.AdminUser))
	set(&o.WordPressVersion, pulumi.String(cfg.WordPressVersion))
	if snap := infra.PreUpgradeSnapshot; snap != nil {
		set(&o.WordPressUpgradedFrom, pulumi.String(infra.Release.UpgradedFrom))
		set(&o.PreUpgradeSnapshot, snap.DbSnapshotIdentifier)
	}
	set(&o.AMIID, infra.Web.Image.ID())
	set(&o.ImagesKept, pulumi.Int(cfg.ImagesKept))
	set(&o.WebTierMode, pulumi.String(cfg.WebTierMode))
	set(&o.WebInstances, servers)
	set(&o.UploadsFileSystemID, infra.Uploads.FileSystem.ID())
	set(&o.UploadsFileSystemARN, infra.Uploads.FileSystem.Arn)
	set(&o.UploadsBackupRoleARN, infra.Uploads.BackupRole.Arn)
	if r := infra.UploadsRestore; infra.RestoredUploads != nil {
		var x stack.UploadsRestore
		set(&o.UploadsRestore, pulumi.Map{
			stack.Name(&x, &x.ID):           pulumi.String(r.ID),
			stack.Name(&x, &x.FileSystemID): infra.RestoredUploads.ReadyFileSystemID(),
			stack.Name(&x, &x.Path):         pulumi.String(r.Path),
		})
	}
	set(&o.AlarmTopicARN, infra.Alerts.Topic.Arn)
	set(&o.DashboardURL, infra.Monitor.DashboardURL)
	set(&o.DBFailoverAlarm, infra.Monitor.DBFailover.Name)
	set(&o.AlarmNames, infra.Monitor.alarmNames())
	if e := infra.Edge; e != nil {
		set(&o.SiteURL, e.SiteURL)
		set(&o.CDNDistributionID, e.Distribution.ID())
		set(&o.CDNDomainName, e.Distribution.DomainName)
	}
	if f := infra.Firewall; f != nil {
		set(&o.WebACLARN, f.WebACL.Arn)
	}
	if g := infra.Web.Group; g != nil {
		set(&o.WebAutoScalingGroupName, g.Name)
		set(&o.WebLaunchTemplateID, infra.Web.LaunchTemplate.ID())
		set(&o.WebLaunchTemplateVersion, infra.Web.LaunchTemplate.LatestVersion)
	}
	return out
}

// lineageOutput is the dbLineage output: every generation as planned, with the RDS
// identifier of each one declared (a retired one keeps the identifier recorded before).
func lineageOutput(infra *infrastructure) pulumi.Array {
	instances := map[string]pulumi.StringOutput{}
	for _, g := range infra.Database.Generations {
		instances[g.Generation.ID] = g.Instance.Identifier
	}
	var gen stack.DBGeneration
	field := func(f any) string { return stack.Name(&gen, f) }
	out := pulumi.Array{}
	for _, g := range infra.Lineage {
		m := pulumi.Map{field(&gen.ID): pulumi.String(g.ID), field(&gen.Serving): pulumi.Bool(g.Serving)}
		if g.From != "" {
			m[field(&gen.From)] = pulumi.String(g.From)
		}
		if g.Source != "" {
			m[field(&gen.Source)] = pulumi.String(g.Source)
		}
		if id, ok := instances[g.ID]; ok {
			m[field(&gen.Identifier)] = id
		} else if g.Identifier != "" {
			m[field(&gen.Identifier)] = pulumi.String(g.Identifier)
		}
		if g.Retired {
			m[field(&gen.Retired)] = pulumi.Bool(true)
		}
		out = append(out, m)
	}
	return out
}

// resourcesIf is r as a list of resources, empty when r is nil.
func resourcesIf(r *iam.RolePolicy) []pulumi.Resource {
	if r == nil {
		return nil
	}
	return []pulumi.Resource{r}
}

// servingGeneration is the lineage's serving generation.
func servingGeneration(gens []dbGeneration) dbGeneration {
	for _, g := range gens {
		if g.Serving {
			return g
		}
	}
	return dbGeneration{ID: originalGeneration, Serving: true}
}

// firstLayoutOwners are the components of the first layout, by their name in main.go: they
// created resources that now belong to other parts (the security group chain, the settings,
// the fixed servers' target registrations).
var firstLayoutOwners = map[string]string{
	"lb":  "scalable-wordpress:lb:LoadBalancer",
	"web": "scalable-wordpress:web:WebTier",
	"db":  "scalable-wordpress:database:Database",
}

// movedFrom aliases a resource to its URN under the component that created it in the first
// layout, so that a stack deployed then adopts it instead of replacing it (a replacement
// would be created next to its still-existing twin: a duplicate rule, a parameter name in
// use, which AWS refuses).
// A resource newer than the first layout ("" component) has no earlier URN.
func movedFrom(ctx *pulumi.Context, component string) pulumi.ResourceOption {
	if component == "" {
		return pulumi.Aliases(nil)
	}
	owner := fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", ctx.Stack(), ctx.Project(), firstLayoutOwners[component], component)
	return pulumi.Aliases([]pulumi.Alias{{ParentURN: pulumi.URN(owner)}})
}

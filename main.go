// Command scalable-wordpress is a Pulumi program that deploys the AWS "scalable website"
// hands-on as code: a VPC over two AZs, a Multi-AZ MySQL, WordPress servers built from an
// image of the first one, and an ALB in front, configured end to end by `pulumi up`.
package main

import (
	"fmt"

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
	Web      *WebTier
	LB       *LoadBalancer
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

// createInfrastructure wires config → network → security groups → database → web tier →
// load balancer. Each part gets exactly its Args; this function is the one place that maps
// the stack's config onto them. The web tier gets only the database's hand-off, so it never
// waits for RDS.
func createInfrastructure(ctx *pulumi.Context) (*infrastructure, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	tags := cfg.Tags()
	dbHostParameter, siteURLParameter := cfg.handoffParameter("db-host"), cfg.handoffParameter("site-url")

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
	security, err := NewSecurityGroups(ctx, "security", &SecurityGroupsArgs{
		VpcID:         network.Vpc.ID().ToStringOutput(),
		ListenerPorts: listenerPorts(cfg),
		SSHCidr:       cfg.SSHCidr,
		Tags:          tags,
	})
	if err != nil {
		return nil, fmt.Errorf("security groups: %w", err)
	}
	database, err := NewDatabase(ctx, "db", &DatabaseArgs{
		SubnetIDs:            subnetIDs(network.PrivateSubnets),
		SecurityGroupID:      security.Database.ID().ToStringOutput(),
		EngineVersion:        cfg.DBEngineVersion,
		InstanceClass:        cfg.DBInstanceClass,
		AllocatedStorageGiB:  cfg.DBAllocatedStorageGiB,
		MaxStorageGiB:        cfg.DBMaxStorageGiB,
		MultiAZ:              cfg.DBMultiAZ,
		SingleAZPlacement:    cfg.AvailabilityZones[0],
		BackupRetentionDays:  cfg.DBBackupRetentionDays,
		DeletionProtection:   cfg.DBDeletionProtection,
		FinalSnapshotID:      finalSnapshotIDIf(cfg),
		SecretRecoveryWindow: cfg.SecretRecoveryWindowDays,
		HostParameterName:    dbHostParameter,
		Tags:                 tags,
	})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	web, err := NewWebTier(ctx, "web", &WebTierArgs{
		Region:            cfg.Region,
		Subnets:           network.PublicSubnets,
		SecurityGroupID:   security.Web.ID().ToStringOutput(),
		InstanceType:      cfg.InstanceType,
		ServerCount:       cfg.WebServerCount,
		AmiID:             cfg.AmiID,
		RootVolumeSizeGiB: cfg.RootVolumeSizeGiB,
		KeyPairName:       cfg.KeyPairName,
		Site: SiteSettings{
			Locale:     cfg.WordPressLocale,
			PHPVersion: cfg.PHPVersion,
			Title:      cfg.SiteTitle,
			AdminUser:  cfg.AdminUser,
			AdminEmail: cfg.AdminEmail,
		},
		DB:                   database.Handoff,
		SiteURLParameterName: siteURLParameter,
		SecretRecoveryWindow: cfg.SecretRecoveryWindowDays,
		Tags:                 tags,
	})
	if err != nil {
		return nil, fmt.Errorf("web tier: %w", err)
	}
	loadBalancer, err := NewLoadBalancer(ctx, "lb", &LoadBalancerArgs{
		VpcID:                network.Vpc.ID().ToStringOutput(),
		SubnetIDs:            subnetIDs(network.PublicSubnets),
		SecurityGroupID:      security.LoadBalancer.ID().ToStringOutput(),
		Targets:              web.instanceIDs(),
		HealthCheckPath:      cfg.HealthCheckPath,
		CertificateArn:       cfg.CertificateArn,
		SiteDomain:           cfg.SiteDomain,
		SiteURLParameterName: siteURLParameter,
		Tags:                 tags,
	})
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	return &infrastructure{Config: cfg, Network: network, Security: security, Database: database, Web: web, LB: loadBalancer}, nil
}

// listenerPorts are the load balancer's listeners: HTTP, and HTTPS with a certificate.
func listenerPorts(cfg Config) []int {
	if cfg.CertificateArn != "" {
		return []int{httpPort, httpsPort}
	}
	return []int{httpPort}
}

// finalSnapshotIDIf names the final snapshot when the stack keeps one, else "".
func finalSnapshotIDIf(cfg Config) string {
	if !cfg.DBFinalSnapshot {
		return ""
	}
	return finalSnapshotID(cfg.Project, cfg.Stack)
}

// exportOutputs publishes the stack outputs.
func exportOutputs(ctx *pulumi.Context, infra *infrastructure) {
	for k, v := range stackOutputs(infra) {
		ctx.Export(k, v)
	}
}

// stackOutputs is what users and the availability drill need; secrets by name only.
func stackOutputs(infra *infrastructure) pulumi.Map {
	servers := pulumi.Array{}
	for _, s := range infra.Web.Servers {
		servers = append(servers, pulumi.Map{
			"id":               s.Instance.ID(),
			"availabilityZone": s.Instance.AvailabilityZone,
		})
	}
	return pulumi.Map{
		"siteUrl":             infra.LB.SiteURL,
		"albDnsName":          infra.LB.ALB.DnsName,
		"targetGroupArn":      infra.LB.TargetGroup.Arn,
		"dbEndpoint":          infra.Database.Instance.Endpoint,
		"dbIdentifier":        infra.Database.Instance.Identifier,
		"dbAvailabilityZone":  infra.Database.Instance.AvailabilityZone,
		"dbMultiAz":           infra.Database.Instance.MultiAz,
		"dbSecretName":        infra.Database.Secret.Name,
		"dbHostParameter":     infra.Database.HostParameter.Name,
		"wordpressSecretName": infra.Web.WordPressSecret.Name,
		"wordpressAdminUser":  pulumi.String(infra.Config.AdminUser),
		"amiId":               infra.Web.Image.ID(),
		"webInstances":        servers,
		"vpcId":               infra.Network.Vpc.ID(),
		"publicSubnetIds":     subnetIDs(infra.Network.PublicSubnets),
		"privateSubnetIds":    subnetIDs(infra.Network.PrivateSubnets),
		"region":              pulumi.String(infra.Config.Region),
	}
}

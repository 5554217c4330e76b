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

// createInfrastructure wires config → network → database → web tier → load balancer.
// The web tier gets only the database's hand-off, so it never waits for RDS.
func createInfrastructure(ctx *pulumi.Context) (*infrastructure, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	network, err := newNetwork(ctx, cfg, "network")
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	database, err := newDatabase(ctx, cfg, network, "db")
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	web, err := newWebTier(ctx, cfg, network, database.Handoff, "web")
	if err != nil {
		return nil, fmt.Errorf("web tier: %w", err)
	}
	loadBalancer, err := newLoadBalancer(ctx, cfg, network, web, "lb")
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	return &infrastructure{Config: cfg, Network: network, Database: database, Web: web, LB: loadBalancer}, nil
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

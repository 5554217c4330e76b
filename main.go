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

// exportOutputs publishes what users and the availability drill need; secrets by name only.
func exportOutputs(ctx *pulumi.Context, infra *infrastructure) {
	servers := pulumi.Array{}
	for _, s := range infra.Web.Servers {
		servers = append(servers, pulumi.Map{
			"id":               s.Instance.ID(),
			"availabilityZone": s.Instance.AvailabilityZone,
		})
	}
	ctx.Export("siteUrl", infra.LB.SiteURL)
	ctx.Export("albDnsName", infra.LB.ALB.DnsName)
	ctx.Export("targetGroupArn", infra.LB.TargetGroup.Arn)
	ctx.Export("dbEndpoint", infra.Database.Instance.Endpoint)
	ctx.Export("dbIdentifier", infra.Database.Instance.Identifier)
	ctx.Export("dbAvailabilityZone", infra.Database.Instance.AvailabilityZone)
	ctx.Export("dbMultiAz", infra.Database.Instance.MultiAz)
	ctx.Export("dbSecretName", infra.Database.Secret.Name)
	ctx.Export("dbHostParameter", infra.Database.HostParameter.Name)
	ctx.Export("wordpressSecretName", infra.Web.WordPressSecret.Name)
	ctx.Export("wordpressAdminUser", pulumi.String(infra.Config.AdminUser))
	ctx.Export("amiId", infra.Web.Image.ID())
	ctx.Export("webInstances", servers)
	ctx.Export("vpcId", infra.Network.Vpc.ID())
	ctx.Export("publicSubnetIds", subnetIDs(infra.Network.PublicSubnets))
	ctx.Export("privateSubnetIds", subnetIDs(infra.Network.PrivateSubnets))
	ctx.Export("region", pulumi.String(infra.Config.Region))
}

package main

// Network is the hands-on's "Test-VPC": one VPC over two (or more) AZs, a public and a private
// subnet in each, an internet gateway for the public side and no route out for the private side.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Subnet is one subnet and the AZ it sits in (known from config, so usable without waiting).
type Subnet struct {
	AZ     string
	Subnet *ec2.Subnet
}

// Network is the VPC component and the typed handles the other parts need.
type Network struct {
	pulumi.ResourceState

	Vpc            *ec2.Vpc
	PublicSubnets  []Subnet
	PrivateSubnets []Subnet
}

// lookupZones returns the names of the region's available AZs.
func lookupZones(ctx *pulumi.Context) ([]string, error) {
	state := "available"
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: &state})
	if err != nil {
		return nil, err
	}
	return zones.Names, nil
}

// newNetwork builds the VPC, subnets, internet gateway and route tables.
func newNetwork(ctx *pulumi.Context, cfg Config, name string) (*Network, error) {
	n := &Network{}
	if err := ctx.RegisterComponentResource(cfg.Project+":network:Network", name, n); err != nil {
		return nil, fmt.Errorf("register network component: %w", err)
	}
	parent := pulumi.Parent(n)

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(cfg.VpcCidr),
		InstanceTenancy:    pulumi.String("default"),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true), // the hands-on left this off; SSM and private DNS want it on
		Tags:               cfg.tags("vpc"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create VPC: %w", err)
	}
	n.Vpc = vpc

	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  cfg.tags("igw"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: cfg.tags("public-rt"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create public route table: %w", err)
	}
	// One private route table for all private subnets: they have no route out, so nothing
	// differs per AZ (a NAT gateway per AZ would change that).
	privateRT, err := ec2.NewRouteTable(ctx, name+"-private-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  cfg.tags("private-rt"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create private route table: %w", err)
	}

	for i, az := range cfg.AvailabilityZones {
		suffix := azSuffix(az)
		pub, err := newSubnet(ctx, cfg, name, "public-"+suffix, vpc, az, cfg.PublicSubnetCidrs[i], true, publicRT, parent)
		if err != nil {
			return nil, err
		}
		priv, err := newSubnet(ctx, cfg, name, "private-"+suffix, vpc, az, cfg.PrivateSubnetCidrs[i], false, privateRT, parent)
		if err != nil {
			return nil, err
		}
		n.PublicSubnets = append(n.PublicSubnets, Subnet{AZ: az, Subnet: pub})
		n.PrivateSubnets = append(n.PrivateSubnets, Subnet{AZ: az, Subnet: priv})
	}

	if err := ctx.RegisterResourceOutputs(n, pulumi.Map{
		"vpcId":            vpc.ID(),
		"publicSubnetIds":  subnetIDs(n.PublicSubnets),
		"privateSubnetIds": subnetIDs(n.PrivateSubnets),
	}); err != nil {
		return nil, fmt.Errorf("register network outputs: %w", err)
	}
	return n, nil
}

// newSubnet creates one subnet and associates it with its route table.
func newSubnet(ctx *pulumi.Context, cfg Config, name, role string, vpc *ec2.Vpc, az, cidr string,
	public bool, rt *ec2.RouteTable, parent pulumi.ResourceOption) (*ec2.Subnet, error) {
	sn, err := ec2.NewSubnet(ctx, name+"-"+role, &ec2.SubnetArgs{
		VpcId:               vpc.ID(),
		CidrBlock:           pulumi.String(cidr),
		AvailabilityZone:    pulumi.String(az),
		MapPublicIpOnLaunch: pulumi.Bool(public),
		Tags:                cfg.tags(role),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create %s subnet: %w", role, err)
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, name+"-"+role+"-rta", &ec2.RouteTableAssociationArgs{
		SubnetId:     sn.ID(),
		RouteTableId: rt.ID(),
	}, parent); err != nil {
		return nil, fmt.Errorf("associate %s subnet with its route table: %w", role, err)
	}
	return sn, nil
}

// azSuffix turns "ap-northeast-1a" into "1a", the hands-on's naming ("パブリックサブネット-1a").
func azSuffix(az string) string {
	for i := len(az) - 1; i >= 0; i-- {
		if az[i] == '-' {
			return az[i+1:]
		}
	}
	return az
}

func subnetIDs(subnets []Subnet) pulumi.StringArray {
	ids := make(pulumi.StringArray, len(subnets))
	for i, s := range subnets {
		ids[i] = s.Subnet.ID().ToStringOutput()
	}
	return ids
}

package main

// Network is the hands-on's "Test-VPC": one VPC over two (or more) AZs, a public and a private
// subnet in each, an internet gateway for the public side and no route out for the private side.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NetworkArgs are the VPC's address plan: one public and one private CIDR per AZ, in order.
type NetworkArgs struct {
	AvailabilityZones  []string
	VpcCidr            string
	PublicSubnetCidrs  []string
	PrivateSubnetCidrs []string
	Tags               Tags
}

// Subnet is one subnet's ID and the AZ it sits in (known from config, so usable without
// waiting).
type Subnet struct {
	AZ string
	ID pulumi.StringOutput
}

// Network is the VPC component and the typed handles the other parts need.
type Network struct {
	pulumi.ResourceState

	Vpc            *ec2.Vpc
	PublicSubnets  []Subnet
	PrivateSubnets []Subnet
}

// lookupZones returns the names of the region's available AZs: availability zones proper,
// not Local Zones or Wavelength Zones that the account opted in to (no Multi-AZ RDS there).
func lookupZones(ctx *pulumi.Context) ([]string, error) {
	state := "available"
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: &state,
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "zone-type", Values: []string{"availability-zone"}}}})
	if err != nil {
		return nil, err
	}
	return zones.Names, nil
}

// NewNetwork builds the VPC, subnets, internet gateway and route tables.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	zones := len(args.AvailabilityZones)
	if len(args.PublicSubnetCidrs) != zones || len(args.PrivateSubnetCidrs) != zones {
		return nil, fmt.Errorf("network %s: want one public and one private CIDR per AZ (%d AZs, %d public, %d private)",
			name, zones, len(args.PublicSubnetCidrs), len(args.PrivateSubnetCidrs))
	}
	n := &Network{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:network:Network", name, n, opts...); err != nil {
		return nil, fmt.Errorf("register network component: %w", err)
	}
	parent := pulumi.Parent(n)

	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.VpcCidr),
		InstanceTenancy:    pulumi.String("default"),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true), // the hands-on left this off; SSM and private DNS want it on
		Tags:               args.Tags.Named("vpc"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create VPC: %w", err)
	}
	n.Vpc = vpc

	// The private subnets first: the database's subnet group waits for them, and RDS, the
	// slowest resource of the stack, waits for the subnet group. Registered before anything
	// else that needs the VPC, they are created first when it is ready.
	subnets := make([]*ec2.Subnet, 2*len(args.AvailabilityZones))
	for i, az := range args.AvailabilityZones {
		suffix := azSuffix(az)
		if subnets[2*i+1], err = newSubnet(ctx, name+"-private-"+suffix, subnetSpec{vpc: vpc, az: az, cidr: args.PrivateSubnetCidrs[i],
			tags: args.Tags.Named("private-" + suffix)}, parent); err != nil {
			return nil, err
		}
	}
	private := make([]pulumi.Resource, 0, len(args.AvailabilityZones))
	for i := range args.AvailabilityZones {
		private = append(private, subnets[2*i+1])
	}
	afterPrivate := pulumi.DependsOn(private)
	for i, az := range args.AvailabilityZones {
		suffix := azSuffix(az)
		if subnets[2*i], err = newSubnet(ctx, name+"-public-"+suffix, subnetSpec{vpc: vpc, az: az, cidr: args.PublicSubnetCidrs[i],
			public: true, tags: args.Tags.Named("public-" + suffix)}, parent, afterPrivate); err != nil {
			return nil, err
		}
	}
	publicRT, privateRT, err := newRouteTables(ctx, name, vpc, args.Tags, parent, afterPrivate)
	if err != nil {
		return nil, err
	}
	for i, az := range args.AvailabilityZones {
		pub, priv := subnets[2*i], subnets[2*i+1]
		if err := associate(ctx, name+"-public-"+azSuffix(az), pub, publicRT, parent); err != nil {
			return nil, err
		}
		if err := associate(ctx, name+"-private-"+azSuffix(az), priv, privateRT, parent); err != nil {
			return nil, err
		}
		n.PublicSubnets = append(n.PublicSubnets, Subnet{AZ: az, ID: pub.ID().ToStringOutput()})
		n.PrivateSubnets = append(n.PrivateSubnets, Subnet{AZ: az, ID: priv.ID().ToStringOutput()})
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

// newRouteTables creates the internet gateway with the public route table that uses it, and
// one private route table for all private subnets: they have no route out, so nothing differs
// per AZ (a NAT gateway per AZ would change that).
func newRouteTables(ctx *pulumi.Context, name string, vpc *ec2.Vpc, tags Tags, opts ...pulumi.ResourceOption) (public, private *ec2.RouteTable, err error) {
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags.Named("igw"),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create internet gateway: %w", err)
	}
	public, err = ec2.NewRouteTable(ctx, name+"-public-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{&ec2.RouteTableRouteArgs{
			CidrBlock: pulumi.String("0.0.0.0/0"),
			GatewayId: igw.ID(),
		}},
		Tags: tags.Named("public-rt"),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create public route table: %w", err)
	}
	private, err = ec2.NewRouteTable(ctx, name+"-private-rt", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tags.Named("private-rt"),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("create private route table: %w", err)
	}
	return public, private, nil
}

// subnetSpec is one subnet to create.
type subnetSpec struct {
	vpc      *ec2.Vpc
	az, cidr string
	public   bool
	tags     pulumi.StringMap
}

// newSubnet creates one subnet.
func newSubnet(ctx *pulumi.Context, name string, s subnetSpec, opts ...pulumi.ResourceOption) (*ec2.Subnet, error) {
	sn, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
		VpcId:               s.vpc.ID(),
		CidrBlock:           pulumi.String(s.cidr),
		AvailabilityZone:    pulumi.String(s.az),
		MapPublicIpOnLaunch: pulumi.Bool(s.public),
		Tags:                s.tags,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("create subnet %s: %w", name, err)
	}
	return sn, nil
}

// associate attaches a subnet to its route table.
func associate(ctx *pulumi.Context, name string, sn *ec2.Subnet, rt *ec2.RouteTable, parent pulumi.ResourceOption) error {
	if _, err := ec2.NewRouteTableAssociation(ctx, name+"-rta", &ec2.RouteTableAssociationArgs{
		SubnetId:     sn.ID(),
		RouteTableId: rt.ID(),
	}, parent); err != nil {
		return fmt.Errorf("associate subnet %s with its route table: %w", name, err)
	}
	return nil
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

// subnetIDs are the subnets' IDs, in AZ order.
func subnetIDs(subnets []Subnet) pulumi.StringArray {
	ids := make(pulumi.StringArray, len(subnets))
	for i, s := range subnets {
		ids[i] = s.ID
	}
	return ids
}

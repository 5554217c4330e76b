package main

// Security groups are created empty by the part that owns them; every rule is a separate,
// described resource, so that groups can reference each other (ALB → web → DB) without a
// creation cycle and each part adds only the rules it is responsible for.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// newSecurityGroup creates an empty group in the VPC; AWS's default allow-all egress is
// removed by the provider, so the group allows nothing until rules are added.
func newSecurityGroup(ctx *pulumi.Context, cfg Config, net *Network, name, tagName, description string, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		VpcId:       net.Vpc.ID(),
		Description: pulumi.String(description),
		Tags:        cfg.tags(tagName),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create security group %s: %w", tagName, err)
	}
	return sg, nil
}

// tcpRule allows one TCP port between a group and either a CIDR or another group.
type tcpRule struct {
	name        string // logical name, also the Name tag's suffix
	description string
	ingress     bool               // ingress to group, else egress from it
	group       pulumi.StringInput // the group the rule belongs to
	port        int
	cidr        string             // peer network, or
	peer        pulumi.StringInput // peer group
}

// allowTCP creates the rule as its own resource.
func allowTCP(ctx *pulumi.Context, cfg Config, r tcpRule, parent pulumi.ResourceOption) error {
	var cidr, peer pulumi.StringPtrInput
	if r.cidr != "" {
		cidr = pulumi.String(r.cidr)
	}
	if r.peer != nil {
		peer = r.peer.ToStringOutput()
	}
	var err error
	if r.ingress {
		_, err = vpc.NewSecurityGroupIngressRule(ctx, r.name, &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: r.group, Description: pulumi.String(r.description), IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port), CidrIpv4: cidr, ReferencedSecurityGroupId: peer,
			Tags: cfg.tags(r.name),
		}, parent)
	} else {
		_, err = vpc.NewSecurityGroupEgressRule(ctx, r.name, &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: r.group, Description: pulumi.String(r.description), IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port), CidrIpv4: cidr, ReferencedSecurityGroupId: peer,
			Tags: cfg.tags(r.name),
		}, parent)
	}
	if err != nil {
		return fmt.Errorf("create security group rule %s: %w", r.name, err)
	}
	return nil
}

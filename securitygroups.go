package main

// SecurityGroups is the whole chain of who may talk to whom, in one place:
//
//	internet ──80/443──▶ lb-sg ──80──▶ web-sg ──3306──▶ db-sg    (edge alb)
//	CloudFront ──80──▶ lb-sg                                      (edge cloudfront: its
//	                                   origin-facing prefix list, the VPC origin's included)
//	                                   web-sg ──2049──▶ uploads-sg (EFS mount targets)
//	                                   web-sg ──443──▶ internet (packages, wordpress.org, AWS APIs)
//	sshCidr  ──22──▶ web-sg (only when sshCidr is set)
//
// The groups are created empty (the provider removes AWS's default allow-all egress) and every
// rule is a separate, described resource, so that groups can reference each other without a
// creation cycle. The other parts only attach the group they are given; none adds rules.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// SecurityGroupsArgs say which doors the chain has.
type SecurityGroupsArgs struct {
	VpcID         pulumi.StringInput
	ListenerPorts []int // the load balancer's listener ports, open to the internet or to:
	// FromPrefixList, when set, is the only source of the listener ports: CloudFront's
	// origin-facing prefix list with edge cloudfront.
	FromPrefixList string
	SSHCidr        string // "" keeps port 22 closed
	Tags           Tags
}

// SecurityGroups are the three groups; their rules are fixed by the chain above.
type SecurityGroups struct {
	pulumi.ResourceState

	LoadBalancer *ec2.SecurityGroup
	Web          *ec2.SecurityGroup
	Database     *ec2.SecurityGroup
	Uploads      *ec2.SecurityGroup
}

const (
	httpPort  = 80
	httpsPort = 443
	sshPort   = 22
	nfsPort   = 2049
)

// NewSecurityGroups creates the groups and every rule between them.
func NewSecurityGroups(ctx *pulumi.Context, name string, args *SecurityGroupsArgs, opts ...pulumi.ResourceOption) (*SecurityGroups, error) {
	g := &SecurityGroups{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:network:SecurityGroups", name, g, opts...); err != nil {
		return nil, fmt.Errorf("register security groups component: %w", err)
	}
	parent := pulumi.Parent(g)

	var err error
	groups := []struct {
		dst                         **ec2.SecurityGroup
		name, tag, description, was string
	}{
		{&g.LoadBalancer, "lb-sg", "elb-sg", lbGroupDescription(args), "lb"},
		{&g.Web, "web-sg", "web-sg", "WordPress web servers: HTTP from the load balancer only", "web"},
		{&g.Database, "db-sg", "db-sg", "WordPress database: MySQL from the web servers only", "db"},
		{&g.Uploads, "uploads-sg", "uploads-sg", "WordPress shared uploads (EFS): NFS from the web servers only", ""},
	}
	for _, x := range groups {
		*x.dst, err = ec2.NewSecurityGroup(ctx, x.name, &ec2.SecurityGroupArgs{
			VpcId:       args.VpcID,
			Description: pulumi.String(x.description),
			Tags:        args.Tags.Named(x.tag),
		}, parent, movedFrom(ctx, x.was))
		if err != nil {
			return nil, fmt.Errorf("create security group %s: %w", x.tag, err)
		}
	}

	for _, r := range g.chain(args) {
		if err := r.create(ctx, args.Tags, parent); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"loadBalancerGroupId": g.LoadBalancer.ID(),
		"webGroupId":          g.Web.ID(),
		"databaseGroupId":     g.Database.ID(),
		"uploadsGroupId":      g.Uploads.ID(),
	}); err != nil {
		return nil, fmt.Errorf("register security groups outputs: %w", err)
	}
	return g, nil
}

// chain is every rule, in the order of the diagram above. Logical names are those of the
// first layout (where the load balancer and web tier each declared their half of the chain),
// and movedFrom keeps their URNs, so existing stacks see no change.
func (g *SecurityGroups) chain(args *SecurityGroupsArgs) []tcpRule {
	internet := "0.0.0.0/0"
	var rules []tcpRule
	for _, port := range args.ListenerPorts {
		r := tcpRule{name: fmt.Sprintf("lb-in-%d", port), was: "lb", ingress: true, group: g.LoadBalancer,
			cidr: internet, port: port, description: fmt.Sprintf("Port %d from the internet to the listener", port)}
		if args.FromPrefixList != "" {
			r.cidr, r.prefixList = "", args.FromPrefixList
			r.description = fmt.Sprintf("Port %d from CloudFront's origin-facing servers only", port)
		}
		rules = append(rules, r)
	}
	rules = append(rules,
		tcpRule{name: "lb-to-web", was: "lb", group: g.LoadBalancer, peer: g.Web, port: httpPort,
			description: "HTTP to the WordPress web servers"},
		tcpRule{name: "lb-web-from-alb", was: "lb", ingress: true, group: g.Web, peer: g.LoadBalancer, port: httpPort,
			description: "HTTP from the WordPress load balancer"},
		tcpRule{name: "web-mysql-out", was: "web", group: g.Web, peer: g.Database, port: dbPort,
			description: "MySQL to the WordPress database"},
		tcpRule{name: "web-to-db", was: "web", ingress: true, group: g.Database, peer: g.Web, port: dbPort,
			description: "MySQL from the WordPress web servers"},
		tcpRule{name: "web-nfs-out", group: g.Web, peer: g.Uploads, port: nfsPort,
			description: "NFS to the shared uploads file system"},
		tcpRule{name: "uploads-from-web", ingress: true, group: g.Uploads, peer: g.Web, port: nfsPort,
			description: "NFS from the WordPress web servers"},
		tcpRule{name: "web-https-out", was: "web", group: g.Web, cidr: internet, port: httpsPort,
			description: "HTTPS to package repositories, wordpress.org and AWS APIs"},
	)
	if args.SSHCidr != "" {
		rules = append(rules, tcpRule{name: "web-ssh", was: "web", ingress: true, group: g.Web, cidr: args.SSHCidr, port: sshPort,
			description: "SSH from the configured administrator network (sshCidr)"})
	}
	return rules
}

// tcpRule allows one TCP port into (ingress) or out of (egress) a group, from or to either a
// CIDR or another group.
type tcpRule struct {
	name        string // logical name, also the Name tag's suffix
	was         string // the component that declared it in the first layout (see movedFrom)
	description string
	ingress     bool
	group       *ec2.SecurityGroup // the group the rule belongs to
	port        int
	cidr        string             // the other end is a network, or
	prefixList  string             // a managed prefix list, or
	peer        *ec2.SecurityGroup // another group
}

// lbGroupDescription says who may reach the load balancer.
func lbGroupDescription(args *SecurityGroupsArgs) string {
	if args.FromPrefixList != "" {
		return "WordPress load balancer: web traffic from CloudFront only"
	}
	return "WordPress load balancer: web traffic from the internet"
}

// create registers the rule as its own resource.
func (r tcpRule) create(ctx *pulumi.Context, tags Tags, parent pulumi.ResourceOption) error {
	var cidr, prefixList, peer pulumi.StringPtrInput
	if r.cidr != "" {
		cidr = pulumi.String(r.cidr)
	}
	if r.prefixList != "" {
		prefixList = pulumi.String(r.prefixList)
	}
	if r.peer != nil {
		peer = r.peer.ID().ToStringOutput()
	}
	opts := []pulumi.ResourceOption{parent, movedFrom(ctx, r.was)}
	var err error
	if r.ingress {
		_, err = vpc.NewSecurityGroupIngressRule(ctx, r.name, &vpc.SecurityGroupIngressRuleArgs{
			SecurityGroupId: r.group.ID(), Description: pulumi.String(r.description), IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port), CidrIpv4: cidr, PrefixListId: prefixList, ReferencedSecurityGroupId: peer,
			Tags: tags.Named(r.name),
		}, opts...)
	} else {
		_, err = vpc.NewSecurityGroupEgressRule(ctx, r.name, &vpc.SecurityGroupEgressRuleArgs{
			SecurityGroupId: r.group.ID(), Description: pulumi.String(r.description), IpProtocol: pulumi.String("tcp"),
			FromPort: pulumi.Int(r.port), ToPort: pulumi.Int(r.port), CidrIpv4: cidr, ReferencedSecurityGroupId: peer,
			Tags: tags.Named(r.name),
		}, opts...)
	}
	if err != nil {
		return fmt.Errorf("create security group rule %s: %w", r.name, err)
	}
	return nil
}

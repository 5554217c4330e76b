package main

// LoadBalancer is the hands-on's step 4 and 8: an internet-facing ALB over the public
// subnets whose target group holds every web server, plus HTTPS when a certificate is
// configured. It also publishes the site URL that the servers read at boot.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// tlsPolicy allows TLS 1.3 and 1.2 only.
const tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// LoadBalancer is the load balancer component.
type LoadBalancer struct {
	pulumi.ResourceState

	SecurityGroup *ec2.SecurityGroup
	ALB           *lb.LoadBalancer
	TargetGroup   *lb.TargetGroup
	HTTPListener  *lb.Listener
	HTTPSListener *lb.Listener // nil without a certificate
	SiteURL       pulumi.StringOutput
}

// newLoadBalancer builds the ALB's security group and rules, the ALB, target group,
// listeners, one attachment per web server and the site-URL hand-off parameter.
func newLoadBalancer(ctx *pulumi.Context, cfg Config, net *Network, web *WebTier, name string) (*LoadBalancer, error) {
	l := &LoadBalancer{}
	if err := ctx.RegisterComponentResource(cfg.Project+":lb:LoadBalancer", name, l); err != nil {
		return nil, fmt.Errorf("register load balancer component: %w", err)
	}
	parent := pulumi.Parent(l)

	sg, err := newALBSecurityGroup(ctx, cfg, net, web, name, parent)
	if err != nil {
		return nil, err
	}
	l.SecurityGroup = sg

	publicIDs := pulumi.StringArray{}
	for _, s := range net.PublicSubnets {
		publicIDs = append(publicIDs, s.Subnet.ID())
	}
	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", &lb.LoadBalancerArgs{
		LoadBalancerType:        pulumi.String("application"),
		Internal:                pulumi.Bool(false),
		IpAddressType:           pulumi.String("ipv4"),
		Subnets:                 publicIDs,
		SecurityGroups:          pulumi.StringArray{sg.ID()},
		DropInvalidHeaderFields: pulumi.Bool(true),
		DesyncMitigationMode:    pulumi.String("defensive"),
		EnableHttp2:             pulumi.Bool(true),
		Tags:                    cfg.tags("alb"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create load balancer: %w", err)
	}
	l.ALB = alb

	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		VpcId:               net.Vpc.ID(),
		TargetType:          pulumi.String("instance"),
		Protocol:            pulumi.String("HTTP"),
		ProtocolVersion:     pulumi.String("HTTP1"),
		Port:                pulumi.Int(80),
		DeregistrationDelay: pulumi.Int(30),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTP"),
			Path:               pulumi.String(cfg.HealthCheckPath),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(15),
			Timeout:            pulumi.Int(5),
			HealthyThreshold:   pulumi.Int(2),
			UnhealthyThreshold: pulumi.Int(2),
		},
		Tags: cfg.tags("targetgroup"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("create target group: %w", err)
	}
	l.TargetGroup = tg

	if err := l.newListeners(ctx, cfg, name, parent); err != nil {
		return nil, err
	}

	for i, s := range web.Servers {
		if _, err := lb.NewTargetGroupAttachment(ctx, fmt.Sprintf("%s-web-%d", name, i+1), &lb.TargetGroupAttachmentArgs{
			TargetGroupArn: tg.Arn,
			TargetId:       s.Instance.ID(),
			Port:           pulumi.Int(80),
		}, parent); err != nil {
			return nil, fmt.Errorf("register web server %d in the target group: %w", i+1, err)
		}
	}

	// With a certificate the ALB's own name fails TLS checks, so users set siteDomain (a DNS
	// name they point at the ALB); without one, the ALB's DNS name is the site.
	scheme := "http"
	if cfg.CertificateArn != "" {
		scheme = "https"
	}
	if cfg.SiteDomain != "" {
		l.SiteURL = pulumi.String(scheme + "://" + cfg.SiteDomain).ToStringOutput()
	} else {
		l.SiteURL = pulumi.Sprintf("%s://%s", scheme, alb.DnsName)
	}
	if _, err := ssm.NewParameter(ctx, name+"-site-url", &ssm.ParameterArgs{
		Name:          pulumi.String(cfg.ssmPrefix() + "/" + siteURLName),
		Description:   pulumi.String("WordPress site URL (home and siteurl), read by the web servers at boot"),
		Type:          pulumi.String("String"),
		InsecureValue: l.SiteURL,
		Tags:          cfg.tags("site-url"),
	}, parent); err != nil {
		return nil, fmt.Errorf("create site URL parameter: %w", err)
	}

	if err := ctx.RegisterResourceOutputs(l, pulumi.Map{
		"dnsName": alb.DnsName,
		"siteUrl": l.SiteURL,
	}); err != nil {
		return nil, fmt.Errorf("register load balancer outputs: %w", err)
	}
	return l, nil
}

// newALBSecurityGroup opens the listener ports to the internet and lets the ALB reach the
// web servers, and nothing else.
func newALBSecurityGroup(ctx *pulumi.Context, cfg Config, net *Network, web *WebTier, name string, parent pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := newSecurityGroup(ctx, cfg, net, name+"-sg", "elb-sg", "WordPress load balancer: web traffic from the internet", parent)
	if err != nil {
		return nil, err
	}
	ports := []int{80}
	if cfg.CertificateArn != "" {
		ports = append(ports, 443)
	}
	var rules []tcpRule
	for _, port := range ports {
		rules = append(rules, tcpRule{name: fmt.Sprintf("%s-in-%d", name, port), description: fmt.Sprintf("Port %d from the internet to the listener", port),
			ingress: true, group: sg.ID().ToStringOutput(), port: port, cidr: "0.0.0.0/0"})
	}
	webGroup := web.SecurityGroup.ID().ToStringOutput()
	rules = append(rules,
		tcpRule{name: name + "-to-web", description: "HTTP to the WordPress web servers",
			group: sg.ID().ToStringOutput(), port: 80, peer: webGroup},
		tcpRule{name: name + "-web-from-alb", description: "HTTP from the WordPress load balancer", ingress: true,
			group: webGroup, port: 80, peer: sg.ID().ToStringOutput()},
	)
	for _, r := range rules {
		if err := allowTCP(ctx, cfg, r, parent); err != nil {
			return nil, err
		}
	}
	return sg, nil
}

// newListeners creates HTTP:80, which forwards to the servers, or with a certificate
// redirects to HTTPS:443, which then forwards.
func (l *LoadBalancer) newListeners(ctx *pulumi.Context, cfg Config, name string, parent pulumi.ResourceOption) error {
	forward := lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: l.TargetGroup.Arn,
	}}
	httpActions := forward
	if cfg.CertificateArn != "" {
		httpActions = lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
			Type: pulumi.String("redirect"),
			Redirect: &lb.ListenerDefaultActionRedirectArgs{
				Protocol:   pulumi.String("HTTPS"),
				Port:       pulumi.String("443"),
				StatusCode: pulumi.String("HTTP_301"),
			},
		}}
		https, err := lb.NewListener(ctx, name+"-https", &lb.ListenerArgs{
			LoadBalancerArn: l.ALB.Arn,
			Protocol:        pulumi.String("HTTPS"),
			Port:            pulumi.Int(443),
			SslPolicy:       pulumi.String(tlsPolicy),
			CertificateArn:  pulumi.String(cfg.CertificateArn),
			DefaultActions:  forward,
			Tags:            cfg.tags("listener-https"),
		}, parent)
		if err != nil {
			return fmt.Errorf("create HTTPS listener: %w", err)
		}
		l.HTTPSListener = https
	}
	http, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: l.ALB.Arn,
		Protocol:        pulumi.String("HTTP"),
		Port:            pulumi.Int(80),
		DefaultActions:  httpActions,
		Tags:            cfg.tags("listener-http"),
	}, parent)
	if err != nil {
		return fmt.Errorf("create HTTP listener: %w", err)
	}
	l.HTTPListener = http
	return nil
}

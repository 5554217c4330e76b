package main

// LoadBalancer is the hands-on's step 4 and 8: an ALB whose target group holds every web
// server. With edge alb it is internet-facing over the public subnets, with HTTPS when a
// certificate is configured, and publishes the site URL; with edge cloudfront it is internal,
// over the private subnets, and only CloudFront reaches it (edge.go). Its security group and
// the rules around it are in securitygroups.go.

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// tlsPolicy allows TLS 1.3 and 1.2 only.
const tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// deregistrationDelay lets requests in flight to a server that leaves (scale-in, refresh)
// finish; WordPress pages answer in well under it.
const deregistrationDelay = 20

// LoadBalancerArgs are where the load balancer sits, what it forwards to and how the site
// is reached.
type LoadBalancerArgs struct {
	VpcID           pulumi.StringInput
	SubnetIDs       pulumi.StringArrayInput // one per AZ: public, or private when Internal
	SecurityGroupID pulumi.StringInput
	Internal        bool // no public address: CloudFront's VPC origin is the only way in

	HealthCheckPath string
	CertificateArn  string             // "" serves plain HTTP only (always, when Internal)
	SiteDomain      string             // "" uses the load balancer's DNS name
	AlarmTopic      pulumi.StringInput // where the rollout alarms notify
	MetricsLabel    string             // the stack's label of its own metrics (the converge failures')
	// After is what the load balancer and target group wait for: the database's subnet
	// group, so that the engine's first minute goes to the database's critical path and the
	// load balancer (three minutes) is built in the shadow of the RDS instance's twenty.
	After pulumi.Resource
	Tags  Tags
}

// LoadBalancerTarget is what the web tier needs of the load balancer: where servers register,
// the label of the requests-per-target metric, the alarms that roll a bad rollout back, and
// the listeners (the metric exists once one forwards).
type LoadBalancerTarget struct {
	TargetGroupArn pulumi.StringInput
	ResourceLabel  pulumi.StringInput      // "<load balancer ARN suffix>/<target group ARN suffix>"
	RolloutAlarms  pulumi.StringArrayInput // alarm names
	Listeners      []pulumi.Resource
}

// LoadBalancer is the load balancer component.
type LoadBalancer struct {
	pulumi.ResourceState

	ALB           *lb.LoadBalancer
	TargetGroup   *lb.TargetGroup
	HTTPListener  *lb.Listener
	HTTPSListener *lb.Listener        // nil without a certificate
	SiteURL       pulumi.StringOutput // where users reach an internet-facing load balancer; unset when Internal
	Target        LoadBalancerTarget
	RolloutAlarms map[string]*cloudwatch.MetricAlarm // by their spec name (monitoring.go)
}

// NewLoadBalancer builds the ALB, the target group the web tier registers its servers in,
// the listeners and the alarms that roll a bad rollout back.
func NewLoadBalancer(ctx *pulumi.Context, name string, args *LoadBalancerArgs, opts ...pulumi.ResourceOption) (*LoadBalancer, error) {
	l := &LoadBalancer{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:lb:LoadBalancer", name, l, opts...); err != nil {
		return nil, fmt.Errorf("register load balancer component: %w", err)
	}
	parent := pulumi.Parent(l)

	alb, err := lb.NewLoadBalancer(ctx, name+"-alb", &lb.LoadBalancerArgs{
		LoadBalancerType:        pulumi.String("application"),
		Internal:                pulumi.Bool(args.Internal),
		IpAddressType:           pulumi.String("ipv4"),
		Subnets:                 args.SubnetIDs,
		SecurityGroups:          pulumi.StringArray{args.SecurityGroupID},
		DropInvalidHeaderFields: pulumi.Bool(true),
		DesyncMitigationMode:    pulumi.String("defensive"),
		EnableHttp2:             pulumi.Bool(true),
		Tags:                    args.Tags.Named("alb"),
	}, parent, dependsOnIf(args.After))
	if err != nil {
		return nil, fmt.Errorf("create load balancer: %w", err)
	}
	l.ALB = alb
	if l.TargetGroup, err = newTargetGroup(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if err := l.newListeners(ctx, name, args, parent); err != nil {
		return nil, err
	}
	outputs := pulumi.Map{"dnsName": alb.DnsName}
	if !args.Internal { // behind CloudFront the distribution's URL is the site's (edge.go)
		l.SiteURL = siteURL(args, alb)
		outputs["siteUrl"] = l.SiteURL
	}
	var alarms pulumi.StringArray
	l.RolloutAlarms, alarms, err = newRolloutAlarms(ctx, name, alb.ArnSuffix, l.TargetGroup.ArnSuffix, args.MetricsLabel, args.AlarmTopic, args.Tags, parent)
	if err != nil {
		return nil, err
	}
	l.Target = LoadBalancerTarget{
		TargetGroupArn: l.TargetGroup.Arn,
		ResourceLabel:  pulumi.Sprintf("%s/%s", alb.ArnSuffix, l.TargetGroup.ArnSuffix),
		RolloutAlarms:  alarms,
		Listeners:      l.listeners(),
	}

	if err := ctx.RegisterResourceOutputs(l, outputs); err != nil {
		return nil, fmt.Errorf("register load balancer outputs: %w", err)
	}
	return l, nil
}

// siteURL is where users reach the site. With a certificate the ALB's own name fails TLS
// checks, so users set siteDomain (a DNS name they point at the ALB); without one, the
// ALB's DNS name is the site.
func siteURL(args *LoadBalancerArgs, alb *lb.LoadBalancer) pulumi.StringOutput {
	scheme := "http"
	if args.CertificateArn != "" {
		scheme = "https"
	}
	if args.SiteDomain != "" {
		return pulumi.String(scheme + "://" + args.SiteDomain).ToStringOutput()
	}
	return pulumi.Sprintf("%s://%s", scheme, alb.DnsName)
}

// listeners are the load balancer's listeners.
func (l *LoadBalancer) listeners() []pulumi.Resource {
	out := []pulumi.Resource{l.HTTPListener}
	if l.HTTPSListener != nil {
		out = append(out, l.HTTPSListener)
	}
	return out
}

// Health check timing. A server that dies unannounced keeps its share of requests until the
// check has failed it unhealthyChecks times: with these numbers the error window users see
// is at most 2 × 5 s + 3 s = 13 s (two intervals when the dead server refuses connections
// rather than timing out), which the drill checks. Health checks are free; a 3 s timeout
// is generous for /healthz.php, which touches neither the database nor WordPress.
const (
	healthCheckInterval = 5
	healthCheckTimeout  = 3
	unhealthyChecks     = 2
	healthyChecks       = 2
)

// newTargetGroup is the hands-on's elb-targetgroup: instances on HTTP/80, health-checked on
// the configured path every 5 s; 2 failures take a server out, 2 successes let a new one in.
func newTargetGroup(ctx *pulumi.Context, name string, args *LoadBalancerArgs, parent pulumi.ResourceOption) (*lb.TargetGroup, error) {
	tg, err := lb.NewTargetGroup(ctx, name+"-tg", &lb.TargetGroupArgs{
		VpcId:               args.VpcID,
		TargetType:          pulumi.String("instance"),
		Protocol:            pulumi.String("HTTP"),
		ProtocolVersion:     pulumi.String("HTTP1"),
		Port:                pulumi.Int(httpPort),
		DeregistrationDelay: pulumi.Int(deregistrationDelay),
		HealthCheck: &lb.TargetGroupHealthCheckArgs{
			Enabled:            pulumi.Bool(true),
			Protocol:           pulumi.String("HTTP"),
			Path:               pulumi.String(args.HealthCheckPath),
			Matcher:            pulumi.String("200"),
			Interval:           pulumi.Int(healthCheckInterval),
			Timeout:            pulumi.Int(healthCheckTimeout),
			HealthyThreshold:   pulumi.Int(healthyChecks),
			UnhealthyThreshold: pulumi.Int(unhealthyChecks),
		},
		Tags: args.Tags.Named("targetgroup"),
	}, parent, dependsOnIf(args.After))
	if err != nil {
		return nil, fmt.Errorf("create target group: %w", err)
	}
	return tg, nil
}

// newListeners creates HTTP:80, which forwards to the servers, or with a certificate
// redirects to HTTPS:443, which then forwards.
func (l *LoadBalancer) newListeners(ctx *pulumi.Context, name string, args *LoadBalancerArgs, parent pulumi.ResourceOption) error {
	forward := lb.ListenerDefaultActionArray{&lb.ListenerDefaultActionArgs{
		Type:           pulumi.String("forward"),
		TargetGroupArn: l.TargetGroup.Arn,
	}}
	httpActions := forward
	if args.CertificateArn != "" {
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
			Port:            pulumi.Int(httpsPort),
			SslPolicy:       pulumi.String(tlsPolicy),
			CertificateArn:  pulumi.String(args.CertificateArn),
			DefaultActions:  forward,
			Tags:            args.Tags.Named("listener-https"),
		}, parent)
		if err != nil {
			return fmt.Errorf("create HTTPS listener: %w", err)
		}
		l.HTTPSListener = https
	}
	http, err := lb.NewListener(ctx, name+"-http", &lb.ListenerArgs{
		LoadBalancerArn: l.ALB.Arn,
		Protocol:        pulumi.String("HTTP"),
		Port:            pulumi.Int(httpPort),
		DefaultActions:  httpActions,
		Tags:            args.Tags.Named("listener-http"),
	}, parent)
	if err != nil {
		return fmt.Errorf("create HTTP listener: %w", err)
	}
	l.HTTPListener = http
	return nil
}

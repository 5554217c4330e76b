package main

// Firewall is the optional AWS WAF web ACL in front of the site (config waf): with edge
// cloudfront a CLOUDFRONT-scope web ACL (which AWS keeps in us-east-1) attached to the
// distribution, with edge alb a regional one associated with the load balancer. It blocks
// with AWS's managed rule groups for what attacks WordPress sites (common web exploits, known
// bad inputs, WordPress's and PHP's own, SQL injection) and limits how often one address may
// try wp-login.php or xmlrpc.php (password guessing).
//
// Two rules of the common rule set are counted rather than enforced, as WordPress needs:
// SizeRestrictions_BODY (bodies over 8 KB: media uploads, long posts) and
// CrossSiteScripting_BODY (the block editor saves HTML).

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Web ACL scopes.
const (
	wafScopeCloudFront = "CLOUDFRONT"
	wafScopeRegional   = "REGIONAL"
)

// wafManagedGroups are the AWS managed rule groups, in evaluation order after the rate limit.
var wafManagedGroups = []string{
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesWordPressRuleSet",
	"AWSManagedRulesPHPRuleSet",
	"AWSManagedRulesSQLiRuleSet",
}

// wafCounted are the rules of the common rule set that WordPress trips in normal use.
var wafCounted = map[string][]string{
	"AWSManagedRulesCommonRuleSet": {"SizeRestrictions_BODY", "CrossSiteScripting_BODY"},
}

// loginPaths are the password-guessing targets the rate limit watches.
var loginPaths = []string{"/wp-login.php", "/xmlrpc.php"}

// wafWindowSeconds is the rate limit's window.
const wafWindowSeconds = 300

// FirewallArgs say where the web ACL goes and how strict the login limit is.
type FirewallArgs struct {
	Scope      string // wafScopeCloudFront (created in us-east-1) or wafScopeRegional
	LoginLimit int    // requests per IP per window to loginPaths
	// LoadBalancerArn is the load balancer a regional web ACL protects; nil for CLOUDFRONT,
	// where the distribution refers to the web ACL instead.
	LoadBalancerArn pulumi.StringInput
	Tags            Tags
}

// Firewall is the WAF component.
type Firewall struct {
	pulumi.ResourceState

	WebACL *wafv2.WebAcl
}

// NewFirewall creates the web ACL and, for a load balancer, its association.
func NewFirewall(ctx *pulumi.Context, name string, args *FirewallArgs, opts ...pulumi.ResourceOption) (*Firewall, error) {
	f := &Firewall{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:edge:Firewall", name, f, opts...); err != nil {
		return nil, fmt.Errorf("register firewall component: %w", err)
	}
	parent := pulumi.Parent(f)
	resOpts := []pulumi.ResourceOption{parent}
	if args.Scope == wafScopeCloudFront {
		usEast1, err := newUSEast1Provider(ctx, name, parent)
		if err != nil {
			return nil, err
		}
		resOpts = append(resOpts, pulumi.Provider(usEast1))
	}
	metric := args.Tags.name("waf")
	acl, err := wafv2.NewWebAcl(ctx, name+"-acl", &wafv2.WebAclArgs{
		Description:      pulumi.String("WordPress: AWS managed rules and a login rate limit"),
		Scope:            pulumi.String(args.Scope),
		DefaultAction:    &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:            wafRules(args.LoginLimit, metric),
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric), SampledRequestsEnabled: pulumi.Bool(true)},
		Tags:             args.Tags.Named("waf"),
	}, resOpts...)
	if err != nil {
		return nil, fmt.Errorf("create web ACL: %w", err)
	}
	f.WebACL = acl
	if args.LoadBalancerArn != nil {
		if _, err := wafv2.NewWebAclAssociation(ctx, name+"-alb", &wafv2.WebAclAssociationArgs{
			ResourceArn: args.LoadBalancerArn, WebAclArn: acl.Arn,
		}, parent); err != nil {
			return nil, fmt.Errorf("associate the web ACL with the load balancer: %w", err)
		}
	}
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{"webAclArn": acl.Arn}); err != nil {
		return nil, fmt.Errorf("register firewall outputs: %w", err)
	}
	return f, nil
}

// wafRules are the rate limit on the login paths, then the managed groups.
func wafRules(loginLimit int, metric string) wafv2.WebAclRuleArray {
	visibility := func(rule string) *wafv2.WebAclRuleVisibilityConfigArgs {
		return &wafv2.WebAclRuleVisibilityConfigArgs{CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName: pulumi.String(metric + "-" + rule), SampledRequestsEnabled: pulumi.Bool(true)}
	}
	var paths wafv2.WebAclRuleStatementArray
	for _, p := range loginPaths {
		paths = append(paths, &wafv2.WebAclRuleStatementArgs{ByteMatchStatement: &wafv2.WebAclRuleStatementByteMatchStatementArgs{
			FieldToMatch:         &wafv2.WebAclRuleStatementByteMatchStatementFieldToMatchArgs{UriPath: &wafv2.WebAclRuleStatementByteMatchStatementFieldToMatchUriPathArgs{}},
			PositionalConstraint: pulumi.String("ENDS_WITH"),
			SearchString:         pulumi.String(p),
			TextTransformations: wafv2.WebAclRuleStatementByteMatchStatementTextTransformationArray{
				&wafv2.WebAclRuleStatementByteMatchStatementTextTransformationArgs{Priority: pulumi.Int(0), Type: pulumi.String("LOWERCASE")}},
		}})
	}
	rules := wafv2.WebAclRuleArray{&wafv2.WebAclRuleArgs{
		Name: pulumi.String("login-rate-limit"), Priority: pulumi.Int(0),
		Action: &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
		Statement: &wafv2.WebAclRuleStatementArgs{RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
			Limit: pulumi.Int(loginLimit), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(wafWindowSeconds),
			ScopeDownStatement: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs{
				OrStatement: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementOrStatementArgs{Statements: paths}},
		}},
		VisibilityConfig: visibility("login-rate-limit"),
	}}
	for i, g := range wafManagedGroups {
		var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
		for _, r := range wafCounted[g] {
			overrides = append(overrides, &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{Name: pulumi.String(r),
				ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
					Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{}}})
		}
		rules = append(rules, &wafv2.WebAclRuleArgs{
			Name: pulumi.String(g), Priority: pulumi.Int(i + 1),
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
				Name: pulumi.String(g), VendorName: pulumi.String("AWS"), RuleActionOverrides: overrides}},
			VisibilityConfig: visibility(g),
		})
	}
	return rules
}

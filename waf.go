package main

// Firewall is the optional AWS WAF web ACL in front of the site (config waf): with edge
// cloudfront a CLOUDFRONT-scope web ACL (which AWS keeps in us-east-1) attached to the
// distribution, with edge alb a regional one associated with the load balancer. It blocks
// with AWS's managed rule groups for what attacks WordPress sites (common web exploits, known
// bad inputs, WordPress's and PHP's own, SQL injection) and limits how often one address may
// try wp-login.php or xmlrpc.php (password guessing). It logs every request to CloudWatch Logs.
//
// AWS WAF inspects only the first 8 KB of a body (16 KB on CloudFront): an injection padded
// past that passes every rule. The common rule set's SizeRestrictions_BODY (a body over 8 KB)
// therefore blocks everywhere except where WordPress's logged-in users legitimately send large
// bodies (editorPathPatterns: media uploads and the editors' saves), as AWS's guidance for
// WordPress has it; CrossSiteScripting_BODY likewise, since only the editors send HTML. Both
// rules only label in the managed group (counted) and a rule after it blocks on the label
// outside those paths.

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
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

// wafCounted are the rules of the common rule set that WordPress's editors trip in normal use:
// in the group they only label the request (count), and bodyRules block on the label outside
// the editor paths.
var wafCounted = map[string][]string{
	"AWSManagedRulesCommonRuleSet": {"SizeRestrictions_BODY", "CrossSiteScripting_BODY"},
}

// bodyRules block what a counted rule labelled, except on editorPathPatterns: rule name, label
// (AWS WAF Developer Guide, core rule set).
var bodyRules = []struct{ name, label string }{
	{"large-body-outside-editor", "awswaf:managed:aws:core-rule-set:SizeRestrictions_Body"},
	{"html-body-outside-editor", "awswaf:managed:aws:core-rule-set:CrossSiteScripting_Body"},
}

// editorPathPatterns are the URI paths, normalised (editorPathTransformations), where
// WordPress takes bodies over 8 KB or HTML, each from a logged-in user with a capability.
// Anchored at both ends: nothing else is exempt.
//
//   - wp-admin/async-upload.php: media uploads from the media library and the media modal;
//     media-new.php: the browser uploader's form; post.php: the classic editor's save.
//   - REST /wp/v2/media: the block editor's uploads; posts, pages (and their autosaves):
//     the block editor's saves; blocks: synced patterns; templates, template-parts,
//     global-styles, navigation: the site editor of a block theme (template IDs are
//     theme//slug, which normalising makes theme/slug).
//
// Not exempt: admin-ajax.php (it also serves every plugin's unauthenticated actions: the
// classic editor's Heartbeat autosave and the Customizer's save of more than 8 KB of changes
// are blocked), xmlrpc.php (remote publishing, and system.multicall password guessing),
// wp-comments-post.php, the REST batch endpoint and the ?rest_route= form of the REST API
// (the stack's pretty permalinks give the editor /wp-json/).
var editorPathPatterns = []string{
	`^/wp-admin/(async-upload|media-new|post)\.php$`,
	`^/wp-json/wp/v2/((media|posts|pages|blocks|global-styles|navigation)(/[0-9]+)?|(templates|template-parts)(/[^/]+/[^/]+)?)(/autosaves(/[0-9]+)?)?/?$`,
}

// loginPaths are the password-guessing targets the rate limit watches.
var loginPaths = []string{"/wp-login.php", "/xmlrpc.php"}

// loginPathPattern matches a URI path (URL-decoded, normalised, lower-cased) that names a
// login script as a whole segment: /wp-login.php, and /wp-login.php/anything, which Apache
// also runs as wp-login.php (path info). Neither ENDS_WITH (misses the path info) nor EXACTLY
// (misses that and, unnormalised, //wp-login.php) can be relied on. A segment elsewhere
// (/blog/wp-login.php) is counted too: WordPress answers it with a 404, so counting it costs
// no one a login.
func loginPathPattern() string {
	var names []string
	for _, p := range loginPaths {
		names = append(names, regexp.QuoteMeta(strings.TrimPrefix(p, "/")))
	}
	return `(^|/)(` + strings.Join(names, "|") + `)(/|$)`
}

// loginPathTransformations make a URI path what the server acts on before the login paths
// are matched: %XX decoded (%77p-login.php), // and dot segments resolved
// (/blog/../wp-login.php), lower-cased, so that no spelling goes uncounted.
var loginPathTransformations = []string{"URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"}

// editorPathTransformations resolve // and dot segments before the editor paths are matched,
// so that /wp-json/wp/v2/media/../../../wp-admin/admin-ajax.php is admin-ajax.php, as Apache
// serves it, and the site editor's theme//slug is theme/slug. Nothing more: decoding %XX or
// lower-casing would only widen the exemption to spellings that no editor sends.
var editorPathTransformations = []string{"NORMALIZE_PATH"}

// wafRedactedHeaders carry credentials: application passwords (Authorization) and WordPress's
// session cookies. WAF matches the names in lower case.
var wafRedactedHeaders = []string{"authorization", "cookie"}

// wafWindowSeconds is the rate limit's window.
const wafWindowSeconds = 300

// FirewallArgs say where the web ACL goes and how strict the login limit is.
type FirewallArgs struct {
	Scope      string // wafScopeCloudFront (created in us-east-1) or wafScopeRegional
	LoginLimit int    // requests per IP per window to loginPaths
	// LogRetentionDays is how long the request log is kept (logRetentionDays).
	LogRetentionDays int
	// LoadBalancerArn is the load balancer a regional web ACL protects; nil for CLOUDFRONT,
	// where the distribution refers to the web ACL instead.
	LoadBalancerArn pulumi.StringInput
	Tags            Tags
}

// Firewall is the WAF component.
type Firewall struct {
	pulumi.ResourceState

	WebACL *wafv2.WebAcl
	Logs   *cloudwatch.LogGroup // aws-waf-logs-*, in the web ACL's region
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
	if err := f.newLogging(ctx, name, args, resOpts); err != nil {
		return nil, err
	}
	if args.LoadBalancerArn != nil {
		if _, err := wafv2.NewWebAclAssociation(ctx, name+"-alb", &wafv2.WebAclAssociationArgs{
			ResourceArn: args.LoadBalancerArn, WebAclArn: acl.Arn,
		}, parent); err != nil {
			return nil, fmt.Errorf("associate the web ACL with the load balancer: %w", err)
		}
	}
	if err := ctx.RegisterResourceOutputs(f, pulumi.Map{"webAclArn": acl.Arn, "logGroup": f.Logs.Name}); err != nil {
		return nil, fmt.Errorf("register firewall outputs: %w", err)
	}
	return f, nil
}

// newLogging sends every request's log to a log group in the web ACL's region (WAF requires
// the aws-waf-logs- prefix, and us-east-1 for CloudFront's), with the credential headers
// redacted. The group's resource policy exists first, so WAF need not write one of its own.
func (f *Firewall) newLogging(ctx *pulumi.Context, name string, args *FirewallArgs, resOpts []pulumi.ResourceOption) error {
	group, policy, err := newDeliveredLogGroup(ctx, name+"-logs", &deliveredLogGroupArgs{
		Name: "aws-waf-logs-" + args.Tags.name("waf"), RetentionDays: args.LogRetentionDays, Tags: args.Tags, Leaf: "waf-logs",
	}, resOpts...)
	if err != nil {
		return err
	}
	f.Logs = group
	var redacted wafv2.WebAclLoggingConfigurationRedactedFieldArray
	for _, h := range wafRedactedHeaders {
		redacted = append(redacted, &wafv2.WebAclLoggingConfigurationRedactedFieldArgs{
			SingleHeader: &wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String(h)}})
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name+"-logging", &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           f.WebACL.Arn,
		LogDestinationConfigs: pulumi.StringArray{group.Arn},
		RedactedFields:        redacted,
	}, append(resOpts, pulumi.DependsOn([]pulumi.Resource{policy}))...); err != nil {
		return fmt.Errorf("log the web ACL's requests: %w", err)
	}
	return nil
}

// wafRules are the rate limit on the login paths, the managed groups, then the rules that
// block what the counted managed rules labelled outside the editor paths.
func wafRules(loginLimit int, metric string) wafv2.WebAclRuleArray {
	visibility := func(rule string) *wafv2.WebAclRuleVisibilityConfigArgs {
		return &wafv2.WebAclRuleVisibilityConfigArgs{CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName: pulumi.String(metric + "-" + rule), SampledRequestsEnabled: pulumi.Bool(true)}
	}
	var loginTransformations wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementRegexMatchStatementTextTransformationArray
	for i, tt := range loginPathTransformations {
		loginTransformations = append(loginTransformations, &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementRegexMatchStatementTextTransformationArgs{
			Priority: pulumi.Int(i), Type: pulumi.String(tt)})
	}
	rules := wafv2.WebAclRuleArray{&wafv2.WebAclRuleArgs{
		Name: pulumi.String("login-rate-limit"), Priority: pulumi.Int(0),
		Action: &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
		Statement: &wafv2.WebAclRuleStatementArgs{RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
			Limit: pulumi.Int(loginLimit), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(wafWindowSeconds),
			ScopeDownStatement: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementArgs{
				RegexMatchStatement: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementRegexMatchStatementArgs{
					FieldToMatch: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementRegexMatchStatementFieldToMatchArgs{
						UriPath: &wafv2.WebAclRuleStatementRateBasedStatementScopeDownStatementRegexMatchStatementFieldToMatchUriPathArgs{}},
					RegexString:         pulumi.String(loginPathPattern()),
					TextTransformations: loginTransformations,
				}},
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
	// After every group (a label is seen only by the rules after the one that adds it), so
	// that the groups' existing priorities stay as they were.
	for i, b := range bodyRules {
		rules = append(rules, &wafv2.WebAclRuleArgs{
			Name: pulumi.String(b.name), Priority: pulumi.Int(len(wafManagedGroups) + 1 + i),
			Action:           &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
			Statement:        labelOutsideEditor(b.label),
			VisibilityConfig: visibility(b.name),
		})
	}
	return rules
}

// labelOutsideEditor matches a request that carries label and whose path is none of
// editorPathPatterns: label AND NOT editor-path-1 AND NOT editor-path-2 (three levels deep,
// the most WAF's schema takes).
func labelOutsideEditor(label string) *wafv2.WebAclRuleStatementArgs {
	var transformations wafv2.WebAclRuleStatementRegexMatchStatementTextTransformationArray
	for i, tt := range editorPathTransformations {
		transformations = append(transformations, &wafv2.WebAclRuleStatementRegexMatchStatementTextTransformationArgs{
			Priority: pulumi.Int(i), Type: pulumi.String(tt)})
	}
	all := wafv2.WebAclRuleStatementArray{&wafv2.WebAclRuleStatementArgs{
		LabelMatchStatement: &wafv2.WebAclRuleStatementLabelMatchStatementArgs{Scope: pulumi.String("LABEL"), Key: pulumi.String(label)}}}
	for _, p := range editorPathPatterns {
		all = append(all, &wafv2.WebAclRuleStatementArgs{NotStatement: &wafv2.WebAclRuleStatementNotStatementArgs{
			Statements: wafv2.WebAclRuleStatementArray{&wafv2.WebAclRuleStatementArgs{
				RegexMatchStatement: &wafv2.WebAclRuleStatementRegexMatchStatementArgs{
					FieldToMatch: &wafv2.WebAclRuleStatementRegexMatchStatementFieldToMatchArgs{
						UriPath: &wafv2.WebAclRuleStatementRegexMatchStatementFieldToMatchUriPathArgs{}},
					RegexString:         pulumi.String(p),
					TextTransformations: transformations,
				}}}}})
	}
	return &wafv2.WebAclRuleStatementArgs{AndStatement: &wafv2.WebAclRuleStatementAndStatementArgs{Statements: all}}
}

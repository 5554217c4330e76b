package main

// Edge is what visitors connect to with edge: cloudfront (the default): a CloudFront
// distribution whose only origin is the load balancer, made internal and reached through a
// CloudFront VPC origin. The site gets HTTPS on the distribution's *.cloudfront.net name with no
// domain and no certificate, and the load balancer has no public address at all: nothing but
// CloudFront can reach it, which is what lets the servers trust CloudFront's
// CloudFront-Forwarded-Proto header (boot/wp-config.php).
//
// Caching is WordPress-aware:
//
//	/wp-admin/*, /wp-login.php, /wp-json/*, /xmlrpc.php, /wp-comments-post.php
//	        never cached; every header, cookie and query string forwarded (managed policies)
//	/wp-content/*, /wp-includes/*
//	        static files, cached a day; the query string (?ver=) is in the key, cookies are not
//	everything else (pages)
//	        cached cdnPageTtlSeconds; the cookies of logged-in users, of password-protected posts
//	        and of commenters are in the cache key, and WordPress answers those visitors (and
//	        search results and previews, which no path pattern can match) with no-store, so
//	        none of them is ever served another visitor's page
//
// Nothing purges the cache when a post is published: a page is at most cdnPageTtlSeconds old.
//
// Access logs (cdnAccessLogs): CloudFront's standard logging v2 delivers a JSON record of every
// request, cookies left out, to a CloudWatch log group. CloudFront takes the delivery's
// configuration only in us-east-1, so the source, the destination, the delivery and the group
// are all there, through the component's us-east-1 provider.

// Every response, whichever behaviour and whether from the cache or not, carries the security
// headers of securityHeaders (a response headers policy), replacing what the origin sent.

import (
	"crypto/md5" //nolint:gosec // WordPress's own cookie-name hash, not a security measure
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

// Managed CloudFront policies, looked up by name: AWS keeps their IDs.
const (
	managedCachingDisabled = "Managed-CachingDisabled"
	// every viewer header (Host included), cookie and query string, and CloudFront's own
	// headers (CloudFront-Forwarded-Proto among them)
	managedAllViewerAndCloudFront = "Managed-AllViewerAndCloudFrontHeaders-2022-06"
)

// cloudFrontOriginFacing is the AWS-managed prefix list of CloudFront's origin-facing servers,
// the VPC origin's included: the only source the internal load balancer admits.
const cloudFrontOriginFacing = "com.amazonaws.global.cloudfront.origin-facing"

// dynamicPaths are never cached: WordPress's admin, login, REST API, XML-RPC and comment
// posting. Every header, cookie and query string reaches the servers.
var dynamicPaths = []string{"/wp-admin/*", "/wp-login.php", "/wp-json/*", "/xmlrpc.php", "/wp-comments-post.php"}

// staticPaths hold files: WordPress's, the themes', the plugins' and the uploads.
var staticPaths = []string{"/wp-content/*", "/wp-includes/*"}

// Static files' time to live: a day by default, a year at most when the origin says so. A
// new release of an asset changes its ?ver= query string, which is in the key.
const (
	staticTTLSeconds    = 86400
	staticMaxTTLSeconds = 31536000
)

// cookiePrefixes are WordPress's per-visitor cookies that change a page: a logged-in user
// (admin bar, drafts), a password-protected post's unlock, and a commenter's name, e-mail and
// URL (the comment form, "awaiting moderation"). Each is suffixed with the site's COOKIEHASH.
var cookiePrefixes = []string{"wordpress_logged_in_", "wp-postpass_", "comment_author_", "comment_author_email_", "comment_author_url_"}

// allMethods are what the dynamic paths and pages accept (logins, comments, forms); only GET
// and HEAD are ever cached.
var (
	allMethods    = pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD"), pulumi.String("OPTIONS"), pulumi.String("PUT"), pulumi.String("POST"), pulumi.String("PATCH"), pulumi.String("DELETE")}
	readMethods   = pulumi.StringArray{pulumi.String("GET"), pulumi.String("HEAD")}
	cachedMethods = readMethods
)

// Viewer TLS with a custom certificate: TLS 1.2 and later, SNI. With the *.cloudfront.net
// certificate CloudFront fixes the policy itself (TLSv1), which no setting changes.
const viewerTLSPolicy = "TLSv1.2_2021"

// originID names the load balancer among the distribution's origins.
const originID = "load-balancer"

// accessLogFields are the access log's fields (CloudFront's standard log fields): all but
// cs(Cookie), whose WordPress session cookies are credentials, and the field-level
// encryption ones, which the site does not use. Authorization is never a field.
var accessLogFields = []string{
	"date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem", "sc-status",
	"cs(Referer)", "cs(User-Agent)", "cs-uri-query", "x-edge-result-type", "x-edge-request-id", "x-host-header",
	"cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for", "ssl-protocol", "ssl-cipher", "x-edge-response-result-type",
	"cs-protocol-version", "c-port", "time-to-first-byte", "x-edge-detailed-result-type", "sc-content-type",
	"sc-content-len", "sc-range-start", "sc-range-end",
}

// EdgeArgs are what the distribution fronts and how the site is named.
type EdgeArgs struct {
	LoadBalancerArn pulumi.StringInput // the internal load balancer
	LoadBalancerDNS pulumi.StringInput
	SiteDomain      string // "" serves the distribution's own name
	CertificateArn  string // in us-east-1; "" with a SiteDomain finds the issued one there
	PageTTLSeconds  int
	CookieHash      string             // the site's COOKIEHASH (cookieHash)
	WebACLArn       pulumi.StringInput // nil: no WAF
	// AccessLogGroup names the access logs' log group (in us-east-1); "" logs nothing.
	AccessLogGroup   string
	LogRetentionDays int // logRetentionDays
	Tags             Tags
}

// Edge is the CloudFront component.
type Edge struct {
	pulumi.ResourceState

	VpcOrigin     *cloudfront.VpcOrigin
	PagePolicy    *cloudfront.CachePolicy
	StaticPolicy  *cloudfront.CachePolicy
	ForwardPolicy *cloudfront.OriginRequestPolicy // Host and CloudFront-Forwarded-Proto to the servers
	HeadersPolicy *cloudfront.ResponseHeadersPolicy
	Distribution  *cloudfront.Distribution
	AccessLogs    *cloudwatch.LogGroup // nil without access logs
	SiteURL       pulumi.StringOutput
}

// NewEdge builds the VPC origin, the cache and origin request policies and the distribution.
func NewEdge(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) (*Edge, error) {
	e := &Edge{}
	if err := ctx.RegisterComponentResource("scalable-wordpress:edge:Edge", name, e, opts...); err != nil {
		return nil, fmt.Errorf("register edge component: %w", err)
	}
	parent := pulumi.Parent(e)
	var usEast1 *aws.Provider // created once, when something needs it
	inUSEast1 := func() (*aws.Provider, error) {
		if usEast1 != nil {
			return usEast1, nil
		}
		p, err := newUSEast1Provider(ctx, name, parent)
		usEast1 = p
		return p, err
	}
	certificate, err := viewerCertificateArn(ctx, args, inUSEast1)
	if err != nil {
		return nil, err
	}
	managed, err := lookupManagedPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if e.VpcOrigin, err = cloudfront.NewVpcOrigin(ctx, name+"-origin", &cloudfront.VpcOriginArgs{
		VpcOriginEndpointConfig: &cloudfront.VpcOriginVpcOriginEndpointConfigArgs{
			Name: pulumi.String(args.Tags.name("alb-origin")), Arn: args.LoadBalancerArn,
			HttpPort: pulumi.Int(httpPort), HttpsPort: pulumi.Int(httpsPort),
			// Inside the VPC, over AWS's network to a load balancer nothing else can reach; the
			// load balancer has no certificate for a name CloudFront would check.
			OriginProtocolPolicy: pulumi.String("http-only"),
			OriginSslProtocols: &cloudfront.VpcOriginVpcOriginEndpointConfigOriginSslProtocolsArgs{
				Items: pulumi.StringArray{pulumi.String("TLSv1.2")}, Quantity: pulumi.Int(1)},
		},
		Tags: args.Tags.Named("alb-origin"),
	}, parent); err != nil {
		return nil, fmt.Errorf("create VPC origin: %w", err)
	}
	if err := e.newPolicies(ctx, name, args, parent); err != nil {
		return nil, err
	}
	if e.Distribution, err = cloudfront.NewDistribution(ctx, name+"-cdn", e.distributionArgs(args, managed, certificate), parent); err != nil {
		return nil, fmt.Errorf("create CloudFront distribution: %w", err)
	}
	if args.AccessLogGroup != "" {
		provider, err := inUSEast1()
		if err != nil {
			return nil, err
		}
		if err := e.newAccessLogs(ctx, name, args, parent, pulumi.Provider(provider)); err != nil {
			return nil, err
		}
	}
	e.SiteURL = edgeSiteURL(args.SiteDomain, e.Distribution.DomainName)
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{
		"distributionId": e.Distribution.ID(),
		"domainName":     e.Distribution.DomainName,
		"siteUrl":        e.SiteURL,
	}); err != nil {
		return nil, fmt.Errorf("register edge outputs: %w", err)
	}
	return e, nil
}

// newAccessLogs delivers the distribution's access logs to their log group: a delivery source
// (the distribution's ACCESS_LOGS), a destination (the group), and the delivery between them,
// created after the group's resource policy lets the delivery write.
func (e *Edge) newAccessLogs(ctx *pulumi.Context, name string, args *EdgeArgs, opts ...pulumi.ResourceOption) error {
	group, policy, err := newDeliveredLogGroup(ctx, name+"-access-logs", &deliveredLogGroupArgs{
		Name: args.AccessLogGroup, RetentionDays: args.LogRetentionDays, Leaf: "cdn-access-logs", Tags: args.Tags,
	}, opts...)
	if err != nil {
		return err
	}
	e.AccessLogs = group
	sourceName := deliverySourceName(args.AccessLogGroup)
	source, err := cloudwatch.NewLogDeliverySource(ctx, name+"-access-logs", &cloudwatch.LogDeliverySourceArgs{
		Name: pulumi.String(sourceName), LogType: pulumi.String("ACCESS_LOGS"), ResourceArn: e.Distribution.Arn, Tags: args.Tags.Named("cdn-access-logs"),
	}, opts...)
	if err != nil {
		return fmt.Errorf("create the access logs' delivery source: %w", err)
	}
	destination, err := cloudwatch.NewLogDeliveryDestination(ctx, name+"-access-logs", &cloudwatch.LogDeliveryDestinationArgs{
		OutputFormat: pulumi.String("json"),
		DeliveryDestinationConfiguration: &cloudwatch.LogDeliveryDestinationDeliveryDestinationConfigurationArgs{
			DestinationResourceArn: group.Arn},
		Tags: args.Tags.Named("cdn-access-logs"),
	}, opts...)
	if err != nil {
		return fmt.Errorf("create the access logs' delivery destination: %w", err)
	}
	if _, err := cloudwatch.NewLogDelivery(ctx, name+"-access-logs", &cloudwatch.LogDeliveryArgs{
		DeliverySourceName: pulumi.String(sourceName), DeliveryDestinationArn: destination.Arn,
		RecordFields: pulumi.ToStringArray(accessLogFields), Tags: args.Tags.Named("cdn-access-logs"),
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{policy, source}))...); err != nil {
		return fmt.Errorf("deliver the access logs: %w", err)
	}
	return nil
}

// deliverySourceName names the access logs' delivery source after their log group (a source
// may be named only with letters, digits, _ and -, in at most 60 characters): a name known
// before the source exists, which the delivery refers to, unique per stack in us-east-1.
func deliverySourceName(logGroup string) string {
	n := strings.Trim(invalidSourceChars.ReplaceAllString(logGroup, "-"), "-")
	if len(n) <= 60 {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return n[:51] + "-" + hex.EncodeToString(sum[:4])
}

// invalidSourceChars are what a delivery source's name may not hold.
var invalidSourceChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// edgeSiteURL is https on the site's domain, or on the distribution's own name.
func edgeSiteURL(domain string, distributionDomain pulumi.StringOutput) pulumi.StringOutput {
	if domain != "" {
		return pulumi.String("https://" + domain).ToStringOutput()
	}
	return pulumi.Sprintf("https://%s", distributionDomain)
}

// managedPolicies are the IDs of the AWS-managed policies the dynamic paths use.
type managedPolicies struct {
	noCache, allViewer string
}

// lookupManagedPolicies finds the managed policies by name: their IDs are AWS's to keep.
func lookupManagedPolicies(ctx *pulumi.Context) (managedPolicies, error) {
	cache, err := cloudfront.LookupCachePolicy(ctx, &cloudfront.LookupCachePolicyArgs{Name: pulumi.StringRef(managedCachingDisabled)})
	if err != nil {
		return managedPolicies{}, fmt.Errorf("look up CloudFront cache policy %s: %w", managedCachingDisabled, err)
	}
	forward, err := cloudfront.LookupOriginRequestPolicy(ctx, &cloudfront.LookupOriginRequestPolicyArgs{Name: pulumi.StringRef(managedAllViewerAndCloudFront)})
	if err != nil {
		return managedPolicies{}, fmt.Errorf("look up CloudFront origin request policy %s: %w", managedAllViewerAndCloudFront, err)
	}
	if cache.Id == nil || forward.Id == nil {
		return managedPolicies{}, errors.New("CloudFront's managed policies have no ID in this account")
	}
	return managedPolicies{noCache: *cache.Id, allViewer: *forward.Id}, nil
}

// newPolicies creates the pages' and the static files' cache policies and the origin request
// policy that hands the servers the viewer's Host (so that WordPress sees its own name and does
// not redirect) and the protocol the viewer used.
func (e *Edge) newPolicies(ctx *pulumi.Context, name string, args *EdgeArgs, parent pulumi.ResourceOption) error {
	var err error
	if e.PagePolicy, err = cloudfront.NewCachePolicy(ctx, name+"-pages", &cloudfront.CachePolicyArgs{
		Comment: pulumi.String("WordPress pages: anonymous visitors share a copy; logged-in users, commenters and unlocked posts are keyed by their cookies"),
		MinTtl:  pulumi.Int(0), DefaultTtl: pulumi.Int(args.PageTTLSeconds), MaxTtl: pulumi.Int(args.PageTTLSeconds),
		ParametersInCacheKeyAndForwardedToOrigin: cacheKey(pulumi.ToStringArray(visitorCookies(args.CookieHash))),
	}, parent); err != nil {
		return fmt.Errorf("create page cache policy: %w", err)
	}
	if e.StaticPolicy, err = cloudfront.NewCachePolicy(ctx, name+"-static", &cloudfront.CachePolicyArgs{
		Comment: pulumi.String("WordPress static files: the query string (?ver=) is in the key, cookies are not"),
		MinTtl:  pulumi.Int(0), DefaultTtl: pulumi.Int(staticTTLSeconds), MaxTtl: pulumi.Int(staticMaxTTLSeconds),
		ParametersInCacheKeyAndForwardedToOrigin: cacheKey(nil),
	}, parent); err != nil {
		return fmt.Errorf("create static cache policy: %w", err)
	}
	if e.ForwardPolicy, err = cloudfront.NewOriginRequestPolicy(ctx, name+"-forward", &cloudfront.OriginRequestPolicyArgs{
		Comment: pulumi.String("The viewer's Host and protocol to WordPress"),
		HeadersConfig: &cloudfront.OriginRequestPolicyHeadersConfigArgs{HeaderBehavior: pulumi.String("whitelist"),
			Headers: &cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs{Items: pulumi.StringArray{pulumi.String("Host"), pulumi.String(forwardedProtoHeader)}}},
		CookiesConfig:      &cloudfront.OriginRequestPolicyCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
		QueryStringsConfig: &cloudfront.OriginRequestPolicyQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("all")},
	}, parent); err != nil {
		return fmt.Errorf("create origin request policy: %w", err)
	}
	if e.HeadersPolicy, err = cloudfront.NewResponseHeadersPolicy(ctx, name+"-headers", &cloudfront.ResponseHeadersPolicyArgs{
		Comment:               pulumi.String("Security headers on every response: HSTS, nosniff, frames from the site only, no full referrer off-site"),
		SecurityHeadersConfig: securityHeadersConfig(),
	}, parent); err != nil {
		return fmt.Errorf("create response headers policy: %w", err)
	}
	return nil
}

// The security headers every response carries, at the edge (securityHeadersConfig) and from
// Apache with edge alb (boot/wordpress.conf, which a test holds to these values).
const (
	// HSTS: a year, the usual minimum for browsers' preload lists; the viewer is only ever on
	// HTTPS with edge cloudfront (HTTP redirects). No includeSubDomains: the site may be one
	// name of a domain whose other names are not on HTTPS (an apex siteDomain would pin them
	// all for a year); no preload, which only the domain's owner can decide.
	hstsMaxAgeSeconds = 31536000
	// SAMEORIGIN, not DENY: wp-admin frames its own pages (the customizer's preview).
	frameOption = "SAMEORIGIN"
	// The full URL to the site itself, only the origin to others, nothing to plain HTTP
	// (drafts' and wp-admin's URLs stay on the site); WordPress's own choice for wp-admin.
	referrerPolicy = "strict-origin-when-cross-origin"
)

// securityHeadersConfig overrides whatever the origin sent (a plugin's weaker value loses): the
// edge is the one place that decides.
func securityHeadersConfig() *cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs {
	return &cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs{
		StrictTransportSecurity: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs{
			AccessControlMaxAgeSec: pulumi.Int(hstsMaxAgeSeconds), IncludeSubdomains: pulumi.Bool(false), Preload: pulumi.Bool(false), Override: pulumi.Bool(true)},
		ContentTypeOptions: &cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs{Override: pulumi.Bool(true)},
		FrameOptions:       &cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs{FrameOption: pulumi.String(frameOption), Override: pulumi.Bool(true)},
		ReferrerPolicy:     &cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs{ReferrerPolicy: pulumi.String(referrerPolicy), Override: pulumi.Bool(true)},
	}
}

// forwardedProtoHeader is the header in which CloudFront tells the origin the viewer's protocol.
const forwardedProtoHeader = "CloudFront-Forwarded-Proto"

// cacheKey is a cache key of every query string, compressed variants, and the given cookies.
func cacheKey(cookies pulumi.StringArray) *cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs {
	c := &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("none")}
	if len(cookies) > 0 {
		c = &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("whitelist"),
			Cookies: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookiesArgs{Items: cookies}}
	}
	return &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs{
		CookiesConfig:              c,
		HeadersConfig:              &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{HeaderBehavior: pulumi.String("none")},
		QueryStringsConfig:         &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{QueryStringBehavior: pulumi.String("all")},
		EnableAcceptEncodingGzip:   pulumi.Bool(true),
		EnableAcceptEncodingBrotli: pulumi.Bool(true),
	}
}

// visitorCookies are the exact names of the per-visitor cookies (cache policies take no
// wildcards, which is why the site's COOKIEHASH is fixed by the program, not left to WordPress).
func visitorCookies(hash string) []string {
	out := make([]string, len(cookiePrefixes))
	for i, p := range cookiePrefixes {
		out[i] = p + hash
	}
	return out
}

// cookieHash is the site's COOKIEHASH: fixed per stack, so that the cache policy knows the
// cookies' names before the distribution (whose name WordPress would otherwise hash) exists.
func cookieHash(settingsPath string) string {
	sum := md5.Sum([]byte(settingsPath)) //nolint:gosec // a name, as WordPress's own md5(siteurl)
	return hex.EncodeToString(sum[:])
}

// distributionArgs are the distribution: HTTPS only for viewers (HTTP redirects), HTTP/2 and
// HTTP/3, IPv6, compression, every edge location, and the behaviours above.
func (e *Edge) distributionArgs(args *EdgeArgs, managed managedPolicies, certificate pulumi.StringInput) *cloudfront.DistributionArgs {
	var ordered cloudfront.DistributionOrderedCacheBehaviorArray
	for _, p := range dynamicPaths {
		ordered = append(ordered, &cloudfront.DistributionOrderedCacheBehaviorArgs{PathPattern: pulumi.String(p), TargetOriginId: pulumi.String(originID),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"), AllowedMethods: allMethods, CachedMethods: cachedMethods,
			CachePolicyId: pulumi.String(managed.noCache), OriginRequestPolicyId: pulumi.String(managed.allViewer), Compress: pulumi.Bool(true),
			ResponseHeadersPolicyId: e.HeadersPolicy.ID()})
	}
	for _, p := range staticPaths {
		ordered = append(ordered, &cloudfront.DistributionOrderedCacheBehaviorArgs{PathPattern: pulumi.String(p), TargetOriginId: pulumi.String(originID),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"), AllowedMethods: readMethods, CachedMethods: cachedMethods,
			CachePolicyId: e.StaticPolicy.ID(), OriginRequestPolicyId: e.ForwardPolicy.ID(), Compress: pulumi.Bool(true),
			ResponseHeadersPolicyId: e.HeadersPolicy.ID()})
	}
	a := &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String(args.Tags.name("site")),
		IsIpv6Enabled: pulumi.Bool(true),
		HttpVersion:   pulumi.String("http2and3"),
		PriceClass:    pulumi.String("PriceClass_All"),
		Origins: cloudfront.DistributionOriginArray{&cloudfront.DistributionOriginArgs{
			OriginId: pulumi.String(originID), DomainName: args.LoadBalancerDNS,
			VpcOriginConfig: &cloudfront.DistributionOriginVpcOriginConfigArgs{VpcOriginId: e.VpcOrigin.ID(),
				// the load balancer's idle timeout: long admin requests (imports, updates) finish
				OriginReadTimeout: pulumi.Int(60), OriginKeepaliveTimeout: pulumi.Int(5)},
		}},
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{TargetOriginId: pulumi.String(originID),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"), AllowedMethods: allMethods, CachedMethods: cachedMethods,
			CachePolicyId: e.PagePolicy.ID(), OriginRequestPolicyId: e.ForwardPolicy.ID(), Compress: pulumi.Bool(true),
			ResponseHeadersPolicyId: e.HeadersPolicy.ID()},
		OrderedCacheBehaviors: ordered,
		// A server's error is not kept: the next request tries the (healed) origin again.
		CustomErrorResponses: noErrorCaching(500, 502, 503, 504),
		Restrictions: &cloudfront.DistributionRestrictionsArgs{GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{
			RestrictionType: pulumi.String("none")}},
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)},
		Tags:              args.Tags.Named("cdn"),
	}
	if certificate != nil {
		a.Aliases = pulumi.StringArray{pulumi.String(args.SiteDomain)}
		a.ViewerCertificate = &cloudfront.DistributionViewerCertificateArgs{AcmCertificateArn: certificate,
			SslSupportMethod: pulumi.String("sni-only"), MinimumProtocolVersion: pulumi.String(viewerTLSPolicy)}
	}
	if args.WebACLArn != nil {
		a.WebAclId = args.WebACLArn
	}
	return a
}

// noErrorCaching keeps CloudFront from caching these error codes (by default it keeps an
// error 10 s, which would outlive the server that caused it).
func noErrorCaching(codes ...int) cloudfront.DistributionCustomErrorResponseArray {
	var out cloudfront.DistributionCustomErrorResponseArray
	for _, c := range codes {
		out = append(out, &cloudfront.DistributionCustomErrorResponseArgs{ErrorCode: pulumi.Int(c), ErrorCachingMinTtl: pulumi.Int(0)})
	}
	return out
}

// viewerCertificateArn is the certificate for siteDomain: the configured one, or the issued
// certificate for the domain that ACM in us-east-1 holds, found through the us-east-1
// provider. Nil without a domain (the distribution's own certificate).
func viewerCertificateArn(ctx *pulumi.Context, args *EdgeArgs, inUSEast1 func() (*aws.Provider, error)) (pulumi.StringInput, error) {
	switch {
	case args.SiteDomain == "":
		return nil, nil
	case args.CertificateArn != "":
		return pulumi.String(args.CertificateArn), nil
	}
	usEast1, err := inUSEast1()
	if err != nil {
		return nil, err
	}
	found, err := acm.LookupCertificate(ctx, &acm.LookupCertificateArgs{Domain: pulumi.StringRef(args.SiteDomain),
		Statuses: []string{"ISSUED"}, MostRecent: pulumi.BoolRef(true)}, pulumi.Provider(usEast1))
	if err != nil {
		return nil, fmt.Errorf("config siteDomain: %s has no issued ACM certificate in %s, which CloudFront needs for the name (%w); "+
			"request one with `aws acm request-certificate --region %s --domain-name %s --validation-method DNS`, or set certificateArn "+
			"(a wildcard certificate, for example)", args.SiteDomain, cloudFrontCertificateRegion, err, cloudFrontCertificateRegion, args.SiteDomain)
	}
	return pulumi.String(found.Arn), nil
}

// newUSEast1Provider is an explicit provider in us-east-1, where CloudFront's certificates and
// web ACLs live, for the component that needs it. It takes the stack's profile, as the default
// provider does.
func newUSEast1Provider(ctx *pulumi.Context, component string, parent pulumi.ResourceOption) (*aws.Provider, error) {
	a := &aws.ProviderArgs{Region: pulumi.String(cloudFrontCertificateRegion)}
	if profile := config.New(ctx, "aws").Get("profile"); profile != "" {
		a.Profile = pulumi.String(profile)
	}
	p, err := aws.NewProvider(ctx, component+"-"+cloudFrontCertificateRegion, a, parent)
	if err != nil {
		return nil, fmt.Errorf("create the %s provider: %w", cloudFrontCertificateRegion, err)
	}
	return p, nil
}

// lookupOriginFacing is the ID of CloudFront's origin-facing prefix list in the region.
func lookupOriginFacing(ctx *pulumi.Context) (string, error) {
	pl, err := ec2.LookupManagedPrefixList(ctx, &ec2.LookupManagedPrefixListArgs{Name: pulumi.StringRef(cloudFrontOriginFacing)})
	if err != nil {
		return "", fmt.Errorf("look up the prefix list %s: %w", cloudFrontOriginFacing, err)
	}
	if !strings.HasPrefix(pl.Id, "pl-") {
		return "", fmt.Errorf("prefix list %s: unexpected ID %q", cloudFrontOriginFacing, pl.Id)
	}
	return pl.Id, nil
}

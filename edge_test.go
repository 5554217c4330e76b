package main

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// behaviour is one cache behaviour of the recorded distribution, by path ("" for the default).
type behaviour struct {
	path, viewer, cachePolicy, requestPolicy, headersPolicy string
	allowed                                                 []string
	compress                                                bool
}

func behavioursOf(cdn *recorded) []behaviour {
	read := func(m resource.PropertyMap) behaviour {
		b := behaviour{path: propString(m["pathPattern"]), viewer: propString(m["viewerProtocolPolicy"]),
			cachePolicy: propString(m["cachePolicyId"]), requestPolicy: propString(m["originRequestPolicyId"]),
			headersPolicy: propString(m["responseHeadersPolicyId"]), compress: propString(m["compress"]) == "true"}
		for _, v := range m["allowedMethods"].ArrayValue() {
			b.allowed = append(b.allowed, v.StringValue())
		}
		return b
	}
	out := []behaviour{read(cdn.Obj("defaultCacheBehavior"))}
	for _, v := range cdn.Inputs["orderedCacheBehaviors"].ArrayValue() {
		out = append(out, read(v.ObjectValue()))
	}
	return out
}

// The default edge: CloudFront's only origin is the load balancer, internal, reached through
// a VPC origin; nothing reaches the load balancer from the internet.
func TestDistributionOriginIsTheInternalLoadBalancer(t *testing.T) {
	r := mustRun(t, nil)
	cdn, alb := r.one(t, "aws:cloudfront/distribution:Distribution"), r.one(t, "aws:lb/loadBalancer:LoadBalancer")
	vo := r.one(t, "aws:cloudfront/vpcOrigin:VpcOrigin")
	origins := cdn.Inputs["origins"].ArrayValue()
	if len(origins) != 1 {
		t.Fatalf("%s: want one origin, got %d", cdn.URN, len(origins))
	}
	o := origins[0].ObjectValue()
	vpc := o["vpcOriginConfig"].ObjectValue()
	if propString(vpc["vpcOriginId"]) != out(vo, "id") || propString(o["domainName"]) != out(alb, "dnsName") || !o["customOriginConfig"].IsNull() {
		t.Errorf("%s: origin %v; want the load balancer through the VPC origin %s", cdn.URN, o, out(vo, "id"))
	}
	ep := vo.Obj("vpcOriginEndpointConfig")
	if propString(ep["arn"]) != out(alb, "arn") || propString(ep["httpPort"]) != "80" || propString(ep["originProtocolPolicy"]) != "http-only" {
		t.Errorf("%s: endpoint %v; want HTTP:80 of the load balancer %s", vo.URN, ep, out(alb, "arn"))
	}
	if alb.Str("internal") != "true" {
		t.Errorf("%s is internet-facing behind CloudFront", alb.URN)
	}
	var sources []string
	for _, rule := range r.ofType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
		if groupName(r, rule.Str("securityGroupId")) != "lb" {
			continue
		}
		sources = append(sources, rule.Str("cidrIpv4")+rule.Str("prefixListId")+rule.Str("referencedSecurityGroupId"))
		if rule.Str("cidrIpv4") != "" {
			t.Errorf("%s: the load balancer takes %s from %s; behind CloudFront it takes nothing from the internet", rule.URN, rule.Str("fromPort"), rule.Str("cidrIpv4"))
		}
	}
	if !slices.Equal(sources, []string{testOriginFacing}) {
		t.Errorf("load balancer ingress sources %v, want only CloudFront's origin-facing prefix list %s", sources, testOriginFacing)
	}
	if len(r.ofType("aws:lb/listener:Listener")) != 1 {
		t.Errorf("behind CloudFront the load balancer has one listener (HTTP:80 from the VPC origin)")
	}
	for k, v := range map[string]string{"enabled": "true", "isIpv6Enabled": "true", "httpVersion": "http2and3", "priceClass": "PriceClass_All"} {
		if cdn.Str(k) != v {
			t.Errorf("%s: %s = %q, want %q", cdn.URN, k, cdn.Str(k), v)
		}
	}
	if vc := cdn.Obj("viewerCertificate"); propString(vc["cloudfrontDefaultCertificate"]) != "true" || !cdn.Inputs["aliases"].IsNull() {
		t.Errorf("%s: without a domain the distribution serves its own name and certificate, got %v", cdn.URN, vc)
	}
	codes := map[string]string{}
	for _, e := range cdn.Inputs["customErrorResponses"].ArrayValue() {
		codes[propString(e.ObjectValue()["errorCode"])] = propString(e.ObjectValue()["errorCachingMinTtl"])
	}
	for _, c := range []string{"500", "502", "503", "504"} {
		if codes[c] != "0" {
			t.Errorf("%s: error %s is cached %q s; a server's error must not outlive it", cdn.URN, c, codes[c])
		}
	}
}

// Every behaviour redirects HTTP to HTTPS and compresses; WordPress's dynamic paths are never
// cached and get every header, cookie and query string; static files are cached without
// cookies; pages are cached for the configured time, keyed by the visitor cookies.
func TestCacheBehavioursAreWordPressAware(t *testing.T) {
	r := mustRun(t, map[string]string{"cdnPageTtlSeconds": "90"})
	cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
	pages, static := r.m.Named("aws:cloudfront/cachePolicy:CachePolicy", "edge-pages"), r.m.Named("aws:cloudfront/cachePolicy:CachePolicy", "edge-static")
	forward := r.one(t, "aws:cloudfront/originRequestPolicy:OriginRequestPolicy")
	got := map[string]behaviour{}
	for _, b := range behavioursOf(cdn) {
		got[b.path] = b
		if b.viewer != "redirect-to-https" || !b.compress {
			t.Errorf("behaviour %q: viewer policy %q, compress %v; want redirect-to-https and compression", b.path, b.viewer, b.compress)
		}
	}
	for _, p := range []string{"/wp-admin/*", "/wp-login.php", "/wp-json/*", "/xmlrpc.php", "/wp-comments-post.php"} {
		b, ok := got[p]
		if !ok || b.cachePolicy != "managed-"+strings.ToLower(managedCachingDisabled) || b.requestPolicy != "managed-"+strings.ToLower(managedAllViewerAndCloudFront) || len(b.allowed) != 7 {
			t.Errorf("%s must never be cached and get everything the viewer sent, with every method: %+v", p, b)
		}
	}
	for _, p := range []string{"/wp-content/*", "/wp-includes/*"} {
		if b := got[p]; b.cachePolicy != out(static, "id") || b.requestPolicy != out(forward, "id") || len(b.allowed) != 2 {
			t.Errorf("%s must be cached as static files (GET and HEAD): %+v", p, b)
		}
	}
	if b := got[""]; b.cachePolicy != out(pages, "id") || b.requestPolicy != out(forward, "id") || len(b.allowed) != 7 {
		t.Errorf("the default behaviour must cache pages with the page policy and take forms: %+v", b)
	}
	if len(got) != 8 {
		t.Errorf("behaviours %v: want the default, 5 dynamic and 2 static", slices.Sorted(maps.Keys(got)))
	}
	// Pages: a short TTL from config and a minimum of 0, so that WordPress's no-store (logged-in
	// users, search, previews) is obeyed; the visitor cookies, by their exact names, in the key.
	if pages.Str("minTtl") != "0" || pages.Str("defaultTtl") != "90" || pages.Str("maxTtl") != "90" {
		t.Errorf("%s: TTLs min %s default %s max %s; want 0/90/90", pages.URN, pages.Str("minTtl"), pages.Str("defaultTtl"), pages.Str("maxTtl"))
	}
	key := pages.Obj("parametersInCacheKeyAndForwardedToOrigin")
	cookies := key["cookiesConfig"].ObjectValue()
	var names []string
	for _, c := range cookies["cookies"].ObjectValue()["items"].ArrayValue() {
		names = append(names, c.StringValue())
	}
	site := jsonInput(t, r.m.Named("aws:ssm/parameter:Parameter", "settings-site"), "insecureValue")
	hash, _ := site[settingCookie].(string)
	want := []string{"wordpress_logged_in_" + hash, "wp-postpass_" + hash, "comment_author_" + hash, "comment_author_email_" + hash, "comment_author_url_" + hash}
	if propString(cookies["cookieBehavior"]) != "whitelist" || !sameSet(names, want) || len(hash) != 32 {
		t.Errorf("%s: cookies %v %v; want exactly %v (the servers' COOKIEHASH %q)", pages.URN, propString(cookies["cookieBehavior"]), names, want, hash)
	}
	if propString(key["queryStringsConfig"].ObjectValue()["queryStringBehavior"]) != "all" {
		t.Errorf("%s: every query string (?p=, ?page_id=, ?s=) must be in the key", pages.URN)
	}
	// Static: no cookies, the query string (?ver=) in the key.
	skey := static.Obj("parametersInCacheKeyAndForwardedToOrigin")
	if propString(skey["cookiesConfig"].ObjectValue()["cookieBehavior"]) != "none" || propString(skey["queryStringsConfig"].ObjectValue()["queryStringBehavior"]) != "all" {
		t.Errorf("%s: static files must ignore cookies and keep ?ver= in the key: %v", static.URN, skey)
	}
	// WordPress sees its own Host (no canonical redirect loop) and the viewer's protocol.
	var headers []string
	for _, h := range forward.Obj("headersConfig")["headers"].ObjectValue()["items"].ArrayValue() {
		headers = append(headers, h.StringValue())
	}
	if !sameSet(headers, []string{"Host", "CloudFront-Forwarded-Proto"}) {
		t.Errorf("%s: forwards headers %v; want Host and CloudFront-Forwarded-Proto", forward.URN, headers)
	}
	if site[settingProto] != forwardedProtoHeader {
		t.Errorf("the servers trust %q, but CloudFront sends %s", site[settingProto], forwardedProtoHeader)
	}
}

// A custom domain: the certificate found in us-east-1 through an explicit provider (or the
// one configured), the domain as an alias, TLS 1.2 and later over SNI.
func TestCustomDomainOnTheDistribution(t *testing.T) {
	r := mustRun(t, map[string]string{"siteDomain": testIssuedDomain})
	cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
	vc := cdn.Obj("viewerCertificate")
	if propString(vc["acmCertificateArn"]) != testIssuedCertificate || propString(vc["minimumProtocolVersion"]) != viewerTLSPolicy ||
		propString(vc["sslSupportMethod"]) != "sni-only" || !vc["cloudfrontDefaultCertificate"].IsNull() {
		t.Errorf("%s: viewer certificate %v; want the issued us-east-1 certificate, %s, SNI", cdn.URN, vc, viewerTLSPolicy)
	}
	if a := cdn.Inputs["aliases"].ArrayValue(); len(a) != 1 || a[0].StringValue() != testIssuedDomain {
		t.Errorf("%s: aliases %v, want [%s]", cdn.URN, a, testIssuedDomain)
	}
	provider := r.m.CallProviders["aws:acm/getCertificate:getCertificate"]
	p := r.m.Named("pulumi:providers:aws", "edge-us-east-1")
	if p == nil || p.Str("region") != "us-east-1" || !strings.HasPrefix(provider, p.URN+"::") {
		t.Errorf("the certificate must be looked up through an explicit us-east-1 provider, got %q", provider)
	}
	if r.outputs["siteUrl"] != "https://"+testIssuedDomain {
		t.Errorf("siteUrl = %v, want https://%s", r.outputs["siteUrl"], testIssuedDomain)
	}

	r = mustRun(t, map[string]string{"siteDomain": "shop.example.com", "certificateArn": testCDNCertificate})
	if got := propString(r.one(t, "aws:cloudfront/distribution:Distribution").Obj("viewerCertificate")["acmCertificateArn"]); got != testCDNCertificate {
		t.Errorf("a configured certificate is used as it is, got %s", got)
	}
	r = runProgram(t, map[string]string{"siteDomain": "blog.example.com"})
	if r.err == nil || !strings.Contains(r.err.Error(), "blog.example.com has no issued ACM certificate in us-east-1") ||
		!strings.Contains(r.err.Error(), "aws acm request-certificate --region us-east-1") {
		t.Errorf("a domain without a certificate must fail naming how to get one, got %v", r.err)
	}
}

// The web ACL: CLOUDFRONT scope through the us-east-1 provider, on the distribution; the
// WordPress-suited managed groups; a rate limit on the login paths from config.
func TestWebACLInFrontOfTheSite(t *testing.T) {
	r := mustRun(t, map[string]string{"wafLoginRateLimit": "60"})
	acl := r.one(t, "aws:wafv2/webAcl:WebAcl")
	p := r.m.Named("pulumi:providers:aws", "waf-us-east-1")
	if acl.Str("scope") != "CLOUDFRONT" || p == nil || p.Str("region") != "us-east-1" || !strings.HasPrefix(acl.Provider, p.URN+"::") {
		t.Errorf("%s: scope %s through %q; want CLOUDFRONT through the us-east-1 provider", acl.URN, acl.Str("scope"), acl.Provider)
	}
	if got := r.one(t, "aws:cloudfront/distribution:Distribution").Str("webAclId"); got != out(acl, "arn") {
		t.Errorf("the distribution's web ACL is %q, want %s", got, out(acl, "arn"))
	}
	checkWAFRules(t, acl, "60")

	r = mustRun(t, map[string]string{"edge": edgeALB})
	acl = r.one(t, "aws:wafv2/webAcl:WebAcl")
	assoc := r.one(t, "aws:wafv2/webAclAssociation:WebAclAssociation")
	if acl.Str("scope") != "REGIONAL" || acl.Provider != "" || assoc.Str("resourceArn") != out(r.one(t, "aws:lb/loadBalancer:LoadBalancer"), "arn") || assoc.Str("webAclArn") != out(acl, "arn") {
		t.Errorf("edge alb: the web ACL must be regional and associated with the load balancer: %s %s", acl.Str("scope"), assoc.Inputs)
	}
	checkWAFRules(t, acl, "100")
	if n := len(mustRun(t, map[string]string{"waf": "false"}).ofType("aws:wafv2/webAcl:WebAcl")); n != 0 {
		t.Errorf("waf false: %d web ACLs", n)
	}
}

func checkWAFRules(t *testing.T, acl *recorded, limit string) {
	t.Helper()
	rules := wafRulesOf(t, acl)
	var groups []string
	for _, rule := range rules.rules {
		st := rule["statement"].ObjectValue()
		if g := st["managedRuleGroupStatement"]; g.IsObject() {
			groups = append(groups, propString(g.ObjectValue()["name"]))
			if !rule["overrideAction"].ObjectValue()["none"].IsObject() {
				t.Errorf("%s: managed group %s only counts", acl.URN, propString(g.ObjectValue()["name"]))
			}
			continue
		}
		if !st["rateBasedStatement"].IsObject() {
			continue
		}
		rate := st["rateBasedStatement"].ObjectValue()
		scope := rate["scopeDownStatement"].ObjectValue()
		if propString(rate["limit"]) != limit || propString(rate["aggregateKeyType"]) != "IP" || !rule["action"].ObjectValue()["block"].IsObject() ||
			!rules.match(scope, wafRequest{path: "/wp-login.php"}, nil) || !rules.match(scope, wafRequest{path: "/xmlrpc.php"}, nil) ||
			rules.match(scope, wafRequest{path: "/"}, nil) {
			t.Errorf("%s: rate rule %v; want a block above %s per IP on /wp-login.php and /xmlrpc.php", acl.URN, rate, limit)
		}
	}
	if !sameSet(groups, []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesWordPressRuleSet",
		"AWSManagedRulesPHPRuleSet", "AWSManagedRulesSQLiRuleSet"}) {
		t.Errorf("%s: managed groups %v", acl.URN, groups)
	}
}

// edge: alb is the stack before CloudFront: the same resources under the same URNs, minus the
// edge and firewall components, with the internet-facing load balancer and its HTTP URL.
func TestALBEdgeIsTheHandsOnStack(t *testing.T) {
	cdn, alb := mustRun(t, map[string]string{"waf": "false"}), mustRun(t, map[string]string{"edge": edgeALB, "waf": "false"})
	urns := func(r *stackRun) []string {
		var out []string
		for _, x := range r.m.Resources {
			if !strings.Contains(x.URN, "scalable-wordpress:edge:") {
				out = append(out, x.URN)
			}
		}
		slices.Sort(out)
		return out
	}
	if a, c := urns(alb), urns(cdn); !slices.Equal(a, c) {
		t.Errorf("edge alb and edge cloudfront differ outside the edge:\n alb %v\n cdn %v", a, c)
	}
	for _, typ := range []string{"aws:cloudfront/distribution:Distribution", "aws:cloudfront/vpcOrigin:VpcOrigin", "aws:cloudfront/cachePolicy:CachePolicy"} {
		if len(alb.ofType(typ)) != 0 {
			t.Errorf("edge alb has a %s", typ)
		}
	}
	sg := alb.m.Named("aws:ec2/securityGroup:SecurityGroup", "lb-sg")
	if sg.Str("description") != "WordPress load balancer: web traffic from the internet" {
		t.Errorf("edge alb changes the load balancer group's description (a replacement): %q", sg.Str("description"))
	}
}

// CloudFront's access logs (standard logging v2) go to a CloudWatch log group kept
// logRetentionDays; CloudFront takes the delivery only in us-east-1, so the source, the
// destination, the delivery and the group are all there. No cookie is logged (WordPress's
// session cookies are credentials); cdnAccessLogs false turns them off.
func TestCloudFrontAccessLogs(t *testing.T) {
	r := mustRun(t, map[string]string{"logRetentionDays": "60"})
	cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
	source := r.one(t, "aws:cloudwatch/logDeliverySource:LogDeliverySource")
	dest := r.one(t, "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination")
	delivery := r.one(t, "aws:cloudwatch/logDelivery:LogDelivery")
	for _, x := range []*recorded{source, dest, delivery} {
		if providerRegion(r, x) != "us-east-1" {
			t.Errorf("%s: in %s; CloudFront's log delivery is configured in us-east-1 only", x.URN, providerRegion(r, x))
		}
	}
	if source.Str("logType") != "ACCESS_LOGS" || source.Str("resourceArn") != out(cdn, "arn") {
		t.Errorf("%s: %s of %s; want the distribution's ACCESS_LOGS", source.URN, source.Str("logType"), source.Str("resourceArn"))
	}
	if delivery.Str("deliverySourceName") != out(source, "name") || delivery.Str("deliveryDestinationArn") != out(dest, "arn") || out(source, "name") == "" {
		t.Errorf("%s: delivers %q to %q; want %s to %s", delivery.URN, delivery.Str("deliverySourceName"), delivery.Str("deliveryDestinationArn"), out(source, "name"), out(dest, "arn"))
	}
	var group *recorded
	for _, g := range r.ofType("aws:cloudwatch/logGroup:LogGroup") {
		if out(g, "arn") == propString(dest.Obj("deliveryDestinationConfiguration")["destinationResourceArn"]) {
			group = g
		}
	}
	if group == nil {
		t.Fatalf("%s: the destination is not a log group of the stack: %v", dest.URN, dest.Obj("deliveryDestinationConfiguration"))
	}
	if group.Str("retentionInDays") != "60" || providerRegion(r, group) != "us-east-1" || group.Str("name") != "/scalable-wordpress/test/cdn-access" {
		t.Errorf("%s: %s kept %s days in %s", group.URN, group.Str("name"), group.Str("retentionInDays"), providerRegion(r, group))
	}
	policy := checkDeliveryPolicy(t, r, group)
	if !slices.Contains(delivery.Deps, policy.URN) {
		t.Errorf("%s is not created after %s", delivery.URN, policy.URN)
	}
	var fields []string
	for _, f := range delivery.Inputs["recordFields"].ArrayValue() {
		fields = append(fields, f.StringValue())
	}
	for _, want := range []string{"date", "time", "c-ip", "cs-method", "cs-uri-stem", "sc-status", "x-edge-result-type", "time-taken", "cs(User-Agent)"} {
		if !slices.Contains(fields, want) {
			t.Errorf("%s: fields %v lack %s", delivery.URN, fields, want)
		}
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), "cookie") || strings.Contains(strings.ToLower(f), "authorization") {
			t.Errorf("%s: logs %s, which carries credentials", delivery.URN, f)
		}
	}
	for _, cfg := range []map[string]string{{"cdnAccessLogs": "false"}, {"edge": edgeALB}} {
		r := mustRun(t, cfg)
		for _, typ := range []string{"aws:cloudwatch/logDeliverySource:LogDeliverySource", "aws:cloudwatch/logDelivery:LogDelivery"} {
			if n := len(r.ofType(typ)); n != 0 {
				t.Errorf("%v: %d %s", cfg, n, typ)
			}
		}
	}
}

// viewerHeader is a header a response headers policy puts on every answer.
type viewerHeader struct {
	name, value string
	override    bool // replaces the one the origin sent
}

// policyHeaders reads a recorded response headers policy as the headers CloudFront adds, by
// name. What the tests do not model (CORS, removals, Server-Timing, CSP, X-XSS-Protection)
// fails the test rather than being ignored.
func policyHeaders(t *testing.T, p *recorded) []viewerHeader {
	t.Helper()
	for _, k := range []string{"corsConfig", "removeHeadersConfig", "serverTimingHeadersConfig"} {
		if v := p.Inputs[resource.PropertyKey(k)]; !v.IsNull() && v.IsObject() {
			t.Fatalf("%s: %s is not modelled by the tests", p.URN, k)
		}
	}
	var out []viewerHeader
	for k, v := range p.Obj("securityHeadersConfig") {
		if !v.IsObject() {
			continue
		}
		m := v.ObjectValue()
		h := viewerHeader{override: propString(m["override"]) == "true"}
		switch k {
		case "strictTransportSecurity":
			h.name, h.value = "Strict-Transport-Security", "max-age="+strconv.FormatFloat(m["accessControlMaxAgeSec"].NumberValue(), 'f', -1, 64)
			if propString(m["includeSubdomains"]) == "true" {
				h.value += "; includeSubDomains"
			}
			if propString(m["preload"]) == "true" {
				h.value += "; preload"
			}
		case "contentTypeOptions":
			h.name, h.value = "X-Content-Type-Options", "nosniff"
		case "frameOptions":
			h.name, h.value = "X-Frame-Options", propString(m["frameOption"])
		case "referrerPolicy":
			h.name, h.value = "Referrer-Policy", propString(m["referrerPolicy"])
		default:
			t.Fatalf("%s: security header %s is not modelled by the tests", p.URN, k)
		}
		out = append(out, h)
	}
	if custom := p.Obj("customHeadersConfig"); custom != nil {
		for _, v := range custom["items"].ArrayValue() {
			m := v.ObjectValue()
			out = append(out, viewerHeader{propString(m["header"]), propString(m["value"]), propString(m["override"]) == "true"})
		}
	}
	slices.SortFunc(out, func(a, b viewerHeader) int { return strings.Compare(a.name, b.name) })
	return out
}

// Every answer through the distribution, from every behaviour, carries the security headers
// and they replace whatever the origin (a plugin) sent: HSTS for a year, without
// includeSubDomains (the site may be one name of a domain whose other names are not on HTTPS;
// an apex siteDomain would pin them all) and without preload (the domain owner's decision);
// nosniff; frames only from the site itself (SAMEORIGIN: wp-admin's customizer frames its own
// preview, DENY would break it); only the origin as referrer to other sites.
func TestEveryBehaviourSendsTheSecurityHeaders(t *testing.T) {
	want := []viewerHeader{
		{"Referrer-Policy", "strict-origin-when-cross-origin", true},
		{"Strict-Transport-Security", "max-age=31536000", true},
		{"X-Content-Type-Options", "nosniff", true},
		{"X-Frame-Options", "SAMEORIGIN", true},
	}
	for _, config := range []map[string]string{nil, {"siteDomain": testIssuedDomain}} {
		r := mustRun(t, config)
		cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
		policies := r.ofType("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
		if len(policies) != 1 {
			t.Fatalf("config %v: %d response headers policies, want one for every behaviour", config, len(policies))
		}
		policy := policies[0]
		for _, b := range behavioursOf(cdn) {
			if b.headersPolicy != out(policy, "id") {
				t.Errorf("%s: behaviour %q answers with response headers policy %q, want %s: its answers lack the security headers",
					cdn.URN, b.path, b.headersPolicy, out(policy, "id"))
			}
		}
		if got := policyHeaders(t, policy); !slices.Equal(got, want) {
			t.Errorf("%s: adds %+v, want %+v", policy.URN, got, want)
		}
	}
}

// The delivery source's name is known before it exists, valid for CloudWatch Logs (letters,
// digits, _ and -, at most 60), and distinct per stack.
func TestDeliverySourceName(t *testing.T) {
	long := "/scalable-wordpress/" + strings.Repeat("a-very-long-stack-name.", 4) + "/cdn-access"
	for in, want := range map[string]string{
		"/scalable-wordpress/dev/cdn-access":     "scalable-wordpress-dev-cdn-access",
		"/scalable-wordpress/prod.eu/cdn-access": "scalable-wordpress-prod-eu-cdn-access",
	} {
		if got := deliverySourceName(in); got != want {
			t.Errorf("deliverySourceName(%q) = %q, want %q", in, got, want)
		}
	}
	a, b := deliverySourceName(long), deliverySourceName(long+"2")
	if len(a) > 60 || a == b || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(a) {
		t.Errorf("long names %q and %q: want distinct valid names of at most 60 characters", a, b)
	}
}

package main

// The web ACL as an attacker meets it: a small evaluator runs the rules the program registers
// (their recorded inputs, in priority order, with AWS WAF's documented semantics for the
// statements and text transformations used) over requests, so that the tests assert what is
// blocked, not which fields are set.

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// wafManaged is what the evaluator knows of the AWS managed rule groups the web ACL uses: the
// namespace of the labels each adds and, for the rules the tests trip, the label of each
// (AWS WAF Developer Guide, "Core rule set (CRS) managed rule group").
var wafManaged = map[string]struct {
	namespace string
	labels    map[string]string // rule name -> label name
}{
	"AWSManagedRulesCommonRuleSet": {"awswaf:managed:aws:core-rule-set:", map[string]string{
		"SizeRestrictions_BODY":   "SizeRestrictions_Body",   // a body over 8 KB
		"CrossSiteScripting_BODY": "CrossSiteScripting_Body", // XSS in the (inspected part of the) body
	}},
}

// wafRequest is a request and the managed rules ("Group/Rule") its content trips.
type wafRequest struct {
	path  string
	trips []string
}

// wafVerdict is how the web ACL ends a request: "BLOCK" or "ALLOW", and the deciding rule.
type wafVerdict struct {
	action, rule string
}

// wafRuleSet is a recorded web ACL's rules in evaluation order.
type wafRuleSet struct {
	t     *testing.T
	urn   string
	rules []resource.PropertyMap
}

// wafList is a list input, nil when absent.
func wafList(v resource.PropertyValue) []resource.PropertyValue {
	if v = unsecret(v); v.IsArray() {
		return v.ArrayValue()
	}
	return nil
}

func wafRulesOf(t *testing.T, acl *recorded) wafRuleSet {
	t.Helper()
	var rules []resource.PropertyMap
	for _, v := range acl.Inputs["rules"].ArrayValue() {
		rules = append(rules, v.ObjectValue())
	}
	sort.SliceStable(rules, func(i, j int) bool {
		return rules[i]["priority"].NumberValue() < rules[j]["priority"].NumberValue()
	})
	return wafRuleSet{t: t, urn: acl.URN, rules: rules}
}

// evaluate runs the request through the rules as AWS WAF would: a managed group labels what its
// rules match and blocks unless the rule is overridden to count; a custom rule sees only the
// labels of rules before it; a rate-based rule is assumed under its limit (its scope-down is
// tested on its own); the default action allows.
func (s wafRuleSet) evaluate(req wafRequest) wafVerdict {
	labels := map[string]bool{}
	for _, rule := range s.rules {
		name := propString(rule["name"])
		st := rule["statement"].ObjectValue()
		if g := st["managedRuleGroupStatement"]; g.IsObject() {
			group := propString(g.ObjectValue()["name"])
			counted := map[string]bool{}
			for _, o := range wafList(g.ObjectValue()["ruleActionOverrides"]) {
				if o.ObjectValue()["actionToUse"].ObjectValue()["count"].IsObject() {
					counted[propString(o.ObjectValue()["name"])] = true
				}
			}
			groupCounts := rule["overrideAction"].ObjectValue()["count"].IsObject()
			for _, trip := range req.trips {
				g, r, _ := strings.Cut(trip, "/")
				if g != group {
					continue
				}
				m, ok := wafManaged[g]
				if !ok || m.labels[r] == "" {
					s.t.Fatalf("the evaluator does not know the label of %s", trip)
				}
				labels[m.namespace+m.labels[r]] = true
				if !counted[r] && !groupCounts {
					return wafVerdict{"BLOCK", name + "/" + r}
				}
			}
			continue
		}
		if st["rateBasedStatement"].IsObject() {
			continue
		}
		if !s.match(st, req, labels) {
			continue
		}
		action := rule["action"].ObjectValue()
		switch {
		case action["block"].IsObject():
			return wafVerdict{"BLOCK", name}
		case action["allow"].IsObject():
			return wafVerdict{"ALLOW", name}
		case action["count"].IsObject():
			// counting adds the rule's own labels only; none of ours has any
		default:
			s.t.Fatalf("%s: rule %s has no action", s.urn, name)
		}
	}
	return wafVerdict{"ALLOW", "default"}
}

// match evaluates one statement.
func (s wafRuleSet) match(st resource.PropertyMap, req wafRequest, labels map[string]bool) bool {
	nested := func(key string) []resource.PropertyMap {
		var out []resource.PropertyMap
		for _, v := range wafList(st[resource.PropertyKey(key)].ObjectValue()["statements"]) {
			out = append(out, v.ObjectValue())
		}
		return out
	}
	switch {
	case st["andStatement"].IsObject():
		for _, n := range nested("andStatement") {
			if !s.match(n, req, labels) {
				return false
			}
		}
		return true
	case st["orStatement"].IsObject():
		for _, n := range nested("orStatement") {
			if s.match(n, req, labels) {
				return true
			}
		}
		return false
	case st["notStatement"].IsObject():
		return !s.match(nested("notStatement")[0], req, labels)
	case st["labelMatchStatement"].IsObject():
		lm := st["labelMatchStatement"].ObjectValue()
		if propString(lm["scope"]) != "LABEL" {
			s.t.Fatalf("%s: label match scope %s is not evaluated here", s.urn, propString(lm["scope"]))
		}
		// A key without the awswaf: prefix is in the web ACL's own context: it never names a
		// managed group's label.
		return labels[propString(lm["key"])]
	case st["byteMatchStatement"].IsObject():
		bm := st["byteMatchStatement"].ObjectValue()
		v := transformed(s.t, s.uriPath(bm, req), bm["textTransformations"])
		want := propString(bm["searchString"])
		switch c := propString(bm["positionalConstraint"]); c {
		case "EXACTLY":
			return v == want
		case "STARTS_WITH":
			return strings.HasPrefix(v, want)
		case "ENDS_WITH":
			return strings.HasSuffix(v, want)
		case "CONTAINS":
			return strings.Contains(v, want)
		default:
			s.t.Fatalf("%s: positional constraint %s is not evaluated here", s.urn, c)
		}
	case st["regexMatchStatement"].IsObject():
		rm := st["regexMatchStatement"].ObjectValue()
		re, err := regexp.Compile(propString(rm["regexString"]))
		if err != nil {
			s.t.Fatalf("%s: regex %q: %v", s.urn, propString(rm["regexString"]), err)
		}
		return re.MatchString(transformed(s.t, s.uriPath(rm, req), rm["textTransformations"]))
	}
	s.t.Fatalf("%s: statement %v is not evaluated here", s.urn, st)
	return false
}

// uriPath is the request's URI path, the only component the rules inspect.
func (s wafRuleSet) uriPath(stmt resource.PropertyMap, req wafRequest) string {
	if !stmt["fieldToMatch"].ObjectValue()["uriPath"].IsObject() {
		s.t.Fatalf("%s: only the URI path is evaluated here, got %v", s.urn, stmt["fieldToMatch"])
	}
	return req.path
}

// transformed applies text transformations in priority order, as AWS WAF documents them.
func transformed(t *testing.T, v string, tts resource.PropertyValue) string {
	t.Helper()
	list := wafList(tts)
	sort.SliceStable(list, func(i, j int) bool {
		return list[i].ObjectValue()["priority"].NumberValue() < list[j].ObjectValue()["priority"].NumberValue()
	})
	for _, tt := range list {
		switch typ := propString(tt.ObjectValue()["type"]); typ {
		case "NONE":
		case "URL_DECODE":
			v = wafURLDecode(v)
		case "LOWERCASE":
			v = strings.ToLower(v)
		case "NORMALIZE_PATH":
			v = wafNormalizePath(v)
		case "NORMALIZE_PATH_WIN":
			v = wafNormalizePath(strings.ReplaceAll(v, `\`, "/"))
		default:
			t.Fatalf("text transformation %q is not evaluated here (nor, if misspelt, by AWS WAF)", typ)
		}
	}
	return v
}

// wafURLDecode decodes %XX escapes and leaves malformed ones as they are.
func wafURLDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if d, err := url.PathUnescape(s[i : i+3]); err == nil {
				b.WriteString(d)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// wafNormalizePath removes multiple slashes, self-references (/./) and back-references
// (/x/../) that are not at the beginning of the input.
func wafNormalizePath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	abs, trailing := strings.HasPrefix(p, "/"), strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
	var out []string
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		switch {
		case seg == "" || seg == ".":
		case seg == ".." && len(out) > 0 && out[len(out)-1] != "..":
			out = out[:len(out)-1]
		default:
			out = append(out, seg)
		}
	}
	r := strings.Join(out, "/")
	if abs {
		r = "/" + r
	}
	if trailing && !strings.HasSuffix(r, "/") {
		r += "/"
	}
	return r
}

// The normaliser above is AWS's documented NORMALIZE_PATH, checked on its own.
func TestWAFNormalizePathAsDocumented(t *testing.T) {
	for in, want := range map[string]string{
		"/wp-login.php": "/wp-login.php", "//wp-login.php": "/wp-login.php", "/a/./b": "/a/b", "/a/../b": "/b",
		"/blog/../wp-login.php": "/wp-login.php", "/../wp-login.php": "/../wp-login.php", "/a/b/": "/a/b/", "/a//b///c": "/a/b/c",
		"/wp-json/wp/v2/templates/twentytwentyfive//home": "/wp-json/wp/v2/templates/twentytwentyfive/home",
	} {
		if got := wafNormalizePath(in); got != want {
			t.Errorf("NORMALIZE_PATH(%q) = %q, want %q", in, got, want)
		}
	}
	if got := wafURLDecode("/%77p-login.php%2"); got != "/wp-login.php%2" {
		t.Errorf("URL_DECODE = %q", got)
	}
}

func wafACL(t *testing.T, config map[string]string) (*stackRun, *recorded) {
	t.Helper()
	r := mustRun(t, config)
	return r, r.one(t, "aws:wafv2/webAcl:WebAcl")
}

// editorPaths are where WordPress's logged-in users legitimately send bodies over 8 KB or
// HTML: media uploads (media modal and the browser uploader, the block editor's REST upload)
// and the editors' saves and autosaves (classic editor, block editor, synced patterns, the
// site editor's templates, template parts, styles and navigation).
var editorPaths = []string{
	"/wp-admin/async-upload.php", "/wp-admin/media-new.php", "/wp-admin/post.php",
	"/wp-json/wp/v2/media", "/wp-json/wp/v2/posts/42", "/wp-json/wp/v2/posts/42/autosaves", "/wp-json/wp/v2/pages/7/",
	"/wp-json/wp/v2/blocks", "/wp-json/wp/v2/blocks/3", "/wp-json/wp/v2/templates/twentytwentyfive//home",
	"/wp-json/wp/v2/template-parts/twentytwentyfive//header", "/wp-json/wp/v2/global-styles/12", "/wp-json/wp/v2/navigation/5",
}

// attackPaths are everything else an attacker would pad a body for, the tricks that make a
// path look like an editor path to a matcher that reads it raw, and spellings of editor paths
// that no editor sends (the exemption is no wider than it must be).
var attackPaths = []string{
	"/", "/wp-login.php", "/xmlrpc.php", "/wp-comments-post.php", "/wp-admin/admin-ajax.php", "/wp-admin/admin-post.php",
	"/wp-admin/options.php", "/wp-json/wp/v2/users/1", "/wp-json/wp/v2/comments", "/wp-json/batch/v1", "/index.php",
	"/wp-json/wp/v2/posts-evil", "/wp-json/wp/v2/posts/42/revisions", "/blog/wp-admin/post.php", "/wp-admin/post.php.bak",
	"/wp-admin/async-upload.php/../admin-ajax.php", "/wp-admin/async-upload.php%2f..%2fadmin-ajax.php",
	"/wp-json/wp/v2/media/../../../../wp-admin/admin-ajax.php", "/wp-json/wp/v2/posts/1/../../users/1",
	"/wp-content/plugins/some-plugin/ajax.php", "/wp-admin/post%2ephp", "/wp-json/wp/v2/%70osts/1", "/WP-ADMIN/POST.PHP",
}

// A body over 8 KB is blocked everywhere but on the editor paths: beyond 8 KB (16 KB on
// CloudFront) AWS WAF inspects nothing, so an injection padded past it would pass every rule.
// The same for HTML/XSS in a body, which only the editors legitimately send.
func TestBodyRulesBlockEverywhereButTheEditorPaths(t *testing.T) {
	for _, edge := range []string{edgeCloudFront, edgeALB} {
		_, acl := wafACL(t, map[string]string{"edge": edge})
		rules := wafRulesOf(t, acl)
		for _, trip := range []string{"AWSManagedRulesCommonRuleSet/SizeRestrictions_BODY", "AWSManagedRulesCommonRuleSet/CrossSiteScripting_BODY"} {
			for _, p := range attackPaths {
				if v := rules.evaluate(wafRequest{path: p, trips: []string{trip}}); v.action != "BLOCK" {
					t.Errorf("[%s] %s on %s: %s by %s, want blocked", edge, trip, p, v.action, v.rule)
				}
			}
			for _, p := range editorPaths {
				if v := rules.evaluate(wafRequest{path: p, trips: []string{trip}}); v.action != "ALLOW" {
					t.Errorf("[%s] %s on the editor path %s: %s by %s; WordPress needs it", edge, trip, p, v.action, v.rule)
				}
			}
		}
		// What trips nothing passes everywhere: the new rules act on the labels only.
		for _, p := range append(slices.Clone(attackPaths), editorPaths...) {
			if v := rules.evaluate(wafRequest{path: p}); v.action != "ALLOW" {
				t.Errorf("[%s] a small, clean request to %s: %s by %s", edge, p, v.action, v.rule)
			}
		}
	}
}

// loginVariants are what reaches wp-login.php or xmlrpc.php on Apache (or is at least counted
// as a try): decoded escapes, doubled slashes, dot segments, case, and path info after the
// script (Apache runs /wp-login.php/anything as wp-login.php).
var loginVariants = []string{
	"/wp-login.php", "/wp-login.php/", "//wp-login.php", "/WP-LOGIN.PHP", "/%77p-login.php", "/wp-login%2ephp",
	"/blog/../wp-login.php", "/./wp-login.php", "/wp-admin/../wp-login.php", "/wp-login.php/x", "/Wp-Login.php//",
	"/xmlrpc.php", "/xmlrpc.php/", "//xmlrpc.php", "/XMLRPC.PHP", "/%78mlrpc.php", "/wp-content/../xmlrpc.php",
}

// The login rate limit counts every spelling of the login paths: its scope-down statement,
// with its text transformations, matches each variant and nothing else.
func TestLoginRateLimitCannotBeSpelledAround(t *testing.T) {
	for _, edge := range []string{edgeCloudFront, edgeALB} {
		_, acl := wafACL(t, map[string]string{"edge": edge, "wafLoginRateLimit": "60"})
		rules := wafRulesOf(t, acl)
		var rate resource.PropertyMap
		for _, rule := range rules.rules {
			if st := rule["statement"].ObjectValue()["rateBasedStatement"]; st.IsObject() {
				rate = st.ObjectValue()
				if !rule["action"].ObjectValue()["block"].IsObject() {
					t.Errorf("[%s] the rate rule does not block", edge)
				}
			}
		}
		if rate == nil {
			t.Fatalf("[%s] no rate-based rule", edge)
		}
		if propString(rate["limit"]) != "60" || propString(rate["aggregateKeyType"]) != "IP" || propString(rate["evaluationWindowSec"]) != "300" {
			t.Errorf("[%s] rate rule %v; want 60 per IP per 300 s", edge, rate)
		}
		scope := rate["scopeDownStatement"].ObjectValue()
		for _, p := range loginVariants {
			if !rules.match(scope, wafRequest{path: p}, nil) {
				t.Errorf("[%s] %s escapes the login rate limit", edge, p)
			}
		}
		for _, p := range []string{"/", "/wp-admin/", "/wp-json/wp/v2/posts", "/my-wp-login.php", "/wp-login.php.bak", "/xmlrpc.phps", "/?p=wp-login.php"} {
			if u, _ := url.Parse(p); rules.match(scope, wafRequest{path: u.Path}, nil) {
				t.Errorf("[%s] %s is counted as a login", edge, p)
			}
		}
	}
}

// wafStatementLimits are what AWS WAF (and the provider's schema) accept: statements nested at
// most 3 deep, AND/OR with two or more statements, NOT with one, regex patterns of at most 200
// characters; and the web ACL within the 1,500 capacity units its base price includes.
func TestWebACLWithinWAFLimits(t *testing.T) {
	for _, edge := range []string{edgeCloudFront, edgeALB} {
		_, acl := wafACL(t, map[string]string{"edge": edge})
		wcu := 0
		names, priorities := map[string]bool{}, map[float64]bool{}
		for _, v := range acl.Inputs["rules"].ArrayValue() {
			rule := v.ObjectValue()
			name, prio := propString(rule["name"]), rule["priority"].NumberValue()
			if names[name] || priorities[prio] {
				t.Errorf("[%s] rule %s: duplicate name or priority %v", edge, name, prio)
			}
			names[name], priorities[prio] = true, true
			wcu += statementWCU(t, fmt.Sprintf("[%s] %s", edge, name), rule["statement"].ObjectValue(), 1)
		}
		if wcu > 1500 {
			t.Errorf("[%s] the web ACL needs about %d WCUs: above 1,500 AWS charges more per request", edge, wcu)
		}
	}
}

// wafGroupWCU are the managed groups' capacities (AWS managed rule groups list).
var wafGroupWCU = map[string]int{"AWSManagedRulesCommonRuleSet": 700, "AWSManagedRulesKnownBadInputsRuleSet": 200,
	"AWSManagedRulesWordPressRuleSet": 100, "AWSManagedRulesPHPRuleSet": 100, "AWSManagedRulesSQLiRuleSet": 200}

// statementWCU checks a statement's shape and returns its capacity units (AWS WAF Developer
// Guide, rule statements: byte match 2 (10 when CONTAINS), regex 3, label 1, rate-based 2,
// plus 10 per text transformation).
func statementWCU(t *testing.T, where string, st resource.PropertyMap, depth int) int {
	t.Helper()
	if depth > 3 {
		t.Errorf("%s: statements nested %d deep; WAF (and the provider) take 3", where, depth)
	}
	tts := func(m resource.PropertyMap) int { return 10 * len(wafList(m["textTransformations"])) }
	logical := func(key string, min, max int) int {
		list := wafList(st[resource.PropertyKey(key)].ObjectValue()["statements"])
		if len(list) < min || len(list) > max {
			t.Errorf("%s: %s with %d statements", where, key, len(list))
		}
		sum := 0
		for _, n := range list {
			sum += statementWCU(t, where, n.ObjectValue(), depth+1)
		}
		return sum
	}
	switch {
	case st["managedRuleGroupStatement"].IsObject():
		name := propString(st["managedRuleGroupStatement"].ObjectValue()["name"])
		if wafGroupWCU[name] == 0 {
			t.Errorf("%s: unknown capacity of %s", where, name)
		}
		return wafGroupWCU[name]
	case st["rateBasedStatement"].IsObject():
		rb := st["rateBasedStatement"].ObjectValue()
		return 2 + statementWCU(t, where+" scope-down", rb["scopeDownStatement"].ObjectValue(), depth+1)
	case st["andStatement"].IsObject():
		return logical("andStatement", 2, 1000)
	case st["orStatement"].IsObject():
		return logical("orStatement", 2, 1000)
	case st["notStatement"].IsObject():
		return logical("notStatement", 1, 1)
	case st["labelMatchStatement"].IsObject():
		return 1
	case st["byteMatchStatement"].IsObject():
		bm := st["byteMatchStatement"].ObjectValue()
		base := 2
		if c := propString(bm["positionalConstraint"]); c == "CONTAINS" || c == "CONTAINS_WORD" {
			base = 10
		}
		return base + tts(bm)
	case st["regexMatchStatement"].IsObject():
		rm := st["regexMatchStatement"].ObjectValue()
		if n := len(propString(rm["regexString"])); n > 200 {
			t.Errorf("%s: a regex of %d characters; WAF takes 200", where, n)
		}
		return 3 + tts(rm)
	}
	t.Errorf("%s: unexpected statement %v", where, st)
	return 0
}

// providerRegion is the region a resource is created in: its explicit provider's, or the stack's.
func providerRegion(r *stackRun, x *recorded) string {
	if x.Provider == "" {
		return r.cfg.Region
	}
	for _, p := range r.ofType("pulumi:providers:aws") {
		if strings.HasPrefix(x.Provider, p.URN+"::") {
			return p.Str("region")
		}
	}
	return "unknown provider " + x.Provider
}

// checkDeliveryPolicy: the log group's resource policy lets CloudWatch Logs' delivery service
// (vended logs: WAF, CloudFront) write its streams, for this account's deliveries only, in the
// group's region. Returns the policy.
func checkDeliveryPolicy(t *testing.T, r *stackRun, group *recorded) *recorded {
	t.Helper()
	region := providerRegion(r, group)
	for _, p := range r.ofType("aws:cloudwatch/logResourcePolicy:LogResourcePolicy") {
		doc := jsonInput(t, p, "policyDocument")
		st, _ := doc["Statement"].([]any)
		if len(st) != 1 {
			continue
		}
		s := st[0].(map[string]any)
		if fmt.Sprint(s["Resource"]) != out(group, "arn")+":log-stream:*" {
			continue
		}
		if providerRegion(r, p) != region {
			t.Errorf("%s: in %s, its log group in %s", p.URN, providerRegion(r, p), region)
		}
		want := fmt.Sprintf(`map[Action:[logs:CreateLogStream logs:PutLogEvents] Condition:map[ArnLike:map[aws:SourceArn:arn:aws:logs:%s:%s:*] StringEquals:map[aws:SourceAccount:%s]] Effect:Allow Principal:map[Service:delivery.logs.amazonaws.com] Resource:%s Sid:%s]`,
			region, testAccount, testAccount, out(group, "arn")+":log-stream:*", s["Sid"])
		if fmt.Sprint(s) != want {
			t.Errorf("%s: %v\nwant %s", p.URN, s, want)
		}
		return p
	}
	t.Fatalf("no resource policy lets the log delivery write to %s", out(group, "arn"))
	return nil
}

// WAF logs every request to a CloudWatch log group in the web ACL's own region (us-east-1 for
// CloudFront's), named as WAF requires, kept logRetentionDays, with the headers that carry
// credentials (Authorization: application passwords; Cookie: WordPress's session) redacted.
func TestWAFLogsWithoutCredentials(t *testing.T) {
	for _, c := range []struct {
		edge, region string
	}{{edgeCloudFront, "us-east-1"}, {edgeALB, "ap-northeast-1"}} {
		r, acl := wafACL(t, map[string]string{"edge": c.edge, "logRetentionDays": "14"})
		conf := r.one(t, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
		if conf.Str("resourceArn") != out(acl, "arn") || providerRegion(r, conf) != c.region || providerRegion(r, acl) != c.region {
			t.Errorf("[%s] %s: logs %s from %s; want the web ACL's logs, in %s", c.edge, conf.URN, conf.Str("resourceArn"), providerRegion(r, conf), c.region)
		}
		dest := wafList(conf.Inputs["logDestinationConfigs"])
		if len(dest) != 1 {
			t.Fatalf("[%s] %s: destinations %v", c.edge, conf.URN, dest)
		}
		var group *recorded
		for _, g := range r.ofType("aws:cloudwatch/logGroup:LogGroup") {
			if out(g, "arn") == dest[0].StringValue() {
				group = g
			}
		}
		if group == nil {
			t.Fatalf("[%s] %s: writes to %s, not a log group of the stack", c.edge, conf.URN, dest[0].StringValue())
		}
		if !strings.HasPrefix(group.Str("name"), "aws-waf-logs-") || group.Str("retentionInDays") != "14" || providerRegion(r, group) != c.region {
			t.Errorf("[%s] %s: %s kept %s days in %s; want aws-waf-logs-*, 14 days, %s", c.edge, group.URN, group.Str("name"), group.Str("retentionInDays"), providerRegion(r, group), c.region)
		}
		if !conf.Inputs["loggingFilter"].IsNull() {
			t.Errorf("[%s] %s: a filter drops some requests from the logs: %v", c.edge, conf.URN, conf.Inputs["loggingFilter"])
		}
		var redacted []string
		for _, f := range wafList(conf.Inputs["redactedFields"]) {
			if h := f.ObjectValue()["singleHeader"]; h.IsObject() {
				redacted = append(redacted, propString(h.ObjectValue()["name"]))
			}
		}
		if !sameSet(redacted, []string{"authorization", "cookie"}) {
			t.Errorf("[%s] %s: redacts headers %v; want authorization and cookie (lower case, as WAF matches them)", c.edge, conf.URN, redacted)
		}
		policy := checkDeliveryPolicy(t, r, group)
		if !slices.Contains(conf.Deps, policy.URN) {
			t.Errorf("[%s] %s is not created after %s: WAF would write a policy of its own", c.edge, conf.URN, policy.URN)
		}
	}
	r := mustRun(t, map[string]string{"waf": "false"})
	if n := len(r.ofType("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")); n != 0 {
		t.Errorf("waf false: %d WAF logging configurations", n)
	}
	for _, g := range r.ofType("aws:cloudwatch/logGroup:LogGroup") {
		if strings.HasPrefix(g.Str("name"), "aws-waf-logs-") {
			t.Errorf("waf false: %s", g.URN)
		}
	}
}

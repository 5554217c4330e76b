package rules

// Security group rules, whichever way they are written: inline in the group, as
// aws.vpc.SecurityGroupIngressRule/EgressRule, or as the older aws.ec2.SecurityGroupRule.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	typeSecurityGroup = "aws:ec2/securityGroup:SecurityGroup"
	typeIngressRule   = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	typeEgressRule    = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	typeLegacyRule    = "aws:ec2/securityGroupRule:SecurityGroupRule"
)

var worldCIDRs = []string{"0.0.0.0/0", "::/0"}

// sgRule is one rule in a common shape.
type sgRule struct {
	owner       policyx.AnalyzerResource // the resource that declares it
	ingress     bool
	protocol    string // "tcp", "udp", "icmp", "-1" (all)
	from, to    int
	cidrs       []string
	peerGroup   bool   // the source/destination is another security group
	description string // "" when missing
	portsKnown  bool
}

// allPorts reports whether the rule opens every port (protocol -1/all).
func (r sgRule) allPorts() bool { return r.protocol == "-1" || r.protocol == "all" }

// covers reports whether the rule opens TCP port p.
func (r sgRule) covers(p int) bool {
	if r.allPorts() {
		return true
	}
	return (r.protocol == "tcp" || r.protocol == "6") && r.portsKnown && r.from <= p && p <= r.to
}

// onlyWebPort reports whether the rule opens exactly TCP 80 or exactly TCP 443.
func (r sgRule) onlyWebPort() bool {
	return r.from == r.to && (r.covers(80) || r.covers(443)) && !r.allPorts()
}

func (r sgRule) fromWorld() bool {
	for _, c := range r.cidrs {
		if slices.Contains(worldCIDRs, c) {
			return true
		}
	}
	return false
}

func (r sgRule) ports() string {
	switch {
	case r.allPorts():
		return "all ports"
	case r.from == r.to:
		return fmt.Sprintf("%s/%d", r.protocol, r.from)
	}
	return fmt.Sprintf("%s/%d-%d", r.protocol, r.from, r.to)
}

// rulesOf returns the rules a resource declares (none for other types).
func rulesOf(r policyx.AnalyzerResource) []sgRule {
	p := r.Properties
	switch r.Type {
	case typeSecurityGroup:
		var out []sgRule
		for _, dir := range []string{"ingress", "egress"} {
			for _, m := range objects(p, dir) {
				out = append(out, ruleFrom(r, dir == "ingress", m, "protocol", "cidrBlocks", "ipv6CidrBlocks", "securityGroups"))
			}
		}
		return out
	case typeIngressRule, typeEgressRule:
		return []sgRule{ruleFrom(r, r.Type == typeIngressRule, p, "ipProtocol", "cidrIpv4", "cidrIpv6", "referencedSecurityGroupId")}
	case typeLegacyRule:
		kind, _ := str(p, "type")
		return []sgRule{ruleFrom(r, kind == "ingress", p, "protocol", "cidrBlocks", "ipv6CidrBlocks", "sourceSecurityGroupId")}
	}
	return nil
}

func ruleFrom(owner policyx.AnalyzerResource, ingress bool, m property.Map, protoKey, v4Key, v6Key, peerKey string) sgRule {
	r := sgRule{owner: owner, ingress: ingress}
	r.protocol, _ = str(m, protoKey)
	r.protocol = strings.ToLower(r.protocol)
	from, fromOK := number(m, "fromPort", -1)
	to, toOK := number(m, "toPort", -1)
	r.from, r.to, r.portsKnown = int(from), int(to), fromOK && toOK && from >= 0
	r.cidrs = append(stringsOf(m, v4Key), stringsOf(m, v6Key)...)
	r.peerGroup = len(stringsOf(m, peerKey)) > 0 || len(owner.PropertyDependencies[peerKey]) > 0
	if v, ok := m.GetOk(peerKey); ok && v.IsComputed() {
		r.peerGroup = true
	}
	r.description, _ = str(m, "description")
	return r
}

// highRiskPorts are the administration and database ports Security Hub EC2.19 lists,
// SSH and RDP first (CKV_AWS_24, CKV_AWS_25).
var highRiskPorts = []int{22, 3389, 20, 21, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300}

func noAdminPortsFromWorld() policyx.Policy {
	return resourcePolicy("no-admin-ports-from-world",
		"No SSH, RDP or other high-risk port open to 0.0.0.0/0 or ::/0 (Checkov CKV_AWS_24, CKV_AWS_25; Security Hub EC2.13, EC2.14, EC2.19).",
		func(_ context.Context, args policyx.ResourceValidationArgs) error {
			for _, r := range rulesOf(args.Resource) {
				if !r.ingress || !r.fromWorld() {
					continue
				}
				for _, p := range highRiskPorts {
					if r.covers(p) {
						args.Manager.ReportViolation(fmt.Sprintf("%s opens %s to %s, including port %d.", args.Resource.Name, r.ports(), strings.Join(r.cidrs, ","), p), "")
						break
					}
				}
			}
			return nil
		})
}

func onlyWebPortsFromWorld() policyx.Policy {
	return resourcePolicy("only-web-ports-from-world",
		"Only TCP 80 and 443 may be open to 0.0.0.0/0 or ::/0 (Security Hub EC2.18).",
		func(_ context.Context, args policyx.ResourceValidationArgs) error {
			for _, r := range rulesOf(args.Resource) {
				if r.ingress && r.fromWorld() && !r.onlyWebPort() {
					args.Manager.ReportViolation(fmt.Sprintf("%s opens %s to %s; only tcp/80 and tcp/443 may be.", args.Resource.Name, r.ports(), strings.Join(r.cidrs, ",")), "")
				}
			}
			return nil
		})
}

func ruleDescriptions() policyx.Policy {
	return resourcePolicy("security-group-rule-descriptions",
		"Every security group and rule says what it is for (Checkov CKV_AWS_23).",
		func(_ context.Context, args policyx.ResourceValidationArgs) error {
			res := args.Resource
			if res.Type == typeSecurityGroup {
				if d, ok := known(res.Properties, "description"); !ok || !d.IsString() || d.AsString() == "" || d.AsString() == "Managed by Pulumi" {
					args.Manager.ReportViolation(fmt.Sprintf("security group %s has no description of its own.", res.Name), "")
				}
			}
			for _, r := range rulesOf(res) {
				if r.description == "" {
					dir := "egress"
					if r.ingress {
						dir = "ingress"
					}
					args.Manager.ReportViolation(fmt.Sprintf("%s rule %s in %s has no description.", dir, r.ports(), res.Name), "")
				}
			}
			return nil
		})
}

// groupsAttachedTo returns the security groups the resources of a type use, by group URN.
func (ix *index) groupsAttachedTo(prop string, types ...string) map[string]policyx.AnalyzerResource {
	out := map[string]policyx.AnalyzerResource{}
	for _, r := range ix.ofType(types...) {
		for _, g := range ix.refs(r, prop, typeSecurityGroup) {
			out[g.URN] = g
		}
	}
	return out
}

// ingress is a rule that lets traffic into a group, and the peer groups it names.
type ingress struct {
	rule  sgRule
	peers []policyx.AnalyzerResource
}

// ingressTo returns every ingress rule that applies to a group: its inline rules and the
// separate rule resources that point at it.
func (ix *index) ingressTo(group policyx.AnalyzerResource) []ingress {
	var out []ingress
	for _, m := range objects(group.Properties, "ingress") {
		in := ingress{rule: ruleFrom(group, true, m, "protocol", "cidrBlocks", "ipv6CidrBlocks", "securityGroups")}
		for _, id := range stringsOf(m, "securityGroups") {
			if p, ok := ix.byID[id]; ok {
				in.peers = append(in.peers, p)
			}
		}
		out = append(out, in)
	}
	for _, x := range ix.ofType(typeIngressRule, typeLegacyRule) {
		peerKey := "referencedSecurityGroupId"
		if x.Type == typeLegacyRule {
			peerKey = "sourceSecurityGroupId"
		}
		for _, g := range ix.refs(x, "securityGroupId", typeSecurityGroup) {
			if g.URN != group.URN {
				continue
			}
			for _, r := range rulesOf(x) {
				if r.ingress {
					out = append(out, ingress{rule: r, peers: ix.refs(x, peerKey, typeSecurityGroup)})
				}
			}
		}
	}
	return out
}

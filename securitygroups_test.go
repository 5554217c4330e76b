package main

import (
	"slices"
	"testing"
)

// The groups and rules moved from the components that first declared them into one chain;
// each answers to its first-layout URN, so that a stack deployed before the move adopts it
// instead of replacing it (a new rule next to its old twin is a duplicate AWS refuses).
func TestChainKeepsItsFirstLayoutURNs(t *testing.T) {
	r := mustRun(t, securityVariants["ssh+https"])
	const urn = "urn:pulumi:test::scalable-wordpress::"
	want := map[string]string{
		"lb-sg":           urn + "scalable-wordpress:lb:LoadBalancer$aws:ec2/securityGroup:SecurityGroup::lb-sg",
		"web-sg":          urn + "scalable-wordpress:web:WebTier$aws:ec2/securityGroup:SecurityGroup::web-sg",
		"db-sg":           urn + "scalable-wordpress:database:Database$aws:ec2/securityGroup:SecurityGroup::db-sg",
		"lb-in-80":        urn + "scalable-wordpress:lb:LoadBalancer$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::lb-in-80",
		"lb-in-443":       urn + "scalable-wordpress:lb:LoadBalancer$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::lb-in-443",
		"lb-to-web":       urn + "scalable-wordpress:lb:LoadBalancer$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::lb-to-web",
		"lb-web-from-alb": urn + "scalable-wordpress:lb:LoadBalancer$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::lb-web-from-alb",
		"web-https-out":   urn + "scalable-wordpress:web:WebTier$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::web-https-out",
		"web-mysql-out":   urn + "scalable-wordpress:web:WebTier$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::web-mysql-out",
		"web-to-db":       urn + "scalable-wordpress:web:WebTier$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::web-to-db",
		"web-ssh":         urn + "scalable-wordpress:web:WebTier$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::web-ssh",
		// Newer than the first layout: born in the chain, no alias.
		"uploads-sg":       urn + "scalable-wordpress:network:SecurityGroups$aws:ec2/securityGroup:SecurityGroup::uploads-sg",
		"web-nfs-out":      urn + "scalable-wordpress:network:SecurityGroups$aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::web-nfs-out",
		"uploads-from-web": urn + "scalable-wordpress:network:SecurityGroups$aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::uploads-from-web",
	}
	seen := 0
	for _, x := range r.m.Resources {
		switch x.Type {
		case "aws:ec2/securityGroup:SecurityGroup", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
			"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":
		default:
			continue
		}
		seen++
		old, ok := want[x.Name]
		if !ok {
			t.Errorf("%s: not a group or rule of the first layout; a new one needs no alias, so extend this table knowingly", x.URN)
			continue
		}
		if x.URN != old && !slices.Contains(x.Aliases, old) {
			t.Errorf("%s: does not answer to its first-layout URN %s (aliases %v): existing stacks would replace it", x.URN, old, x.Aliases)
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d groups and rules, want the first layout's and the newer ones, %d", seen, len(want))
	}
}

package main

import (
	"testing"
)

// The hands-on's network table (SEED-SPEC §1), as the program must build it by default.
func TestNetworkMatchesHandsOn(t *testing.T) {
	r := mustRun(t, nil)

	vpc := r.one(t, "aws:ec2/vpc:Vpc")
	if got := vpc.Str("cidrBlock"); got != "10.0.0.0/16" {
		t.Errorf("%s: cidrBlock = %q, want 10.0.0.0/16", vpc.URN, got)
	}
	if vpc.Str("enableDnsSupport") != "true" || vpc.Str("enableDnsHostnames") != "true" {
		t.Errorf("%s: DNS support and hostnames must both be on", vpc.URN)
	}

	want := []struct{ name, cidr, az, public string }{
		{"network-public-1a", "10.0.0.0/24", "ap-northeast-1a", "true"},
		{"network-private-1a", "10.0.2.0/24", "ap-northeast-1a", "false"},
		{"network-public-1c", "10.0.1.0/24", "ap-northeast-1c", "true"},
		{"network-private-1c", "10.0.3.0/24", "ap-northeast-1c", "false"},
	}
	subnets := r.ofType("aws:ec2/subnet:Subnet")
	if len(subnets) != len(want) {
		t.Fatalf("want %d subnets, got %d", len(want), len(subnets))
	}
	byName := map[string]*recorded{}
	for _, s := range subnets {
		byName[s.Name] = s
	}
	for _, w := range want {
		s := byName[w.name]
		if s == nil {
			t.Errorf("subnet %s is missing", w.name)
			continue
		}
		if s.Str("cidrBlock") != w.cidr || s.Str("availabilityZone") != w.az || s.Str("mapPublicIpOnLaunch") != w.public {
			t.Errorf("%s: got %s %s %s public=%s, want %s %s %s public=%s", s.URN, s.Name,
				s.Str("cidrBlock"), s.Str("availabilityZone"), s.Str("mapPublicIpOnLaunch"), w.name, w.cidr, w.az, w.public)
		}
		if s.Str("vpcId") != out(vpc, "id") {
			t.Errorf("%s: not in the VPC (vpcId %q)", s.URN, s.Str("vpcId"))
		}
	}
}

func TestRouteTables(t *testing.T) {
	r := mustRun(t, nil)
	igw := r.one(t, "aws:ec2/internetGateway:InternetGateway")
	vpc := r.one(t, "aws:ec2/vpc:Vpc")
	if igw.Str("vpcId") != out(vpc, "id") {
		t.Errorf("%s: not attached to the VPC", igw.URN)
	}
	// routesOut: "igw" for a table whose only route is 0.0.0.0/0 to the internet gateway,
	// "none" for a table without routes.
	routesOut := func(rt *recorded) string {
		v, ok := rt.Inputs["routes"]
		if !ok || !v.IsArray() || len(v.ArrayValue()) == 0 {
			return "none"
		}
		routes := v.ArrayValue()
		if len(routes) == 1 && propString(routes[0].ObjectValue()["cidrBlock"]) == "0.0.0.0/0" &&
			propString(routes[0].ObjectValue()["gatewayId"]) == out(igw, "id") {
			return "igw"
		}
		return "other"
	}
	tables := r.ofType("aws:ec2/routeTable:RouteTable")
	if len(tables) != 2 {
		t.Fatalf("want a public and a private route table, got %d", len(tables))
	}
	// Every subnet is associated with exactly one table: public ones route to the internet
	// gateway, private ones nowhere.
	assoc := map[string][]string{}
	for _, a := range r.ofType("aws:ec2/routeTableAssociation:RouteTableAssociation") {
		rt := r.byID(a.Str("routeTableId"))
		if rt == nil || rt.Str("vpcId") != out(vpc, "id") {
			t.Errorf("%s: not associated with a route table of the VPC", a.URN)
			continue
		}
		assoc[a.Str("subnetId")] = append(assoc[a.Str("subnetId")], routesOut(rt))
	}
	for _, s := range r.ofType("aws:ec2/subnet:Subnet") {
		want := "none"
		if s.Str("mapPublicIpOnLaunch") == "true" {
			want = "igw"
		}
		if got := assoc[out(s, "id")]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: its route table routes %v, want %s", s.URN, got, want)
		}
	}
}

func TestNetworkFollowsConfiguredAZs(t *testing.T) {
	r := mustRun(t, map[string]string{
		"availabilityZones":  `["ap-northeast-1a","ap-northeast-1c","ap-northeast-1d"]`,
		"publicSubnetCidrs":  `["10.0.0.0/24","10.0.1.0/24","10.0.4.0/24"]`,
		"privateSubnetCidrs": `["10.0.2.0/24","10.0.3.0/24","10.0.5.0/24"]`,
		"webServerCount":     "3",
	})
	azs := map[string]int{}
	for _, s := range r.ofType("aws:ec2/subnet:Subnet") {
		azs[s.Str("availabilityZone")]++
	}
	for _, az := range []string{"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"} {
		if azs[az] != 2 {
			t.Errorf("AZ %s: want a public and a private subnet, got %d subnets", az, azs[az])
		}
	}
}

func TestAZSuffix(t *testing.T) {
	for in, want := range map[string]string{"ap-northeast-1a": "1a", "us-east-1f": "1f", "x": "x"} {
		if got := azSuffix(in); got != want {
			t.Errorf("azSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}

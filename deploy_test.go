package main

// The deploy-time seam: nothing but the hand-offs (the endpoint, the master credential's
// secret and the servers' read of it) may wait for the RDS instance,
// and the estimated critical path stays within 5% of RDS's own creation time. Both read
// the dependency edges the program really registers (the mock sees every request).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// typicalCreateSeconds are typical AWS creation times (the same order as AWS documents and
// the team's engine check uses); unknown types take 2 s, component resources 0.
func typicalCreateSeconds(x *recorded) float64 {
	switch x.Type {
	case "aws:ec2/vpc:Vpc":
		return 20
	case "aws:ec2/subnet:Subnet":
		return 12
	case "aws:ec2/securityGroup:SecurityGroup":
		return 4
	case "aws:ec2/instance:Instance":
		return 35
	case "aws:ec2/amiFromInstance:AmiFromInstance":
		return 300
	case "aws:ssm/association:Association":
		if x.Str("waitForSuccessTimeoutSeconds") != "" {
			return 210 // the builder's SSM registration and prepare phase
		}
		return 2
	case "aws:autoscaling/group:Group":
		if x.Str("waitForCapacityTimeout") == "0" {
			return 5
		}
		return 40
	case "aws:ec2transitgateway/instanceState:InstanceState":
		return 45 // stopping an instance
	case "aws:rds/instance:Instance":
		if x.Str("multiAz") == "true" {
			return 1080
		}
		return 480
	case "aws:lb/loadBalancer:LoadBalancer":
		return 180
	case "aws:iam/instanceProfile:InstanceProfile":
		return 8
	}
	if !x.Custom || strings.HasPrefix(x.Type, "random:") {
		return 0
	}
	return 2
}

// depGraph maps each URN to the URNs its inputs came from.
type depGraph map[string][]string

func graphOf(r *stackRun) depGraph {
	g := depGraph{}
	for _, x := range r.m.Resources {
		g[x.URN] = x.Deps
	}
	return g
}

// pathTo returns a dependency chain from `from` to `to`, or nil when there is none.
func (g depGraph) pathTo(from, to string) []string {
	seen := map[string]bool{}
	var walk func(n string) []string
	walk = func(n string) []string {
		if n == to {
			return []string{n}
		}
		if seen[n] {
			return nil
		}
		seen[n] = true
		for _, d := range g[n] {
			if p := walk(d); p != nil {
				return append([]string{n}, p...)
			}
		}
		return nil
	}
	return walk(from)
}

// watchesTheDatabase: what names the RDS instance's identifier, which RDS (auto-named) gives
// only once the instance exists: the database's alarms and the dashboard. Each is one quick API call in the RDS instance's wake, as the hand-off is.
func watchesTheDatabase(x *recorded) bool {
	switch x.Type {
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		_, ok := x.Obj("dimensions")["DBInstanceIdentifier"]
		return ok
	case "aws:cloudwatch/dashboard:Dashboard":
		return strings.Contains(x.URN, "::monitoring-")
	}
	return false
}

func TestNothingButTheHandoffWaitsForRDS(t *testing.T) {
	for variant, cfg := range securityVariants {
		r := mustRun(t, cfg)
		rds := r.one(t, "aws:rds/instance:Instance")
		handoff := handoffParameter(t, r, out(rds, "address"))
		// RDS's master secret exists only with the instance: its ARN is handed off the same
		// way, and the servers' role reads it through a policy of its own.
		handoffs := map[*recorded]bool{handoff: true, handoffParameter(t, r, rdsMasterSecretArn(t, r)): true}
		if masterRead := r.m.Named("aws:iam/rolePolicy:RolePolicy", "web-read-db-master"); masterRead != nil {
			handoffs[masterRead] = true
		}
		g := graphOf(r)
		for _, x := range r.m.Resources {
			if x == rds || !x.Custom {
				continue
			}
			p := g.pathTo(x.URN, rds.URN)
			if p == nil {
				continue
			}
			if handoffs[x] && len(p) == 2 {
				continue // a hand-off itself
			}
			if watchesTheDatabase(x) {
				continue
			}
			t.Errorf("[%s] %s waits for the RDS instance:\n  %s", variant, x.URN, strings.Join(p, "\n  -> "))
		}
		// Nothing waits for a hand-off: the servers read it when they boot.
		for h := range handoffs {
			for _, x := range r.m.Resources {
				if slices.Contains(x.Deps, h.URN) {
					t.Errorf("[%s] %s waits for the hand-off %s", variant, x.URN, h.URN)
				}
			}
		}
		// The seam must be real: servers read the path the hand-off is under.
		path := convergeVariables(t, userDataOf(t, r.ofType("aws:ec2/instance:Instance")[0]), "SETTINGS_PATH")["SETTINGS_PATH"]
		if handoff.Str("name") != path+"/"+dbHostParameterLeaf {
			t.Errorf("[%s] the servers read settings under %s, the endpoint is handed off as %s", variant, path, handoff.Str("name"))
		}
	}
}

// The checker above must be able to fail: an indirect dependency is found.
func TestPathToFindsIndirectDependencies(t *testing.T) {
	g := depGraph{"instance": {"profile", "sg"}, "profile": {"policy"}, "policy": {"rds"}, "sg": {"vpc"}}
	if p := g.pathTo("instance", "rds"); strings.Join(p, ">") != "instance>profile>policy>rds" {
		t.Errorf("pathTo = %v", p)
	}
	if p := g.pathTo("sg", "rds"); p != nil {
		t.Errorf("pathTo(sg, rds) = %v, want none", p)
	}
}

// estimate models the deploy timeline the engine's parallel executor would give: each
// resource starts when the resources its inputs came from are done. It returns each
// resource's finish time and, for each, the input that finished last.
func estimate(r *stackRun) (finish map[string]float64, via map[string]string) {
	byURN := map[string]*recorded{}
	for _, x := range r.m.Resources {
		byURN[x.URN] = x
	}
	finish, via = map[string]float64{}, map[string]string{}
	var done func(urn string) float64
	done = func(urn string) float64 {
		if f, ok := finish[urn]; ok {
			return f
		}
		x := byURN[urn]
		if x == nil {
			return 0
		}
		start := 0.0
		for _, d := range x.Deps {
			if f := done(d); f > start {
				start, via[urn] = f, d
			}
		}
		finish[urn] = start + typicalCreateSeconds(x)
		return finish[urn]
	}
	for _, x := range r.m.Resources {
		done(x.URN)
	}
	return finish, via
}

// criticalPath returns the estimated makespan and the chain of resources that sets it.
func criticalPath(r *stackRun) (float64, []*recorded, map[string]float64) {
	finish, via := estimate(r)
	var end string
	for urn, f := range finish {
		if f > finish[end] || (f == finish[end] && urn < end) {
			end = urn
		}
	}
	var chain []*recorded
	for n := end; n != ""; n = via[n] {
		chain = append([]*recorded{r.byURN(n)}, chain...)
	}
	return finish[end], chain, finish
}

// A report, not a timing test: the numbers come from the dependency graph and the fixed
// table above, so they are the same on every machine. Run with -v to read it.
func TestDeployCriticalPathReport(t *testing.T) {
	for _, variant := range []string{"default", "ssh+https"} {
		r := mustRun(t, securityVariants[variant])
		rds := r.one(t, "aws:rds/instance:Instance")
		makespan, chain, finish := criticalPath(r)
		rdsOwn := typicalCreateSeconds(rds)
		ratio := makespan / rdsOwn
		var b strings.Builder
		fmt.Fprintf(&b, "[%s] estimated deploy critical path (typical AWS creation times):\n", variant)
		at := 0.0
		for _, x := range chain {
			at += typicalCreateSeconds(x)
			fmt.Fprintf(&b, "  %7.0fs  +%5.0fs  %s (%s)\n", at, typicalCreateSeconds(x), x.Name, x.Type)
		}
		// The web chain for comparison: when the group (or the fixed servers' last
		// registration) is in place.
		web := 0.0
		for _, typ := range []string{"aws:lb/targetGroupAttachment:TargetGroupAttachment", "aws:autoscaling/group:Group", "aws:autoscaling/policy:Policy"} {
			for _, a := range r.ofType(typ) {
				web = max(web, finish[a.URN])
			}
		}
		fmt.Fprintf(&b, "  makespan %.0fs; RDS instance alone %.0fs; ratio %.3f (target <= 1.05); web/AMI/ALB chain done at %.0fs\n",
			makespan, rdsOwn, ratio, web)
		t.Log(b.String())
		if ratio > 1.05 {
			t.Errorf("[%s] critical path is %.3f x the RDS creation time, target <= 1.05", variant, ratio)
		}
		if web == 0 || web >= makespan {
			t.Errorf("[%s] the web chain (%.0fs) must finish in the shadow of RDS (%.0fs)", variant, web, makespan)
		}
	}
}

// A report, not a timing test: how long a server the group launches takes to serve, from
// its parts. The EC2 and boot figures are typical AWS numbers; the configure figure is what
// the site test measures for a server from the golden image (about 3.5 s on this machine)
// with room for a t3.micro's slower AWS CLI; the health-check part is read from the program.
func TestScaleOutEstimateReport(t *testing.T) {
	r := mustRun(t, nil)
	hc := r.one(t, "aws:lb/targetGroup:TargetGroup").Obj("healthCheck")
	interval, _ := strconv.Atoi(propString(hc["interval"]))
	healthy, _ := strconv.Atoi(propString(hc["healthyThreshold"]))
	parts := []struct {
		what    string
		seconds float64
	}{
		{"EC2 launch: pending -> running", 15},
		{"Amazon Linux boot to cloud-init's user data (cloud-final)", 15},
		{"converge from the golden image: settings, secrets, database check (3 AWS CLI calls)", 12},
		{"Apache and PHP-FPM started, three WordPress pages rendered (the render gate)", 3},
		{"launch hook completed, target registered", 5},
		{fmt.Sprintf("%d health checks %ds apart (the first within one interval)", healthy, interval), float64(healthy * interval)},
	}
	var b strings.Builder
	total := 0.0
	for _, p := range parts {
		total += p.seconds
		fmt.Fprintf(&b, "  %5.0fs  +%4.0fs  %s\n", total, p.seconds, p.what)
	}
	t.Logf("scale-out: a new server serves about %.0fs after launch (target <= 90s):\n%s", total, b.String())
	if total > 90 {
		t.Errorf("a scaled-out server would serve %.0fs after launch, over the 90 s target", total)
	}
}

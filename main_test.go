package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/example/scalable-wordpress/internal/drill"
	"github.com/example/scalable-wordpress/internal/loadtest"
	"github.com/example/scalable-wordpress/internal/rollout"
	"github.com/example/scalable-wordpress/internal/stack"
)

// Stack outputs: what users and the availability drill read, each the value of the resource
// it names; secrets by name only.
func TestStackOutputs(t *testing.T) {
	r := mustRun(t, nil)
	o := r.outputs
	alb := r.one(t, "aws:lb/loadBalancer:LoadBalancer")
	db := r.one(t, "aws:rds/instance:Instance")
	image := r.one(t, "aws:ec2/amiFromInstance:AmiFromInstance")
	cdn := r.one(t, "aws:cloudfront/distribution:Distribution")
	want := map[string]string{
		"siteUrl":                  "https://" + out(cdn, "domainName"),
		"edge":                     "cloudfront",
		"cdnDistributionId":        out(cdn, "id"),
		"cdnDomainName":            out(cdn, "domainName"),
		"webAclArn":                out(r.one(t, "aws:wafv2/webAcl:WebAcl"), "arn"),
		"albDnsName":               out(alb, "dnsName"),
		"targetGroupArn":           out(r.one(t, "aws:lb/targetGroup:TargetGroup"), "arn"),
		"dbEndpoint":               out(db, "endpoint"),
		"dbIdentifier":             out(db, "identifier"),
		"dbAvailabilityZone":       out(db, "availabilityZone"),
		"dbAppSecretName":          out(first(userSecret(t, r, dbAppUser)), "name"),
		"dbMasterSecretArn":        rdsMasterSecretArn(t, r),
		"dbHostParameter":          handoffParameter(t, r, out(db, "address")).Str("name"),
		"settingsPath":             "/scalable-wordpress/test",
		"webTierMode":              "autoscaling",
		"webAutoScalingGroupName":  out(r.one(t, "aws:autoscaling/group:Group"), "name"),
		"webLaunchTemplateId":      out(r.one(t, "aws:ec2/launchTemplate:LaunchTemplate"), "id"),
		"webLaunchTemplateVersion": "1",
		"wordpressSecretName":      out(secretHolding(t, r, "admin_password"), "name"),
		"wordpressAdminUser":       "wpadmin",
		"amiId":                    out(image, "id"),
		"imagesKept":               "3",
		"vpcId":                    out(r.one(t, "aws:ec2/vpc:Vpc"), "id"),
		"region":                   "ap-northeast-1",
		"uploadsFileSystemId":      out(r.one(t, "aws:efs/fileSystem:FileSystem"), "id"),
		"wordpressVersion":         "7.1",
	}
	for k, v := range want {
		if v == "" || fmt.Sprint(o[k]) != v {
			t.Errorf("output %s = %v, want %q", k, o[k], v)
		}
	}
	if o["dbMultiAz"] != true {
		t.Errorf("output dbMultiAz = %v", o["dbMultiAz"])
	}

	if instances, _ := o["webInstances"].([]any); len(instances) != 0 {
		t.Errorf("output webInstances = %v: the group's servers come and go (webAutoScalingGroupName names them)", instances)
	}
	checkWebInstancesOutput(t, mustRun(t, map[string]string{"webTierMode": "fixed"}))

	for k, public := range map[string]bool{"publicSubnetIds": true, "privateSubnetIds": false} {
		ids, _ := o[k].([]string)
		var got []string
		for _, id := range ids {
			sn := r.byID(fmt.Sprint(id))
			if sn == nil || sn.Type != "aws:ec2/subnet:Subnet" || (sn.Str("mapPublicIpOnLaunch") == "true") != public {
				t.Errorf("output %s: %v is not a subnet of that kind", k, id)
				continue
			}
			got = append(got, sn.Str("availabilityZone"))
		}
		if strings.Join(got, ",") != "ap-northeast-1a,ap-northeast-1c" {
			t.Errorf("output %s: AZs %v, want one per AZ in config order", k, got)
		}
	}
	if len(o) != 42 {
		t.Errorf("want 42 outputs, got %d: %v", len(o), o)
	}
	// dbSecretName only while the Pulumi-generated master credential exists (its secret).
	if _, ok := o["dbSecretName"]; ok {
		t.Errorf("output dbSecretName = %v: RDS keeps the master credential (dbMasterSecretArn)", o["dbSecretName"])
	}
	legacy := mustRun(t, map[string]string{"dbManagedMasterPassword": "false"})
	master, _ := userSecret(t, legacy, dbUser)
	if legacy.outputs["dbSecretName"] != out(master, "name") || legacy.outputs["dbMasterSecretArn"] != out(master, "arn") {
		t.Errorf("with a Pulumi-generated master password: dbSecretName %v, dbMasterSecretArn %v, want its secret %s", legacy.outputs["dbSecretName"],
			legacy.outputs["dbMasterSecretArn"], out(master, "arn"))
	}
	// The hands-on's edge: the load balancer is the site, and nothing of CloudFront or WAF.
	albRun := mustRun(t, map[string]string{"edge": edgeALB, "waf": "false"})
	if got, want := albRun.outputs["siteUrl"], "http://"+out(albRun.one(t, "aws:lb/loadBalancer:LoadBalancer"), "dnsName"); got != want {
		t.Errorf("edge alb: output siteUrl = %v, want %q", got, want)
	}
	for _, k := range []string{"cdnDistributionId", "cdnDomainName", "webAclArn"} {
		if _, ok := albRun.outputs[k]; ok {
			t.Errorf("edge alb without waf: output %s makes no sense", k)
		}
	}
	for k, v := range o {
		for _, p := range r.ofType("random:index/randomPassword:RandomPassword") {
			if strings.Contains(fmt.Sprint(v), p.Outputs["result"].SecretValue().Element.StringValue()[:20]) {
				t.Errorf("output %s holds a generated secret", k)
			}
		}
	}
}

// checkWebInstancesOutput: in the fixed mode, webInstances lists every server with its AZ.
func checkWebInstancesOutput(t *testing.T, r *stackRun) {
	t.Helper()
	instances, _ := r.outputs["webInstances"].([]any)
	if len(instances) != 2 {
		t.Fatalf("fixed mode: output webInstances = %v, want 2 entries", r.outputs["webInstances"])
	}
	var azs []string
	for _, i := range instances {
		m := i.(map[string]any)
		inst := r.byID(fmt.Sprint(m["id"]))
		if inst == nil || inst.Type != "aws:ec2/instance:Instance" {
			t.Errorf("webInstances entry %v is not a web server", m)
			continue
		}
		if m["availabilityZone"] != out(inst, "availabilityZone") {
			t.Errorf("webInstances entry %v: AZ differs from %s's", m, inst.URN)
		}
		azs = append(azs, fmt.Sprint(m["availabilityZone"]))
	}
	slices.Sort(azs)
	if strings.Join(azs, ",") != "ap-northeast-1a,ap-northeast-1c" {
		t.Errorf("webInstances AZs = %v, want one in each", azs)
	}
	for _, k := range []string{"webAutoScalingGroupName", "webLaunchTemplateId"} {
		if _, ok := r.outputs[k]; ok {
			t.Errorf("fixed mode: output %s makes no sense without a group", k)
		}
	}
}

// The fixed type tokens of the components, each with its children below it.
func TestComponentsInPulumiShape(t *testing.T) {
	r := mustRun(t, map[string]string{"siteDomain": testIssuedDomain}) // with a certificate to find in us-east-1
	want := map[string]bool{
		"scalable-wordpress:network:Network":        true,
		"scalable-wordpress:network:SecurityGroups": true,
		"scalable-wordpress:database:Database":      true,
		"scalable-wordpress:web:WebTier":            true,
		"scalable-wordpress:lb:LoadBalancer":        true,
		"scalable-wordpress:settings:SiteSettings":  true,
		"scalable-wordpress:storage:SharedUploads":  true,
		"scalable-wordpress:monitoring:Alerts":      true,
		"scalable-wordpress:monitoring:ServerLogs":  true,
		"scalable-wordpress:monitoring:Monitoring":  true,
		"scalable-wordpress:edge:Edge":              true,
		"scalable-wordpress:edge:Firewall":          true,
	}
	components := map[string]*recorded{}
	for _, x := range r.m.Resources {
		if !x.Custom {
			components[x.URN] = x
			if !want[x.Type] {
				t.Errorf("%s: unexpected component type %s", x.URN, x.Type)
			}
			delete(want, x.Type)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing components: %v", want)
	}
	for _, x := range r.m.Resources {
		// The stack's read of its own last outputs (release.go) belongs to no part.
		if x.Custom && components[x.Parent] == nil && x.Type != "pulumi:pulumi:StackReference" {
			t.Errorf("%s: not a child of a component (parent %q)", x.URN, x.Parent)
		}
	}
}

// The outputs contract (internal/stack): for every shape of stack, the program's real
// outputs decode into stack.Outputs with no unknown name and no wrong type, every output
// the shape must have is there, and each command's view of them is what the program meant.
func TestCommandsReadTheStackOutputs(t *testing.T) {
	for name, cfg := range map[string]map[string]string{
		"default (autoscaling, cloudfront, waf)": nil,
		"fixed":                                  {"webTierMode": "fixed"},
		"edge alb without waf":                   {"edge": edgeALB, "waf": "false"},
	} {
		t.Run(name, func(t *testing.T) {
			r := mustRun(t, cfg)
			b, err := json.Marshal(r.outputs)
			if err != nil {
				t.Fatal(err)
			}
			var o stack.Outputs
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&o); err != nil {
				t.Fatalf("the program's outputs do not decode into stack.Outputs: %v\n%s", err, b)
			}
			for _, k := range stack.Keys() {
				if _, ok := r.outputs[k]; !ok && !stack.Optional(k) {
					t.Errorf("output %s is in the contract but the program does not export it", k)
				}
			}

			target := drill.TargetFrom(o)
			if target.SiteURL != r.outputs["siteUrl"] || target.Region != "ap-northeast-1" || target.DBIdentifier != out(r.one(t, "aws:rds/instance:Instance"), "identifier") {
				t.Errorf("drill target %+v does not hold the stack's site, region and database", target)
			}
			if err := (drill.Target{Project: testProject, Stack: "test"}).Validate(drill.Options{}); err == nil {
				t.Error("an empty drill target validates")
			}
			target.Project, target.Stack = testProject, "test"
			if err := target.Validate(drill.Options{}); err != nil {
				t.Errorf("the drill refuses the stack's own outputs: %v", err)
			}
			if !slices.Contains(target.AlarmNames, target.DBFailoverAlarm) {
				t.Errorf("drill: failover alarm %q is not among the alarms %v", target.DBFailoverAlarm, target.AlarmNames)
			}

			watch := rollout.TargetFrom(o)
			group := r.ofType("aws:autoscaling/group:Group")
			switch {
			case len(group) == 1 && (watch.Group != out(group[0], "name") || watch.Mode != modeAutoScaling):
				t.Errorf("rollout target %+v does not name the group %s", watch, out(group[0], "name"))
			case len(group) == 0 && (watch.Group != "" || watch.Mode != modeFixed):
				t.Errorf("rollout target %+v: the fixed mode has no group to follow", watch)
			case watch.TargetGroupARN != out(r.one(t, "aws:lb/targetGroup:TargetGroup"), "arn"):
				t.Errorf("rollout target %+v: not the stack's target group", watch)
			}
			// The pruner keeps imagesKept and the images the launch template's versions name.
			lt := r.ofType("aws:ec2/launchTemplate:LaunchTemplate")
			switch prune := watch.Images; {
			case prune.Keep != r.cfg.ImagesKept || prune.Region != "ap-northeast-1" || !prune.Deployed:
				t.Errorf("pruner target %+v: not the stack's imagesKept (%d) and region", prune, r.cfg.ImagesKept)
			case len(lt) == 1 && (prune.LaunchTemplateID != out(lt[0], "id") || prune.LaunchTemplateVersion != 1):
				t.Errorf("pruner target %+v does not name the launch template %s and its version", prune, out(lt[0], "id"))
			case len(lt) == 0 && prune.LaunchTemplateID != "":
				t.Errorf("pruner target %+v: the fixed mode has no launch template", prune)
			}

			site, err := loadtest.SiteURLFrom(o)
			if err != nil || site != r.outputs["siteUrl"] {
				t.Errorf("load test site %q (%v), want the output %v", site, err, r.outputs["siteUrl"])
			}
		})
	}
}

// Every alarm the program registers is listed in the alarmNames output (the drill reports
// them), the rollout alarms included, and the output lists nothing else.
func TestAlarmNamesListEveryAlarm(t *testing.T) {
	for _, cfg := range []map[string]string{nil, {"webTierMode": "fixed"}} {
		r := mustRun(t, cfg)
		var registered []string
		for _, a := range r.ofType("aws:cloudwatch/metricAlarm:MetricAlarm") {
			registered = append(registered, out(a, "name"))
		}
		listed, _ := r.outputs["alarmNames"].([]string)
		listed = slices.Clone(listed)
		slices.Sort(registered)
		slices.Sort(listed)
		if len(registered) < 10 || !slices.Equal(registered, listed) {
			t.Errorf("%v: registered alarms %v, output alarmNames %v", cfg, registered, listed)
		}
	}
}

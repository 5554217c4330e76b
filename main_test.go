package main

import (
	"fmt"
	"strings"
	"testing"
)

// Stack outputs: what users and the availability drill read; secrets by name only.
func TestStackOutputs(t *testing.T) {
	r := mustRun(t, nil)
	o := r.outputs
	want := map[string]string{
		"siteUrl":             "http://lb-alb-123456789.ap-northeast-1.elb.amazonaws.com",
		"albDnsName":          "lb-alb-123456789.ap-northeast-1.elb.amazonaws.com",
		"dbEndpoint":          "db-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com:3306",
		"dbIdentifier":        "db-db",
		"dbAvailabilityZone":  "ap-northeast-1a",
		"dbSecretName":        "db-credentials-abc123",
		"dbHostParameter":     "/scalable-wordpress/test/db-host",
		"wordpressSecretName": "web-wordpress-abc123",
		"wordpressAdminUser":  "wpadmin",
		"amiId":               "ami-from-web-ami",
		"vpcId":               "vpc-network-vpc",
		"region":              "ap-northeast-1",
	}
	for k, v := range want {
		if fmt.Sprint(o[k]) != v {
			t.Errorf("output %s = %v, want %q", k, o[k], v)
		}
	}
	if o["dbMultiAz"] != true {
		t.Errorf("output dbMultiAz = %v", o["dbMultiAz"])
	}
	if !strings.HasPrefix(fmt.Sprint(o["targetGroupArn"]), "arn:aws:elasticloadbalancing:") {
		t.Errorf("output targetGroupArn = %v", o["targetGroupArn"])
	}
	instances, _ := o["webInstances"].([]any)
	if len(instances) != 2 {
		t.Fatalf("output webInstances = %v, want 2 entries", o["webInstances"])
	}
	azs := map[any]bool{}
	for _, i := range instances {
		m := i.(map[string]any)
		if !strings.HasPrefix(fmt.Sprint(m["id"]), "i-") {
			t.Errorf("webInstances entry %v has no instance id", m)
		}
		azs[m["availabilityZone"]] = true
	}
	if !azs["ap-northeast-1a"] || !azs["ap-northeast-1c"] {
		t.Errorf("webInstances AZs = %v, want both", azs)
	}
	for _, k := range []string{"publicSubnetIds", "privateSubnetIds"} {
		kind := strings.TrimSuffix(k, "SubnetIds") // public or private
		if got := fmt.Sprint(o[k]); got != "[subnet-network-"+kind+"-1a subnet-network-"+kind+"-1c]" {
			t.Errorf("output %s = %v, want two subnets", k, o[k])
		}
	}
	if len(o) != 17 {
		t.Errorf("want 17 outputs, got %d: %v", len(o), o)
	}
	for k, v := range o {
		for _, p := range r.ofType("random:index/randomPassword:RandomPassword") {
			if strings.Contains(fmt.Sprint(v), p.Outputs["result"].SecretValue().Element.StringValue()[:20]) {
				t.Errorf("output %s holds a generated secret", k)
			}
		}
	}
}

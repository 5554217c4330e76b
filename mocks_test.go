package main

// One mock for every test: it records each registration (type, name, URN, inputs and the
// URNs it depends on) and answers every invoke the program makes with realistic fields.
// Tests run the program under it and assert over the recorded resources afterwards.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/example/scalable-wordpress/internal/mocktest"
)

const (
	testProject = "scalable-wordpress"
	testStack   = "test"
	testAccount = "123456789012"
	testAMI     = "ami-0abcdef1234567890"
)

// recorded is one registration the mock saw.
type recorded = mocktest.Resource

var (
	propString = mocktest.PropString
	unsecret   = mocktest.Unsecret
)

// mocks is the shared recording mock with this program's view of AWS.
type mocks struct {
	mocktest.Mocks
	region string
}

func newMocks(region string) *mocks {
	m := &mocks{region: region}
	m.Project, m.Stack = testProject, testStack
	m.Compute, m.Invoke = m.computed, m.call
	return m
}

// computed fakes what AWS would return: IDs, ARNs, names, endpoints, placement.
func (m *mocks) computed(r *recorded) (string, resource.PropertyMap) {
	// Called with the mock's lock held: read ByID directly.
	out := r.Inputs.Copy()
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewStringProperty(v) }
	short := strings.ToLower(r.Type[strings.LastIndex(r.Type, ":")+1:])
	id := short + "-" + r.Name
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", short, m.region, testAccount, short, r.Name)
	switch r.Type {
	case "aws:ec2/vpc:Vpc":
		id = "vpc-" + r.Name
	case "aws:ec2/subnet:Subnet":
		id = "subnet-" + r.Name
	case "aws:ec2/securityGroup:SecurityGroup":
		id = "sg-" + r.Name
	case "aws:ec2/instance:Instance":
		id = "i-" + r.Name
		az := ""
		if sn := m.ByID[r.Str("subnetId")]; sn != nil {
			az = sn.Str("availabilityZone")
		}
		set("availabilityZone", az)
		set("publicIp", "203.0.113.10")
		set("instanceState", "running")
	case "aws:ec2/amiFromInstance:AmiFromInstance":
		id = "ami-from-" + r.Name
	case "aws:rds/instance:Instance":
		id = r.Name + "-db"
		set("identifier", id)
		addr := id + ".cabcdefghij." + m.region + ".rds.amazonaws.com"
		set("address", addr)
		set("endpoint", addr+":3306")
		if r.Str("availabilityZone") == "" {
			set("availabilityZone", m.region+"a")
		}
		arn = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", m.region, testAccount, id)
	case "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup":
		id = r.Name + "-abc123"
		set("name", id)
	case "aws:lb/loadBalancer:LoadBalancer":
		id = "arn:aws:elasticloadbalancing:" + m.region + ":" + testAccount + ":loadbalancer/app/" + r.Name + "/0123456789abcdef"
		arn = id
		set("dnsName", r.Name+"-123456789."+m.region+".elb.amazonaws.com")
	case "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener":
		id = "arn:aws:elasticloadbalancing:" + m.region + ":" + testAccount + ":" + short + "/" + r.Name + "/0123456789abcdef"
		arn = id
	case "aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile":
		id = r.Name + "-abc123"
		set("name", id)
		arn = fmt.Sprintf("arn:aws:iam::%s:%s/%s", testAccount, short, id)
	case "aws:secretsmanager/secret:Secret":
		name := r.Name + "-abc123"
		set("name", name)
		arn = fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-XyZ123", m.region, testAccount, name)
		id = arn
	case "aws:ssm/parameter:Parameter":
		id = r.Str("name")
		arn = fmt.Sprintf("arn:aws:ssm:%s:%s:parameter%s", m.region, testAccount, id)
	case "random:index/randomPassword:RandomPassword":
		id = "none"
		n := 16
		if v := unsecret(r.Inputs["length"]); v.IsNumber() {
			n = int(v.NumberValue())
		}
		out["result"] = resource.MakeSecret(resource.NewStringProperty(fakePassword(r.Name, n)))
	}
	set("id", id)
	if _, ok := out["arn"]; !ok && strings.HasPrefix(r.Type, "aws:") {
		set("arn", arn)
	}
	return id, out
}

// fakePassword is a deterministic, recognisable password of length n with quotes,
// backslashes and dollars in it, so tests can look for it where it must not be.
func fakePassword(name string, n int) string {
	seed := "S3cr'et\\$" + name + "\"#"
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(seed)
	}
	return b.String()[:n]
}

func (m *mocks) call(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":         m.region,
			"names":      []any{m.region + "a", m.region + "c", m.region + "d"},
			"zoneIds":    []any{"apne1-az4", "apne1-az1", "apne1-az2"},
			"state":      "available",
			"groupNames": []any{m.region},
		}), nil
	case "aws:index/getPartition:getPartition":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws",
		}), nil
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": testAccount, "accountId": testAccount, "arn": "arn:aws:iam::" + testAccount + ":user/ci", "userId": "AIDAEXAMPLE",
		}), nil
	case "aws:ssm/getParameter:getParameter":
		name := propString(args["name"])
		if !strings.HasPrefix(name, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-") {
			return nil, fmt.Errorf("mock: unexpected SSM parameter %q", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"id": name, "name": name, "type": "String", "value": testAMI, "insecureValue": testAMI, "version": 42,
			"arn": "arn:aws:ssm:" + m.region + "::parameter" + name,
		}), nil
	}
	return nil, fmt.Errorf("mock: invoke %s is not answered; add it to mocks.call", token)
}

// stackRun is the outcome of running the program under the mocks.
type stackRun struct {
	m       *mocks
	err     error
	cfg     Config
	outputs map[string]any
}

// runProgram runs the whole program with config (keys without the project prefix; "aws:"
// keys as they are) over the dev stack's values.
func runProgram(t *testing.T, overrides map[string]string) *stackRun {
	t.Helper()
	cfg := map[string]string{
		"aws:region":                          "ap-northeast-1",
		testProject + ":adminEmail":           "admin@example.com",
		testProject + ":dbDeletionProtection": "false",
	}
	for k, v := range overrides {
		if !strings.Contains(k, ":") {
			k = testProject + ":" + k
		}
		if v == "<unset>" {
			delete(cfg, k)
			continue
		}
		cfg[k] = v
	}
	run := &stackRun{m: newMocks(cfg["aws:region"])}
	run.outputs, run.err = run.m.Run(cfg, func(ctx *pulumi.Context) (pulumi.Map, error) {
		infra, err := createInfrastructure(ctx)
		if err != nil {
			return nil, err
		}
		run.cfg = infra.Config
		return stackOutputs(infra), nil
	})
	return run
}

// mustRun runs the program and fails the test if it errored.
func mustRun(t *testing.T, overrides map[string]string) *stackRun {
	t.Helper()
	r := runProgram(t, overrides)
	if r.err != nil {
		t.Fatalf("program failed: %v", r.err)
	}
	return r
}

// ofType returns the resources of a type (registration order is not deterministic).
func (r *stackRun) ofType(typ string) []*recorded { return r.m.OfType(typ) }

// one returns the single resource of a type, failing otherwise.
func (r *stackRun) one(t *testing.T, typ string) *recorded {
	t.Helper()
	all := r.ofType(typ)
	if len(all) != 1 {
		t.Fatalf("want exactly one %s, got %d", typ, len(all))
	}
	return all[0]
}

// named returns the resource of a type with a logical name, failing when there is none.
func (r *stackRun) named(t *testing.T, typ, name string) *recorded {
	t.Helper()
	x := r.m.Named(typ, name)
	if x == nil {
		t.Fatalf("no %s named %s", typ, name)
	}
	return x
}

// byID finds the resource a physical ID (as the mock made it) belongs to.
func (r *stackRun) byID(id string) *recorded { return r.m.ByID[id] }

// byURN finds a resource by URN.
func (r *stackRun) byURN(urn string) *recorded {
	for _, x := range r.m.Resources {
		if x.URN == urn {
			return x
		}
	}
	return nil
}

// jsonInput decodes a JSON-string input (an IAM policy, a secret value).
func jsonInput(t *testing.T, x *recorded, key string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(x.Str(key)), &v); err != nil {
		t.Fatalf("%s: input %s is not JSON: %v", x.URN, key, err)
	}
	return v
}

func resourceKey(k string) resource.PropertyKey { return resource.PropertyKey(k) }

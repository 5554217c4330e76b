package main

// One mock for every test: it records each registration (type, name, URN, inputs and the
// URNs it depends on) and answers every invoke the program makes with realistic fields.
// Tests run the program under it and assert over the recorded resources afterwards.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"

	"github.com/example/scalable-wordpress/internal/mocktest"
)

const (
	testProject = "scalable-wordpress"
	testStack   = "test"
	testAccount = "123456789012"
	testAMI     = "ami-0abcdef1234567890"

	testCDNDomain         = "d111111abcdef8.cloudfront.net"
	testOriginFacing      = "pl-58a04531"
	testIssuedDomain      = "www.example.com" // the one domain ACM in us-east-1 holds an issued certificate for
	testIssuedCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
	testALBCertificate    = "arn:aws:acm:ap-northeast-1:123456789012:certificate/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"
	testCDNCertificate    = "arn:aws:acm:us-east-1:123456789012:certificate/6f7e8d9c-aaaa-bbbb-cccc-0123456789ab" // a wildcard's, say
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
	// last are the outputs of the stack's previous deploy, which the program reads through a
	// stack reference to itself (release.go); nil: a new stack.
	last map[string]any
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
	region := m.region // or the explicit provider's
	if i := strings.LastIndex(r.Provider, "::"); i >= 0 {
		if p := m.ByID[r.Provider[i+2:]]; p != nil && p.Str("region") != "" {
			region = p.Str("region")
		}
	}
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", short, region, testAccount, short, r.Name)
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
	case "aws:efs/fileSystem:FileSystem":
		arn = fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:file-system/%s", region, testAccount, id)
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
		if v := unsecret(r.Inputs["manageMasterUserPassword"]); v.IsBool() && v.BoolValue() {
			// RDS names its secret rds!db-<the instance's resource ID>.
			out["masterUserSecrets"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
				"secretArn":    resource.NewStringProperty(fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-0a1b2c3d-%s-AbCdEf", m.region, testAccount, r.Name)),
				"secretStatus": resource.NewStringProperty("active"),
				"kmsKeyId":     resource.NewStringProperty(fmt.Sprintf("arn:aws:kms:%s:%s:key/aws-secretsmanager", m.region, testAccount)),
			})})
		}
	case "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup":
		id = r.Name + "-abc123"
		set("name", id)
	case "aws:lb/loadBalancer:LoadBalancer":
		id = "arn:aws:elasticloadbalancing:" + m.region + ":" + testAccount + ":loadbalancer/app/" + r.Name + "/0123456789abcdef"
		arn = id
		set("dnsName", r.Name+"-123456789."+m.region+".elb.amazonaws.com")
		set("arnSuffix", "app/"+r.Name+"/0123456789abcdef")
	case "aws:lb/targetGroup:TargetGroup", "aws:lb/listener:Listener":
		id = "arn:aws:elasticloadbalancing:" + m.region + ":" + testAccount + ":" + short + "/" + r.Name + "/0123456789abcdef"
		arn = id
		set("arnSuffix", short+"/"+r.Name+"/0123456789abcdef")
	case "aws:ec2/launchTemplate:LaunchTemplate":
		id = "lt-" + r.Name
		out["latestVersion"] = resource.NewNumberProperty(1)
	case "aws:autoscaling/group:Group":
		name := r.Name + "-abc123"
		id = name
		set("name", name)
		arn = fmt.Sprintf("arn:aws:autoscaling:%s:%s:autoScalingGroup:0a1b2c3d:autoScalingGroupName/%s", m.region, testAccount, name)
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		name := r.Name + "-abc123"
		id = name
		set("name", name)
		arn = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", m.region, testAccount, name)
	case "aws:ssm/document:Document":
		id = r.Str("name")
	case "aws:ssm/association:Association":
		id = "assoc-" + r.Name
		set("associationId", id)
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
	case "aws:cloudfront/distribution:Distribution":
		id = "E2CDNTEST" + strings.ToUpper(r.Name)
		set("domainName", testCDNDomain)
		set("hostedZoneId", "Z2FDTNDATAQYW2")
		arn = fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", testAccount, id)
	case "aws:cloudfront/vpcOrigin:VpcOrigin":
		id = "vo_" + r.Name
		arn = fmt.Sprintf("arn:aws:cloudfront::%s:vpcorigin/%s", testAccount, id)
	case "aws:cloudfront/cachePolicy:CachePolicy", "aws:cloudfront/originRequestPolicy:OriginRequestPolicy":
		id = "policy-" + r.Name
	case "aws:wafv2/webAcl:WebAcl":
		id = "acl-" + r.Name
		scope, region := "regional", m.region
		if r.Str("scope") == "CLOUDFRONT" {
			scope, region = "global", "us-east-1"
		}
		arn = fmt.Sprintf("arn:aws:wafv2:%s:%s:%s/webacl/%s/%s", region, testAccount, scope, r.Name, id)
	case "aws:cloudwatch/logGroup:LogGroup":
		id = r.Str("name")
		arn = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, testAccount, id)
	case "aws:cloudwatch/logDeliverySource:LogDeliverySource", "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination":
		if id = r.Str("name"); id == "" {
			id = r.Name + "-abc1234" // auto-named
		}
		set("name", id)
		kind := map[string]string{"logdeliverysource": "delivery-source", "logdeliverydestination": "delivery-destination"}[short]
		arn = fmt.Sprintf("arn:aws:logs:%s:%s:%s:%s", region, testAccount, kind, id)
	case "pulumi:pulumi:StackReference":
		id = r.Str("name")
		out["outputs"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(m.last))
	case "random:index/randomId:RandomId":
		id = "none"
		set("hex", fmt.Sprintf("%08x", len(r.Name)*2654435761%(1<<32)))
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
			"id": m.region,
			// Not in name order: the program must not rely on AWS's order.
			"names":      []any{m.region + "d", m.region + "a", m.region + "c"},
			"zoneIds":    []any{"apne1-az2", "apne1-az4", "apne1-az1"},
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
	case "aws:cloudfront/getCachePolicy:getCachePolicy", "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy":
		name := propString(args["name"])
		if !strings.HasPrefix(name, "Managed-") {
			return nil, fmt.Errorf("mock: unexpected CloudFront policy %q", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": "managed-" + strings.ToLower(name), "name": name}), nil
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		if name := propString(args["name"]); name != cloudFrontOriginFacing {
			return nil, fmt.Errorf("mock: unexpected prefix list %q", name)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": testOriginFacing, "name": cloudFrontOriginFacing, "maxEntries": 55}), nil
	case "aws:acm/getCertificate:getCertificate":
		domain := propString(args["domain"])
		if domain != testIssuedDomain {
			return nil, fmt.Errorf("no certificate for domain %q found in this region", domain)
		}
		return resource.NewPropertyMapFromMap(map[string]any{"id": testIssuedCertificate, "arn": testIssuedCertificate, "domain": domain, "status": "ISSUED"}), nil
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
// keys as they are) over Pulumi.yaml's declared defaults, as the Pulumi CLI hands them to the
// program, and the few values every stack sets. "<unset>" removes a key.
func runProgram(t *testing.T, overrides map[string]string) *stackRun {
	t.Helper()
	return runProgramAfter(t, nil, overrides)
}

// checkRefused runs the program after last with config and checks the refusal: one error
// naming one key, saying each of says, and nothing registered before it but the program's read
// of its last outputs.
func checkRefused(t *testing.T, last map[string]any, config map[string]string, says ...string) {
	t.Helper()
	r := runProgramAfter(t, last, config)
	if r.err == nil {
		t.Fatalf("%v after %v: accepted, want refused", config, last)
	}
	msg := r.err.Error()
	expectAll(t, msg, "the refusal does not say", says...)
	if strings.Count(msg, "config ") != 1 {
		t.Errorf("want one error naming one key, got:\n%s", msg)
	}
	for _, x := range r.m.Resources {
		if x.Type != "pulumi:pulumi:StackReference" {
			t.Errorf("%s was registered before the refusal", x.URN)
		}
	}
}

// runProgramAfter is runProgram on a stack whose last deploy exported last.
func runProgramAfter(t *testing.T, last map[string]any, overrides map[string]string) *stackRun {
	t.Helper()
	cfg := projectDefaults(t)
	cfg["aws:region"] = "ap-northeast-1"
	cfg[testProject+":adminEmail"] = "admin@example.com"
	cfg[testProject+":dbDeletionProtection"] = "false"
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
	run.m.last = last
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

// projectDefaults are the defaults Pulumi.yaml declares, keyed and encoded as the Pulumi CLI
// passes them to the program: "<project>:<key>", scalars as text, lists and maps as JSON.
func projectDefaults(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for key, decl := range readProjectFile(t).Config {
		if decl.Default == nil {
			continue
		}
		out[testProject+":"+key] = configText(decl.Default)
	}
	return out
}

// configText encodes a YAML value as a config string.
func configText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any, map[string]any:
		b, _ := json.Marshal(v)
		return string(b)
	}
	return fmt.Sprint(v)
}

// projectFile is the part of Pulumi.yaml the tests read.
type projectFile struct {
	Name   string `yaml:"name"`
	Config map[string]struct {
		Type        string `yaml:"type"`
		Description string `yaml:"description"`
		Default     any    `yaml:"default"`
	} `yaml:"config"`
}

func readProjectFile(t *testing.T) projectFile {
	t.Helper()
	var p projectFile
	if err := yaml.Unmarshal([]byte(readSource(t, "Pulumi.yaml")), &p); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	return p
}

func readSource(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// userDataOf is the boot script a server or launch template carries, decoded from the
// gzip+base64 payload EC2 takes.
func userDataOf(t *testing.T, x *recorded) string {
	t.Helper()
	payload := x.Str("userDataBase64")
	if x.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
		payload = x.Str("userData")
	}
	script, err := decodeUserData(payload)
	if err != nil {
		t.Fatalf("%s: user data is not base64 gzip: %v", x.URN, err)
	}
	return script
}

// out is an output of a custom resource as a string ("" when absent).
func out(x *recorded, key string) string { return propString(x.Outputs[resourceKey(key)]) }

// secretHolding is the Secrets Manager secret whose stored JSON value has the field.
func secretHolding(t *testing.T, r *stackRun, field string) *recorded {
	t.Helper()
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		var m map[string]any
		if json.Unmarshal([]byte(v.Str("secretString")), &m) == nil && m[field] != nil {
			if s := r.byID(v.Str("secretId")); s != nil {
				return s
			}
		}
	}
	t.Fatalf("no secret holds a %q", field)
	return nil
}

// secretDocument is the version of the secret holding field, and its JSON document; the
// document must be a secret input (it is stored encrypted in the state).
func secretDocument(t *testing.T, r *stackRun, field string) (*recorded, map[string]any) {
	t.Helper()
	secret := secretHolding(t, r, field)
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		if v.Str("secretId") == out(secret, "id") {
			if !v.Inputs["secretString"].IsSecret() {
				t.Errorf("%s: secretString must be a secret input", v.URN)
			}
			return v, jsonInput(t, v, "secretString")
		}
	}
	t.Fatalf("%s: no version", secret.URN)
	return nil, nil
}

// userSecret is the secret holding user's database credentials, and its document (a secret
// input: it is stored encrypted in the state).
func userSecret(t *testing.T, r *stackRun, user string) (*recorded, map[string]any) {
	t.Helper()
	for _, v := range r.ofType("aws:secretsmanager/secretVersion:SecretVersion") {
		var doc map[string]any
		if json.Unmarshal([]byte(v.Str("secretString")), &doc) != nil || doc["username"] != user {
			continue
		}
		if !v.Inputs["secretString"].IsSecret() {
			t.Errorf("%s: secretString must be a secret input", v.URN)
		}
		if s := r.byID(v.Str("secretId")); s != nil {
			return s, doc
		}
	}
	t.Fatalf("no secret holds the credentials of %s", user)
	return nil, nil
}

// first is the first of two results.
func first[A, B any](a A, _ B) A { return a }

// rdsMasterSecretArn is the ARN of the secret in which RDS keeps the master credential, ""
// when RDS does not manage it.
func rdsMasterSecretArn(t *testing.T, r *stackRun) string {
	t.Helper()
	secrets := r.one(t, "aws:rds/instance:Instance").Outputs["masterUserSecrets"]
	if !secrets.IsArray() || len(secrets.ArrayValue()) == 0 {
		return ""
	}
	return propString(secrets.ArrayValue()[0].ObjectValue()["secretArn"])
}

// handoffParameter is the SSM parameter that carries a value to the servers.
func handoffParameter(t *testing.T, r *stackRun, value string) *recorded {
	t.Helper()
	for _, p := range r.ofType("aws:ssm/parameter:Parameter") {
		if p.Str("insecureValue") == value {
			return p
		}
	}
	t.Fatalf("no SSM parameter holds %q", value)
	return nil
}

// groupRoles names each security group by what it is attached to: "lb" (the load balancer),
// "web" (the servers) or "db" (the database), keyed by group ID.
func groupRoles(r *stackRun) map[string]string {
	roles := map[string]string{}
	attach := func(role, typ, prop string) {
		for _, x := range r.ofType(typ) {
			if v := unsecret(x.Inputs[resourceKey(prop)]); v.IsArray() {
				for _, id := range v.ArrayValue() {
					roles[propString(id)] = role
				}
			}
		}
	}
	attach("lb", "aws:lb/loadBalancer:LoadBalancer", "securityGroups")
	attach("web", "aws:ec2/instance:Instance", "vpcSecurityGroupIds")
	attach("db", "aws:rds/instance:Instance", "vpcSecurityGroupIds")
	attach("uploads", "aws:efs/mountTarget:MountTarget", "securityGroups")
	for _, lt := range r.ofType("aws:ec2/launchTemplate:LaunchTemplate") {
		for _, ni := range unsecret(lt.Inputs["networkInterfaces"]).ArrayValue() {
			for _, id := range ni.ObjectValue()["securityGroups"].ArrayValue() {
				roles[propString(id)] = "web"
			}
		}
	}
	return roles
}

// expectAll reports each of wants that text lacks, as "<what> <want>", with the text.
func expectAll(t *testing.T, text, what string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s %q; in:\n%s", what, want, text)
		}
	}
}

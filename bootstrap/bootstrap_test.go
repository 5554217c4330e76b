package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/scalable-wordpress/internal/mocktest"
	"github.com/example/scalable-wordpress/internal/pipeline"
)

const account = "123456789012"

type bootstrapRun struct {
	m       *mocktest.Mocks
	err     error
	outputs map[string]any
}

func runBootstrap(t *testing.T, config map[string]string) *bootstrapRun {
	t.Helper()
	cfg := map[string]string{"aws:region": "ap-northeast-1", "scalable-wordpress-bootstrap:githubRepository": "example/scalable-wordpress"}
	for k, v := range config {
		if v == "" {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	m := &mocktest.Mocks{Project: "scalable-wordpress-bootstrap", Stack: "account"}
	m.Compute = func(r *mocktest.Resource) (string, resource.PropertyMap) {
		out := r.Inputs.Copy()
		id := r.Name + "-id"
		arn := "arn:aws:x::" + account + ":" + r.Name
		switch r.Type {
		case "aws:s3/bucketV2:BucketV2":
			id, arn = "state-bucket-abc123", "arn:aws:s3:::state-bucket-abc123"
			out["bucket"] = resource.NewStringProperty(id)
		case "aws:kms/key:Key":
			id, arn = "key-1234", "arn:aws:kms:ap-northeast-1:"+account+":key/key-1234"
			out["keyId"] = resource.NewStringProperty(id)
		case "aws:iam/role:Role":
			id = r.Name + "-abc123"
			arn = "arn:aws:iam::" + account + ":role/" + id
			out["name"] = resource.NewStringProperty(id)
		case "aws:iam/policy:Policy":
			id = r.Name + "-abc123"
			arn = "arn:aws:iam::" + account + ":policy/" + id
		case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
			arn = "arn:aws:iam::" + account + ":oidc-provider/token.actions.githubusercontent.com"
		}
		out["id"], out["arn"] = resource.NewStringProperty(id), resource.NewStringProperty(arn)
		return id, out
	}
	m.Invoke = func(token string, _ resource.PropertyMap) (resource.PropertyMap, error) {
		switch token {
		case "aws:index/getCallerIdentity:getCallerIdentity":
			return resource.NewPropertyMapFromMap(map[string]any{"accountId": account, "arn": "arn:aws:iam::" + account + ":user/ops", "userId": "AIDA", "id": account}), nil
		case "aws:index/getPartition:getPartition":
			return resource.NewPropertyMapFromMap(map[string]any{"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}), nil
		}
		return nil, fmt.Errorf("invoke %s is not mocked", token)
	}
	r := &bootstrapRun{m: m}
	r.outputs, r.err = m.Run(cfg, build)
	return r
}

func mustBootstrap(t *testing.T, config map[string]string) *bootstrapRun {
	t.Helper()
	r := runBootstrap(t, config)
	if r.err != nil {
		t.Fatalf("bootstrap failed: %v", r.err)
	}
	return r
}

func one(t *testing.T, r *bootstrapRun, typ string) *mocktest.Resource {
	t.Helper()
	all := r.m.OfType(typ)
	if len(all) != 1 {
		t.Fatalf("want one %s, got %d", typ, len(all))
	}
	return all[0]
}

func doc(t *testing.T, x *mocktest.Resource, key string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(x.Str(key)), &v); err != nil {
		t.Fatalf("%s.%s is not JSON: %v", x.URN, key, err)
	}
	return v
}

func TestStateBucketIsPrivateVersionedEncryptedAndProtected(t *testing.T) {
	r := mustBootstrap(t, nil)
	bucket := one(t, r, "aws:s3/bucketV2:BucketV2")
	key := one(t, r, "aws:kms/key:Key")
	if !bucket.Protect || !key.Protect || bucket.Str("forceDestroy") != "false" {
		t.Errorf("bucket and key must be protected and not force-destroyed: protect %v/%v forceDestroy %q", bucket.Protect, key.Protect, bucket.Str("forceDestroy"))
	}
	if key.Str("enableKeyRotation") != "true" {
		t.Errorf("%s: key rotation off", key.URN)
	}
	pab := one(t, r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.Str(k) != "true" {
			t.Errorf("%s: %s = %q", pab.URN, k, pab.Str(k))
		}
	}
	if v := one(t, r, "aws:s3/bucketVersioningV2:BucketVersioningV2").Obj("versioningConfiguration"); mocktest.PropString(v["status"]) != "Enabled" {
		t.Errorf("versioning %v", v)
	}
	if v := one(t, r, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").Obj("rule"); mocktest.PropString(v["objectOwnership"]) != "BucketOwnerEnforced" {
		t.Errorf("ownership %v", v)
	}
	sse := one(t, r, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	rule := sse.Inputs["rules"].ArrayValue()[0].ObjectValue()
	def := rule["applyServerSideEncryptionByDefault"].ObjectValue()
	if mocktest.PropString(def["sseAlgorithm"]) != "aws:kms" || mocktest.PropString(def["kmsMasterKeyId"]) != "arn:aws:kms:ap-northeast-1:"+account+":key/key-1234" {
		t.Errorf("%s: encryption %v", sse.URN, def)
	}
	policy := doc(t, one(t, r, "aws:s3/bucketPolicy:BucketPolicy"), "policy")
	stmt := policy["Statement"].([]any)[0].(map[string]any)
	if stmt["Effect"] != "Deny" || fmt.Sprint(stmt["Condition"]) != "map[Bool:map[aws:SecureTransport:false]]" {
		t.Errorf("bucket policy must deny plain HTTP: %v", stmt)
	}
	for _, x := range append(r.m.OfType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), r.m.OfType("aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")...) {
		if x.Str("bucket") != "state-bucket-abc123" {
			t.Errorf("%s applies to %q, not the state bucket", x.URN, x.Str("bucket"))
		}
	}
}

// trust returns the subjects a role's trust policy accepts and checks the rest of it.
func trust(t *testing.T, role *mocktest.Resource) []string {
	t.Helper()
	p := doc(t, role, "assumeRolePolicy")
	stmts := p["Statement"].([]any)
	if len(stmts) != 1 {
		t.Fatalf("%s: want one trust statement, got %d", role.URN, len(stmts))
	}
	s := stmts[0].(map[string]any)
	eq := s["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	if s["Action"] != "sts:AssumeRoleWithWebIdentity" || eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" ||
		s["Principal"].(map[string]any)["Federated"] != "arn:aws:iam::"+account+":oidc-provider/token.actions.githubusercontent.com" {
		t.Errorf("%s: trust policy %v", role.URN, s)
	}
	if _, like := s["Condition"].(map[string]any)["StringLike"]; like {
		t.Errorf("%s: wildcard subjects (StringLike) let other repositories or branches in", role.URN)
	}
	var subs []string
	for _, x := range eq["token.actions.githubusercontent.com:sub"].([]any) {
		subs = append(subs, x.(string))
	}
	return subs
}

func TestRolesAcceptOnlyThisRepository(t *testing.T) {
	r := mustBootstrap(t, map[string]string{"scalable-wordpress-bootstrap:deployEnvironment": "prod"})
	provider := one(t, r, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
	if provider.Str("url") != "https://token.actions.githubusercontent.com" || !strings.Contains(provider.Inputs["clientIdLists"].String(), "sts.amazonaws.com") {
		t.Errorf("OIDC provider %v", provider.Inputs)
	}
	roles := map[string]*mocktest.Resource{}
	for _, x := range r.m.OfType("aws:iam/role:Role") {
		roles[x.Name] = x
	}
	// A pull request's preview runs its own code with the preview role, which can decrypt the
	// stack's secrets: only jobs in the preview environment (which requires an approval) may
	// assume it, never any pull_request job.
	if got := trust(t, roles["preview"]); !slices.Equal(got, []string{"repo:example/scalable-wordpress:environment:preview"}) {
		t.Errorf("preview role subjects %v: only jobs in the preview environment may preview", got)
	}
	if got := trust(t, roles["deploy"]); !slices.Equal(got, []string{"repo:example/scalable-wordpress:environment:prod"}) {
		t.Errorf("deploy role subjects %v: only jobs in the deploy environment may deploy", got)
	}
}

func TestExistingOIDCProvider(t *testing.T) {
	r := mustBootstrap(t, map[string]string{"scalable-wordpress-bootstrap:createOidcProvider": "false"})
	if n := len(r.m.OfType("aws:iam/openIdConnectProvider:OpenIdConnectProvider")); n != 0 {
		t.Errorf("created %d providers; the account already has one", n)
	}
	for _, x := range r.m.OfType("aws:iam/role:Role") {
		trust(t, x) // checks the Federated principal is the account's provider ARN
	}
}

// rolePolicies are the documents of the managed policies attached to a role; a role must
// have no inline policy (everything it may do is in what the tests read).
func rolePolicies(t *testing.T, r *bootstrapRun, roleName string) map[string]pipeline.Document {
	t.Helper()
	for _, x := range r.m.OfType("aws:iam/rolePolicy:RolePolicy") {
		t.Errorf("%s: inline role policy; the roles' rights are their attached policies", x.URN)
	}
	byARN := map[string]*mocktest.Resource{}
	for _, x := range r.m.OfType("aws:iam/policy:Policy") {
		byARN[mocktest.PropString(x.Outputs["arn"])] = x
	}
	out := map[string]pipeline.Document{}
	for _, a := range r.m.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Str("role") != roleName+"-abc123" {
			continue
		}
		p := byARN[a.Str("policyArn")]
		if p == nil {
			t.Fatalf("%s attaches %s, which the bootstrap does not make", a.URN, a.Str("policyArn"))
		}
		d, err := pipeline.ParseDocument(p.Str("policy"))
		if err != nil {
			t.Fatalf("%s: %v", p.URN, err)
		}
		out[strings.TrimPrefix(p.Name, roleName+"-")] = d
	}
	if len(out) == 0 {
		t.Fatalf("no policies attached to %s", roleName)
	}
	return out
}

const boundaryARN = "arn:aws:iam::" + account + ":policy/server-boundary-abc123"

// bootstrapScope is what the policies of the default bootstrap name.
var bootstrapScope = pipeline.Scope{Region: "ap-northeast-1", Partition: "aws", AccountID: account, DNSSuffix: "amazonaws.com",
	Project: "scalable-wordpress", StateBucketARN: "arn:aws:s3:::state-bucket-abc123",
	StateKeyARN: "arn:aws:kms:ap-northeast-1:" + account + ":key/key-1234", BoundaryARN: boundaryARN}

// The roles get exactly the documents internal/pipeline builds (which the program's own test
// checks against everything the program calls), each within IAM's quotas.
func TestRolesCarryThePipelinePolicies(t *testing.T) {
	r := mustBootstrap(t, nil)
	for role, want := range map[string]map[string]pipeline.Document{
		"preview": pipeline.PreviewPolicies(bootstrapScope), "deploy": pipeline.DeployPolicies(bootstrapScope),
	} {
		got := rolePolicies(t, r, role)
		if len(got) != len(want) || len(got) > 10 {
			t.Errorf("%s: %d policies attached, want the %d of internal/pipeline (IAM attaches at most 10)", role, len(got), len(want))
		}
		for area, doc := range want {
			w, _ := doc.JSON()
			g, _ := got[area].JSON()
			if g != w {
				t.Errorf("%s-%s:\n got %s\nwant %s", role, area, g, w)
			}
			if n := doc.Size(); n > 6144 {
				t.Errorf("%s-%s: %d characters, IAM's limit for a managed policy is 6,144", role, area, n)
			}
		}
	}
}

// req is a request in the stack's region unless the context says otherwise.
func req(action, resource string, context ...string) pipeline.Request {
	ctx := map[string][]string{"aws:RequestedRegion": {"ap-northeast-1"}}
	for i := 0; i+1 < len(context); i += 2 {
		ctx[context[i]] = []string{context[i+1]}
	}
	return pipeline.Request{Action: action, Resource: resource, Context: ctx}
}

func decide(t *testing.T, docs map[string]pipeline.Document, r pipeline.Request) pipeline.Decision {
	t.Helper()
	var all []pipeline.Document
	for _, d := range docs {
		all = append(all, d)
	}
	d, err := pipeline.Evaluate(r, all...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const (
	stateObject = "arn:aws:s3:::state-bucket-abc123/.pulumi/stacks/scalable-wordpress/prod.json"
	stateKey    = "arn:aws:kms:ap-northeast-1:" + account + ":key/key-1234"
	webRole     = "arn:aws:iam::" + account + ":role/web-role-1a2b3c4"
	ownTag      = "aws:ResourceTag/project"
)

// A preview runs the pull request's code: it may read the state and decrypt it (the approval
// of the preview environment guards that), and change nothing.
func TestPreviewRoleIsReadOnly(t *testing.T) {
	r := mustBootstrap(t, nil)
	preview := rolePolicies(t, r, "preview")
	for _, ok := range []pipeline.Request{
		req("s3:GetObject", stateObject), req("s3:ListBucket", "arn:aws:s3:::state-bucket-abc123"), req("kms:Decrypt", stateKey),
		req("ec2:DescribeInstances", "*"), req("cloudfront:ListCachePolicies", "*", "aws:RequestedRegion", "us-east-1"),
	} {
		if d := decide(t, preview, ok); d != pipeline.Allowed {
			t.Errorf("preview needs %s: %s", ok, d)
		}
	}
	for _, bad := range []pipeline.Request{
		req("s3:PutObject", stateObject), req("s3:DeleteObject", stateObject),
		req("s3:PutObject", "arn:aws:s3:::state-bucket-abc123/.pulumi/locks/organization/scalable-wordpress/prod/x.json"),
		req("s3:PutObject", "arn:aws:s3:::state-bucket-abc123/.pulumi/history/scalable-wordpress/prod/x.json"),
		req("s3:DeleteObjectVersion", stateObject), req("s3:PutBucketPolicy", "arn:aws:s3:::state-bucket-abc123"),
		req("kms:Encrypt", stateKey), req("kms:GenerateDataKey", stateKey), req("kms:ReEncryptFrom", stateKey), req("kms:CreateGrant", stateKey),
		req("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:ap-northeast-1:"+account+":secret:db-credentials-abc123-XyZ123"),
		req("ec2:TerminateInstances", "arn:aws:ec2:ap-northeast-1:"+account+":instance/i-1", ownTag, "scalable-wordpress"),
		req("ssm:PutParameter", "arn:aws:ssm:ap-northeast-1:"+account+":parameter/scalable-wordpress/prod/site"),
		req("ssm:SendCommand", "*"), req("iam:PassRole", webRole, "aws:RequestedRegion", "us-east-1"),
		req("ssm:GetParameter", "arn:aws:ssm:ap-northeast-1:"+account+":parameter/other/secret"),
		req("logs:GetLogEvents", "arn:aws:logs:ap-northeast-1:"+account+":log-group:/scalable-wordpress/prod/php-errors:*"),
		req("wafv2:GetSampledRequests", "*"),
	} {
		if d := decide(t, preview, bad); d == pipeline.Allowed {
			t.Errorf("preview may %s", bad)
		}
	}
}

// The deploy role manages the stack: never the boundary, the state's bucket and key, a role
// without the boundary, or what is not the project's.
func TestDeployRoleCannotEscapeTheBoundaryOrTheProject(t *testing.T) {
	r := mustBootstrap(t, nil)
	deploy := rolePolicies(t, r, "deploy")
	global := func(x pipeline.Request) pipeline.Request {
		x.Context["aws:RequestedRegion"] = []string{"us-east-1"}
		return x
	}
	for _, ok := range []pipeline.Request{
		global(req("iam:CreateRole", webRole, "iam:PermissionsBoundary", boundaryARN)),
		global(req("iam:PutRolePolicy", webRole, "iam:PermissionsBoundary", boundaryARN)),
		req("ec2:TerminateInstances", "arn:aws:ec2:ap-northeast-1:"+account+":instance/i-1", ownTag, "scalable-wordpress"),
		req("s3:PutObject", stateObject), req("kms:Decrypt", stateKey),
	} {
		if d := decide(t, deploy, ok); d != pipeline.Allowed {
			t.Errorf("deploy needs %s: %s", ok, d)
		}
	}
	otherVPC := "arn:aws:ec2:ap-northeast-1:" + account + ":vpc/vpc-payments"
	for _, bad := range []pipeline.Request{
		// the boundary
		global(req("iam:CreateRole", webRole)),
		global(req("iam:CreateRole", webRole, "iam:PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess")),
		global(req("iam:PutRolePermissionsBoundary", webRole, "iam:PermissionsBoundary", "arn:aws:iam::aws:policy/AdministratorAccess")),
		global(req("iam:DeleteRolePermissionsBoundary", webRole, "iam:PermissionsBoundary", boundaryARN)),
		global(req("iam:PutRolePolicy", webRole)), // a role made without the boundary
		global(req("iam:AttachRolePolicy", webRole, "iam:PermissionsBoundary", boundaryARN, "iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess")),
		global(req("iam:CreatePolicyVersion", boundaryARN)), global(req("iam:SetDefaultPolicyVersion", boundaryARN)),
		global(req("iam:DeletePolicy", boundaryARN)), global(req("iam:DeletePolicyVersion", boundaryARN)),
		global(req("iam:CreateRole", "arn:aws:iam::"+account+":role/admin", "iam:PermissionsBoundary", boundaryARN)),
		global(req("iam:PutRolePolicy", "arn:aws:iam::"+account+":role/deploy-abc123", "iam:PermissionsBoundary", boundaryARN)),
		global(req("iam:PassRole", webRole, "iam:PassedToService", "lambda.amazonaws.com")),
		global(req("iam:CreateUser", "arn:aws:iam::"+account+":user/x")), global(req("iam:CreateAccessKey", "arn:aws:iam::"+account+":user/x")),
		// the state
		req("kms:ScheduleKeyDeletion", stateKey, ownTag, "scalable-wordpress"), req("kms:PutKeyPolicy", stateKey, ownTag, "scalable-wordpress"),
		req("kms:DisableKey", stateKey, ownTag, "scalable-wordpress"), req("kms:Encrypt", stateKey),
		req("kms:GenerateDataKey", stateKey), // only through S3
		req("s3:PutBucketPolicy", "arn:aws:s3:::state-bucket-abc123"), req("s3:DeleteBucket", "arn:aws:s3:::state-bucket-abc123"),
		req("s3:PutLifecycleConfiguration", "arn:aws:s3:::state-bucket-abc123"), req("s3:PutObject", "arn:aws:s3:::state-bucket-abc123/other/x"),
		req("s3:GetObject", "arn:aws:s3:::another-bucket/x"),
		// what is not the project's
		req("ec2:DeleteVpc", otherVPC), req("ec2:DeleteVpc", otherVPC, ownTag, "payments"),
		req("ec2:CreateTags", otherVPC, "aws:RequestTag/project", "scalable-wordpress"),
		req("ec2:CreateSubnet", otherVPC, "aws:RequestTag/project", "scalable-wordpress"),
		req("ec2:TerminateInstances", "arn:aws:ec2:ap-northeast-1:"+account+":instance/i-2"),
		req("ec2:TerminateInstances", "arn:aws:ec2:eu-west-1:"+account+":instance/i-1", ownTag, "scalable-wordpress", "aws:RequestedRegion", "eu-west-1"),
		req("rds:DeleteDBInstance", "arn:aws:rds:ap-northeast-1:"+account+":db:payments"),
		req("elasticfilesystem:DeleteFileSystem", "arn:aws:elasticfilesystem:ap-northeast-1:"+account+":file-system/fs-1"),
		req("elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:ap-northeast-1:"+account+":loadbalancer/app/payments/1"),
		req("autoscaling:DeleteAutoScalingGroup", "*"),
		req("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:ap-northeast-1:"+account+":secret:payments-db-aBcDeF"),
		req("secretsmanager:PutResourcePolicy", "arn:aws:secretsmanager:ap-northeast-1:"+account+":secret:db-credentials-abc123-XyZ123"),
		req("ssm:SendCommand", "*"),
		req("ssm:CreateAssociation", "arn:aws:ssm:ap-northeast-1::document/AWS-RunShellScript"),
		req("ssm:PutParameter", "arn:aws:ssm:ap-northeast-1:"+account+":parameter/payments/db"),
		req("logs:DeleteLogGroup", "arn:aws:logs:ap-northeast-1:"+account+":log-group:/aws/lambda/payments"),
		req("sns:DeleteTopic", "arn:aws:sns:ap-northeast-1:"+account+":payments-alerts"),
		req("events:PutRule", "arn:aws:events:ap-northeast-1:"+account+":rule/payments-nightly"),
		req("cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:ap-northeast-1:"+account+":alarm:payments-5xx"),
		req("lambda:CreateFunction", "*"), req("s3:CreateBucket", "*"), req("dynamodb:DeleteTable", "*"), req("organizations:LeaveOrganization", "*"),
	} {
		if d := decide(t, deploy, bad); d == pipeline.Allowed {
			t.Errorf("deploy may %s", bad)
		}
	}
}

// The boundary exists, is the bootstrap's output, and is what the deploy role names.
func TestServerBoundaryIsCreatedAndNamed(t *testing.T) {
	r := mustBootstrap(t, nil)
	var boundary *mocktest.Resource
	for _, p := range r.m.OfType("aws:iam/policy:Policy") {
		if p.Name == "server-boundary" {
			boundary = p
		}
	}
	if boundary == nil {
		t.Fatal("no server-boundary policy")
	}
	want, _ := pipeline.ServerBoundary(bootstrapScope).JSON()
	if boundary.Str("policy") != want {
		t.Errorf("boundary %s, want %s", boundary.Str("policy"), want)
	}
	if fmt.Sprint(r.outputs["serverBoundaryArn"]) != boundaryARN {
		t.Errorf("serverBoundaryArn = %v", r.outputs["serverBoundaryArn"])
	}
}

func TestBootstrapConfigErrors(t *testing.T) {
	for name, c := range map[string]struct {
		config map[string]string
		want   string
	}{
		"no repository":                 {map[string]string{"scalable-wordpress-bootstrap:githubRepository": ""}, "config githubRepository"},
		"repository URL":                {map[string]string{"scalable-wordpress-bootstrap:githubRepository": "https://github.com/example/x"}, "owner/name"},
		"no region":                     {map[string]string{"aws:region": ""}, "aws:region"},
		"bad environment":               {map[string]string{"scalable-wordpress-bootstrap:deployEnvironment": "prod env"}, "deployEnvironment"},
		"bad boolean":                   {map[string]string{"scalable-wordpress-bootstrap:createOidcProvider": "maybe"}, "createOidcProvider"},
		"bad preview env":               {map[string]string{"scalable-wordpress-bootstrap:previewEnvironment": "pull request"}, "previewEnvironment"},
		"preview env is the deploy env": {map[string]string{"scalable-wordpress-bootstrap:previewEnvironment": "production"}, "previewEnvironment"},
	} {
		t.Run(name, func(t *testing.T) {
			r := runBootstrap(t, c.config)
			if r.err == nil || !strings.Contains(r.err.Error(), c.want) {
				t.Errorf("err = %v, want one naming %q", r.err, c.want)
			}
			if len(r.m.Resources) != 0 {
				t.Errorf("%d resources registered before the config error", len(r.m.Resources))
			}
		})
	}
}

func TestBootstrapOutputs(t *testing.T) {
	r := mustBootstrap(t, nil)
	want := map[string]string{
		"backendUrl":        "s3://state-bucket-abc123",
		"secretsProvider":   "awskms://alias/scalable-wordpress-pulumi?region=ap-northeast-1",
		"previewRoleArn":    "arn:aws:iam::" + account + ":role/preview-abc123",
		"deployRoleArn":     "arn:aws:iam::" + account + ":role/deploy-abc123",
		"serverBoundaryArn": boundaryARN,
		"oidcProviderArn":   "arn:aws:iam::" + account + ":oidc-provider/token.actions.githubusercontent.com",
		"region":            "ap-northeast-1",
	}
	for k, v := range want {
		if fmt.Sprint(r.outputs[k]) != v {
			t.Errorf("output %s = %v, want %s", k, r.outputs[k], v)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/example/scalable-wordpress/internal/mocktest"
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
	if got := trust(t, roles["preview"]); !slices.Equal(got, []string{"repo:example/scalable-wordpress:pull_request"}) {
		t.Errorf("preview role subjects %v", got)
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

// actions returns every action a role policy allows, by statement ID.
func actions(t *testing.T, r *bootstrapRun, name string) map[string]map[string]any {
	t.Helper()
	var policy *mocktest.Resource
	for _, x := range r.m.OfType("aws:iam/rolePolicy:RolePolicy") {
		if x.Name == name {
			policy = x
		}
	}
	if policy == nil {
		t.Fatalf("no role policy %s", name)
	}
	out := map[string]map[string]any{}
	for _, s := range doc(t, policy, "policy")["Statement"].([]any) {
		st := s.(map[string]any)
		if st["Effect"] != "Allow" {
			t.Errorf("%s: unexpected %v", name, st)
		}
		out[st["Sid"].(string)] = st
	}
	return out
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}

func TestPreviewRoleCannotChangeAnything(t *testing.T) {
	r := mustBootstrap(t, nil)
	for sid, st := range actions(t, r, "preview-permissions") {
		for _, a := range list(st["Action"]) {
			verb := a[strings.Index(a, ":")+1:]
			readOnly := strings.HasPrefix(verb, "Describe") || strings.HasPrefix(verb, "Get") || strings.HasPrefix(verb, "List")
			stateWrite := strings.HasPrefix(sid, "State")
			if !readOnly && !stateWrite {
				t.Errorf("preview statement %s allows %s", sid, a)
			}
			if a == "secretsmanager:GetSecretValue" {
				t.Errorf("preview may not read secret values")
			}
		}
	}
}

func TestDeployRoleIsScopedToTheStack(t *testing.T) {
	r := mustBootstrap(t, nil)
	st := actions(t, r, "deploy-permissions")
	for sid, s := range st {
		for _, a := range list(s["Action"]) {
			if a == "*" || a == "iam:*" || a == "kms:*" || a == "s3:*" || a == "sts:*" {
				t.Errorf("%s allows %s", sid, a)
			}
			if strings.HasPrefix(a, "iam:") {
				for _, res := range list(s["Resource"]) {
					if res == "*" && a != "iam:CreateServiceLinkedRole" {
						t.Errorf("%s allows %s on every IAM resource", sid, a)
					}
				}
			}
		}
	}
	if c := fmt.Sprint(st["ComputeNetworkDatabase"]["Condition"]); c != "map[StringEquals:map[aws:RequestedRegion:ap-northeast-1]]" {
		t.Errorf("EC2/ELB/RDS must be limited to the stack's region: %s", c)
	}
	if got := list(st["WebServerRole"]["Resource"]); !slices.Equal(got, []string{"arn:aws:iam::" + account + ":role/web-role-*", "arn:aws:iam::" + account + ":instance-profile/web-profile-*",
		"arn:aws:iam::" + account + ":role/web-builder-role-*", "arn:aws:iam::" + account + ":instance-profile/web-builder-profile-*"}) {
		t.Errorf("IAM resources %v", got)
	}
	if c := fmt.Sprint(st["Associations"]["Condition"]); c != "map[StringEquals:map[aws:RequestedRegion:ap-northeast-1]]" {
		t.Errorf("SSM associations must be limited to the stack's region: %s", c)
	}
	if got := list(st["OwnDocuments"]["Resource"]); !slices.Equal(got, []string{"arn:aws:ssm:ap-northeast-1:" + account + ":document/scalable-wordpress-*"}) {
		t.Errorf("documents %v", got)
	}
	if c := fmt.Sprint(st["PassWebServerRole"]["Condition"]); c != "map[StringEquals:map[iam:PassedToService:ec2.amazonaws.com]]" {
		t.Errorf("PassRole condition %s", c)
	}
	if got := list(st["OwnSecrets"]["Resource"]); !slices.Equal(got, []string{
		"arn:aws:secretsmanager:ap-northeast-1:" + account + ":secret:db-credentials-*",
		"arn:aws:secretsmanager:ap-northeast-1:" + account + ":secret:db-app-credentials-*",
		"arn:aws:secretsmanager:ap-northeast-1:" + account + ":secret:web-wordpress-*"}) {
		t.Errorf("secrets %v", got)
	}
	// RDS's master secret: the deploy may have RDS create and rotate it, never read it.
	rdsSecret := st["RDSManagedMasterSecret"]
	if got := list(rdsSecret["Resource"]); !slices.Equal(got, []string{"arn:aws:secretsmanager:ap-northeast-1:" + account + ":secret:rds!db-*"}) {
		t.Errorf("RDS's master secrets %v", got)
	}
	for _, a := range list(rdsSecret["Action"]) {
		if a == "secretsmanager:GetSecretValue" || strings.HasSuffix(a, "*") {
			t.Errorf("RDSManagedMasterSecret allows %s: the deploy role must not read the master credential", a)
		}
	}
	if got := list(st["OwnParameters"]["Resource"]); !slices.Equal(got, []string{"arn:aws:ssm:ap-northeast-1:" + account + ":parameter/scalable-wordpress/*"}) {
		t.Errorf("parameters %v", got)
	}
	if got := list(st["StateObjects"]["Resource"]); !slices.Equal(got, []string{"arn:aws:s3:::state-bucket-abc123/*"}) {
		t.Errorf("state objects %v", got)
	}
	if got := list(st["StateKey"]["Resource"]); !slices.Equal(got, []string{"arn:aws:kms:ap-northeast-1:" + account + ":key/key-1234"}) {
		t.Errorf("state key %v", got)
	}
}

func TestBootstrapConfigErrors(t *testing.T) {
	for name, c := range map[string]struct {
		config map[string]string
		want   string
	}{
		"no repository":   {map[string]string{"scalable-wordpress-bootstrap:githubRepository": ""}, "config githubRepository"},
		"repository URL":  {map[string]string{"scalable-wordpress-bootstrap:githubRepository": "https://github.com/example/x"}, "owner/name"},
		"no region":       {map[string]string{"aws:region": ""}, "aws:region"},
		"bad environment": {map[string]string{"scalable-wordpress-bootstrap:deployEnvironment": "prod env"}, "deployEnvironment"},
		"bad boolean":     {map[string]string{"scalable-wordpress-bootstrap:createOidcProvider": "maybe"}, "createOidcProvider"},
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
		"backendUrl":      "s3://state-bucket-abc123",
		"secretsProvider": "awskms://alias/scalable-wordpress-pulumi?region=ap-northeast-1",
		"previewRoleArn":  "arn:aws:iam::" + account + ":role/preview-abc123",
		"deployRoleArn":   "arn:aws:iam::" + account + ":role/deploy-abc123",
		"oidcProviderArn": "arn:aws:iam::" + account + ":oidc-provider/token.actions.githubusercontent.com",
		"region":          "ap-northeast-1",
	}
	for k, v := range want {
		if fmt.Sprint(r.outputs[k]) != v {
			t.Errorf("output %s = %v, want %s", k, r.outputs[k], v)
		}
	}
}

package main

// What a server's credentials can do, read as an attacker holding them would: every role EC2
// may assume, through every policy that reaches it (attached managed policies, inline
// policies, the role's own inline and managed lists), may read SSM parameters only under its
// stack's settings path (and AWS's public /aws/service/ parameters), and still has what the
// SSM agent needs for Session Manager, Run Command and the program's State Manager
// associations.

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// parameterReads are the SSM actions that return a parameter's value (a SecureString's too,
// decrypted with the account's default key).
var parameterReads = []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"}

// ssmAgentNeeds are what AWS's documentation says the agent calls for Session Manager
// (UpdateInstanceInformation, ssmmessages), Run Command (ec2messages, where the agent falls
// back from ssmmessages) and State Manager associations (list, describe, fetch the document,
// report the status).
var ssmAgentNeeds = []string{
	"ssm:UpdateInstanceInformation",
	"ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	"ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
	"ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply",
	"ssm:ListInstanceAssociations", "ssm:DescribeAssociation", "ssm:GetDocument", "ssm:UpdateInstanceAssociationStatus",
}

// policyStatement is one statement of a policy, with Action and Resource as lists.
type policyStatement struct {
	From                 string // the URN (and field) it came from
	Effect               string
	Actions, Resources   []string
	NotAction, NotResrce bool
}

// stringList reads an IAM field that is a string or a list of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func parseStatements(t *testing.T, from, doc string) []policyStatement {
	t.Helper()
	var p struct {
		Statement any
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("%s: policy is not JSON: %v", from, err)
	}
	raw, ok := p.Statement.([]any)
	if !ok {
		raw = []any{p.Statement}
	}
	var out []policyStatement
	for _, r := range raw {
		st, _ := r.(map[string]any)
		out = append(out, policyStatement{From: from, Effect: propOr(st["Effect"]),
			Actions: stringList(st["Action"]), Resources: stringList(st["Resource"]),
			NotAction: st["NotAction"] != nil, NotResrce: st["NotResource"] != nil})
	}
	return out
}

func propOr(v any) string { s, _ := v.(string); return s }

// iamMatches reports whether an IAM pattern (with * and ?; case-insensitive, as IAM compares
// actions) matches value.
func iamMatches(pattern, value string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile("(?i)" + re).MatchString(value)
}

// instanceRoles are the roles EC2 may assume: an instance profile can carry any of them.
func instanceRoles(t *testing.T, r *stackRun) []*recorded {
	t.Helper()
	var roles []*recorded
	for _, role := range r.ofType("aws:iam/role:Role") {
		for _, st := range jsonInput(t, role, "assumeRolePolicy")["Statement"].([]any) {
			principal, _ := st.(map[string]any)["Principal"].(map[string]any)
			if slices.ContainsFunc(stringList(principal["Service"]), func(s string) bool { return strings.HasPrefix(s, "ec2.") }) {
				roles = append(roles, role)
				break
			}
		}
	}
	if len(roles) == 0 {
		t.Fatal("no role EC2 may assume")
	}
	return roles
}

// roleStatements are every statement of every policy that reaches a role, and the managed
// policies attached to it (whose documents the program cannot show).
func roleStatements(t *testing.T, r *stackRun, role *recorded) (statements []policyStatement, managed []string) {
	t.Helper()
	name := out(role, "name")
	for _, p := range r.ofType("aws:iam/rolePolicy:RolePolicy") {
		if p.Str("role") == name {
			statements = append(statements, parseStatements(t, p.URN, p.Str("policy"))...)
		}
	}
	if v := unsecret(role.Inputs["inlinePolicies"]); v.IsArray() {
		for _, ip := range v.ArrayValue() {
			statements = append(statements, parseStatements(t, role.URN+" inlinePolicies", propString(ip.ObjectValue()["policy"]))...)
		}
	}
	for _, a := range r.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		if a.Str("role") == name {
			managed = append(managed, a.Str("policyArn")+" ("+a.URN+")")
		}
	}
	for _, a := range r.ofType("aws:iam/policyAttachment:PolicyAttachment") {
		if v := unsecret(a.Inputs["roles"]); v.IsArray() && slices.ContainsFunc(v.ArrayValue(), func(x resource.PropertyValue) bool { return propString(x) == name }) {
			managed = append(managed, a.Str("policyArn")+" ("+a.URN+")")
		}
	}
	if v := unsecret(role.Inputs["managedPolicyArns"]); v.IsArray() {
		for _, arn := range v.ArrayValue() {
			managed = append(managed, propString(arn)+" ("+role.URN+" managedPolicyArns)")
		}
	}
	return statements, managed
}

// allows reports whether an Allow statement grants action on resource "*".
func allowsEverywhere(statements []policyStatement, action string) bool {
	for _, st := range statements {
		if st.Effect == "Allow" && !st.NotAction && !st.NotResrce && slices.Contains(st.Resources, "*") &&
			slices.ContainsFunc(st.Actions, func(p string) bool { return iamMatches(p, action) }) {
			return true
		}
	}
	return false
}

func TestServerRolesReadOnlyTheirOwnParameters(t *testing.T) {
	for _, variant := range []map[string]string{nil, {"webTierMode": "fixed", "webServerCount": "2"}} {
		r := mustRun(t, variant)
		settings := "arn:aws:ssm:ap-northeast-1:" + testAccount + ":parameter/scalable-wordpress/test"
		allowed := []string{settings, settings + "/*", "arn:aws:ssm:ap-northeast-1::parameter/aws/service/*"}
		for _, role := range instanceRoles(t, r) {
			statements, managed := roleStatements(t, r, role)
			// A managed policy's rights are not in the program: AmazonSSMManagedInstanceCore, the
			// usual one, reads every parameter of the account.
			for _, m := range managed {
				t.Errorf("%v: %s: managed policy %s attached; a server role's rights must be inline, where this test reads them",
					variant, role.URN, m)
			}
			for _, st := range statements {
				if st.Effect != "Allow" {
					continue
				}
				if st.NotAction || st.NotResrce {
					t.Errorf("%v: %s: an Allow with NotAction or NotResource grants what it does not name", variant, st.From)
					continue
				}
				for _, read := range parameterReads {
					if !slices.ContainsFunc(st.Actions, func(p string) bool { return iamMatches(p, read) }) {
						continue
					}
					for _, res := range st.Resources {
						if !slices.Contains(allowed, res) {
							t.Errorf("%v: %s: %s on %s, outside the stack's settings %s and AWS's public parameters",
								variant, st.From, read, res, settings)
						}
					}
				}
			}
			var missing []string
			for _, need := range ssmAgentNeeds {
				if !allowsEverywhere(statements, need) {
					missing = append(missing, need)
				}
			}
			if len(missing) > 0 {
				t.Errorf("%v: %s: the SSM agent needs %v (Session Manager, Run Command, the settings refresh and prepare wait associations)",
					variant, role.URN, missing)
			}
		}
		// The agent reads a parameter only to resolve a {{ssm:...}} reference in a document it
		// runs: none of the program's documents may have one, since no server may read it.
		for _, doc := range r.ofType("aws:ssm/document:Document") {
			if c := doc.Str("content"); strings.Contains(c, "{{ssm:") || strings.Contains(c, "{{ ssm:") {
				t.Errorf("%s: a document resolves a parameter the servers cannot read", doc.URN)
			}
		}
	}
}

// The checker itself: what it must refuse, so that a widened policy fails the test above.
func TestParameterReadCheckerRefusesWidenings(t *testing.T) {
	for pattern, action := range map[string]string{"ssm:*": "ssm:GetParameter", "ssm:Get*": "ssm:GetParametersByPath",
		"*": "ssm:GetParameters", "SSM:getparameter": "ssm:GetParameter", "ssm:GetParameter?": "ssm:GetParameters"} {
		if !iamMatches(pattern, action) {
			t.Errorf("%s must cover %s", pattern, action)
		}
	}
	if iamMatches("ssm:GetParameter", "ssm:GetParameters") || iamMatches("ssmmessages:*", "ssm:GetParameter") {
		t.Error("an exact action must not cover another")
	}
	st := parseStatements(t, "test", `{"Statement":{"Effect":"Allow","Action":"ssm:*","Resource":"*"}}`)
	if len(st) != 1 || !allowsEverywhere(st, "ssm:UpdateInstanceInformation") {
		t.Errorf("a single statement object must be read: %+v", st)
	}
}

// grant is one action a role is allowed on one resource, and where the allowance is.
type grant struct{ from, action, resource string }

// roleGrants are a role's allowances, one per action and resource, from its inline policies;
// any statement that is not a plain Allow, and any managed policy, fails the test.
func roleGrants(t *testing.T, r *stackRun, roleName string) []grant {
	t.Helper()
	var role *recorded
	for _, x := range r.ofType("aws:iam/role:Role") {
		if out(x, "name") == roleName {
			role = x
		}
	}
	if role == nil {
		t.Fatalf("no role named %q", roleName)
	}
	statements, managed := roleStatements(t, r, role)
	if len(managed) > 0 {
		t.Errorf("%s: managed policies %v", role.URN, managed)
	}
	var grants []grant
	for _, st := range statements {
		if st.Effect != "Allow" || st.NotAction || st.NotResrce {
			t.Errorf("%s: a statement that is not a plain Allow: %+v", st.From, st)
			continue
		}
		for _, a := range st.Actions {
			for _, res := range st.Resources {
				grants = append(grants, grant{from: st.From, action: a, resource: res})
			}
		}
	}
	return grants
}

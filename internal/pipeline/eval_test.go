package pipeline

import "testing"

// The evaluator decides as IAM does for what the policies here use; a policy that relied on
// a misreading would pass the role tests for the wrong reason.
func TestEvaluateLikeIAM(t *testing.T) {
	doc := document(
		allow("Wild", []string{"ec2:Describe*", "s3:Get?bject"}, []string{"*"}, nil),
		allow("Tagged", []string{"ec2:TerminateInstances"}, []string{"arn:aws:ec2:*:1:instance/*"},
			and(cond("StringEquals", "aws:ResourceTag/project", "p"), cond("StringEquals", "aws:RequestedRegion", "r1", "r2"))),
		allow("Like", []string{"logs:PutLogEvents"}, []string{"arn:aws:logs:r1:1:log-group:/p/*"}, nil),
		allow("NotSecret", nil, []string{"*"}, cond("StringEquals", "aws:RequestedRegion", "r3")),
		deny("NoDelete", []string{"s3:DeleteBucket"}, []string{"*"}),
		allow("Delete", []string{"s3:*"}, []string{"*"}, nil),
		allow("Absent", []string{"sns:Publish"}, []string{"*"}, cond("StringNotEquals", "aws:ResourceTag/stack", "bootstrap")),
		allow("Keys", []string{"rds:AddTagsToResource"}, []string{"*"}, cond("ForAllValues:StringEquals", "aws:TagKeys", "project", "stack")),
		allow("Null", []string{"kms:CreateKey"}, []string{"*"}, cond("Null", "aws:RequestTag/project", "false")),
	)
	doc.Statement[3] = Statement{Sid: "NotSecret", Effect: "Allow", NotAction: []string{"secretsmanager:*"}, Resource: []string{"*"},
		Condition: cond("StringEquals", "aws:RequestedRegion", "r3")}
	ctx := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	for _, c := range []struct {
		req  Request
		want Decision
	}{
		{Request{"EC2:describeInstances", "*", nil}, Allowed}, // actions are case-insensitive
		{Request{"s3:GetObject", "arn:aws:s3:::b/k", nil}, Allowed},
		{Request{"s3:GetObjectAcl", "x", ctx()}, Allowed}, // s3:* below
		{Request{"s3:DeleteBucket", "arn:aws:s3:::b", nil}, ExplicitDeny},
		{Request{"ec2:TerminateInstances", "arn:aws:ec2:r1:1:instance/i-1", ctx("aws:ResourceTag/project", "p", "aws:RequestedRegion", "r2")}, Allowed},
		{Request{"ec2:TerminateInstances", "arn:aws:ec2:r1:1:instance/i-1", ctx("aws:ResourceTag/project", "q", "aws:RequestedRegion", "r2")}, ImplicitDeny},
		{Request{"ec2:TerminateInstances", "arn:aws:ec2:r1:1:instance/i-1", ctx("aws:RequestedRegion", "r2")}, ImplicitDeny},
		{Request{"ec2:TerminateInstances", "arn:aws:ec2:r1:1:instance/i-1", ctx("aws:ResourceTag/project", "p", "aws:RequestedRegion", "r9")}, ImplicitDeny},
		{Request{"ec2:TerminateInstances", "arn:aws:ec2:r1:2:instance/i-1", ctx("aws:ResourceTag/project", "p", "aws:RequestedRegion", "r1")}, ImplicitDeny},
		{Request{"logs:PutLogEvents", "arn:aws:logs:r1:1:log-group:/p/a/b:*", nil}, Allowed}, // * crosses '/'
		{Request{"logs:PutLogEvents", "arn:aws:logs:r1:1:log-group:/q/a:*", nil}, ImplicitDeny},
		{Request{"lambda:InvokeFunction", "*", ctx("aws:RequestedRegion", "r3")}, Allowed},
		{Request{"secretsmanager:GetSecretValue", "*", ctx("aws:RequestedRegion", "r3")}, ImplicitDeny},
		{Request{"sns:Publish", "*", nil}, Allowed}, // a negated operator matches a missing key
		{Request{"sns:Publish", "*", ctx("aws:ResourceTag/stack", "bootstrap")}, ImplicitDeny},
		{Request{"rds:AddTagsToResource", "*", ctx("aws:TagKeys", "project", "aws:TagKeys", "stack")}, Allowed},
		{Request{"rds:AddTagsToResource", "*", ctx("aws:TagKeys", "project", "aws:TagKeys", "owner")}, ImplicitDeny},
		{Request{"kms:CreateKey", "*", ctx("aws:RequestTag/project", "p")}, Allowed},
		{Request{"kms:CreateKey", "*", nil}, ImplicitDeny},
	} {
		got, err := Evaluate(c.req, doc)
		if err != nil || got != c.want {
			t.Errorf("%s: %s (%v), want %s", c.req, got, err, c.want)
		}
	}
	if _, err := Evaluate(Request{Action: "a:b", Resource: "*"}, document(allow("X", []string{"a:b"}, []string{"*"}, cond("DateGreaterThan", "aws:CurrentTime", "2020")))); err == nil {
		t.Error("an operator the evaluator does not know must be an error, not a silent match")
	}
	if d, _ := EvaluateBounded(Request{Action: "s3:GetObject", Resource: "x"}, document(allow("B", []string{"ec2:*"}, []string{"*"}, nil)), doc); d != ImplicitDeny {
		t.Errorf("a boundary without the action must deny it: %s", d)
	}
}

package pipeline

// A small IAM evaluator: enough of AWS's policy logic to say whether a role's policies allow
// one request, for the tests. It knows Allow and Deny (an explicit Deny wins), Action and
// NotAction, Resource and NotResource with * and ? wildcards, and the condition operators the
// policies here use; any other operator is an error, so a policy cannot pass a test by using
// something the evaluator does not understand.

import (
	"fmt"
	"strings"
)

// Request is one API call as IAM authorizes it: the action, the resource it names ("*" for
// actions without resource-level permissions) and the request context's condition keys
// (aws:RequestedRegion, aws:RequestTag/<key>, aws:ResourceTag/<key>, aws:TagKeys,
// iam:PassedToService, iam:PermissionsBoundary, ...).
type Request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

func (r Request) String() string {
	return fmt.Sprintf("%s on %s %v", r.Action, r.Resource, r.Context)
}

// Decision is the outcome of an evaluation.
type Decision int

// The three outcomes.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"implicitly denied", "allowed", "explicitly denied"}[d]
}

// Evaluate decides a request against the identity policies of one principal (the union of
// the documents): allowed when a statement allows it and none denies it.
func Evaluate(r Request, docs ...Document) (Decision, error) {
	decision := ImplicitDeny
	for _, d := range docs {
		for _, s := range d.Statement {
			ok, err := s.applies(r)
			if err != nil {
				return ImplicitDeny, fmt.Errorf("statement %q: %w", s.Sid, err)
			}
			switch {
			case !ok:
			case s.Effect == "Deny":
				return ExplicitDeny, nil
			case s.Effect == "Allow":
				decision = Allowed
			default:
				return ImplicitDeny, fmt.Errorf("statement %q: effect %q", s.Sid, s.Effect)
			}
		}
	}
	return decision, nil
}

// EvaluateBounded decides a request of a principal with a permissions boundary: both its
// policies and the boundary must allow it.
func EvaluateBounded(r Request, boundary Document, docs ...Document) (Decision, error) {
	d, err := Evaluate(r, docs...)
	if err != nil || d != Allowed {
		return d, err
	}
	return Evaluate(r, boundary)
}

func (s Statement) applies(r Request) (bool, error) {
	if (len(s.Action) == 0) == (len(s.NotAction) == 0) || (len(s.Resource) == 0) == (len(s.NotResource) == 0) {
		return false, fmt.Errorf("want exactly one of Action/NotAction and of Resource/NotResource")
	}
	action := matchAny(s.Action, r.Action, true)
	if len(s.NotAction) > 0 {
		action = !matchAny(s.NotAction, r.Action, true)
	}
	resource := matchAny(s.Resource, r.Resource, false)
	if len(s.NotResource) > 0 {
		resource = !matchAny(s.NotResource, r.Resource, false)
	}
	if !action || !resource {
		return false, nil
	}
	for op, keys := range s.Condition {
		for key, values := range keys {
			ok, err := condition(op, values, r.Context[key], r.Context[key] != nil)
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM's wildcards: * any run of characters (slashes included, unlike
// path.Match), ? exactly one.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, i, backP, backI := 0, 0, -1, 0
	for i < len(s) || p < len(pattern) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '*':
				backP, backI = p, i+1
				p++
				continue
			case i < len(s) && (c == '?' || c == s[i]):
				p, i = p+1, i+1
				continue
			}
		}
		if backP >= 0 && backI <= len(s) {
			p, i = backP+1, backI
			backI++
			continue
		}
		return false
	}
	return true
}

// condition evaluates one operator for one key. A key missing from the request matches none
// of the positive operators and every negated one, as IAM does.
func condition(op string, want []string, got []string, present bool) (bool, error) {
	set, base, qualified := strings.Cut(op, ":")
	if !qualified {
		set, base = "", op
	}
	if base == "Null" {
		if set != "" || len(want) != 1 {
			return false, fmt.Errorf("operator %s", op)
		}
		return (want[0] == "true") == !present, nil
	}
	negated := strings.Contains(base, "Not")
	var match func(p, v string) bool
	switch strings.Replace(base, "Not", "", 1) {
	case "StringEquals", "ArnEquals":
		match = func(p, v string) bool { return p == v }
	case "StringEqualsIgnoreCase":
		match = strings.EqualFold
	case "StringLike", "ArnLike":
		match = func(p, v string) bool { return glob(p, v, false) }
	case "Bool":
		match = strings.EqualFold
	default:
		return false, fmt.Errorf("the evaluator does not know condition operator %s", op)
	}
	anyWant := func(v string) bool {
		for _, p := range want {
			if match(p, v) {
				return true
			}
		}
		return false
	}
	switch set {
	case "ForAllValues":
		// true for a missing key, as in IAM: policies here pair it with a Null check
		for _, v := range got {
			if anyWant(v) == negated {
				return false, nil
			}
		}
		return true, nil
	case "ForAnyValue":
		for _, v := range got {
			if anyWant(v) != negated {
				return true, nil
			}
		}
		return false, nil
	case "":
		if !present {
			return negated, nil
		}
		hit := false
		for _, v := range got {
			hit = hit || anyWant(v)
		}
		return hit != negated, nil
	}
	return false, fmt.Errorf("operator %s", op)
}

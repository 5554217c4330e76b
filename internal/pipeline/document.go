// Package pipeline holds the IAM policies of the delivery pipeline: what the preview and deploy
// roles that bootstrap/ creates may do, the permissions boundary of the roles the program
// creates, and a small IAM evaluator that the tests use to check the policies against what the
// program really calls. The policies live here, not in bootstrap/ (a main package), so that
// the program's own tests can import them.
package pipeline

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy (identity policies: no Principal).
type Statement struct {
	Sid         string     `json:"Sid,omitempty"`
	Effect      string     `json:"Effect"`
	Action      Strings    `json:"Action,omitempty"`
	NotAction   Strings    `json:"NotAction,omitempty"`
	Resource    Strings    `json:"Resource,omitempty"`
	NotResource Strings    `json:"NotResource,omitempty"`
	Condition   Conditions `json:"Condition,omitempty"`
}

// Conditions are operator → condition key → values.
type Conditions map[string]map[string]Strings

// Strings is a JSON string or list of strings, as IAM writes them.
type Strings []string

// UnmarshalJSON reads a string or a list of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*s = many
	return nil
}

// JSON is the document as IAM takes it.
func (d Document) JSON() (string, error) {
	b, err := json.Marshal(d)
	return string(b), err
}

// Size is what IAM counts against a policy's size quota: the characters that are not white
// space.
func (d Document) Size() int {
	s, _ := d.JSON()
	return len(strings.Join(strings.Fields(s), ""))
}

// ParseDocument reads a policy document.
func ParseDocument(s string) (Document, error) {
	var d Document
	err := json.Unmarshal([]byte(s), &d)
	return d, err
}

func document(statements ...Statement) Document {
	return Document{Version: "2012-10-17", Statement: statements}
}

func allow(sid string, actions, resources []string, cond Conditions) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources, Condition: cond}
}

func deny(sid string, actions, resources []string) Statement {
	return Statement{Sid: sid, Effect: "Deny", Action: actions, Resource: resources}
}

// and merges conditions: every key of every operator must hold.
func and(cs ...Conditions) Conditions {
	out := Conditions{}
	for _, c := range cs {
		for op, keys := range c {
			if out[op] == nil {
				out[op] = map[string]Strings{}
			}
			for k, v := range keys {
				out[op][k] = v
			}
		}
	}
	return out
}

func cond(op, key string, values ...string) Conditions {
	return Conditions{op: {key: values}}
}

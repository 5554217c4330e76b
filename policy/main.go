// Command policy is the guardrails policy pack: `pulumi preview --policy-pack policy`
// runs it against the stack (see policy/rules for the rules).
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/example/scalable-wordpress/policy/rules"
)

func main() {
	err := policyx.Main(func(ctx *pulumi.Context) (policyx.PolicyPack, error) {
		return rules.NewPack(rules.Stack{Project: ctx.Project(), Stack: ctx.Stack()})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

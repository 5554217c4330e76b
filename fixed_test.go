package main

import (
	"fmt"
	"testing"

	"github.com/example/scalable-wordpress/internal/stack"
)

// deployedWith is what the last deploy of a stack with the project's default network
// exported: the resolved zones, not the config's empty list.
func deployedWith(changes map[string]any) map[string]any {
	last := map[string]any{
		stack.KeyWordPressVersion:    "7.1",
		stack.KeyVpcCidr:             "10.0.0.0/16",
		stack.KeyAvailabilityZones:   []any{"ap-northeast-1a", "ap-northeast-1c"},
		stack.KeyPublicSubnetCidrs:   []any{"10.0.0.0/24", "10.0.1.0/24"},
		stack.KeyPrivateSubnetCidrs:  []any{"10.0.2.0/24", "10.0.3.0/24"},
		stack.KeyUploadsFileSystemID: "fs-0123456789abcdef0",
	}
	for k, v := range changes {
		if v == nil {
			delete(last, k)
		} else {
			last[k] = v
		}
	}
	return last
}

// Changing a key fixed at creation on a stack that exists fails before anything but the read
// of the last outputs is registered, with one error naming the key, both values and the way.
func TestKeysFixedAtCreationRefuseAChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		last   map[string]any
		config map[string]string
		want   []string
	}{
		{"the VPC's CIDR", deployedWith(nil),
			map[string]string{"vpcCidr": "10.1.0.0/16", "publicSubnetCidrs": `["10.1.0.0/24","10.1.1.0/24"]`, "privateSubnetCidrs": `["10.1.2.0/24","10.1.3.0/24"]`},
			[]string{"config vpcCidr: 10.1.0.0/16 is not valid", "created with vpcCidr 10.0.0.0/16", "replace the VPC", "Set it back to 10.0.0.0/16"}},
		{"a public subnet", deployedWith(nil), map[string]string{"publicSubnetCidrs": `["10.0.0.0/24","10.0.4.0/24"]`},
			[]string{`config publicSubnetCidrs: ["10.0.0.0/24", "10.0.4.0/24"] is not valid`, `created with publicSubnetCidrs ["10.0.0.0/24", "10.0.1.0/24"]`}},
		{"a private subnet", deployedWith(nil), map[string]string{"privateSubnetCidrs": `["10.0.2.0/24","10.0.5.0/24"]`},
			[]string{`config privateSubnetCidrs: ["10.0.2.0/24", "10.0.5.0/24"]`, `created with privateSubnetCidrs ["10.0.2.0/24", "10.0.3.0/24"]`, "the database"}},
		{"the subnets' order", deployedWith(nil), map[string]string{"privateSubnetCidrs": `["10.0.3.0/24","10.0.2.0/24"]`},
			[]string{"config privateSubnetCidrs", `["10.0.3.0/24", "10.0.2.0/24"]`}},
		{"pinned zones that differ from the resolved ones", deployedWith(nil), map[string]string{"availabilityZones": `["ap-northeast-1a","ap-northeast-1d"]`},
			[]string{`config availabilityZones: ["ap-northeast-1a", "ap-northeast-1d"]`, `created with availabilityZones ["ap-northeast-1a", "ap-northeast-1c"]`, "resolved zones"}},
		{"the default after pinned zones", deployedWith(map[string]any{stack.KeyAvailabilityZones: []any{"ap-northeast-1c", "ap-northeast-1d"}}), nil,
			[]string{`config availabilityZones: ["ap-northeast-1a", "ap-northeast-1c"]`, `created with availabilityZones ["ap-northeast-1c", "ap-northeast-1d"]`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkRefused(t, c.last, c.config, append(c.want, "fixed at creation", "new stack", movingASiteIn)...)
		})
	}
}

// The network as deployed passes: the default zones compare by what they resolved to, and the
// same zones pinned are the same network.
func TestAnUnchangedNetworkPasses(t *testing.T) {
	for name, config := range map[string]map[string]string{
		"the defaults":              nil,
		"the resolved zones pinned": {"availabilityZones": `["ap-northeast-1a","ap-northeast-1c"]`},
		"other keys change":         {"instanceType": "t4g.small", "dbMultiAz": "false"},
	} {
		t.Run(name, func(t *testing.T) {
			if r := runProgramAfter(t, deployedWith(nil), config); r.err != nil {
				t.Fatalf("refused: %v", r.err)
			}
		})
	}
}

// A stack deployed before the network's outputs existed has none: its first deploy checks
// nothing and records them, for the next one to check.
func TestAStackWithoutRecordedNetworkIsNotChecked(t *testing.T) {
	before := deployedWith(map[string]any{stack.KeyVpcCidr: nil, stack.KeyAvailabilityZones: nil,
		stack.KeyPublicSubnetCidrs: nil, stack.KeyPrivateSubnetCidrs: nil})
	r := runProgramAfter(t, before, map[string]string{"vpcCidr": "10.1.0.0/16",
		"publicSubnetCidrs": `["10.1.0.0/24","10.1.1.0/24"]`, "privateSubnetCidrs": `["10.1.2.0/24","10.1.3.0/24"]`})
	if r.err != nil {
		t.Fatalf("refused without a recorded network: %v", r.err)
	}
	for key, want := range map[string]string{
		stack.KeyVpcCidr:            "10.1.0.0/16",
		stack.KeyAvailabilityZones:  "[ap-northeast-1a ap-northeast-1c]",
		stack.KeyPublicSubnetCidrs:  "[10.1.0.0/24 10.1.1.0/24]",
		stack.KeyPrivateSubnetCidrs: "[10.1.2.0/24 10.1.3.0/24]",
	} {
		if got := fmt.Sprint(r.outputs[key]); got != want {
			t.Errorf("output %s = %s, want %s (recorded for the next deploy)", key, got, want)
		}
	}
	// A new stack: nothing recorded at all.
	if r := runProgramAfter(t, nil, map[string]string{"vpcCidr": "10.2.0.0/16",
		"publicSubnetCidrs": `["10.2.0.0/24","10.2.1.0/24"]`, "privateSubnetCidrs": `["10.2.2.0/24","10.2.3.0/24"]`}); r.err != nil {
		t.Fatalf("a new stack: %v", r.err)
	}
}

package main

// Keys fixed at creation: the network's address plan. The VPC's CIDR, each subnet's CIDR and
// the AZs the subnets sit in cannot change on AWS: a change replaces the VPC or the subnets,
// and with them everything inside (the database, the uploads file system, the servers, the
// load balancer), which a `pulumi up` would try to do to a running site. So a stack that
// already exists refuses any change to them before anything is registered, naming the way
// that works: a new stack with the new network, then moving the site into it.
//
// What was deployed is what the last deploy exported (readLastDeploy): the resolved AZs, not
// the config's empty default, so that "[]" and the zones it resolved to compare equal. A key
// the last deploy did not export (a stack deployed before these outputs existed) is not
// checked; that deploy exports it, and the next one checks it.

import (
	"slices"
	"strconv"
	"strings"
)

// movingASiteIn is where the operations guide tells how to move a site into a new stack.
const movingASiteIn = "docs/operations.md#moving-a-site-in"

// fixedKeys are the network's keys fixed at creation, each with what it is of this config and
// of the last deploy, and what a change would replace.
func fixedKeys(cfg Config, last deployedNetwork) []fixedKey {
	return []fixedKey{
		{key: "vpcCidr", want: []string{cfg.VpcCidr}, had: nilIfEmpty(last.VpcCidr), scalar: true,
			replaces: "the VPC and everything in it"},
		{key: "availabilityZones", want: cfg.AvailabilityZones, had: last.AvailabilityZones,
			replaces: "the subnets and everything in them", note: " (the resolved zones: an empty list takes the region's first two)"},
		{key: "publicSubnetCidrs", want: cfg.PublicSubnetCidrs, had: last.PublicSubnetCidrs,
			replaces: "the public subnets and everything in them"},
		{key: "privateSubnetCidrs", want: cfg.PrivateSubnetCidrs, had: last.PrivateSubnetCidrs,
			replaces: "the private subnets and everything in them (the database, the uploads' mount targets)"},
	}
}

// fixedKey is one key fixed at creation.
type fixedKey struct {
	key       string
	want, had []string // had nil: not recorded by the last deploy
	scalar    bool     // a single value, not a list
	replaces  string
	note      string
}

// text is a value as messages show it: a scalar as is, a list as YAML/JSON writes it.
func (k fixedKey) text(v []string) string {
	if k.scalar {
		return strings.Join(v, "")
	}
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// checkFixedKeys refuses a change to a key fixed at creation, with one error naming the key,
// the deployed and the requested values, and the way to make the change.
func checkFixedKeys(cfg Config, last deployedNetwork) error {
	for _, k := range fixedKeys(cfg, last) {
		if k.had == nil || slices.Equal(k.want, k.had) {
			continue
		}
		return invalid(k.key, k.text(k.want),
			"this stack was created with %s %s%s, and it is fixed at creation: changing it would replace %s. "+
				"Set it back to %s; to move the site to another network, create a new stack with it and move the site in (%s)",
			k.key, k.text(k.had), k.note, k.replaces, k.text(k.had), movingASiteIn)
	}
	return nil
}

// nilIfEmpty is a recorded scalar as a list: nil when the last deploy did not export it.
func nilIfEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// minSubnetBits is the smallest subnet a stack may have: /27, the smallest an Application Load
// Balancer takes (it needs 8 free addresses in each of its subnets, and AWS reserves 5 of a
// subnet's addresses). The load balancer sits in the public subnets (edge alb) or the private
// ones (edge cloudfront), so every subnet must be one it could use.
const minSubnetBits = 27

// subnetSizeError is the refusal of a subnet smaller than /27.
func subnetSizeError(key, cidr string) error {
	return invalid(key, cidr, "want a subnet of /%d or larger (at most /%d): an Application Load Balancer needs at least a /%d, with 8 free addresses, in each of its subnets (edge alb puts it in the public subnets, edge cloudfront in the private ones)",
		minSubnetBits, minSubnetBits, minSubnetBits)
}

package main

// The scaling target derived from the measured capacity (capacity.go): a pure function of
// the figures the capacity benchmark (capacity_test.go, a lab test) measured.

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
)

// Each measured type holds its measured rate x 60 x the headroom; an unmeasured type the
// lowest measured one; Pulumi.yaml quotes the default type's figure.
func TestScalingTargetIsDerivedFromMeasuredCapacity(t *testing.T) {
	for instance, rps := range serverCapacity {
		want := int(math.Round(rps * 60 * scalingHeadroom))
		if got := derivedScalingRequests(instance); got != want || got < 1 {
			t.Errorf("%s: target %d requests per server per minute, want %.1f req/s x 60 x %.2f = %d", instance, got, rps, scalingHeadroom, want)
		}
	}
	lowest := slices.Min(slices.Collect(maps.Values(serverCapacity)))
	if got, want := derivedScalingRequests("m7g.2xlarge"), int(math.Round(lowest*60*scalingHeadroom)); got != want {
		t.Errorf("an unmeasured type gets %d, want the lowest measured capacity's %d (scale out early, never late)", got, want)
	}
	if scalingHeadroom <= 0 || scalingHeadroom >= 1 {
		t.Errorf("headroom %.2f: want a share of the capacity, strictly between 0 and 1", scalingHeadroom)
	}
	// Pulumi.yaml's description quotes the default type's target.
	quoted := fmt.Sprintf("%d for %s", derivedScalingRequests(defaultInstanceType(t)), defaultInstanceType(t))
	if !strings.Contains(readProjectFile(t).Config["scalingRequestsPerTarget"].Description, quoted) {
		t.Errorf("Pulumi.yaml's scalingRequestsPerTarget description does not say %q", quoted)
	}
}

// defaultInstanceType is Pulumi.yaml's default instanceType.
func defaultInstanceType(t *testing.T) string {
	t.Helper()
	return fmt.Sprint(readProjectFile(t).Config["instanceType"].Default)
}

package main

// What one web server sustains, measured, and the scaling target derived from it. The
// figures come from the capacity benchmark (capacity_test.go: CAPACITY_FULL=1, one real
// WordPress server in a cgroup of the type's memory on a 2-core machine standing in for the
// type's 2 vCPUs, driven through the load balancer by the load test's engine). Re-measure a
// real stack with `go run ./cmd/loadtest` (README, "Capacity and scaling") and set
// scalingRequestsPerTarget to what it shows.

import (
	"maps"
	"math"
	"slices"
)

// serverCapacity is the front page's sustainable rate per server, in requests per second: the
// highest step of the ramp with at most 1% errors and a p95 within a second. Anonymous pages
// are the bulk of what reaches the servers; a logged-in wp-admin page sustains less (README).
var serverCapacity = map[string]float64{
	"t3.micro": 24,
	"t3.small": 24,
}

// scalingHeadroom is the share of a server's capacity the target-tracking policy holds it at.
// The rest absorbs growth while the group scales out: the metric arrives in 1-3 minutes and a
// new server serves about a minute after launch, so traffic may double meanwhile.
const scalingHeadroom = 0.5

// derivedScalingRequests is the requests per server per minute the policy tracks when
// scalingRequestsPerTarget is 0 (its default): the measured capacity x 60 x headroom. A type
// that was not measured gets the lowest measured figure: it scales out earlier than it has to
// (it costs more) but never later.
func derivedScalingRequests(instanceType string) int {
	rps, ok := serverCapacity[instanceType]
	if !ok {
		rps = slices.Min(slices.Collect(maps.Values(serverCapacity)))
	}
	return int(math.Round(rps * 60 * scalingHeadroom))
}

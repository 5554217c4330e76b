package loadtest

// Classifying failed requests. vegeta hands back errors as strings, so the kind is read
// from Go's net/http messages; the kinds point at different culprits (timeout: the site is
// saturated; refused/reset: a listener or load balancer is gone; 5xx: the application).

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Kinds of transport errors, next to HTTP status codes ("503") in StepResult.Errors.
const (
	KindTimeout = "timeout" // no complete response within Plan.Timeout
	KindRefused = "refused" // connection refused: nothing listens
	KindReset   = "reset"   // connection reset by the peer
	KindEOF     = "eof"     // connection closed before a complete response
	KindDNS     = "dns"     // the host name did not resolve
	KindOther   = "other"
)

// transportKinds is the order error kinds are printed in, after status codes.
var transportKinds = []string{KindTimeout, KindRefused, KindReset, KindEOF, KindDNS, KindOther}

// ErrorKind classifies one response: "" for a success (2xx or 3xx, redirects are not
// followed), the status code ("503") for an HTTP failure, else the transport error's kind.
func ErrorKind(code uint16, err string) string {
	switch {
	case code >= 200 && code < 400:
		return ""
	case code != 0:
		return strconv.Itoa(int(code))
	}
	switch {
	case strings.Contains(err, "Client.Timeout"), strings.Contains(err, "deadline exceeded"),
		strings.Contains(err, "timeout"):
		return KindTimeout
	case strings.Contains(err, "connection refused"):
		return KindRefused
	case strings.Contains(err, "connection reset"):
		return KindReset
	case strings.HasSuffix(err, "EOF"):
		return KindEOF
	case strings.Contains(err, "no such host"), strings.Contains(err, "server misbehaving"):
		return KindDNS
	}
	return KindOther
}

// FormatErrors prints error counts as "503:12 502:3 timeout:4 refused:1", status codes
// first, or "-" when there are none.
func FormatErrors(kinds map[string]int) string {
	if len(kinds) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(kinds))
	for _, k := range slices.SortedFunc(maps.Keys(kinds), compareKinds) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, kinds[k]))
	}
	return strings.Join(parts, " ")
}

// compareKinds orders status codes numerically, then transport kinds in their fixed order.
func compareKinds(a, b string) int {
	return cmp.Or(cmp.Compare(kindRank(a), kindRank(b)), strings.Compare(a, b))
}

func kindRank(k string) int {
	if code, err := strconv.Atoi(k); err == nil {
		return code
	}
	if i := slices.Index(transportKinds, k); i >= 0 {
		return 1000 + i
	}
	return 2000
}

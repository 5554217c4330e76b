package updates

// Versions are ordered as WordPress orders them: with PHP's version_compare, which its update
// checks use for core, plugins and themes alike. An updater that ordered them otherwise could
// call a release older than the pin "newer" (1.10 after 1.9, 2.0 after 2.0-beta).

import "strings"

// compareVersions returns -1, 0 or 1 as a is older than, the same as or newer than b, by PHP's
// version_compare: both are cut into parts at '.', '-', '_', '+' and between digits and
// letters; numbers compare as numbers; words rank dev < alpha = a < beta = b < RC = rc <
// a number < pl = p, any other word lowest; a version with a further number part is the newer
// (7.0.1 after 7.0), one with a further word part is compared as if the shorter had a number
// there (2.0-beta before 2.0).
func compareVersions(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	pa, pb := versionParts(a), versionParts(b)
	for i := 0; ; i++ {
		switch {
		case i >= len(pa) && i >= len(pb):
			return 0
		case i >= len(pa):
			return -rankAgainstNumber(pb[i])
		case i >= len(pb):
			return rankAgainstNumber(pa[i])
		}
		if c := comparePart(pa[i], pb[i]); c != 0 {
			return c
		}
	}
}

// versionParts cuts a version as PHP's canonical form does.
func versionParts(v string) []string {
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, cur.String())
			cur.Reset()
		}
	}
	prevDigit := false
	for i, r := range v {
		digit := isDigit(r)
		switch {
		case !digit && !isLetter(r): // '.', '-', '_', '+' and any other separator
			flush()
		case i > 0 && cur.Len() > 0 && digit != prevDigit:
			flush()
			cur.WriteRune(r)
		default:
			cur.WriteRune(r)
		}
		prevDigit = digit
	}
	flush()
	return parts
}

// comparePart orders two parts: numbers numerically, words by their special rank, a number
// against a word by the number's rank.
func comparePart(a, b string) int {
	aNum, bNum := isNumber(a), isNumber(b)
	switch {
	case aNum && bNum:
		return compareNumbers(a, b)
	case aNum:
		return -rankAgainstNumber(b)
	case bNum:
		return rankAgainstNumber(a)
	}
	return sign(wordRank(a) - wordRank(b))
}

// rankAgainstNumber orders a part against a number part: 1 when the part is newer.
func rankAgainstNumber(part string) int {
	if isNumber(part) {
		return 1
	}
	return sign(wordRank(part) - numberRank)
}

// numberRank is a number's place among the special words.
const numberRank = 4

// wordRank is a word's rank, as version_compare matches it: by prefix, in this order.
func wordRank(w string) int {
	for _, f := range []struct {
		prefix string
		rank   int
	}{{"dev", 0}, {"alpha", 1}, {"a", 1}, {"beta", 2}, {"b", 2}, {"RC", 3}, {"rc", 3}, {"pl", 5}, {"p", 5}} {
		if strings.HasPrefix(w, f.prefix) {
			return f.rank
		}
	}
	return -1
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// isNumber says a part is all digits (versionParts never makes an empty one).
func isNumber(part string) bool { return isDigit(rune(part[0])) }

// compareNumbers orders two digit strings by value, however long.
func compareNumbers(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

package updates

import "testing"

// The order of PHP's version_compare, which WordPress uses: each pair is older, newer.
func TestCompareVersions(t *testing.T) {
	for _, c := range [][2]string{
		{"7.0", "7.0.1"}, {"6.9.1", "7.0"}, {"1.9", "1.10"}, {"2.0-beta", "2.0"}, {"2.0-alpha", "2.0-beta"},
		{"2.0beta2", "2.0RC1"}, {"2.0-dev", "2.0-alpha"}, {"2.0", "2.0pl1"}, {"2.0", "2.0.0"}, {"1.0-foo", "1.0-dev"},
		{"5.3.3", "5.3.10"}, {"99999999999999999998", "99999999999999999999"}, {"", "0"},
	} {
		if got := compareVersions(c[0], c[1]); got != -1 {
			t.Errorf("compareVersions(%q, %q) = %d, want -1", c[0], c[1], got)
		}
		if got := compareVersions(c[1], c[0]); got != 1 {
			t.Errorf("compareVersions(%q, %q) = %d, want 1", c[1], c[0], got)
		}
	}
	for _, c := range [][2]string{{"7.0", "7.0"}, {"1.0-beta", "1.0beta"}, {"1.0_1", "1.0.1"}, {"01.2", "1.2"}, {"1.0a", "1.0alpha"}} {
		if got := compareVersions(c[0], c[1]); got != 0 {
			t.Errorf("compareVersions(%q, %q) = %d, want 0", c[0], c[1], got)
		}
	}
}

package loadtest

import (
	"net/http"
	"testing"
)

func TestTargetsStayOnTheSite(t *testing.T) {
	t.Parallel()
	h := http.Header{"Cookie": {"wordpress_logged_in=x"}}
	ts, err := Targets("https://www.example.com/blog", http.MethodGet, []string{"/", "/?p=1", "/wp-admin/"}, h)
	if err != nil {
		t.Fatalf("Targets: %v", err)
	}
	want := []string{"https://www.example.com/", "https://www.example.com/?p=1", "https://www.example.com/wp-admin/"}
	if len(ts) != len(want) {
		t.Fatalf("Targets = %v, want %v", ts, want)
	}
	for i, w := range want {
		if ts[i].URL != w || ts[i].Method != http.MethodGet || ts[i].Header.Get("Cookie") != "wordpress_logged_in=x" {
			t.Errorf("target %d = %+v, want GET %s with the cookie", i, ts[i], w)
		}
	}

	for _, p := range []string{"//evil.example/", "http://evil.example/", "https://u@www.example.com/", "wp-admin", ""} {
		if ts, err := Targets("https://www.example.com", http.MethodGet, []string{p}, nil); err == nil {
			t.Errorf("path %q gave %v, want it refused", p, ts[0].URL)
		}
	}
}

func TestTargetsDefaultToTheHomePage(t *testing.T) {
	t.Parallel()
	ts, err := Targets("http://127.0.0.1:8080", http.MethodHead, nil, nil)
	if err != nil || len(ts) != 1 || ts[0].URL != "http://127.0.0.1:8080/" || ts[0].Method != http.MethodHead {
		t.Errorf("Targets without paths = %+v, %v; want HEAD http://127.0.0.1:8080/", ts, err)
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	name, value, err := ParseHeader("cookie:  wordpress_logged_in_abc=v; other=w ")
	if err != nil || name != "Cookie" || value != "wordpress_logged_in_abc=v; other=w" {
		t.Errorf("ParseHeader = %q, %q, %v; want Cookie, the value", name, value, err)
	}
	for _, bad := range []string{"no colon", ": value", "Bad Name: v", "X-A: a\r\nX-B: b"} {
		if _, _, err := ParseHeader(bad); err == nil {
			t.Errorf("ParseHeader(%q) accepted it", bad)
		}
	}
}

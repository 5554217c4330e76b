package loadtest

import "testing"

// The messages are Go's own, as vegeta passes them on.
func TestErrorKindClassifiesGoErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code uint16
		err  string
		want string
	}{
		{200, "", ""},
		{302, "", ""},
		{404, "404 Not Found", "404"},
		{503, "503 Service Unavailable", "503"},
		{0, `Get "http://127.0.0.1:8080": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, KindTimeout},
		{0, "context deadline exceeded (Client.Timeout or context cancellation while reading body)", KindTimeout},
		{0, `Get "https://x": net/http: TLS handshake timeout`, KindTimeout},
		{0, `Get "http://127.0.0.1:1": dial tcp 127.0.0.1:1: connect: connection refused`, KindRefused},
		{0, `Get "http://127.0.0.1:8080": read tcp 127.0.0.1:39162->127.0.0.1:8080: read: connection reset by peer`, KindReset},
		{0, `Get "http://127.0.0.1:8080": EOF`, KindEOF},
		{0, "unexpected EOF", KindEOF},
		{0, `Get "http://x.invalid/": dial tcp: lookup x.invalid on 10.0.0.2:53: no such host`, KindDNS},
		{0, `Get "https://x": tls: failed to verify certificate: x509: certificate signed by unknown authority`, KindOther},
	}
	for _, c := range cases {
		if got := ErrorKind(c.code, c.err); got != c.want {
			t.Errorf("ErrorKind(%d, %q) = %q, want %q", c.code, c.err, got, c.want)
		}
	}
}

func TestFormatErrorsPutsStatusCodesFirst(t *testing.T) {
	t.Parallel()
	got := FormatErrors(map[string]int{KindOther: 1, KindTimeout: 4, "503": 12, KindRefused: 2, "404": 3, KindReset: 5})
	if want := "404:3 503:12 timeout:4 refused:2 reset:5 other:1"; got != want {
		t.Errorf("FormatErrors = %q, want %q", got, want)
	}
	if got := FormatErrors(nil); got != "-" {
		t.Errorf("FormatErrors(nil) = %q, want -", got)
	}
}

//go:build lab

package main

// The metadata firewall on a real server: the lab's servers share this machine's network
// namespace, whose firewall no test may touch, so this test runs again, alone, in a network
// namespace of its own (unshare --net), where the whole lab (stand-ins, builder, server)
// runs on that namespace's loopback and a stand-in for the instance metadata service answers
// on its two addresses. The server's own boot loads the rules for real there
// (testdata/site/stubs/nft), and PHP, through Apache and PHP-FPM as on a server, asks for
// the role's credentials as a plugin's code would.

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// machineNetEnv holds, in the test's second run, the machine's network namespace (as
// /proc/self/ns/net names it), which that run and its servers' nft must never touch.
const machineNetEnv = "SITE_MACHINE_NETNS"

// metadataToken is the stand-in's IMDSv2 session token; metadataRole the role it names.
const (
	metadataToken = "lab-imdsv2-token"
	metadataRole  = "web-role-abc123"
)

// metadataProbe is what a plugin's code could run: ask each metadata address for an IMDSv2
// token, as the SDKs do first. It reports the uid it ran as (from the kernel, not PHP).
const metadataProbe = `<?php
header( 'Content-Type: text/plain' );
preg_match( '/^Uid:\s+(\d+)/m', file_get_contents( '/proc/self/status' ), $m );
echo 'uid ', $m[1], "\n";
foreach ( array( '` + metadataIPv4 + `', '[` + metadataIPv6 + `]' ) as $host ) {
	$ctx   = stream_context_create( array( 'http' => array( 'method' => 'PUT', 'timeout' => 3,
		'header' => "X-aws-ec2-metadata-token-ttl-seconds: 60\r\n" ) ) );
	$token = @file_get_contents( "http://$host/latest/api/token", false, $ctx );
	echo $host, ' ', false === $token ? 'refused' : 'token ' . $token, "\n";
}
`

// metadataStandIn answers IMDSv2's token and credentials-listing calls and records who asked.
type metadataStandIn struct {
	mu       sync.Mutex
	requests []string
}

func (m *metadataStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests = append(m.requests, r.Method+" "+r.Host+r.URL.Path)
	m.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" && r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds") != "":
		_, _ = w.Write([]byte(metadataToken))
	case r.Method == http.MethodGet && r.URL.Path == "/latest/meta-data/iam/security-credentials/" &&
		r.Header.Get("X-aws-ec2-metadata-token") == metadataToken:
		_, _ = w.Write([]byte(metadataRole))
	default:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}
}

func (m *metadataStandIn) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

func TestSiteMetadataServiceOnlyForRoot(t *testing.T) {
	requireLab(t)
	if os.Getenv(machineNetEnv) == "" {
		runInPrivateNetwork(t)
		return
	}
	standIn := startMetadataStandIn(t)
	recipe := map[string]string{"wordpressPlugins": jsonList(labProbe.Entry()), "wordpressThemes": jsonList(labTheme.Entry())}
	facts := siteProgramFacts(t, recipe)
	rs := startSite(t, facts, 1, nil)
	s := rs.servers[0]
	c := rs.l.client(s.addr, nil)
	if out, err := s.run("bash", "-c", `printf '%s' "$1" >`+docRoot+`/metadata-probe.php`, "_", metadataProbe); err != nil {
		t.Fatalf("write the probe: %v\n%s", err, out)
	}
	apacheUID, err := s.run("id", "-u", webServerUser)
	if err != nil {
		t.Fatalf("id -u %s: %v %s", webServerUser, err, apacheUID)
	}
	// askAsPHP runs the probe through the server's Apache and PHP-FPM and returns what it said
	// of each address.
	askAsPHP := func(when string) map[string]string {
		t.Helper()
		var page reply
		waitFor(30*time.Second, func() bool {
			page, err = fetch(c, http.MethodGet, facts.SiteURL+"/metadata-probe.php", nil, nil)
			return err == nil && page.Code == http.StatusOK
		})
		if err != nil || page.Code != http.StatusOK {
			t.Fatalf("%s: the probe through Apache and PHP-FPM: %v %s\n%s", when, err, page.Status, page.Body)
		}
		said := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(page.Body), "\n") {
			k, v, _ := strings.Cut(line, " ")
			said[k] = v
		}
		if said["uid"] != strings.TrimSpace(apacheUID) {
			t.Errorf("%s: the probe ran as uid %q, not the web server's user %s (%s)", when, said["uid"], webServerUser, strings.TrimSpace(apacheUID))
		}
		return said
	}
	addresses := []string{metadataIPv4, "[" + metadataIPv6 + "]"}
	expectRefused := func(when string) {
		t.Helper()
		before := standIn.count()
		said := askAsPHP(when)
		for _, a := range addresses {
			if said[a] != "refused" {
				t.Errorf("%s: PHP, as %s, reached the metadata service at %s: %q", when, webServerUser, a, said[a])
			}
		}
		if got := standIn.count() - before; got != 0 {
			t.Errorf("%s: the metadata service saw %d requests from PHP", when, got)
		}
	}

	t.Run("PHP, as the web server's user, cannot reach the metadata service", func(t *testing.T) {
		expectRefused("after the first boot")
		// Nor any program a plugin could run as that user.
		for _, a := range addresses {
			if out, err := s.run("runuser", "-u", webServerUser, "--", "curl", "-sS", "-m", "3", "-X", "PUT",
				"-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://"+a+"/latest/api/token"); err == nil {
				t.Errorf("curl as %s reached %s: %s", webServerUser, a, out)
			}
		}
	})

	t.Run("root, which the SSM and CloudWatch agents and the converge script run as, still can", func(t *testing.T) {
		for _, a := range addresses {
			token, err := s.run("curl", "-sS", "-m", "3", "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://"+a+"/latest/api/token")
			if err != nil || token != metadataToken {
				t.Fatalf("root could not get a token from %s: %v %q", a, err, token)
			}
			role, err := s.run("curl", "-sS", "-m", "3", "-H", "X-aws-ec2-metadata-token: "+token, "http://"+a+"/latest/meta-data/iam/security-credentials/")
			if err != nil || role != metadataRole {
				t.Errorf("root could not list the role's credentials at %s: %v %q", a, err, role)
			}
		}
	})

	t.Run("every boot loads the rules again, before PHP can run", func(t *testing.T) {
		// A reboot starts with no rules in the kernel. Without them PHP reaches the service:
		// the refusals above are the rules' doing, not the lab's network.
		if out, err := s.run("nft", "delete", "table", "inet", metadataTable); err != nil {
			t.Fatalf("delete the rules: %v\n%s", err, out)
		}
		said := askAsPHP("without the rules")
		for _, a := range addresses {
			if said[a] != "token "+metadataToken {
				t.Fatalf("without the rules PHP should reach %s (else this test proves nothing): %q", a, said[a])
			}
		}
		reboot := s.reboot()
		if i := strings.Index(reboot.Calls, "nft -f -"); i < 0 || i > strings.Index(reboot.Calls, "systemctl start --no-block php-fpm.service") {
			t.Errorf("the reboot did not load the rules before starting PHP-FPM:\n%s", reboot.Calls)
		}
		expectRefused("after a reboot")
		// On a real server systemd starts PHP-FPM, like Apache, only after the converge unit.
		dropIn := filepath.Join(s.dir, "disk/etc/systemd/system/php-fpm.service.d/10-"+convergeUnit+".conf")
		b, err := os.ReadFile(dropIn)
		if err != nil || !strings.Contains(string(b), "Requires="+convergeUnit+".service") || !strings.Contains(string(b), "After="+convergeUnit+".service") {
			t.Errorf("PHP-FPM must require and follow %s.service (%v):\n%s", convergeUnit, err, b)
		}
	})
}

// startMetadataStandIn puts the metadata service's two addresses on this namespace's loopback
// and serves the stand-in on both. It refuses to run in the machine's network namespace:
// those addresses must never be added to the machine's own interfaces.
func startMetadataStandIn(t *testing.T) *metadataStandIn {
	t.Helper()
	if self, err := os.Readlink("/proc/self/ns/net"); err != nil || self == os.Getenv(machineNetEnv) {
		t.Fatalf("not in a network namespace of its own (%s, the machine's %s; %v): refusing to touch the machine's network",
			self, os.Getenv(machineNetEnv), err)
	}
	for _, args := range [][]string{{"link", "set", "lo", "up"}, {"addr", "add", metadataIPv4 + "/32", "dev", "lo"},
		{"-6", "addr", "add", metadataIPv6 + "/128", "dev", "lo", "nodad"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	m := &metadataStandIn{}
	for _, addr := range []string{metadataIPv4 + ":80", "[" + metadataIPv6 + "]:80"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("the metadata stand-in on %s: %v", addr, err)
		}
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return m
}

// runInPrivateNetwork runs the calling test again, alone, in a new network namespace, and
// relays its output. Its lines are prefixed so that its own PASS/FAIL lines are not counted
// as this run's.
func runInPrivateNetwork(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--", exe, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v=true", "-test.timeout=10m")
	machine, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), machineNetEnv+"="+machine)
	// A timeout ends the run (its lab's daemons, in groups of their own, are stopped by its
	// cleanups when it ends by itself, and die with the namespace's last process otherwise).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	var relayed strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		relayed.WriteString("│ " + sc.Text() + "\n")
	}
	t.Log("the run in its own network namespace:\n" + relayed.String())
	if err != nil {
		t.Fatalf("the run in its own network namespace failed: %v", err)
	}
}

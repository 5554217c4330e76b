//go:build lab

package main

// The site test's lab: real programs standing in for AWS's managed services, each on a
// loopback address of its own, and the web servers, each an overlay root over this machine
// in a private mount namespace (testdata/site/boot.sh):
//
//	127.0.1.N:80      web server N: Apache + PHP-FPM laid out like Amazon Linux 2023
//	127.0.2.1:3306    the database: MariaDB, TLS required, certificate from a test "RDS CA"
//	127.0.2.2:3306    a database restored beside it (siterestore_test.go), likewise
//	127.0.3.1:5000    SSM Parameter Store and Secrets Manager: moto_server
//	127.0.4.1:80/443  the load balancer: HAProxy with the target group's health check
//	127.0.5.1:443     wordpress.org and the RDS trust store: a Go HTTPS server
//
// Every process the lab starts is stopped by its PID (or process group) when the test ends,
// whatever its outcome.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

const (
	labDBAddr          = "127.0.2.1"
	labMotoAddr        = "127.0.3.1:5000"
	labLBAddr          = "127.0.4.1"
	labWebOrg          = "127.0.5.1"
	labAutoScalingAddr = "127.0.6.1:5000"
	labDBHost          = "wp-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com" // what RDS's endpoint looks like
	// A database restored beside it (dbRestore): another instance, another endpoint.
	labRestoredDBAddr = "127.0.2.2"
	labRestoredDBHost = "wp-db-r1.cabcdefghij.ap-northeast-1.rds.amazonaws.com"
	labRegion         = "ap-northeast-1"
	labAccount        = "123456789012" // moto's account
	labDebianWP       = "/usr/share/wordpress"
	labHCScale        = 5 // the load balancer's health checks run this many times faster than the ALB's
	labBootLimit      = 3 * time.Minute
)

// labServerAddr is web server n's address (1-based).
func labServerAddr(n int) string { return fmt.Sprintf("127.0.1.%d", n) }

// labNeeds are the programs the lab runs; the site test fails without them.
var labNeeds = []struct{ path, pkg string }{
	{"/usr/sbin/mariadbd", "mariadb-server"},
	{"/usr/bin/mariadb-install-db", "mariadb-server"},
	{"/usr/bin/mariadb", "mariadb-client"},
	{"/usr/sbin/haproxy", "haproxy"},
	{"/usr/sbin/apache2", "apache2"},
	{"/usr/lib/apache2/modules/mod_proxy_fcgi.so", "apache2"},
	{"/usr/bin/unshare", "util-linux"},
	{"/usr/sbin/runuser", "util-linux"},
	{"/usr/sbin/nft", "nftables"},
	{"/usr/bin/unzip", "unzip"},
	{"/usr/sbin/update-ca-certificates", "ca-certificates"},
	{labDebianWP + "/wp-settings.php", "wordpress"},
	{labDebianWP + "/wp-content/languages/ja.mo", "wordpress-l10n"},
	{labDebianWP + "/wp-content/themes/twentytwentythree/style.css", "wordpress-theme-twentytwentythree"},
}

// requireLab fails the site test, saying what to install, where it cannot run: the lab tests
// are built only when asked for (the lab tag, which `make ci` sets), so a missing program is
// a broken run, never a quiet skip.
func requireLab(t *testing.T) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (mount namespaces, overlay roots, chroot, ports 80/443)")
	}
	for _, n := range labNeeds {
		if _, err := os.Stat(n.path); err != nil {
			missing = append(missing, n.path+" (apt-get install "+n.pkg+")")
		}
	}
	for _, bin := range []string{"php", "moto_server", "aws"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if fpm, _ := filepath.Glob("/usr/sbin/php-fpm*"); len(fpm) == 0 {
		missing = append(missing, "php-fpm (apt-get install php-fpm)")
	}
	if out, err := exec.Command("php", "-r", `exit(extension_loaded("mysqli") && extension_loaded("xml") && extension_loaded("mbstring") ? 0 : 1);`).CombinedOutput(); err != nil {
		missing = append(missing, "php extensions mysqli, xml, mbstring (apt-get install php-mysql php-xml php-mbstring): "+string(out))
	}
	if len(missing) > 0 {
		t.Fatal(labMissing("the site test", missing...))
	}
}

// lab is one run's stand-ins and servers.
type lab struct {
	t        *testing.T
	dir      string
	webCA    *testCA // what the base image trusts: the stand-in for public CAs
	rdsCA    *testCA // the RDS CA bundle, which only the boot script installs
	db       *mariaDB
	motoProc *proc
	lb       *loadBalancer
	asg      *autoScaling
	wporg    *wordpressOrg
	servers  []*webServer
	procs    []*proc
	mu       sync.Mutex
	awsPath  string
	efs      string // the EFS stand-in: one folder every server mounts as its uploads
}

func newLab(t *testing.T) *lab {
	t.Helper()
	l := &lab{t: t, dir: t.TempDir()}
	if keep := os.Getenv("SITE_TEST_KEEP"); keep != "" { // keep the lab's files to debug a failure
		l.dir = keep
		_ = os.RemoveAll(keep)
	}
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Fatal(err)
	}
	l.awsPath = aws
	t.Cleanup(l.stopAll)
	l.webCA = newTestCA(t, "Site Test Public CA")
	l.rdsCA = newTestCA(t, "Site Test RDS CA")
	l.efs = filepath.Join(l.dir, "efs")
	for _, d := range []string{"logs", "efs"} {
		if err := os.MkdirAll(filepath.Join(l.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// proc is a process the lab started, in a process group of its own.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs a program in the background, its output in logs/<name>.log.
func (l *lab) start(name string, env []string, args ...string) *proc {
	l.t.Helper()
	logf, err := os.OpenFile(filepath.Join(l.dir, "logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		l.t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// stopAll stops every server and every process the lab started.
func (l *lab) stopAll() {
	for _, s := range l.servers {
		s.kill()
	}
	l.mu.Lock()
	procs := l.procs
	l.mu.Unlock()
	for _, p := range procs {
		p.stop(5 * time.Second)
	}
	if l.wporg != nil {
		_ = l.wporg.srv.Close()
	}
	if l.asg != nil {
		_ = l.asg.srv.Close()
	}
}

// log is a lab program's log, for failure messages.
func (l *lab) log(name string) string {
	b, _ := os.ReadFile(filepath.Join(l.dir, "logs", name+".log"))
	return tailLines(string(b), 30)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitFor polls cond every 100 ms until it holds or the limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// --- certificates ---

// testCA is a certificate authority made for one run.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a server certificate for names, signed by the CA (nil: self-signed).
func issue(t *testing.T, ca *testCA, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

func (l *lab) write(rel string, data []byte) string {
	l.t.Helper()
	p := filepath.Join(l.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		l.t.Fatal(err)
	}
	return p
}

// --- the database: MariaDB standing in for RDS for MySQL ---

type mariaDB struct {
	l           *lab
	name, addr  string // its log's name and the address it listens on
	dir, socket string
	proc        *proc
	certs       [2]string // the certificate and key it serves
}

// startDB initialises an empty MariaDB with the program's database and master user, TLS
// required, serving a certificate for the RDS-like endpoint name from the RDS CA.
func (l *lab) startDB(password string) {
	l.t.Helper()
	d := l.newDB("mariadb", labDBAddr, labDBHost)
	l.db = d
	d.start()
	d.sql(fmt.Sprintf("DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES; CREATE DATABASE %s; "+
		"CREATE USER '%s'@'%%' IDENTIFIED BY %s; GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;",
		dbName, dbUser, sqlQuote(password), dbUser))
}

// newDB initialises an empty MariaDB (not started) that listens on addr and serves a
// certificate for host from the RDS CA; its files and log are under name.
func (l *lab) newDB(name, addr, host string) *mariaDB {
	l.t.Helper()
	d := &mariaDB{l: l, name: name, addr: addr, dir: filepath.Join(l.dir, name), socket: filepath.Join(l.dir, name+".sock")}
	if out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+d.dir, "--user=root",
		"--auth-root-authentication-method=socket", "--skip-test-db").CombinedOutput(); err != nil {
		l.t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	cert, key := issue(l.t, l.rdsCA, host)
	files := "db"
	if name != "mariadb" {
		files = "db-" + name
	}
	d.certs = [2]string{l.write(files+"/cert.pem", cert), l.write(files+"/key.pem", key)}
	return d
}

// serve swaps the certificate the database presents (before a restart).
func (d *mariaDB) serve(certPEM, keyPEM []byte) {
	d.certs = [2]string{d.l.write("db/serve-cert.pem", certPEM), d.l.write("db/serve-key.pem", keyPEM)}
}

func (d *mariaDB) start() {
	d.l.t.Helper()
	d.proc = d.l.start(d.name, os.Environ(), "/usr/sbin/mariadbd", "--no-defaults", "--datadir="+d.dir,
		"--socket="+d.socket, "--bind-address="+d.addr, "--port=3306", "--user=root", "--skip-name-resolve",
		"--ssl-ca="+d.l.write("db/ca.pem", d.l.rdsCA.pem), "--ssl-cert="+d.certs[0], "--ssl-key="+d.certs[1],
		"--require-secure-transport=ON", "--pid-file="+filepath.Join(d.l.dir, d.name+".pid"),
		"--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M", "--performance-schema=OFF")
	if !waitFor(30*time.Second, func() bool { _, err := d.query("SELECT 1"); return err == nil }) {
		d.l.t.Fatalf("MariaDB did not start:\n%s", d.l.log(d.name))
	}
}

// stop shuts the database down cleanly, as a reboot with failover does.
func (d *mariaDB) stop() { d.proc.stop(30 * time.Second) }

func (d *mariaDB) query(q string) (string, error) {
	out, err := exec.Command("mariadb", "--no-defaults", "-S", d.socket, "-uroot", "-N", "-B", "-e", q).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (d *mariaDB) sql(q string) string {
	d.l.t.Helper()
	out, err := d.query(q)
	if err != nil {
		d.l.t.Fatalf("SQL %q: %v\n%s", q, err, out)
	}
	return out
}

// holdLock takes a MySQL named lock in a session of its own and holds it until release is
// called: servers that need it queue behind the test, and then contend for it together.
func (d *mariaDB) holdLock(name string) (release func()) {
	d.l.t.Helper()
	cmd := exec.Command("mariadb", "--no-defaults", "-S", d.socket, "-uroot", "-N", "-B", "--unbuffered")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		d.l.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		d.l.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		d.l.t.Fatal(err)
	}
	release = func() {
		_ = stdin.Close() // the session ends, and its locks with it
		_ = cmd.Wait()
	}
	fmt.Fprintf(stdin, "SELECT GET_LOCK(%s, 10);\n", sqlQuote(name))
	got, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(got) != "1" {
		release()
		d.l.t.Fatalf("take the lock %s: %q %v", name, got, err)
	}
	return release
}

// waitingFor counts the sessions waiting for a named lock.
func (d *mariaDB) waitingFor(name string) int {
	got, _ := d.query("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE " +
		sqlQuote("%GET_LOCK('"+name+"'%") + " AND ID <> CONNECTION_ID()")
	n, _ := strconv.Atoi(got)
	return n
}

func sqlQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// --- SSM and Secrets Manager: moto ---

func (l *lab) awsEnv() []string {
	return []string{
		"AWS_ENDPOINT_URL=http://" + labMotoAddr, "AWS_ENDPOINT_URL_AUTO_SCALING=http://" + labAutoScalingAddr,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_DEFAULT_REGION=" + labRegion, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}
}

func (l *lab) startMoto() {
	l.t.Helper()
	host, port, _ := net.SplitHostPort(labMotoAddr)
	l.motoProc = l.start("moto", os.Environ(), "moto_server", "-H", host, "-p", port)
	if !waitFor(60*time.Second, func() bool { return listening(labMotoAddr) }) {
		l.t.Fatalf("moto_server did not start:\n%s", l.log("moto"))
	}
}

// aws runs the real AWS CLI against the stand-ins.
func (l *lab) aws(args ...string) string {
	l.t.Helper()
	cmd := exec.Command(l.awsPath, args...)
	cmd.Env = append(os.Environ(), l.awsEnv()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		l.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// putParameter writes a String parameter (as JSON input: the CLI would fetch a value that
// looks like a URL instead of storing it).
func (l *lab) putParameter(name, value string) {
	l.t.Helper()
	in, _ := json.Marshal(map[string]any{"Name": name, "Value": value, "Type": "String", "Overwrite": true})
	l.aws("ssm", "put-parameter", "--cli-input-json", string(in))
}

// --- the Auto Scaling group's lifecycle hook ---

// autoScaling stands in for the two Auto Scaling calls the boot script makes, in the AWS
// query protocol the real CLI speaks: DescribeAutoScalingInstances (a new server is
// Pending:Wait in the program's group) and CompleteLifecycleAction. A completed launch
// enables the server in the load balancer, as the group registers it in the target group.
type autoScaling struct {
	l         *lab
	group     string
	hook      string
	mu        sync.Mutex
	states    map[string]string // instance ID -> lifecycle state
	servers   map[string]string // instance ID -> load balancer server name
	completed []string          // "instance result" in call order
	srv       *http.Server
}

func (l *lab) startAutoScaling(group, hook string) {
	l.t.Helper()
	a := &autoScaling{l: l, group: group, hook: hook, states: map[string]string{}, servers: map[string]string{}}
	ln, err := net.Listen("tcp", labAutoScalingAddr)
	if err != nil {
		l.t.Fatalf("Auto Scaling stand-in: %v", err)
	}
	a.srv = &http.Server{Handler: a, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	l.asg = a
}

// launch registers a new instance of the group, held in Pending:Wait.
func (a *autoScaling) launch(id, server string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.states[id], a.servers[id] = "Pending:Wait", server
}

// terminate ends an instance's life in the group (a restarted load balancer leaves it out).
func (a *autoScaling) terminate(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.states[id] = "Terminated"
}

// completions are the launch completions of one instance, results in call order.
func (a *autoScaling) completions(id string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.completed {
		if got, result, _ := strings.Cut(c, " "); got == id {
			out = append(out, result)
		}
	}
	return out
}

func (a *autoScaling) state(id string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.states[id]
}

func (a *autoScaling) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	const ns = `xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"`
	fail := func(code, msg string) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse %s><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>lab</RequestId></ErrorResponse>`, ns, code, msg)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch action := r.PostForm.Get("Action"); action {
	case "DescribeAutoScalingInstances":
		var members strings.Builder
		for i := 1; ; i++ {
			id := r.PostForm.Get(fmt.Sprintf("InstanceIds.member.%d", i))
			if id == "" {
				break
			}
			if st, ok := a.states[id]; ok {
				fmt.Fprintf(&members, `<member><InstanceId>%s</InstanceId><AutoScalingGroupName>%s</AutoScalingGroupName><AvailabilityZone>%sa</AvailabilityZone><LifecycleState>%s</LifecycleState><HealthStatus>HEALTHY</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
					id, a.group, labRegion, st)
			}
		}
		fmt.Fprintf(w, `<DescribeAutoScalingInstancesResponse %s><DescribeAutoScalingInstancesResult><AutoScalingInstances>%s</AutoScalingInstances></DescribeAutoScalingInstancesResult><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></DescribeAutoScalingInstancesResponse>`, ns, members.String())
	case "CompleteLifecycleAction":
		id, group, hook, result := r.PostForm.Get("InstanceId"), r.PostForm.Get("AutoScalingGroupName"), r.PostForm.Get("LifecycleHookName"), r.PostForm.Get("LifecycleActionResult")
		switch {
		case group != a.group || hook != a.hook:
			fail("ValidationError", fmt.Sprintf("No active Lifecycle Action found with instance ID %s (group %s, hook %s)", id, group, hook))
			return
		case a.states[id] != "Pending:Wait":
			fail("ValidationError", "No active Lifecycle Action found with instance ID "+id)
			return
		}
		a.completed = append(a.completed, id+" "+result)
		if result == "CONTINUE" {
			a.states[id] = "InService"
			a.l.lb.enable(a.servers[id])
		} else {
			a.states[id] = "Terminating"
		}
		fmt.Fprintf(w, `<CompleteLifecycleActionResponse %s><CompleteLifecycleActionResult/><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>`, ns)
	default:
		fail("InvalidAction", "the lab's Auto Scaling stand-in does not answer "+action)
	}
}

// --- the load balancer: HAProxy ---

// healthCheck is the target group's health check as the program declares it.
type healthCheck struct {
	Path                  string
	Matcher               string
	Interval, Timeout     int // seconds, on the ALB's clock
	Healthy, Unhealthy    int
	DeregistrationSeconds int
}

type loadBalancer struct {
	l     *lab
	hc    healthCheck
	sock  string
	proc  *proc
	https bool
	host  string // the public host name
}

var haproxyTemplate = template.Must(template.New("haproxy").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).Parse(`# The target group and listeners of the program, on HAProxy; timings 1/{{.Scale}} of the ALB's.
global
    stats socket {{.Sock}} level admin
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # An ALB does not retry a failed request on another target.
    retries 0
frontend http
    bind {{.Addr}}:80
{{- if .HTTPS}}
    http-request redirect scheme https code 301
{{- else}}
    http-request set-header X-Forwarded-Proto http
    default_backend targets
{{- end}}
{{- if .HTTPS}}
frontend https
    bind {{.Addr}}:443 ssl crt {{.Cert}}
    http-request set-header X-Forwarded-Proto https
    default_backend targets
{{- end}}
backend targets
    balance roundrobin
    option httpchk GET {{.HC.Path}}
    http-check expect status {{.HC.Matcher}}
    timeout check {{.TimeoutMs}}ms
    default-server inter {{.IntervalMs}}ms fall {{.HC.Unhealthy}} rise {{.HC.Healthy}}
{{- range $i, $a := .Servers}}
    # Out of rotation until the group registers them (their launch completed).
    server web{{inc $i}} {{$a}}:80 check disabled
{{- end}}
`))

// startLB (re)starts HAProxy for the site URL's scheme: HTTP forwards; with a certificate
// HTTP redirects and HTTPS forwards with X-Forwarded-Proto, as the program's listeners do.
func (l *lab) startLB(hc healthCheck, host string, https bool, servers int) {
	l.t.Helper()
	if l.lb != nil && l.lb.proc != nil {
		l.lb.proc.stop(5 * time.Second)
	}
	lb := &loadBalancer{l: l, hc: hc, sock: filepath.Join(l.dir, "haproxy.sock"), https: https, host: host}
	cert, key := issue(l.t, l.webCA, host)
	var addrs []string
	for i := 1; i <= servers; i++ {
		addrs = append(addrs, labServerAddr(i))
	}
	var cfg bytes.Buffer
	if err := haproxyTemplate.Execute(&cfg, map[string]any{
		"Scale": labHCScale, "Sock": lb.sock, "Addr": labLBAddr, "HTTPS": https,
		"Cert": l.write("lb/site.pem", append(cert, key...)), "HC": hc, "Servers": addrs,
		"TimeoutMs": hc.Timeout * 1000 / labHCScale, "IntervalMs": hc.Interval * 1000 / labHCScale,
	}); err != nil {
		l.t.Fatal(err)
	}
	path := l.write("lb/haproxy.cfg", cfg.Bytes())
	lb.proc = l.start("haproxy", os.Environ(), "/usr/sbin/haproxy", "-db", "-f", path)
	if !waitFor(10*time.Second, func() bool { return listening(labLBAddr + ":80") }) {
		l.t.Fatalf("HAProxy did not start:\n%s", l.log("haproxy"))
	}
	l.lb = lb
	// A restarted load balancer keeps the targets the group had registered.
	if l.asg != nil {
		l.asg.mu.Lock()
		for id, st := range l.asg.states {
			if st == "InService" {
				lb.enable(l.asg.servers[id])
			}
		}
		l.asg.mu.Unlock()
	}
}

// command sends one command to HAProxy's admin socket.
func (lb *loadBalancer) command(cmd string) string {
	c, err := net.DialTimeout("unix", lb.sock, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		return ""
	}
	raw, _ := io.ReadAll(bufio.NewReader(c))
	return string(raw)
}

// enable puts a registered server in rotation (health checks decide from then on).
func (lb *loadBalancer) enable(server string) {
	lb.command("enable server targets/" + server)
}

// disable takes a server out of rotation, as deregistering it from the target group does.
func (lb *loadBalancer) disable(server string) {
	lb.command("disable server targets/" + server)
}

// targetStat is one target's state in the load balancer.
type targetStat struct {
	Status    string // UP, DOWN, "UP 1/2" (going down), ...
	DownTimes int    // how often the health check took it out
}

// targets reads HAProxy's view of the target group.
func (lb *loadBalancer) targets() map[string]targetStat {
	out := map[string]targetStat{}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(lb.command("show stat"), "# ")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return out
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, row := range rows[1:] {
		if len(row) <= col["chkdown"] || row[col["pxname"]] != "targets" || !strings.HasPrefix(row[col["svname"]], "web") {
			continue
		}
		n, _ := strconv.Atoi(row[col["chkdown"]])
		out[row[col["svname"]]] = targetStat{Status: row[col["status"]], DownTimes: n}
	}
	return out
}

// waitTargets waits until the named target reports status (e.g. "UP", "DOWN").
func (lb *loadBalancer) waitTarget(name, status string, limit time.Duration) bool {
	return waitFor(limit, func() bool { return lb.targets()[name].Status == status })
}

// --- web servers ---

// webServer is one EC2 instance: its disk (the overlay's upper layer), its address, and the
// out/ folder its stubs report to (calls, converge log, daemon PIDs).
type webServer struct {
	l     *lab
	n     int
	addr  string
	dir   string
	id    string // EC2 instance ID, as cloud-init records it
	boots int
	// cgroup, when set, is the memory limit the server runs in, as in an instance's RAM.
	cgroup *memoryCgroup
}

func (l *lab) newServer(n int) *webServer {
	l.t.Helper()
	s := &webServer{l: l, n: n, addr: labServerAddr(n), dir: filepath.Join(l.dir, fmt.Sprintf("web%d", n)), id: fmt.Sprintf("i-0lab%012d", n)}
	for _, d := range []string{"disk", "work", "root", "out/pids"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			l.t.Fatal(err)
		}
	}
	l.servers = append(l.servers, s)
	return s
}

// name is the server's name in the load balancer.
func (s *webServer) name() string { return fmt.Sprintf("web%d", s.n) }

// prepareBaseImage writes what the Amazon Linux image and the VPC give every instance: name
// resolution for the stand-ins (DNS would otherwise leave the machine), and trust in the
// public CA (wordpress.org, AWS endpoints); the RDS CA is not among them.
func (s *webServer) prepareBaseImage(hosts map[string]string) {
	t := s.l.t
	t.Helper()
	hostsFile, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	for name, addr := range hosts {
		hostsFile = append(hostsFile, []byte(addr+" "+name+"\n")...)
	}
	bundle, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	for rel, body := range map[string][]byte{
		"etc/hosts":       hostsFile,
		"etc/resolv.conf": []byte("nameserver 127.0.0.1\n"),
		"usr/local/share/ca-certificates/site-test-public-ca.crt": s.l.webCA.pem,
		"etc/ssl/certs/ca-certificates.crt":                       append(bundle, s.l.webCA.pem...),
	} {
		p := filepath.Join(s.dir, "disk", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// cloneDiskFrom makes this server's disk a copy of another's, as launching from its image does.
func (s *webServer) cloneDiskFrom(src *webServer) {
	s.l.t.Helper()
	_ = os.RemoveAll(filepath.Join(s.dir, "disk"))
	if out, err := exec.Command("cp", "-a", filepath.Join(src.dir, "disk"), filepath.Join(s.dir, "disk")).CombinedOutput(); err != nil {
		s.l.t.Fatalf("copy the disk of %s: %v\n%s", src.name(), err, out)
	}
}

// diskHolds lists the files of the server's disk that contain any of the needles.
func (s *webServer) diskHolds(needles ...string) []string {
	var found []string
	root := filepath.Join(s.dir, "disk")
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, n := range needles {
			if n != "" && bytes.Contains(b, []byte(n)) {
				rel, _ := filepath.Rel(root, path)
				found = append(found, "/"+rel+" holds "+strconv.Quote(n[:min(len(n), 12)]))
			}
		}
		return nil
	})
	return found
}

// bootResult is what one boot did.
type bootResult struct {
	Status   string // the converge unit's exit status ("0" on success)
	Check    string // the render check unit's, which runs after a converge that started the web server ("" if it did not run)
	Log      string // their journal
	Calls    string // package, CA and service calls made
	Duration time.Duration
	Err      error
}

// firstBoot runs the user data, as cloud-init does on an instance's first boot, after
// recording the instance's ID where cloud-init keeps it; it fails the test unless the
// converge unit succeeded.
func (s *webServer) firstBoot(userData string) bootResult {
	s.l.t.Helper()
	r := s.firstBootE(userData)
	if r.Err != nil {
		s.l.t.Fatalf("%v\n--- converge journal ---\n%s", r.Err, tailLines(r.Log, 40))
	}
	return r
}

// firstBootE is firstBoot reporting a failure in the result (for boots that must fail, or
// run concurrently).
func (s *webServer) firstBootE(userData string) bootResult {
	s.l.t.Helper()
	p := filepath.Join(s.dir, "out", "user-data")
	if err := os.WriteFile(p, []byte(userData), 0o700); err != nil {
		s.l.t.Fatal(err)
	}
	idFile := filepath.Join(s.dir, "disk", "var", "lib", "cloud", "data", "instance-id")
	if err := os.MkdirAll(filepath.Dir(idFile), 0o755); err != nil {
		s.l.t.Fatal(err)
	}
	if err := os.WriteFile(idFile, []byte(s.id+"\n"), 0o644); err != nil {
		s.l.t.Fatal(err)
	}
	return s.bootE("bash", p)
}

// run runs a command on the running server (as SSM Run Command does), in its mount
// namespace and root.
func (s *webServer) run(command ...string) (string, error) {
	pid := s.pid("httpd")
	if pid <= 0 {
		return "", fmt.Errorf("%s is not running", s.name())
	}
	ctx, cancel := context.WithTimeout(context.Background(), labBootLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--mount=/proc/" + strconv.Itoa(pid) + "/ns/mnt", "chroot", filepath.Join(s.dir, "root")}, command...)...)
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// reboot stops the server's services and boots it again: systemd starts the enabled
// converge unit, which starts the web server.
func (s *webServer) reboot() bootResult {
	s.stop()
	return s.boot("systemctl", "start", "wordpress-converge.service")
}

// boot runs one boot and fails the test unless the converge unit succeeded.
func (s *webServer) boot(command ...string) bootResult {
	s.l.t.Helper()
	r := s.bootE(command...)
	if r.Err != nil {
		s.l.t.Fatalf("%v\n--- converge journal ---\n%s", r.Err, tailLines(r.Log, 40))
	}
	return r
}

// bootE runs one boot and reports a failure in the result (for boots run concurrently).
func (s *webServer) bootE(command ...string) bootResult {
	s.boots++
	out := filepath.Join(s.dir, "out")
	for _, f := range []string{"converge.log", "calls.log", "converge.status", "render-check.status"} {
		_ = os.Remove(filepath.Join(out, f))
	}
	fixtures, _ := filepath.Abs("testdata/site")
	ctx, cancel := context.WithTimeout(context.Background(), labBootLimit)
	defer cancel()
	args := append([]string{"unshare", "--mount", "--propagation", "private", "bash", filepath.Join(fixtures, "boot.sh"), s.dir}, command...)
	if s.cgroup != nil { // the boot joins the group first: every daemon it starts is in it
		args = append([]string{"bash", "-c", `echo $$ >"$1" && exec "${@:2}"`, "join-cgroup", s.cgroup.procsFile()}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = s.env()
	started := time.Now()
	raw, err := cmd.CombinedOutput()
	r := bootResult{Duration: time.Since(started), Log: s.read("converge.log"), Calls: s.read("calls.log"),
		Status: strings.TrimSpace(s.read("converge.status")), Check: strings.TrimSpace(s.read("render-check.status"))}
	if err != nil || r.Status != "0" || (r.Check != "" && r.Check != "0") {
		r.Err = fmt.Errorf("%s boot %d failed (converge status %q, render check %q): %w\n%s", s.name(), s.boots, r.Status, r.Check, err, raw)
	}
	return r
}

// env is the environment of the server's programs: the stubs first, the real AWS CLI, and
// where the stand-ins are.
func (s *webServer) env() []string {
	stubs, _ := filepath.Abs("testdata/site/stubs")
	fixtures, _ := filepath.Abs("testdata/site")
	return append([]string{
		"PATH=" + stubs + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:" + filepath.Dir(s.l.awsPath),
		"HOME=/root", "LANG=C.UTF-8", "SITE_OUT=" + filepath.Join(s.dir, "out"), "SITE_FIXTURES=" + fixtures, "SERVER_ADDR=" + s.addr,
		"SITE_EFS=" + s.l.efs, "SITE_MACHINE_NETNS=" + os.Getenv("SITE_MACHINE_NETNS"), // see stubs/nft
	}, s.l.awsEnv()...)
}

func (s *webServer) read(rel string) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "out", rel))
	return string(b)
}

// pid is a daemon's PID as the systemctl stub recorded it (0 when none).
func (s *webServer) pid(daemon string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s.read("pids/" + daemon)))
	return n
}

// killDaemon ends a daemon and its workers (SIGKILL to its session's process group) and waits
// until they are gone.
func (s *webServer) killDaemon(daemon string) {
	pid := s.pid(daemon)
	if pid <= 0 {
		return
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	waitFor(10*time.Second, func() bool { return !groupAlive(pid) })
	_ = os.Remove(filepath.Join(s.dir, "out", "pids", daemon))
}

// groupAlive reports whether any process of the group still runs (zombies count as gone).
func groupAlive(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// stop ends the web server's daemons, as a shutdown does; kill is the same without grace.
func (s *webServer) stop() { s.kill() }

func (s *webServer) kill() {
	for _, d := range []string{"httpd", "php-fpm"} {
		s.killDaemon(d)
	}
}

// --- HTTP clients ---

// client reaches the site through addr (the load balancer, or one server directly) whatever
// host name a URL holds, trusts the public CA, and does not follow redirects.
func (l *lab) client(addr string, jar http.CookieJar) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(l.webCA.pem)
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	return &http.Client{
		Jar:     jar,
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, hostport string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(hostport)
				return dialer.DialContext(ctx, network, net.JoinHostPort(addr, port))
			},
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newJar() http.CookieJar {
	j, _ := cookiejar.New(nil)
	return j
}

// reply is what a request got back, read and closed.
type reply struct {
	Code     int    // 0 when there was no response
	Status   string // "200 OK", or "no response"
	Header   http.Header
	Body     string
	Cookies  []*http.Cookie
	Location string // the redirect target, resolved against the request URL
}

// fetch makes one request and reads the whole answer.
func fetch(c *http.Client, method, target string, header http.Header, body io.Reader) (reply, error) {
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return reply{Status: "no response"}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{Status: "no response"}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := reply{Code: resp.StatusCode, Status: resp.Status, Header: resp.Header, Body: string(b), Cookies: resp.Cookies()}
	if loc, lerr := resp.Location(); lerr == nil {
		r.Location = loc.String()
	}
	return r, err
}

// probe requests url every interval until ctx ends and returns what each request got.
func probe(ctx context.Context, c *http.Client, url string, every time.Duration) <-chan []probeResult {
	done := make(chan []probeResult, 1)
	go func() {
		var results []probeResult
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			at := time.Now()
			got, err := fetch(c, http.MethodGet, url, nil, nil)
			r := probeResult{At: at, Latency: time.Since(at), OK: err == nil && got.Code == http.StatusOK}
			switch {
			case err != nil:
				r.Detail = err.Error()
			case !r.OK:
				r.Detail = got.Status
			}
			results = append(results, r)
			select {
			case <-ctx.Done():
				done <- results
				return
			case <-tick.C:
			}
		}
	}()
	return done
}

type probeResult struct {
	At      time.Time // when the request started
	Latency time.Duration
	OK      bool
	Detail  string
}

// outage summarises probe results: failed requests, slow ones (answered after more than a
// second: a user waiting), and the window from the first failed or slow request to the
// first good one after the last.
type outage struct {
	Requests, Failed int
	Slow             int // answered, but after more than a second
	Window           time.Duration
	FirstFail        time.Duration // after the origin summarise was given
	Kinds            map[string]int
}

// summarise reads probe results; times are counted from origin (the moment of the fault).
func summarise(results []probeResult, origin time.Time) outage {
	o := outage{Requests: len(results), Kinds: map[string]int{}}
	first, last := -1, -1
	for i, r := range results {
		slow := r.OK && r.Latency > time.Second
		if slow {
			o.Slow++
		}
		if !r.OK {
			o.Failed++
			o.Kinds[r.Detail]++
		}
		if !r.OK || slow {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		o.FirstFail = results[first].At.Sub(origin)
		end := results[len(results)-1].At
		if last+1 < len(results) {
			end = results[last+1].At
		}
		o.Window = end.Sub(results[first].At)
	}
	return o
}

func (o outage) String() string {
	if o.Failed == 0 && o.Slow == 0 {
		return fmt.Sprintf("%d requests, none failed or slow (>1s)", o.Requests)
	}
	kinds, _ := json.Marshal(o.Kinds)
	return fmt.Sprintf("%d requests, %d failed (%.1f%%), %d slow (>1s), window %.1fs %s", o.Requests, o.Failed,
		100*float64(o.Failed)/float64(o.Requests), o.Slow, o.Window.Seconds(), kinds)
}

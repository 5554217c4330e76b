//go:build lab

package main

// Runs the rendered converge script for real, phase by phase: bash and php are the machine's
// own, the system commands that would reach AWS or change the host (aws, curl, dnf, rpm,
// systemctl, chown...) are stubs, and the script's absolute paths (/var/www/html, /etc/httpd,
// /run...) land in a copy-on-write overlay of / inside a private mount namespace, so the host
// is never touched. A fake WordPress records what the script asked it to do; the site test
// (site_test.go) runs the same script against the real one.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeWordPress is the part of WordPress install.php touches. State goes to $FAKE_DB.
var fakeWordPress = map[string]string{
	"wordpress/index.php":                     "<?php // fake WordPress front controller\n",
	"wordpress/wp-includes/version.php":       "<?php $wp_version = '0.0-fake';\n",
	"wordpress/wp-admin/includes/upgrade.php": "<?php // fake upgrade.php\nfunction wp_upgrade() { fake_log( 'upgrades.log', 'wp_upgrade' ); update_option( 'db_version', $GLOBALS['wp_db_version'] ); }\n",
	"wordpress/wp-admin/includes/plugin.php":  "<?php // fake plugin.php\nfunction get_plugins( $dir ) { return array(); }\n",
	"wordpress/wp-load.php": `<?php
define( 'ABSPATH', __DIR__ . '/' );
require ABSPATH . 'wp-config.php';
`,
	"wordpress/wp-settings.php": `<?php
// Fake WordPress API: install.php's calls, recorded in the fake database directory.
function fake_db( $f ) { return getenv( 'FAKE_DB' ) . '/' . $f; }
function fake_log( $f, $line ) { file_put_contents( fake_db( $f ), $line . "\n", FILE_APPEND ); }
class Fake_Wpdb {
	public $users = 'wp_users';
	public function get_var( $q ) { fake_log( 'queries.log', $q ); return str_contains( $q, 'GET_LOCK' ) ? '1' : null; }
	public function update( $table, $data, $where ) { fake_log( 'updates.log', $table . ' ' . json_encode( $data ) . ' ' . json_encode( $where ) ); return 1; }
}
$GLOBALS['wpdb'] = new Fake_Wpdb();
$GLOBALS['wp_version']    = '0.0-fake';
$GLOBALS['wp_db_version'] = 1000;
function fake_options() { return json_decode( (string) @file_get_contents( fake_db( 'options.json' ) ), true ) ?: array(); }
function get_option( $k ) { return fake_options()[ $k ] ?? false; }
function update_option( $k, $v, $autoload = null ) { $o = fake_options(); $o[ $k ] = $v; file_put_contents( fake_db( 'options.json' ), json_encode( $o ) ); fake_log( 'options.log', "$k=" . json_encode( $v ) ); }
function is_blog_installed() { return file_exists( fake_db( 'installed.json' ) ); }
function is_wp_error( $x ) { return false; }
function get_user_by( $field, $v ) { return 'wpadmin' === $v ? (object) array( 'ID' => 1 ) : false; }
function clean_user_cache( $id ) {}
function sanitize_title( $s ) { return strtolower( $s ); }
function wp_install( $title, $user, $email, $public, $deprecated, $password, $lang ) {
	update_option( 'db_version', $GLOBALS['wp_db_version'] );
	file_put_contents( fake_db( 'installed.json' ), json_encode( array(
		'title' => $title, 'user' => $user, 'email' => $email, 'password' => $password, 'lang' => $lang,
		'db_user' => DB_USER, 'db_password' => DB_PASSWORD, 'db_host' => DB_HOST, 'db_name' => DB_NAME,
		'home' => WP_HOME, 'siteurl' => WP_SITEURL, 'client_flags' => MYSQL_CLIENT_FLAGS,
		'notified' => function_exists( 'wp_new_blog_notification' ),
	) ) );
	return array( 'user_id' => 1 );
}
`,
}

// stubs replace the commands that reach AWS or the package manager. @F@ is the fixture dir.
// A fixture file breaks one step (failSteps): ssm-fails, secrets-fail, mount-fails,
// dbuser-fails, install-fails, render-fails; describe-fails and complete-fails hold how many
// Auto Scaling calls fail before one succeeds; render-down how many requests of the render
// check find no web server.
var stubs = map[string]string{
	"aws": `#!/bin/bash
echo "aws $*" >>@F@/calls.log
# fail_times FILE: true (and one fewer left) while FILE counts failures to come.
fail_times() { local n; n=$(cat "@F@/$1" 2>/dev/null || echo 0); ((n > 0)) && echo $((n - 1)) >"@F@/$1"; }
denied() { printf '\nAn error occurred (%s) when calling the %s operation: %s\n' "$@" >&2; exit 254; }
case "$1 $2" in
  "ssm get-parameters-by-path")
    [[ -f @F@/ssm-fails ]] && denied AccessDeniedException GetParametersByPath "User: arn:aws:sts::123456789012:assumed-role/web/i-0fake0instance is not authorized to perform: ssm:GetParametersByPath"
    n=$(($(cat @F@/polls 2>/dev/null || echo 0) + 1))
    echo "$n" >@F@/polls
    # RDS is still being created for the first two polls: no endpoint yet.
    if ((n < 3)); then cat @F@/params-early.json; else cat @F@/params.json; fi ;;
  "secretsmanager get-secret-value")
    [[ -f @F@/secrets-fail ]] && denied AccessDeniedException GetSecretValue "not authorized to perform: secretsmanager:GetSecretValue"
    while (($#)); do [[ $1 == --secret-id ]] && id=$2; shift; done
    cat "@F@/secrets/${id##*:}" ;;
  "autoscaling describe-auto-scaling-instances")
    fail_times describe-fails && denied Throttling DescribeAutoScalingInstances "Rate exceeded"
    cat @F@/lifecycle-state 2>/dev/null || echo "None None" ;;
  "autoscaling complete-lifecycle-action")
    fail_times complete-fails && denied Throttling CompleteLifecycleAction "Rate exceeded"
    exit 0 ;;
  *) echo "aws stub: unexpected $*" >&2; exit 2 ;;
esac
`,
	"curl": `#!/bin/bash
out= url= header= to=
while (($#)); do
  case $1 in
    --output|--proto|--header|--connect-to|--write-out|--max-time)
      case $1 in --output) out=$2 ;; --header) header=$2 ;; --connect-to) to=$2 ;; esac
      shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "curl $url${header:+ [$header]}${to:+ via $to}" >>@F@/calls.log
# The render check's requests to the server's own web server, answered as --write-out
# '\n%{http_code} %{redirect_url}' prints: a whole page, or WordPress's critical-error page.
if [[ $url == http://* ]]; then
  n=$(cat @F@/render-down 2>/dev/null || echo 0)
  if ((n > 0)); then echo $((n - 1)) >@F@/render-down; printf '\n000 '; exit 7; fi
  if [[ -f @F@/render-fails ]]; then
    printf '<!DOCTYPE html><html><body id="error-page"><div class="wp-die-message"><p>There has been a critical error on this website.</p></div></body></html>\n500 '
  else
    printf '<!DOCTYPE html><html><body class="search search-no-results"><form name="loginform" id="loginform"></form></body></html>\n200 '
  fi
  exit 0
fi
case $url in
  https://*.sha1) src=@F@/fixtures/archive.sha1 ;;
  https://truststore.pki.rds.amazonaws.com/*) src=@F@/fixtures/rds-ca.pem ;;
  https://*.tar.gz) src=@F@/fixtures/archive.tar.gz ;;
  *) echo "curl stub: refusing $url" >&2; exit 22 ;;
esac
if [[ -n $out ]]; then cp "$src" "$out"; else cat "$src"; fi
`,
	// What the httpd package would create.
	"dnf": "#!/bin/bash\necho \"dnf $*\" >>@F@/calls.log\nmkdir -p /etc/httpd/conf.d /etc/php-fpm.d /var/www/html\ntouch @F@/packages-installed\n",
	"rpm": "#!/bin/bash\n[[ -f @F@/packages-installed ]]\n",
	// The render check unit, started with the web server, runs after the boot (the harness).
	"systemctl": `#!/bin/bash
echo "systemctl $*" >>@F@/calls.log
case $1 in
  is-active) [[ ${*: -1} == amazon-cloudwatch-agent.service ]] && exec test -f /run/agent-running; [[ -f /run/httpd-running ]] ;;
  start)
    [[ " $* " != *" httpd.service "* ]] || touch /run/httpd-running
    [[ " $* " != *" wordpress-render-check.service "* ]] || touch /run/render-check-queued ;;
esac
`,
	// The metadata firewall: recorded, then loaded for real in a network namespace of its own
	// that ends with the command (never the machine's), and listed back as the kernel holds it.
	"nft": `#!/bin/bash
echo "nft $*" >>@F@/calls.log
cat >@F@/nft-rules
if [[ -f @F@/nft-fails ]]; then echo "Error: Could not process rule: Operation not supported" >&2; exit 1; fi
unshare --net bash -c '/usr/sbin/nft -f "$1" && /usr/sbin/nft list ruleset' _ @F@/nft-rules | sed 's/^/nft-loaded: /' >>@F@/calls.log
exit "${PIPESTATUS[0]}"
`,
	"update-ca-trust":             "#!/bin/bash\necho \"update-ca-trust $*\" >>@F@/calls.log\n",
	"amazon-cloudwatch-agent-ctl": "#!/bin/bash\necho \"amazon-cloudwatch-agent-ctl $*\" >>@F@/calls.log\ntouch /run/agent-running\n",
	// The shared uploads: mounted means a marker in the overlay's /run (gone after a reboot).
	"mount":      "#!/bin/bash\necho \"mount $*\" >>@F@/calls.log\n[[ -f @F@/mount-fails ]] && exit 32\ntouch /run/uploads-mounted\n",
	"mountpoint": "#!/bin/bash\n[[ -f /run/uploads-mounted ]]\n",
	"umount":     "#!/bin/bash\necho \"umount $*\" >>@F@/calls.log\nrm -f /run/uploads-mounted\n",
	"chown":      "#!/bin/bash\necho \"chown $*\" >>@F@/calls.log\n",
	// The database server for dbuser.php (the site test runs it against a real one): the
	// user exists once ensure ran with the master credential; check passes while its
	// password is the secret's.
	"php": `#!/bin/bash
if [[ ${1:-} == */install.php ]]; then
  echo "php install.php" >>@F@/calls.log
  [[ -f @F@/install-fails ]] && { echo "Error establishing a database connection" >&2; exit 1; }
fi
if [[ ${1:-} != */dbuser.php ]]; then
  exec /usr/bin/php "$@"
fi
echo "php dbuser.php $2" >>@F@/calls.log
[[ -f @F@/dbuser-fails ]] && { echo "dbuser: cannot connect to the database" >&2; exit 1; }
field() { /usr/bin/php -r '$s = json_decode((string) fgets(STDIN), true); echo $s[$argv[1]] ?? "";' "$1"; }
case $2 in
  check)
    app=$(head -n 1)
    [[ -f @F@/db/app-user ]] && [[ $(field password <<<"$app") == "$(cat @F@/db/app-user)" ]] && exit 0
    echo "dbuser: no such user" >&2
    exit 3 ;;
  ensure)
    { read -r master && read -r app; } || exit 1
    [[ $(field username <<<"$master") == admin && $(field password <<<"$master") == "$(cat @F@/master-password)" ]] || exit 1
    field password <<<"$app" >@F@/db/app-user
    echo "wordpress-converge: database user $(field username <<<"$app") set up" ;;
esac
`,
	"sleep": "#!/bin/bash\necho \"sleep $*\" >>@F@/calls.log\n",
	"install": `#!/bin/bash
args=()
while (($#)); do
  case $1 in
    -o|-g) shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
exec /usr/bin/install "${args[@]}"
`,
}

// harness mounts an overlay of / on tmpfs, chroots into it and runs the converge script once
// per mode argument after the first ("prepare", "boot", "refresh"), emptying /run as a reboot
// would, except before a refresh (a running server). Afterwards it copies what the script
// left behind out of the overlay.
const harness = `#!/bin/bash
set -uo pipefail
F=$1; shift
mnt=$F/mnt
mkdir -p "$mnt/root" "$mnt/rw"
mount -t tmpfs tmpfs "$mnt/rw" || exit 90
mkdir -p "$mnt/rw/upper" "$mnt/rw/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$mnt/rw/upper,workdir=$mnt/rw/work" "$mnt/root" || exit 91
mount --bind /dev "$mnt/root/dev" && mount -t proc proc "$mnt/root/proc" || exit 92
mkdir -p "$mnt/root/var/lib/cloud/data" && echo i-0fake0instance >"$mnt/root/var/lib/cloud/data/instance-id"
boot=0
for mode in "$@"; do
  boot=$((boot + 1))
  reboot='rm -rf /run/wordpress /run/wordpress-converge.lock /run/httpd-running /run/uploads-mounted /run/agent-running;'
  [[ $mode == refresh ]] && reboot=
  echo "--- boot $boot: $mode" >>"$mnt/root$F/calls.log"
  # Once a converge that asked for it succeeded, the render check unit (after the web server).
  chroot "$mnt/root" /usr/bin/env -i PATH="$F/stubs:/usr/sbin:/usr/bin:/sbin:/bin" FAKE_DB="$F/db" \
    bash -c "$reboot"' bash "$1" "$2" && { [[ ! -f /run/render-check-queued ]] || { rm /run/render-check-queued && bash "$1" check; }; }' \
    _ "$F/converge" "$mode" >"$F/boot$boot.log" 2>&1
  echo $? >"$F/boot$boot.status"
  [[ -f $F/after-boot$boot ]] && cp "$F/after-boot$boot" "$mnt/root$F/$(head -n 1 "$F/after-boot$boot.target")"
done
mkdir -p "$F/result"
for p in var/www/html/wp-config.php var/www/html/healthz.php var/www/html/wp-content/mu-plugins/edge-cache.php run/wordpress/runtime.php run/wordpress/settings.json \
  etc/httpd/conf.d/wordpress.conf var/lib/wordpress-converge/wordpress-files var/lib/wordpress-converge/prepared \
  var/lib/wordpress-converge/prepare-failed var/www/html/index.php var/log/wordpress-converge.log \
  opt/aws/amazon-cloudwatch-agent/etc/wordpress-logs.json etc/php-fpm.d/zz-sizing.conf etc/php.d/90-sizing.ini etc/httpd/conf.d/sizing.conf; do
  if [[ -e $mnt/root/$p ]]; then
    mkdir -p "$F/result/$(dirname "$p")"
    cp -a "$mnt/root/$p" "$F/result/$p"
  fi
done
cp -a "$mnt/root$F/db" "$mnt/root$F/calls.log" "$F/result/" 2>/dev/null
exit 0
`

type convergeSandbox struct {
	t   *testing.T
	dir string
}

func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	convergeDBPassword     = `db'pa"ss\w$rd` + "`x`"
	convergeMasterPassword = `Mast3r!#$%^&*()-_=+[]{}<>:?,.`
	convergeAdminPassword  = `Adm!n@#$%&*()-_=+[]{}<>:?9x`
	convergeDBSecretARN    = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db-app-credentials-abc123-XyZ123"
	convergeMasterARN      = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf"
	convergeWPSecretARN    = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:web-wordpress-abc123-XyZ123"
	convergeDBHost         = "wp-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com"
	convergeSiteURL        = "http://lb-alb-123.ap-northeast-1.elb.amazonaws.com"
)

// convergeSite are the site settings of the sandbox, as the program publishes them.
func convergeSite(title string) map[string]string {
	return map[string]string{settingDBName: dbName, settingDBAppSecret: convergeDBSecretARN, settingWPSecret: convergeWPSecretARN,
		settingSiteURL: convergeSiteURL, settingTitle: title, settingAdminUser: "wpadmin", settingEmail: "admin@example.com", settingLocale: "ja",
		settingUploadsFS: "fs-0123456789abcdef0", settingUploadsAP: "fsap-0123456789abcdef0",
		settingProto: "X-Forwarded-Proto", settingCookie: cookieHash("/scalable-wordpress/converge"), settingStaging: "0"}
}

// parametersByPath is what `aws ssm get-parameters-by-path` prints for the stack's settings.
func parametersByPath(t *testing.T, path string, site map[string]string, dbHost string) string {
	t.Helper()
	siteJSON, _ := json.Marshal(site)
	params := []any{map[string]any{"Name": path + "/" + siteParameterLeaf, "Type": "String", "Value": string(siteJSON)}}
	if dbHost != "" { // RDS is up: its endpoint and its secret
		params = append(params, map[string]any{"Name": path + "/" + dbHostParameterLeaf, "Type": "String", "Value": dbHost},
			map[string]any{"Name": path + "/" + dbMasterSecretParameterLeaf, "Type": "String", "Value": convergeMasterARN})
	}
	b, _ := json.Marshal(map[string]any{"Parameters": params})
	return string(b)
}

// newConvergeSandbox prepares fixtures, stubs and the rendered script. checksum overrides
// the published SHA-1 when not empty.
func newConvergeSandbox(t *testing.T, checksum string) *convergeSandbox {
	t.Helper()
	needTool(t, "php", "php-cli")
	needTool(t, "flock", "util-linux")
	needTool(t, "nft", "nftables")
	if os.Geteuid() != 0 {
		t.Fatal(labMissing("the converge sandbox", "root (mount namespace, overlay, chroot)"))
	}
	if out, err := exec.Command("php", "-r", `exit(defined("MYSQLI_CLIENT_SSL") ? 0 : 1);`).CombinedOutput(); err != nil {
		t.Fatal(labMissing("the converge sandbox", "php's mysqli extension (apt-get install php-mysql): "+string(out)))
	}
	dir := t.TempDir()
	s := &convergeSandbox{t: t, dir: dir}
	archive := tarGz(t, fakeWordPress)
	sum := sha1.Sum(archive)
	if checksum == "" {
		checksum = hex.EncodeToString(sum[:])
	}
	p := sampleParams()
	p.Plugins, p.Themes = nil, nil // wordpress.org's plugins and themes: the site test, against real archives
	dbSecret, err := dbCredentialsJSON(dbAppUser, convergeDBPassword)
	if err != nil {
		t.Fatal(err)
	}
	masterSecret := `{"username":"admin","password":` + strconv.Quote(convergeMasterPassword) + `}` // RDS's shape
	salts := make([]string, len(wordpressSaltNames))
	for i := range salts {
		salts[i] = strings.Repeat(string(rune('a'+i)), saltLength)
	}
	wpSecret, err := wordpressSecretJSON(convergeAdminPassword, salts)
	if err != nil {
		t.Fatal(err)
	}
	converge, err := renderConverge(p)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"fixtures/archive.tar.gz":                        string(archive),
		"fixtures/archive.sha1":                          checksum + "\n",
		"fixtures/rds-ca.pem":                            "-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n",
		"params-early.json":                              parametersByPath(t, p.SettingsPath, convergeSite(trickyTitle), ""),
		"params.json":                                    parametersByPath(t, p.SettingsPath, convergeSite(trickyTitle), convergeDBHost),
		"secrets/" + lastField(convergeDBSecretARN, ":"): dbSecret + "\n",
		"secrets/" + lastField(convergeMasterARN, ":"):   masterSecret + "\n",
		"master-password":                                convergeMasterPassword,
		"secrets/" + lastField(convergeWPSecretARN, ":"): wpSecret + "\n",
		"lifecycle-state":                                "web-asg-abc123\tPending:Wait\n",
		"converge":                                       converge,
		"harness":                                        harness,
		"db/.keep":                                       "",
		"calls.log":                                      "",
	}
	for name, body := range stubs {
		files["stubs/"+name] = strings.ReplaceAll(body, "@F@", dir)
	}
	for name, body := range files {
		s.write(name, body)
	}
	return s
}

func (s *convergeSandbox) write(name, body string) {
	path := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		s.t.Fatal(err)
	}
}

func lastField(s, sep string) string { return s[strings.LastIndex(s, sep)+1:] }

// boot runs the converge script once per mode in one sandbox and returns each exit status.
func (s *convergeSandbox) boot(modes ...string) []string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--mount", "--propagation", "private", "bash", filepath.Join(s.dir, "harness"), s.dir}, modes...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	// A hung boot (a retry loop waiting for a setting) dies with its whole process group at
	// the timeout: nothing of the sandbox outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("sandbox harness failed (needs unshare, overlayfs, tmpfs): %v\n%s", err, out)
	}
	var statuses []string
	for i := range modes {
		statuses = append(statuses, strings.TrimSpace(s.read("boot"+strconv.Itoa(i+1)+".status")))
	}
	return statuses
}

// between returns the calls one boot made.
func (s *convergeSandbox) calls(boot int) string {
	all := s.read("result/calls.log")
	_, rest, _ := strings.Cut(all, "--- boot "+strconv.Itoa(boot)+":")
	if next := strings.Index(rest, "--- boot "); next >= 0 {
		rest = rest[:next]
	}
	return rest
}

func (s *convergeSandbox) read(rel string) string {
	b, err := os.ReadFile(filepath.Join(s.dir, rel))
	if err != nil {
		return ""
	}
	return string(b)
}

// The builder prepares (no setting, no secret); a server from its image only configures; a
// reboot finds everything done; a refresh applies a changed title.
func TestConvergePhases(t *testing.T) {
	s := newConvergeSandbox(t, "")
	// Before the refresh (boot 4) the title changes in SSM.
	s.write("after-boot3", parametersByPath(t, sampleParams().SettingsPath, convergeSite("新しいタイトル"), convergeDBHost))
	s.write("after-boot3.target", "params.json\n")
	statuses := s.boot(convergePrepare, convergeBoot, convergeBoot, "refresh")
	for i, st := range statuses {
		if st != "0" {
			t.Fatalf("boot %d exited %s:\n%s", i+1, st, s.read("boot"+strconv.Itoa(i+1)+".log"))
		}
	}

	// The builder: packages, CA, WordPress (checked), static config. Nothing from AWS: the
	// image holds no setting and no secret, and no web server runs.
	prepare := s.calls(1)
	expectAll(t, prepare, "prepare did not run", []string{
		"dnf install --assumeyes httpd php8.3 php8.3-fpm php8.3-mysqlnd php8.3-mbstring php8.3-xml php8.3-gd php8.3-intl php8.3-opcache amazon-efs-utils unzip",
		"curl https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
		"update-ca-trust extract",
		"curl https://ja.wordpress.org/wordpress-7.0-ja.tar.gz\n",
		"curl https://ja.wordpress.org/wordpress-7.0-ja.tar.gz.sha1",
	}...)
	for _, unwanted := range []string{"aws ", "systemctl start", "systemctl enable"} {
		if strings.Contains(prepare, unwanted) {
			t.Errorf("prepare ran %q: the image must hold no setting or secret and run no server; calls:\n%s", unwanted, prepare)
		}
	}
	if got := strings.TrimSpace(s.read("result/var/lib/wordpress-converge/prepared")); got != "php=8.3 wordpress=https://ja.wordpress.org/wordpress-7.0-ja.tar.gz" {
		t.Errorf("prepared marker %q", got)
	}

	// A server from the image: configures only; waits for the endpoint; installs; starts
	// the web server; once it runs, checks that WordPress renders, then completes the launch
	// hook.
	boot := s.calls(2)
	for _, unwanted := range []string{"dnf ", "curl https://", "update-ca-trust"} {
		if strings.Contains(boot, unwanted) {
			t.Errorf("a server from the image ran %q again; calls:\n%s", unwanted, boot)
		}
	}
	expectAll(t, boot, "a server from the image did not run", []string{
		"aws ssm get-parameters-by-path --path /scalable-wordpress/dev --output json",
		"sleep 15", // the endpoint was not there yet
		"aws secretsmanager get-secret-value --secret-id " + convergeDBSecretARN,
		// The shared uploads over TLS with IAM through the access point, before the web server.
		"mount -t efs -o tls,iam,accesspoint=fsap-0123456789abcdef0,_netdev,noresvport fs-0123456789abcdef0:/ /var/www/html/wp-content/uploads",
		"systemctl enable php-fpm.service httpd.service wordpress-cron.timer",
		"systemctl start --no-block php-fpm.service httpd.service wordpress-cron.timer " + renderCheckUnit + ".service",
		"aws autoscaling complete-lifecycle-action --auto-scaling-group-name web-asg-abc123 --lifecycle-hook-name " + launchHookName +
			" --instance-id i-0fake0instance --lifecycle-action-result CONTINUE",
	}...)
	checkRendersBeforeContinue(t, boot, convergeSiteURL, "http")
	if m, e := strings.Index(boot, "mount -t efs"), strings.Index(boot, "systemctl start"); m < 0 || e < m {
		t.Errorf("the uploads must be mounted before the web server starts; calls:\n%s", boot)
	}
	// WordPress's own database user: missing on a new database, so the first boot reads the
	// master credential and sets the user up, before WordPress first connects (as it).
	readMaster := "aws secretsmanager get-secret-value --secret-id " + convergeMasterARN
	check, master, ensure, install := strings.Index(boot, "php dbuser.php check"), strings.Index(boot, readMaster),
		strings.Index(boot, "php dbuser.php ensure"), strings.Index(boot, "systemctl start")
	// (A pipeline's commands start together: the master's read and ensure log in either order.)
	if check < 0 || master < check || ensure < check || install < master || install < ensure ||
		!strings.Contains(s.read("boot2.log"), "database user "+dbAppUser+" set up") {
		t.Errorf("the first boot must check WordPress's user, then read the master credential and set it up, before serving; calls:\n%s\n%s", boot, s.read("boot2.log"))
	}
	// Once it exists, no run reads the master credential: a reboot, a refresh.
	for _, i := range []int{3, 4} {
		if calls := s.calls(i); strings.Contains(calls, readMaster) || strings.Contains(calls, "dbuser.php ensure") || !strings.Contains(calls, "dbuser.php check") {
			t.Errorf("boot %d read the master credential, or did not check WordPress's user, although the user exists; calls:\n%s", i, calls)
		}
	}
	// Sized to the machine before the web server starts (boot/sizing.sh; sizing_test.go).
	if !strings.Contains(s.read("boot2.log"), "wordpress-converge: sized for ") {
		t.Errorf("a serving boot did not size PHP to the machine:\n%s", s.read("boot2.log"))
	}
	for file, want := range map[string]string{"/etc/php-fpm.d/zz-sizing.conf": "pm = static", "/etc/php.d/90-sizing.ini": "opcache.memory_consumption",
		"/etc/httpd/conf.d/sizing.conf": "MaxRequestWorkers"} {
		if !strings.Contains(s.read("result"+file), want) {
			t.Errorf("%s lacks %q:\n%s", file, want, s.read("result"+file))
		}
	}
	if !strings.Contains(s.read("boot2.log"), "wordpress-converge: installed") ||
		!strings.Contains(s.read("boot3.log"), "wordpress-converge: already installed") {
		t.Errorf("want install on the first serving boot and a skip on the reboot:\n%s\n---\n%s", s.read("boot2.log"), s.read("boot3.log"))
	}

	// What WordPress was asked to install, with which settings.
	var got map[string]any
	if err := json.Unmarshal([]byte(s.read("result/db/installed.json")), &got); err != nil {
		t.Fatalf("fake WordPress was not installed: %v", err)
	}
	want := map[string]any{
		"title": trickyTitle, "user": "wpadmin", "email": "admin@example.com", "password": convergeAdminPassword,
		"lang": "ja", "db_user": dbAppUser, "db_password": convergeDBPassword, "db_name": "wordpress",
		"db_host": convergeDBHost, "home": convergeSiteURL, "siteurl": convergeSiteURL,
		"client_flags": float64(2048 | 1073741824), "notified": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("install %s = %#v, want %#v", k, got[k], v)
		}
	}
	if !strings.Contains(s.read("result/db/queries.log"), "GET_LOCK('wordpress-converge-install'") {
		t.Error("install did not take the MySQL named lock")
	}

	// The refresh: the changed title is applied, nothing is restarted but PHP reloaded.
	refresh := s.calls(4)
	if !strings.Contains(s.read("boot4.log"), "applied site-title") || !strings.Contains(s.read("result/db/options.log"), `blogname="\u65b0\u3057\u3044\u30bf\u30a4\u30c8\u30eb"`) {
		t.Errorf("the refresh did not apply the new title:\n%s\n%s", s.read("boot4.log"), s.read("result/db/options.log"))
	}
	for _, unwanted := range []string{"systemctl start", "complete-lifecycle-action"} {
		if strings.Contains(refresh, unwanted) {
			t.Errorf("the refresh ran %q; calls:\n%s", unwanted, refresh)
		}
	}
	// ... but checks that the running web server still renders WordPress with the new settings.
	if !strings.Contains(refresh, "curl "+convergeSiteURL+"/wp-login.php") || !strings.Contains(s.read("boot4.log"), "WordPress renders") {
		t.Errorf("the refresh did not check that WordPress renders; calls:\n%s", refresh)
	}

	// Files: code from the archive, config without secrets, secrets only under /run.
	if s.read("result/var/www/html/index.php") != fakeWordPress["wordpress/index.php"] {
		t.Error("WordPress files were not unpacked into /var/www/html")
	}
	wpConfig := s.read("result/var/www/html/wp-config.php")
	runtime := s.read("result/run/wordpress/runtime.php")
	if !strings.Contains(wpConfig, "require '/run/wordpress/runtime.php';") || !strings.Contains(runtime, "'DB_PASSWORD'") {
		t.Errorf("wp-config.php must load the runtime config from /run:\n%s", wpConfig)
	}
	for rel, mode := range map[string]os.FileMode{"result/var/www/html/wp-config.php": 0o640, "result/run/wordpress/runtime.php": 0o640} {
		if info, err := os.Stat(filepath.Join(s.dir, rel)); err != nil || info.Mode().Perm() != mode {
			t.Errorf("%s mode = %v (%v), want %v", rel, info.Mode().Perm(), err, mode)
		}
	}
	for _, f := range []string{runtime, s.read("result/run/wordpress/settings.json")} {
		if strings.Contains(f, convergeMasterPassword) || strings.Contains(f, "'"+dbUser+"'") {
			t.Errorf("the runtime config holds the master credential:\n%s", f)
		}
	}
	for _, secret := range []string{"db'pa", convergeMasterPassword, "Adm!n", strings.Repeat("a", 20)} {
		if strings.Contains(wpConfig, secret) {
			t.Errorf("wp-config.php (on the root volume, so in the image) holds a secret %q", secret)
		}
		for i := 1; i <= 4; i++ {
			if log := s.read("boot" + strconv.Itoa(i) + ".log"); strings.Contains(log, secret) {
				t.Errorf("boot %d's journal shows a secret %q", i, secret)
			}
		}
		if strings.Contains(s.read("result/calls.log"), secret) {
			t.Errorf("a command line shows a secret %q", secret)
		}
	}
	if s.read("result/var/www/html/healthz.php") == "" || !strings.Contains(s.read("result/etc/httpd/conf.d/wordpress.conf"), "RewriteRule . /index.php [L]") {
		t.Error("the health page or the Apache config for permalinks was not written")
	}
	if !strings.Contains(s.read("result/var/www/html/wp-content/mu-plugins/edge-cache.php"), "is_search() || is_preview()") {
		t.Error("the must-use plugin that keeps search results and previews out of the CDN's cache was not written")
	}
}

// checkRendersBeforeContinue: once the web server was started, the boot asked it for the front
// page (a query no cache holds), the login form and a search, for the site's host with the
// edge's protocol header saying its scheme, through 127.0.0.1, and only then completed its
// launch with CONTINUE.
func checkRendersBeforeContinue(t *testing.T, calls, siteURL, scheme string) {
	t.Helper()
	started := strings.Index(calls, "systemctl start --no-block php-fpm.service httpd.service")
	continued := strings.Index(calls, "--lifecycle-action-result CONTINUE")
	for _, page := range []string{"/?wordpress-converge=", "/wp-login.php [", "/?s=wordpress-converge-"} {
		req := "curl " + siteURL + page
		i := strings.Index(calls, req)
		if i < 0 || i < started || (continued >= 0 && i > continued) {
			t.Errorf("no request %q between the web server's start and CONTINUE; calls:\n%s", req, calls)
			continue
		}
		if line, _, _ := strings.Cut(calls[i:], "\n"); !strings.HasSuffix(line, "[X-Forwarded-Proto: "+scheme+"] via ::127.0.0.1:80") {
			t.Errorf("the render check's request is not the edge's, to this server: %q", line)
		}
	}
}

func TestConvergeRefusesATamperedArchive(t *testing.T) {
	s := newConvergeSandbox(t, strings.Repeat("0", 40))
	if st := s.boot(convergePrepare); st[0] == "0" {
		t.Fatalf("converge accepted an archive whose SHA-1 does not match:\n%s", s.read("boot1.log"))
	}
	if !strings.Contains(s.read("boot1.log"), "checksum mismatch") {
		t.Errorf("want a checksum message, got:\n%s", s.read("boot1.log"))
	}
	if s.read("result/var/lib/wordpress-converge/prepare-failed") == "" && !fileExists(filepath.Join(s.dir, "result/var/lib/wordpress-converge/prepare-failed")) {
		t.Error("a failed prepare must leave its marker (the image builder's wait fails on it)")
	}
	for _, p := range []string{"result/var/lib/wordpress-converge/wordpress-files", "result/var/lib/wordpress-converge/prepared", "result/var/www/html/index.php"} {
		if fileExists(filepath.Join(s.dir, p)) {
			t.Errorf("%s exists after a failed checksum", p)
		}
	}
}

// A server that cannot configure abandons its launch: the group replaces it at once rather
// than waiting out the hook's timeout.
func TestConvergeAbandonsTheLaunchWhenConfiguringFails(t *testing.T) {
	s := newConvergeSandbox(t, "")
	s.write("secrets/"+lastField(convergeWPSecretARN, ":"), `{"salts":{}}`+"\n") // no admin password, no salts
	st := s.boot(convergePrepare, convergeBoot)
	if st[1] == "0" {
		t.Fatalf("converge succeeded without the WordPress secret's values:\n%s", s.read("boot2.log"))
	}
	if calls := s.calls(2); !strings.Contains(calls, "--lifecycle-action-result ABANDON") || strings.Contains(calls, "systemctl start") {
		t.Errorf("a failed configure must abandon the launch and start no web server; calls:\n%s", calls)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// A server that cannot mount the shared uploads must not serve its local folder: converge
// fails, the launch is abandoned and no web server starts.
func TestConvergeFailsWithoutTheSharedUploads(t *testing.T) {
	s := newConvergeSandbox(t, "")
	s.write("mount-fails", "")
	st := s.boot(convergePrepare, convergeBoot)
	if st[1] == "0" {
		t.Fatalf("converge succeeded without the shared uploads mounted:\n%s", s.read("boot2.log"))
	}
	calls := s.calls(2)
	if strings.Count(calls, "mount -t efs") != 10 || !strings.Contains(s.read("boot2.log"), "cannot mount the shared uploads fs-0123456789abcdef0") {
		t.Errorf("want 10 mount attempts and a journal line naming the file system; calls:\n%s\nlog:\n%s", calls, s.read("boot2.log"))
	}
	if !strings.Contains(calls, "--lifecycle-action-result ABANDON") || strings.Contains(calls, "systemctl start") {
		t.Errorf("a server without its uploads must abandon the launch and start no web server; calls:\n%s", calls)
	}
	// The journal the agent ships holds the line the converge-failures filter counts.
	if journal := s.read("result/var/log/wordpress-converge.log"); !strings.Contains(journal, convergeFailedMarker+": boot (exit ") ||
		!strings.Contains(journal, "cannot mount the shared uploads") {
		t.Errorf("the shipped journal lacks the failure (%q):\n%s", convergeFailedMarker, journal)
	}
}

// Every boot configures the CloudWatch agent with the stack's log groups, as the program
// names them, and the journal it ships is the script's own.
func TestConvergeShipsItsLogs(t *testing.T) {
	s := newConvergeSandbox(t, "")
	st := s.boot(convergePrepare, convergeBoot)
	if st[1] != "0" {
		t.Fatalf("boot failed:\n%s", s.read("boot2.log"))
	}
	if calls := s.calls(2); !strings.Contains(calls, "amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/wordpress-logs.json") {
		t.Errorf("the agent was not started with the logs config; calls:\n%s", calls)
	}
	var cfg struct {
		Logs struct {
			LogsCollected struct {
				Files struct {
					CollectList []struct {
						FilePath     string `json:"file_path"`
						LogGroupName string `json:"log_group_name"`
					} `json:"collect_list"`
				} `json:"files"`
			} `json:"logs_collected"`
		} `json:"logs"`
	}
	if err := json.Unmarshal([]byte(s.read("result/opt/aws/amazon-cloudwatch-agent/etc/wordpress-logs.json")), &cfg); err != nil {
		t.Fatalf("the agent config is not JSON: %v", err)
	}
	got := map[string]string{}
	for _, f := range cfg.Logs.LogsCollected.Files.CollectList {
		got[f.FilePath] = f.LogGroupName
	}
	for _, l := range serverLogs {
		if want := sampleParams().SettingsPath + "/" + l.leaf; got[l.file] != want {
			t.Errorf("%s ships to %q, want %q", l.file, got[l.file], want)
		}
	}
	if journal := s.read("result/var/log/wordpress-converge.log"); !strings.Contains(journal, "boot: converged") {
		t.Errorf("the shipped journal lacks the boot's lines:\n%s", journal)
	}
}

// PHP runs as the web server's user, and the metadata service hands the server's role
// credentials to any process that asks. Every serving boot (a reboot too: the rules live in
// the kernel, not on disk) and every refresh loads the rules that leave it to root alone,
// before PHP-FPM or Apache is started; the builder, which serves nothing, needs none.
func TestConvergeFirewallsTheMetadataServiceBeforeServing(t *testing.T) {
	s := newConvergeSandbox(t, "")
	statuses := s.boot(convergePrepare, convergeBoot, convergeBoot, "refresh")
	for i, st := range statuses {
		if st != "0" {
			t.Fatalf("boot %d exited %s:\n%s", i+1, st, s.read("boot"+strconv.Itoa(i+1)+".log"))
		}
	}
	// As the kernel lists the loaded table: root's uid, both addresses, refused.
	want := []string{"table inet " + metadataTable + " {",
		"ip daddr " + metadataIPv4 + " meta skuid != 0 counter packets 0 bytes 0 reject",
		"ip6 daddr " + metadataIPv6 + " meta skuid != 0 counter packets 0 bytes 0 reject"}
	for boot := 2; boot <= 4; boot++ {
		calls := s.calls(boot)
		loaded := strings.Index(calls, "nft -f -")
		if loaded < 0 {
			t.Errorf("boot %d loaded no metadata firewall; calls:\n%s", boot, calls)
			continue
		}
		expectAll(t, calls, fmt.Sprintf("boot %d: the loaded rules lack", boot), want...)
		for _, later := range []string{"aws ", "mount ", "systemctl enable", "systemctl start"} {
			if i := strings.Index(calls, later); i >= 0 && i < loaded {
				t.Errorf("boot %d ran %q before the metadata firewall was loaded; calls:\n%s", boot, later, calls)
			}
		}
		if boot < 4 && !strings.Contains(calls, "systemctl start --no-block php-fpm.service httpd.service") {
			t.Errorf("boot %d did not start the web server; calls:\n%s", boot, calls)
		}
	}
}

// A server that cannot load the rules must not serve with PHP able to take its credentials:
// the boot fails with the line the converge-failures alarm counts, the launch is abandoned
// and neither PHP-FPM nor Apache is started.
func TestConvergeFailsWithoutTheMetadataFirewall(t *testing.T) {
	s := newConvergeSandbox(t, "")
	s.write("nft-fails", "")
	st := s.boot(convergePrepare, convergeBoot)
	if st[0] != "0" {
		t.Fatalf("prepare needs no firewall, yet failed:\n%s", s.read("boot1.log"))
	}
	if st[1] == "0" {
		t.Fatalf("converge served without the metadata firewall:\n%s", s.read("boot2.log"))
	}
	calls := s.calls(2)
	if !strings.Contains(calls, "nft -f -") || strings.Contains(calls, "systemctl start") || !strings.Contains(calls, "--lifecycle-action-result ABANDON") {
		t.Errorf("want the firewall tried, no web server started and the launch abandoned; calls:\n%s", calls)
	}
	if journal := s.read("result/var/log/wordpress-converge.log"); !strings.Contains(journal, convergeFailedMarker+": boot (exit ") {
		t.Errorf("the shipped journal lacks %q:\n%s", convergeFailedMarker, journal)
	}
}

// The master credential is needed only to set WordPress's user up: a server whose user is in
// place converges when the master credential is out of reach (dbServersReadMaster off); one
// whose user is missing fails, says why, and abandons its launch.
func TestConvergeNeedsTheMasterCredentialOnlyToSetUpTheUser(t *testing.T) {
	unreadable := "secrets/" + lastField(convergeMasterARN, ":")
	inPlace := newConvergeSandbox(t, "")
	inPlace.write("db/app-user", convergeDBPassword)
	if err := os.Remove(filepath.Join(inPlace.dir, unreadable)); err != nil {
		t.Fatal(err)
	}
	if st := inPlace.boot(convergePrepare, convergeBoot); st[1] != "0" {
		t.Fatalf("a server whose database user is in place needs the master credential:\n%s", inPlace.read("boot2.log"))
	}
	if calls := inPlace.calls(2); strings.Contains(calls, convergeMasterARN) || strings.Contains(calls, "dbuser.php ensure") {
		t.Errorf("a server whose database user is in place asked for the master credential; calls:\n%s", calls)
	}

	missing := newConvergeSandbox(t, "")
	if err := os.Remove(filepath.Join(missing.dir, unreadable)); err != nil {
		t.Fatal(err)
	}
	if st := missing.boot(convergePrepare, convergeBoot); st[1] == "0" {
		t.Fatalf("a server set up WordPress's database user without the master credential:\n%s", missing.read("boot2.log"))
	}
	calls, journal := missing.calls(2), missing.read("boot2.log")
	if !strings.Contains(journal, "needs setting up: reading the master credential") || !strings.Contains(calls, "--lifecycle-action-result ABANDON") ||
		strings.Contains(calls, "systemctl start") || fileExists(filepath.Join(missing.dir, "result/db/installed.json")) {
		t.Errorf("without its database user and the master credential, a server must say why, abandon its launch and serve nothing; calls:\n%s\n%s", calls, journal)
	}
}

// failStep is one step of a serving boot that can fail, and how the sandbox breaks it.
type failStep struct {
	step    string
	fixture string // the file that breaks it (see stubs), and what it holds
	content string
	call    string // the step's first call, as calls.log records it
	says    string // what the journal says of the failure
	mode    string // the mode whose run fails: boot, or the render check's
}

// (Their names name the sandboxes' folders: no quote, comma or bracket, which its shell
// stubs and mount options would take for syntax.)
var failSteps = []failStep{
	{"the metadata firewall", "nft-fails", "", "nft -f -", "Could not process rule", convergeBoot},
	{"the settings fetch with SSM denying", "ssm-fails", "", "aws ssm get-parameters-by-path", "not authorized to perform: ssm:GetParametersByPath", convergeBoot},
	{"the secrets with Secrets Manager denying", "secrets-fail", "", "aws secretsmanager get-secret-value", "not authorized to perform: secretsmanager:GetSecretValue", convergeBoot},
	{"the uploads mount", "mount-fails", "", "mount -t efs", "cannot mount the shared uploads", convergeBoot},
	{"the database user", "dbuser-fails", "", "php dbuser.php check", "dbuser: cannot connect to the database", convergeBoot},
	{"the install", "install-fails", "", "php install.php", "Error establishing a database connection", convergeBoot},
	{"the render check", "render-fails", "", "curl http://", "render check: /?wordpress-converge=", convergeCheck},
	{"the web server never answering", "render-down", "100", "curl http://", "answered 000", convergeCheck},
	{"the launch hook API failing for good", "complete-fails", "100", "aws autoscaling complete-lifecycle-action", "could not complete the launch of i-0fake0instance: CONTINUE", convergeCheck},
}

// Every step of a serving boot that can fail, failed in turn: the journal that the agent
// ships holds exactly one FAILED line (the converge-failures filter counts lines) saying which
// run failed, and why; the agent was started before the step ran; the launch is abandoned only
// after the agent's flush time; and no failure before the web server starts it.
func TestConvergeReportsEveryFailureOnce(t *testing.T) {
	agentStart := "amazon-cloudwatch-agent-ctl -a fetch-config"
	shipWait := fmt.Sprintf("sleep %d\n", logShipWaitSeconds)
	for _, c := range failSteps {
		t.Run(c.step, func(t *testing.T) {
			s := newConvergeSandbox(t, "")
			s.write(c.fixture, c.content)
			st := s.boot(convergePrepare, convergeBoot)
			calls, journal := s.calls(2), s.read("result/var/log/wordpress-converge.log")
			if st[0] != "0" || st[1] == "0" {
				t.Fatalf("want prepare to succeed and the boot to fail, got exits %v:\n%s", st, s.read("boot2.log"))
			}
			if n := strings.Count(journal, convergeFailedMarker); n != 1 || !strings.Contains(journal, convergeFailedMarker+": "+c.mode+" (exit ") {
				t.Errorf("the shipped journal holds %d lines %q, want one for the %s run:\n%s", n, convergeFailedMarker, c.mode, journal)
			}
			if !strings.Contains(journal, c.says) {
				t.Errorf("the shipped journal does not say why (%q):\n%s", c.says, journal)
			}
			agent, step := strings.Index(calls, agentStart), strings.Index(calls, c.call)
			if agent < 0 || step < agent {
				t.Errorf("the log agent was not started before %s (%q); calls:\n%s", c.step, c.call, calls)
			}
			abandon := strings.Index(calls, "--lifecycle-action-result ABANDON")
			if abandon < 0 {
				t.Fatalf("the launch was not abandoned; calls:\n%s", calls)
			}
			if wait := strings.LastIndex(calls[:abandon], shipWait); wait < step {
				t.Errorf("the launch was abandoned without waiting %ds for the agent to ship the journal; calls:\n%s", logShipWaitSeconds, calls)
			}
			started := strings.Contains(calls, "systemctl start")
			if c.mode == convergeBoot && started {
				t.Errorf("a boot that failed before serving started the web server; calls:\n%s", calls)
			}
			if c.mode == convergeCheck && (!started || strings.Contains(calls, "--lifecycle-action-result CONTINUE") != (c.fixture == "complete-fails")) {
				t.Errorf("the render check must run once the web server started, and not try to CONTINUE unless it rendered; calls:\n%s", calls)
			}
			// A web server that never answers is waited for 30 times 2 s, all pages together.
			if n := strings.Count(calls, "curl http://"); c.fixture == "render-down" && n != 31 {
				t.Errorf("the render check asked %d times of a web server that never answered, want 31 (30 waits); calls:\n%s", n, calls)
			}
		})
	}
}

// What a boot waits out without failing: a web server that does not answer yet, and Auto
// Scaling's API failing a few times (describe, then complete), retried 2, 4 and 8 s apart,
// then CONTINUE; and nothing to complete for a server that no group holds.
func TestConvergeWaitsOutTransientFailures(t *testing.T) {
	s := newConvergeSandbox(t, "")
	s.write("render-down", "3")
	s.write("describe-fails", "1")
	s.write("complete-fails", "2")
	if st := s.boot(convergePrepare, convergeBoot); st[1] != "0" {
		t.Fatalf("the boot failed on transient failures:\n%s", s.read("boot2.log"))
	}
	calls, journal := s.calls(2), s.read("result/var/log/wordpress-converge.log")
	if strings.Contains(journal, convergeFailedMarker) || !strings.Contains(journal, "Auto Scaling did not answer (try 1 of 6); again in 2s") {
		t.Errorf("want no FAILED line and the retries said:\n%s", journal)
	}
	if n := strings.Count(calls, "curl "+convergeSiteURL+"/?wordpress-converge="); n != 4 {
		t.Errorf("the front page asked %d times, want 4 (3 with no web server yet); calls:\n%s", n, calls)
	}
	checkRendersBeforeContinue(t, calls, convergeSiteURL, "http")
	_, launch, found := strings.Cut(calls, "aws autoscaling describe-auto-scaling-instances")
	if !found {
		t.Fatalf("the boot never asked Auto Scaling for its state; calls:\n%s", calls)
	}
	var waits []string
	for _, line := range strings.Split(launch, "\n") {
		if strings.HasPrefix(line, "sleep ") {
			waits = append(waits, line)
		}
	}
	if !slices.Equal(waits, []string{"sleep 2", "sleep 4", "sleep 8"}) || strings.Count(launch, "--lifecycle-action-result CONTINUE") != 3 ||
		strings.Contains(launch, "ABANDON") {
		t.Errorf("want describe failed, then complete twice, 2, 4 and 8 s apart, then CONTINUE; waits %v, calls:\n%s", waits, launch)
	}

	outside := newConvergeSandbox(t, "")
	if err := os.Remove(filepath.Join(outside.dir, "lifecycle-state")); err != nil {
		t.Fatal(err)
	}
	if st := outside.boot(convergePrepare, convergeBoot); st[1] != "0" {
		t.Fatalf("a server outside a group failed its boot:\n%s", outside.read("boot2.log"))
	}
	if calls := outside.calls(2); strings.Count(calls, "aws autoscaling") != 1 || strings.Contains(calls, "sleep 2\n") {
		t.Errorf("a server that no group holds must ask once and complete nothing; calls:\n%s", calls)
	}
}

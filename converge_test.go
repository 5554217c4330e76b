package main

// Runs the rendered converge script for real: bash and php are the machine's own, the
// system commands that would reach AWS or change the host (aws, curl, dnf, rpm, systemctl,
// chown...) are stubs, and the script's absolute paths (/var/www/html, /etc/httpd, /run...)
// land in a copy-on-write overlay of / inside a private mount namespace, so the host is
// never touched. A fake WordPress stands in for the real one: it records what the script
// asked it to install.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeWordPress is the part of WordPress the install step touches. State goes to $FAKE_DB.
var fakeWordPress = map[string]string{
	"wordpress/index.php":                     "<?php // fake WordPress front controller\n",
	"wordpress/wp-includes/images/blank.gif":  "GIF89a",
	"wordpress/wp-admin/includes/upgrade.php": "<?php // fake upgrade.php\n",
	"wordpress/wp-load.php": `<?php
define( 'ABSPATH', __DIR__ . '/' );
require ABSPATH . 'wp-config.php';
`,
	"wordpress/wp-settings.php": `<?php
// Fake WordPress API: the install step's calls, recorded in the fake database directory.
$fake_db = getenv( 'FAKE_DB' );
class Fake_Wpdb {
	public function get_var( $q ) {
		file_put_contents( getenv( 'FAKE_DB' ) . '/queries.log', $q . "\n", FILE_APPEND );
		return str_contains( $q, 'GET_LOCK' ) ? '1' : null;
	}
}
$GLOBALS['wpdb'] = new Fake_Wpdb();
function is_blog_installed() { return file_exists( getenv( 'FAKE_DB' ) . '/installed.json' ); }
function is_wp_error( $x ) { return false; }
function update_option( $k, $v ) { file_put_contents( getenv( 'FAKE_DB' ) . '/options.log', "$k=$v\n", FILE_APPEND ); }
function wp_install( $title, $user, $email, $public, $deprecated, $password, $lang ) {
	file_put_contents( getenv( 'FAKE_DB' ) . '/installed.json', json_encode( array(
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
var stubs = map[string]string{
	"aws": `#!/bin/bash
echo "aws $1 $2" >>@F@/calls.log
while (($#)); do
  case $1 in
    --name) name=$2; shift 2 ;;
    --secret-id) id=$2; shift 2 ;;
    *) shift ;;
  esac
done
if [[ -n ${name:-} ]]; then
  leaf=${name##*/}
  n=$(($(cat "@F@/polls-$leaf" 2>/dev/null || echo 0) + 1))
  echo "$n" >"@F@/polls-$leaf"
  if [[ ! -f @F@/params/$leaf ]] || ((n < $(cat "@F@/params/$leaf.after" 2>/dev/null || echo 1))); then
    echo "An error occurred (ParameterNotFound)" >&2
    exit 254
  fi
  cat "@F@/params/$leaf"
else
  cat "@F@/secrets/${id##*:}"
fi
`,
	"curl": `#!/bin/bash
out= url=
while (($#)); do
  case $1 in
    --output|--proto) [[ $1 == --output ]] && out=$2; shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "curl $url" >>@F@/calls.log
case $url in
  https://*.sha1) src=@F@/fixtures/archive.sha1 ;;
  https://truststore.pki.rds.amazonaws.com/*) src=@F@/fixtures/rds-ca.pem ;;
  https://*.tar.gz) src=@F@/fixtures/archive.tar.gz ;;
  *) echo "curl stub: refusing $url" >&2; exit 22 ;;
esac
if [[ -n $out ]]; then cp "$src" "$out"; else cat "$src"; fi
`,
	// What the httpd package would create.
	"dnf":             "#!/bin/bash\necho \"dnf $*\" >>@F@/calls.log\nmkdir -p /etc/httpd/conf.d /var/www/html\ntouch @F@/packages-installed\n",
	"rpm":             "#!/bin/bash\n[[ -f @F@/packages-installed ]]\n",
	"systemctl":       "#!/bin/bash\necho \"systemctl $*\" >>@F@/calls.log\n",
	"update-ca-trust": "#!/bin/bash\necho \"update-ca-trust $*\" >>@F@/calls.log\n",
	"chown":           "#!/bin/bash\necho \"chown $*\" >>@F@/calls.log\n",
	"sleep":           "#!/bin/bash\necho \"sleep $*\" >>@F@/calls.log\n",
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

// harness mounts an overlay of / on tmpfs, chroots into it and runs the converge script
// once per argument after the first ("boot"), emptying /run/wordpress between boots as a
// reboot would. Afterwards it copies what the script left behind out of the overlay.
const harness = `#!/bin/bash
set -uo pipefail
F=$1; shift
mnt=$F/mnt
mkdir -p "$mnt/root" "$mnt/rw"
mount -t tmpfs tmpfs "$mnt/rw" || exit 90
mkdir -p "$mnt/rw/upper" "$mnt/rw/work"
mount -t overlay overlay -o "lowerdir=/,upperdir=$mnt/rw/upper,workdir=$mnt/rw/work" "$mnt/root" || exit 91
mount --bind /dev "$mnt/root/dev" && mount -t proc proc "$mnt/root/proc" || exit 92
boot=0
for _ in "$@"; do
  boot=$((boot + 1))
  chroot "$mnt/root" /usr/bin/env -i PATH="$F/stubs:/usr/sbin:/usr/bin:/sbin:/bin" FAKE_DB="$F/db" \
    bash -c 'rm -rf /run/wordpress; exec bash "$1"' _ "$F/converge" >"$F/boot$boot.log" 2>&1
  echo $? >"$F/boot$boot.status"
done
mkdir -p "$F/result"
for p in var/www/html/wp-config.php run/wordpress/runtime.php etc/httpd/conf.d/wordpress.conf \
  var/lib/wordpress-converge/wordpress-files var/www/html/index.php; do
  if [[ -e $mnt/root/$p ]]; then
    mkdir -p "$F/result/$(dirname "$p")"
    cp -a "$mnt/root/$p" "$F/result/$p"
  fi
done
cp -a "$mnt/root$F/db" "$mnt/root$F/calls.log" "$mnt/root$F"/polls-* "$F/result/" 2>/dev/null
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
	convergeDBPassword    = `db'pa"ss\w$rd` + "`x`"
	convergeAdminPassword = `adm'in"pass\$`
)

// newConvergeSandbox prepares fixtures, stubs and the rendered script. checksum overrides
// the published SHA-1 when not empty.
func newConvergeSandbox(t *testing.T, checksum string) *convergeSandbox {
	t.Helper()
	needTool(t, "php", "php-cli")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the converge sandbox needs root (mount namespace, overlay, chroot)")
		}
		t.Skip("the converge sandbox needs root (mount namespace, overlay, chroot); CI runs it")
	}
	if out, err := exec.Command("php", "-r", `exit(defined("MYSQLI_CLIENT_SSL") ? 0 : 1);`).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("php has no mysqli (install php-mysql): %s", out)
		}
		t.Skip("php has no mysqli extension (apt-get install php-mysql)")
	}
	dir := t.TempDir()
	s := &convergeSandbox{t: t, dir: dir}
	archive := tarGz(t, fakeWordPress)
	sum := sha1.Sum(archive)
	if checksum == "" {
		checksum = hex.EncodeToString(sum[:])
	}
	p := sampleParams()
	dbSecret, _ := json.Marshal(map[string]any{"username": "admin", "password": convergeDBPassword, "engine": "mysql", "dbname": "wordpress", "port": 3306})
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
		"fixtures/archive.tar.gz":                 string(archive),
		"fixtures/archive.sha1":                   checksum + "\n",
		"fixtures/rds-ca.pem":                     "-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n",
		"params/db-host":                          "wp-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com\n",
		"params/db-host.after":                    "3", // RDS is still being created for the first two polls
		"params/site-url":                         "http://lb-alb-123.ap-northeast-1.elb.amazonaws.com\n",
		"secrets/" + lastField(p.DBSecretID, ":"): string(dbSecret) + "\n",
		"secrets/" + lastField(p.WPSecretID, ":"): wpSecret + "\n",
		"converge":                                converge,
		"harness":                                 harness,
		"db/.keep":                                "",
		"calls.log":                               "",
	}
	for name, body := range stubs {
		files["stubs/"+name] = strings.ReplaceAll(body, "@F@", dir)
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func lastField(s, sep string) string { return s[strings.LastIndex(s, sep)+1:] }

// boot runs the converge script `boots` times in one sandbox and returns each exit status.
func (s *convergeSandbox) boot(boots int) []string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"--mount", "--propagation", "private", "bash", filepath.Join(s.dir, "harness"), s.dir}
	for i := 0; i < boots; i++ {
		args = append(args, "boot")
	}
	if out, err := exec.CommandContext(ctx, "unshare", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("sandbox harness failed (needs unshare, overlayfs, tmpfs): %v\n%s", err, out)
	}
	var statuses []string
	for i := 1; i <= boots; i++ {
		statuses = append(statuses, strings.TrimSpace(s.read("boot"+strconv.Itoa(i)+".status")))
	}
	return statuses
}

func (s *convergeSandbox) read(rel string) string {
	b, err := os.ReadFile(filepath.Join(s.dir, rel))
	if err != nil {
		return ""
	}
	return string(b)
}

func TestConvergeInstallsAndConvergesAgainOnReboot(t *testing.T) {
	s := newConvergeSandbox(t, "")
	statuses := s.boot(2)
	for i, st := range statuses {
		if st != "0" {
			t.Fatalf("boot %d exited %s:\n%s", i+1, st, s.read("boot"+strconv.Itoa(i+1)+".log"))
		}
	}
	calls := s.read("result/calls.log")
	boot1, _, _ := strings.Cut(calls, "systemctl start --no-block php-fpm.service httpd.service\n")

	// Boot 1: packages, CA, WordPress (checked), config, waits for the DB, installs.
	for _, want := range []string{
		"dnf install --assumeyes httpd php8.3 php8.3-fpm php8.3-mysqlnd php8.3-mbstring php8.3-xml php8.3-gd php8.3-intl php8.3-opcache",
		"curl https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
		"update-ca-trust extract",
		"curl https://ja.wordpress.org/latest-ja.tar.gz\n",
		"curl https://ja.wordpress.org/latest-ja.tar.gz.sha1",
		"aws ssm get-parameter",
		"sleep 15", // the DB endpoint was not there yet
		"systemctl enable php-fpm.service httpd.service",
	} {
		if !strings.Contains(boot1, want) {
			t.Errorf("boot 1 did not run %q; calls:\n%s", want, calls)
		}
	}
	if got := strings.TrimSpace(s.read("result/polls-db-host")); got != "4" {
		t.Errorf("db-host polled %s times, want 4 (boot 1: two misses, then found; boot 2: found)", got)
	}

	// Boot 2 (an image, or a reboot): nothing downloaded or installed again.
	second := calls[strings.Index(calls, "systemctl start --no-block")+1:]
	second = second[strings.Index(second, "\n")+1:]
	for _, unwanted := range []string{"dnf ", "latest-ja.tar.gz\n", "global-bundle.pem", "update-ca-trust"} {
		if strings.Contains(second, unwanted) {
			t.Errorf("boot 2 ran %q again; calls after boot 1:\n%s", unwanted, second)
		}
	}
	if !strings.Contains(second, "systemctl start --no-block php-fpm.service httpd.service") {
		t.Errorf("boot 2 did not start the web server; calls:\n%s", second)
	}
	if !strings.Contains(s.read("boot1.log"), "wordpress-converge: installed") ||
		!strings.Contains(s.read("boot2.log"), "wordpress-converge: already installed") {
		t.Errorf("want install on boot 1 and a skip on boot 2:\n%s\n---\n%s", s.read("boot1.log"), s.read("boot2.log"))
	}

	// What WordPress was asked to install, with which settings.
	var got map[string]any
	if err := json.Unmarshal([]byte(s.read("result/db/installed.json")), &got); err != nil {
		t.Fatalf("fake WordPress was not installed: %v", err)
	}
	want := map[string]any{
		"title": trickyTitle, "user": "wpadmin", "email": "admin@example.com", "password": convergeAdminPassword,
		"lang": "ja", "db_user": "admin", "db_password": convergeDBPassword, "db_name": "wordpress",
		"db_host": "wp-db.cabcdefghij.ap-northeast-1.rds.amazonaws.com", "home": "http://lb-alb-123.ap-northeast-1.elb.amazonaws.com",
		"siteurl": "http://lb-alb-123.ap-northeast-1.elb.amazonaws.com", "client_flags": float64(2048 | 1073741824), "notified": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("install %s = %#v, want %#v", k, got[k], v)
		}
	}
	if !strings.Contains(s.read("result/db/queries.log"), "GET_LOCK('wordpress-converge-install'") {
		t.Error("install did not take the MySQL named lock")
	}
	if !strings.Contains(s.read("result/db/options.log"), "permalink_structure=/%postname%/") {
		t.Error("permalinks were not set")
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
	if info, err := os.Stat(filepath.Join(s.dir, "result/var/www/html/wp-config.php")); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("wp-config.php mode = %v (%v), want 0640", info.Mode().Perm(), err)
	}
	if info, err := os.Stat(filepath.Join(s.dir, "result/run/wordpress/runtime.php")); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("runtime.php mode = %v (%v), want 0640", info.Mode().Perm(), err)
	}
	for _, secret := range []string{"db'pa", "adm'in", strings.Repeat("a", 20)} {
		if strings.Contains(wpConfig, secret) {
			t.Errorf("wp-config.php (on the root volume, so in the image) holds a secret %q", secret)
		}
		for _, log := range []string{"boot1.log", "boot2.log", "result/calls.log"} {
			if strings.Contains(s.read(log), secret) {
				t.Errorf("%s (the journal) shows a secret %q", log, secret)
			}
		}
	}
	if !strings.Contains(s.read("result/etc/httpd/conf.d/wordpress.conf"), "RewriteRule . /index.php [L]") {
		t.Error("Apache config for permalinks was not written")
	}
}

func TestConvergeRefusesATamperedArchive(t *testing.T) {
	s := newConvergeSandbox(t, strings.Repeat("0", 40))
	if st := s.boot(1); st[0] == "0" {
		t.Fatalf("converge accepted an archive whose SHA-1 does not match:\n%s", s.read("boot1.log"))
	}
	if !strings.Contains(s.read("boot1.log"), "checksum mismatch") {
		t.Errorf("want a checksum message, got:\n%s", s.read("boot1.log"))
	}
	for _, p := range []string{"result/var/lib/wordpress-converge/wordpress-files", "result/var/www/html/index.php", "result/db/installed.json"} {
		if s.read(p) != "" {
			t.Errorf("%s exists after a failed checksum", p)
		}
	}
	if strings.Contains(s.read("result/calls.log"), "systemctl start") {
		t.Error("the web server was started after a failed checksum")
	}
}

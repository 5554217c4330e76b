package main

// The facts the web servers' boot files share with one another and with the program: where
// things are installed, the converge script's state directory and markers, the budget of the
// image builder's prepare wait, the web server's user and the settings' names (settings.go).
// Each is written once, here. The two templates (converge.sh.tmpl, userdata.sh.tmpl) get
// them through bootFactValues; the files written to the servers verbatim (the PHP programs,
// wordpress.conf, the cron units, sizing.sh) and the prepare wait's script (wait-prepared.sh)
// stay plain files that their own linters check, so they keep each fact as a literal, and
// TestBootFactsAgree (bootfacts_test.go) reads both sides and fails, naming the file and the
// fact, as soon as one differs.

// Install paths on a server.
const (
	// docRoot is where the WordPress code lives and Apache serves from: Amazon Linux's httpd
	// DocumentRoot, so that the package's own config needs no change.
	docRoot = "/var/www/html"
	// libDir holds the PHP programs that the converge script and the cron timer run; outside
	// the document root, so that no request reaches them.
	libDir = "/usr/local/libexec/wordpress-converge"
	// runtimeDir holds the settings and the secrets' defines, on tmpfs (/run): no image of a
	// server ever holds them.
	runtimeDir = "/run/wordpress"
	// runtimeConfig is the defines file that wp-config.php and healthz.php require; the
	// converge script writes it (runtime.php prints it).
	runtimeConfig = runtimeDir + "/runtime.php"
	// convergeCommand is the converge script as the user data installs it; the settings
	// refresh (settings.go) runs it too.
	convergeCommand = "/usr/local/sbin/wordpress-converge"
	// convergeUnit is the systemd unit (.service) that runs convergeCommand on every boot:
	// Apache and the cron timer require it, and the prepare wait shows its journal.
	convergeUnit = "wordpress-converge"
	// renderCheckUnit is the systemd unit (.service) that runs convergeCommand in its check
	// mode once the web server has started after a converge: WordPress's pages rendered by
	// this server's own Apache and PHP-FPM, then the launch hook completed. A unit of its own
	// because Apache and PHP-FPM start only after the converge unit (their drop-ins order them
	// after it), so the converge script cannot wait for them.
	renderCheckUnit = "wordpress-render-check"
	// convergeModeFile is the unit's environment file, holding the mode (boot or prepare).
	convergeModeFile = "/etc/sysconfig/wordpress-converge"
	// convergeLockFile serializes converge runs on a server (a boot and a refresh); in /run,
	// so that a reboot clears it.
	convergeLockFile = "/run/wordpress-converge.lock"
	// rdsCAFile is the RDS certificate authorities' bundle, among the system's trust anchors
	// (update-ca-trust), which PHP's TLS to the database checks the server against.
	rdsCAFile = "/etc/pki/ca-trust/source/anchors/amazon-rds-global-bundle.pem"
	// agentConfigFile is the CloudWatch agent's configuration (agentConfig, logs.go), in the
	// agent's own etc directory.
	agentConfigFile = "/opt/aws/amazon-cloudwatch-agent/etc/wordpress-logs.json"
)

// The converge script's state: a directory on the root volume (so that the golden image
// carries it) and the markers in it that say what has been done.
const (
	// stateDir survives reboots and imaging: a server from the golden image finds the
	// image's markers and skips the prepare phase.
	stateDir = "/var/lib/wordpress-converge"
	// preparedMarker, written last by the prepare phase, names the image recipe it prepared;
	// the prepare wait (wait-prepared.sh) succeeds once it exists.
	preparedMarker = "prepared"
	// prepareFailedMarker is touched when the prepare phase fails, so that the prepare wait
	// fails at once instead of waiting out its budget.
	prepareFailedMarker = "prepare-failed"
	// wordpressFilesMarker names the WordPress archive unpacked into docRoot, written once
	// the copy is complete.
	wordpressFilesMarker = "wordpress-files"
)

// webServerUser is the user and group Amazon Linux's httpd and php-fpm packages run as. The
// web server reads the runtime config through the group, writes only the uploads, and the
// cron timer runs as it so that what cron writes to the shared uploads is the web server's.
const webServerUser = "apache"

// webServerUID is webServerUser's uid and gid: Amazon Linux reserves 48 for apache (the
// setup package's uidgid), and the uploads access point writes every file as it
// (uploadsOwner, storage.go).
const webServerUID = 48

// The instance metadata service hands the server's role credentials to any process that asks
// (IMDSv2's hop limit of 1 stops only containers, not a process on the server itself). The
// converge script loads an nftables table that refuses it to every process but metadataUser's,
// on every boot before PHP-FPM and Apache may start: PHP code, a plugin's included, runs as
// webServerUser and cannot borrow the role.
const (
	metadataIPv4 = "169.254.169.254"
	// metadataIPv6 answers only where the instance's IMDS IPv6 endpoint is enabled (the
	// servers' is not: httpProtocolIpv6 is unset); refused all the same, should it ever be.
	metadataIPv6 = "fd00:ec2::254"
	// metadataTable is the nftables table (inet family) holding the rule.
	metadataTable = "wordpress_metadata"
	// metadataUser may reach it: root runs the converge script, the SSM agent, the CloudWatch
	// agent (run_as_user, logs.go) and the EFS mount helper, which all need the credentials.
	metadataUser = "root"
)

// The image builder's prepare wait. One budget, from which the other two numbers follow: the
// wait script (wait-prepared.sh) gives up after prepareWaitPolls polls prepareWaitPollSeconds
// apart and shows the converge journal; SSM stops the command a little later
// (prepareWaitSeconds), so that the script, not SSM, says why; and the provider waits for the
// association a little longer still (prepareAssociationWaitSeconds), for SSM to start the
// command on a builder that has just booted.
const (
	prepareWaitPollSeconds = 10
	// prepareWaitPolls makes about 47 minutes: the prepare phase takes a few minutes (package
	// installs, the WordPress download), which dnf's and curl's retries can stretch.
	prepareWaitPolls              = 280
	prepareGiveUpSeconds          = prepareWaitPolls * prepareWaitPollSeconds
	prepareWaitSeconds            = prepareGiveUpSeconds + 200 // the SSM document's timeoutSeconds
	prepareAssociationWaitSeconds = prepareWaitSeconds + 300   // the association's waitForSuccessTimeoutSeconds
)

// logShipWaitSeconds is how long a failed boot waits, its FAILED line written, before it
// abandons its launch: the group then terminates the server, disk and journal with it, so the
// CloudWatch agent gets two of its flush intervals (agentFlushSeconds, logs.go) and a margin
// to ship the journal's last lines.
const logShipWaitSeconds = 2*agentFlushSeconds + 2

// handoffTimeoutSeconds bounds how long a server waits for the database endpoint: a Multi-AZ
// RDS instance usually takes 15-20 minutes and occasionally much longer.
const handoffTimeoutSeconds = 3600

// convergeUnitTimeoutSeconds is the converge unit's TimeoutStartSec: the handoff wait plus
// half an hour for the rest (server 1 of the fixed mode prepares from the base image first).
const convergeUnitTimeoutSeconds = handoffTimeoutSeconds + 1800

// bootFacts are the facts as the templates name them ({{.DocRoot}}, {{.Setting.UploadsFS}}...).
// The templates write them unquoted: TestBootFactsAreShellWords keeps every one a plain word.
type bootFacts struct {
	DocRoot, LibDir, RuntimeDir, RDSCAFile, AgentConfig, ConvergeLog string // install paths
	ConvergeCommand, ConvergeUnit, ConvergeModeFile, LockFile        string // the converge script's own
	RenderCheckUnit, CheckMode                                       string // its check after the web server starts
	StateDir, PreparedMarker, PrepareFailedMarker, FilesMarker       string // its state
	WebUser                                                          string
	MetadataIPv4, MetadataIPv6, MetadataTable, MetadataUser          string // the metadata firewall
	// Setting names the settings the converge script reads itself (the PHP programs read
	// the others).
	Setting                                                       struct{ DBAppSecret, DBMasterSecret, WPSecret, UploadsFS, UploadsAP, SiteURL, Proto string }
	HandoffTimeoutSeconds, UnitTimeoutSeconds, LogShipWaitSeconds int
}

// bootFactValues is the one bootFacts value both templates render.
func bootFactValues() bootFacts {
	f := bootFacts{
		DocRoot: docRoot, LibDir: libDir, RuntimeDir: runtimeDir,
		ConvergeCommand: convergeCommand, ConvergeUnit: convergeUnit, ConvergeModeFile: convergeModeFile, LockFile: convergeLockFile,
		RenderCheckUnit: renderCheckUnit, CheckMode: convergeCheck,
		RDSCAFile: rdsCAFile, AgentConfig: agentConfigFile, ConvergeLog: convergeLogFile,
		StateDir: stateDir, PreparedMarker: preparedMarker, PrepareFailedMarker: prepareFailedMarker, FilesMarker: wordpressFilesMarker,
		WebUser:      webServerUser,
		MetadataIPv4: metadataIPv4, MetadataIPv6: metadataIPv6, MetadataTable: metadataTable, MetadataUser: metadataUser,
		HandoffTimeoutSeconds: handoffTimeoutSeconds,
		UnitTimeoutSeconds:    convergeUnitTimeoutSeconds,
		LogShipWaitSeconds:    logShipWaitSeconds,
	}
	f.Setting.DBAppSecret, f.Setting.DBMasterSecret, f.Setting.WPSecret = settingDBAppSecret, settingDBMasterSecret, settingWPSecret
	f.Setting.UploadsFS, f.Setting.UploadsAP = settingUploadsFS, settingUploadsAP
	f.Setting.SiteURL, f.Setting.Proto = settingSiteURL, settingProto
	return f
}

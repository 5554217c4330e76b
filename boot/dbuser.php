<?php
// WordPress's own database user: rights on its database only, TLS required (see
// docs/operations.md). The converge script runs it as root; stdin holds the secrets.
//   check    stdin: the user's secret. Exit 0 when it logs in with every privilege, 3 when
//            the master credential is needed (no such user, another password, a privilege
//            missing), 1 when the database cannot be asked.
//   ensure   stdin: the master's secret, then the user's. Creates the user or sets its
//            password and privileges, under the install lock.
// Not stored programs, triggers, events or views (code run with its definer's rights).
const PRIVILEGES = array( 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'DROP', 'REFERENCES', 'CREATE TEMPORARY TABLES', 'LOCK TABLES' );
mysqli_report( MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT );
$settings = json_decode( (string) file_get_contents( (string) getenv( 'SETTINGS_FILE' ) ), true );
$ensure   = 'ensure' === ( $argv[1] ?? '' );
$master   = $ensure ? json_decode( (string) fgets( STDIN ), true ) : null;
$app      = json_decode( (string) fgets( STDIN ), true );
$name     = (string) ( $settings['db-name'] ?? '' );
$user     = (string) ( $app['username'] ?? '' );
if ( ! preg_match( '/^\w{1,64}$/', $name ) || ! preg_match( '/^\w{1,32}$/', $user ) || ! is_string( $app['password'] ?? null ) ||
	( $ensure && ! is_string( $master['password'] ?? null ) ) ) {
	fwrite( STDERR, "dbuser: the settings or a secret is not what is expected\n" );
	exit( 1 );
}
$grantee = "'$user'@'%'";
// In GRANT, _ in a database name is a wildcard: escaped, the grant names this database only.
$schema = str_replace( '_', '\_', $name );

// TLS, the server's certificate and name verified, as wp-config.php's MYSQL_CLIENT_FLAGS.
function connect( $host, $secret, $database ) {
	$db = mysqli_init();
	$db->real_connect( $host, (string) $secret['username'], $secret['password'], $database, (int) ( $secret['port'] ?? 3306 ), null, MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT );
	return $db;
}

// lacks lists the privileges the user lacks on the database (all when it cannot log in).
function lacks( $host, $app, $name, $grantee ) {
	try {
		$db = connect( $host, $app, $name );
	} catch ( mysqli_sql_exception $e ) {
		if ( in_array( $e->getCode(), array( 1044, 1045 ), true ) ) { // another password, no user, no access
			return PRIVILEGES;
		}
		throw $e;
	}
	$held = $db->query( "SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = '" . $db->real_escape_string( $grantee ) . "' AND TABLE_SCHEMA = '$name'" )->fetch_all();
	return array_diff( PRIVILEGES, array_column( $held, 0 ) );
}

try {
	$host = (string) $settings['db-host'];
	if ( $ensure ) {
		$db = connect( $host, $master, null );
		$db->query( "SELECT GET_LOCK('wordpress-converge-install', 300)" );
		$password = "'" . $db->real_escape_string( $app['password'] ) . "'";
		// The secret's password also when the user exists: a new password converges.
		$db->query( "CREATE USER IF NOT EXISTS $grantee IDENTIFIED BY $password REQUIRE SSL" );
		$db->query( "ALTER USER $grantee IDENTIFIED BY $password REQUIRE SSL" );
		$db->query( 'GRANT ' . implode( ', ', PRIVILEGES ) . " ON `$schema`.* TO $grantee" );
		$db->close();
	}
	$missing = lacks( $host, $app, $name, $grantee );
} catch ( mysqli_sql_exception $e ) {
	fwrite( STDERR, 'dbuser: ' . $e->getMessage() . "\n" );
	exit( 1 );
}
if ( $missing ) {
	fwrite( STDERR, "dbuser: $user does not log in with every privilege on $name\n" );
	exit( $ensure ? 1 : 3 );
}
if ( $ensure ) {
	echo "wordpress-converge: database user $user set up (rights on $name only)\n";
}

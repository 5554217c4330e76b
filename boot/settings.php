<?php
// The stack's settings, as SSM Parameter Store holds them under the stack's path: PATH/site
// (the site's settings, one JSON document), PATH/db-host (the database endpoint) and
// PATH/db-master-secret-arn (the master credential's secret), both published once RDS is up.
//   php settings.php collect PATH   reads `aws ssm get-parameters-by-path --output json` on
//                                   stdin and prints {"setting": "value", ...}; it fails,
//                                   naming what is missing, until every setting is there.
//   php settings.php get SETTING    reads that JSON on stdin and prints one value.
const REQUIRED = array(
	'db-host', 'db-master-secret-arn', 'db-name', 'db-app-secret-arn', 'wordpress-secret-arn',
	'site-url', 'site-title', 'admin-user', 'admin-email', 'locale',
	'uploads-file-system-id', 'uploads-access-point-id', 'forwarded-proto-header', 'cookie-hash', 'staging',
);
$command = $argv[1] ?? '';
$input   = json_decode( (string) stream_get_contents( STDIN ), true );
if ( ! is_array( $input ) ) {
	fwrite( STDERR, "settings: the input is not JSON\n" );
	exit( 1 );
}
if ( 'get' === $command ) {
	$value = $input[ $argv[2] ?? '' ] ?? null;
	if ( ! is_string( $value ) ) {
		fwrite( STDERR, 'settings: no ' . ( $argv[2] ?? '' ) . "\n" );
		exit( 1 );
	}
	echo $value;
	exit( 0 );
}
if ( 'collect' !== $command || ! isset( $argv[2] ) ) {
	fwrite( STDERR, "usage: settings.php collect PATH | get LEAF\n" );
	exit( 2 );
}
$prefix   = rtrim( $argv[2], '/' ) . '/';
$settings = array();
foreach ( $input['Parameters'] ?? array() as $p ) {
	$name  = (string) ( $p['Name'] ?? '' );
	$value = $p['Value'] ?? null;
	if ( ! is_string( $value ) ) {
		continue;
	}
	if ( $prefix . 'db-host' === $name ) {
		$settings['db-host'] = $value;
	} elseif ( $prefix . 'db-master-secret-arn' === $name ) {
		$settings['db-master-secret-arn'] = $value;
	} elseif ( $prefix . 'site' === $name ) {
		$site = json_decode( $value, true );
		if ( ! is_array( $site ) ) {
			fwrite( STDERR, "settings: {$name} is not a JSON object\n" );
			exit( 1 );
		}
		foreach ( $site as $k => $v ) {
			if ( is_string( $v ) ) {
				$settings[ $k ] = $v;
			}
		}
	}
}
$missing = array_diff( REQUIRED, array_keys( $settings ) );
if ( $missing ) {
	fwrite( STDERR, 'settings: not yet under ' . $prefix . ': ' . implode( ', ', $missing ) . "\n" );
	exit( 1 );
}
echo json_encode( $settings, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE ), "\n";

<?php
// Prints runtime.php: the database settings, site URL, edge header, cookie hash and salts as PHP defines. It reads the
// settings (SETTINGS_FILE) and the two secrets, one JSON document per line on stdin.
$settings = json_decode( (string) file_get_contents( (string) getenv( 'SETTINGS_FILE' ) ), true );
$db       = json_decode( (string) fgets( STDIN ), true );
$wp       = json_decode( (string) fgets( STDIN ), true );
if ( ! is_array( $settings ) || ! is_array( $db ) || ! is_array( $wp ) || ! is_array( $wp['salts'] ?? null ) ) {
	fwrite( STDERR, "the settings or a secret is not the JSON object expected\n" );
	exit( 1 );
}
$defs = array(
	'DB_NAME'     => $settings['db-name'] ?? '',
	'DB_USER'     => $db['username'] ?? '',
	'DB_PASSWORD' => $db['password'] ?? '',
	'DB_HOST'     => $settings['db-host'] ?? '',
	'WP_HOME'     => $settings['site-url'] ?? '',
	'WP_SITEURL'  => $settings['site-url'] ?? '',
	// the edge's protocol header, and the cookies' suffix, which CloudFront's cache key names
	'WP_FORWARDED_PROTO_HEADER' => $settings['forwarded-proto-header'] ?? '',
	'COOKIEHASH'  => $settings['cookie-hash'] ?? '',
);
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as $k ) {
	$defs[ $k ] = $wp['salts'][ $k ] ?? '';
}
echo "<?php\n";
foreach ( $defs as $k => $v ) {
	if ( ! is_string( $v ) || '' === $v ) {
		fwrite( STDERR, "missing value for $k\n" );
		exit( 1 );
	}
	printf( "define( %s, %s );\n", var_export( $k, true ), var_export( $v, true ) );
}

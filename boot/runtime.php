<?php
// Reads the two secrets (one JSON document per line on stdin) and prints runtime.php.
$db = json_decode( (string) fgets( STDIN ), true );
$wp = json_decode( (string) fgets( STDIN ), true );
if ( ! is_array( $db ) || ! is_array( $wp ) || ! is_array( $wp['salts'] ?? null ) ) {
	fwrite( STDERR, "a secret is not the JSON object expected\n" );
	exit( 1 );
}
$defs = array(
	'DB_NAME'     => getenv( 'DB_NAME' ),
	'DB_USER'     => $db['username'] ?? '',
	'DB_PASSWORD' => $db['password'] ?? '',
	'DB_HOST'     => getenv( 'DB_HOST' ),
	'WP_HOME'     => getenv( 'SITE_URL' ),
	'WP_SITEURL'  => getenv( 'SITE_URL' ),
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

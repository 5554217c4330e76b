<?php
// Completes the WordPress install once per database. Safe on every boot and on many servers
// at once: a MySQL named lock lets one server install while the others wait and then skip.
define( 'WP_INSTALLING', true );
$host = (string) parse_url( (string) getenv( 'SITE_URL' ), PHP_URL_HOST );
$_SERVER['HTTP_HOST']   = $host;
$_SERVER['SERVER_NAME'] = $host;
$_SERVER['REQUEST_URI'] = '/';
function wp_new_blog_notification( $blog_title, $blog_url, $user_id, $password ) {
	// No e-mail: the password is in Secrets Manager, and servers do not send mail.
}
require '/var/www/html/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
global $wpdb;
if ( '1' !== (string) $wpdb->get_var( "SELECT GET_LOCK('wordpress-converge-install', 300)" ) ) {
	fwrite( STDERR, "could not take the install lock\n" );
	exit( 1 );
}
if ( is_blog_installed() ) {
	echo "wordpress-converge: already installed\n";
	exit( 0 );
}
$locale = getenv( 'WP_LOCALE' );
$result = wp_install( getenv( 'WP_TITLE' ), getenv( 'WP_ADMIN_USER' ), getenv( 'WP_ADMIN_EMAIL' ), true, '', getenv( 'WP_ADMIN_PASSWORD' ), 'en_US' === $locale ? '' : $locale );
if ( is_wp_error( $result ) || empty( $result['user_id'] ) ) {
	fwrite( STDERR, "wp_install failed\n" );
	exit( 1 );
}
update_option( 'permalink_structure', '/%postname%/' );
echo "wordpress-converge: installed\n";

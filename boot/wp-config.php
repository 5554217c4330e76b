<?php
// Written by wordpress-converge on every boot: edits here are lost.
// Database host, credentials, site URL and salts are in /run (tmpfs), fetched at boot from
// Secrets Manager and SSM, so that no image of this server holds them.
require '/run/wordpress/runtime.php';
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
// TLS to the database, and the server's certificate verified against the system trust store
// (which holds the RDS CA bundle) and the endpoint's name: encryption alone would also talk to
// an impostor.
define( 'MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_VERIFY_SERVER_CERT );
$table_prefix = 'wp_';
// The edge ends TLS; trust the header of the one hop that alone reaches the servers, so that
// WordPress builds https links: CloudFront's CloudFront-Forwarded-Proto with edge cloudfront
// (the load balancer is internal and admits only CloudFront; its own X-Forwarded-Proto there
// says http, the hop from CloudFront), the load balancer's X-Forwarded-Proto with edge alb.
$wp_proto_header = 'HTTP_' . strtoupper( str_replace( '-', '_', WP_FORWARDED_PROTO_HEADER ) );
if ( isset( $_SERVER[ $wp_proto_header ] ) && 'https' === $_SERVER[ $wp_proto_header ] ) {
	$_SERVER['HTTPS'] = 'on';
}
unset( $wp_proto_header );
// Every server must hold the same code: change it by rebuilding the image, not in wp-admin.
define( 'DISALLOW_FILE_EDIT', true );
define( 'DISALLOW_FILE_MODS', true );
// The release, plugins and themes are pinned in the stack's config and rolled out as new
// servers: nothing updates itself on one server.
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
// Scheduled events run from a systemd timer on one server (cron.php), not from WP-Cron's
// request to the site's own URL.
define( 'DISABLE_WP_CRON', true );
define( 'WP_DEBUG', false );
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}
require_once ABSPATH . 'wp-settings.php';

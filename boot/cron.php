<?php
// WordPress's scheduled events, run by a systemd timer every minute on every server, and
// really run by exactly one of them per minute: the first to take the database lock claims
// the minute (an option holding the last minute claimed), the others find it claimed and
// leave. Then the claimant runs WordPress's own cron (wp-cron.php) as WP-Cron would.
// DISABLE_WP_CRON stops WordPress from calling its own URL for this.
define( 'WP_USE_THEMES', false );
$_SERVER['HTTP_HOST']   = $_SERVER['HTTP_HOST'] ?? 'localhost';
$_SERVER['REQUEST_URI'] = '/wp-cron.php';
require '/var/www/html/wp-load.php';
global $wpdb;
$tick = (string) intdiv( time(), 60 );
if ( '1' !== (string) $wpdb->get_var( "SELECT GET_LOCK('wordpress-converge-cron', 5)" ) ) {
	echo "wordpress-cron: another server holds the cron lock\n";
	exit( 0 );
}
$claimed = (string) $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM {$wpdb->options} WHERE option_name = %s", 'scalable_wordpress_cron_tick' ) );
if ( $claimed >= $tick && '' !== $claimed ) {
	$wpdb->query( "SELECT RELEASE_LOCK('wordpress-converge-cron')" );
	echo "wordpress-cron: minute $tick already run by another server\n";
	exit( 0 );
}
$wpdb->query( $wpdb->prepare( "INSERT INTO {$wpdb->options} (option_name, option_value, autoload) VALUES (%s, %s, 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)", 'scalable_wordpress_cron_tick', $tick ) );
$wpdb->query( "SELECT RELEASE_LOCK('wordpress-converge-cron')" );
$due = wp_get_ready_cron_jobs();
echo 'wordpress-cron: minute ', $tick, ': ', count( $due ), " due event time(s)\n";
// wp-cron.php runs every due event and reschedules the recurring ones, under WordPress's own
// doing_cron lock; it returns without output.
require ABSPATH . 'wp-cron.php';

<?php
/**
 * Plugin Name: Edge cache rules (scalable-wordpress)
 * Description: Keeps per-visitor pages out of shared caches (CloudFront). Search results and previews say no-store themselves, since no path pattern can tell them from a page; and every "no cache" answer of WordPress (logged-in users among them) says no-store and private, as recent releases do.
 */
add_filter(
	'nocache_headers',
	function ( $headers ) {
		$headers['Cache-Control'] = 'no-cache, must-revalidate, max-age=0, no-store, private';
		return $headers;
	}
);
add_action(
	'template_redirect',
	function () {
		if ( is_search() || is_preview() ) {
			nocache_headers();
		}
	}
);
// Staging (install.php): no mail, no indexing.
if ( get_option( 'scalable_wordpress_staging' ) ) {
	add_filter(
		'pre_wp_mail',
		function ( $r, $a ) {
			error_log( 'staging: dropped mail to ' . implode( ', ', (array) $a['to'] ) . ': ' . $a['subject'] );
			return false;
		},
		10,
		2
	);
	add_action( 'send_headers', fn() => header( 'X-Robots-Tag: noindex, nofollow' ) );
}

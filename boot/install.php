<?php
// Installs WordPress once per database, or applies the site settings that changed since they
// were last applied. Safe on every boot and on many servers at once: a MySQL named lock lets
// one server work while the others wait, and then find nothing left to do.
//
// The settings (SETTINGS_FILE, from SSM) are the stack's config: site-title, admin-user,
// admin-email, locale. A setting is applied when its config value changes, not on every
// boot, so an edit made in wp-admin stands until the config changes that setting again. What
// was applied is kept in the option scalable_wordpress_applied.
$settings = json_decode( (string) file_get_contents( (string) getenv( 'SETTINGS_FILE' ) ), true );
if ( ! is_array( $settings ) ) {
	fwrite( STDERR, "the settings are not the JSON object expected\n" );
	exit( 1 );
}
define( 'WP_INSTALLING', true );
$host                   = (string) parse_url( (string) $settings['site-url'], PHP_URL_HOST );
$_SERVER['HTTP_HOST']   = $host;
$_SERVER['SERVER_NAME'] = $host;
$_SERVER['REQUEST_URI'] = '/';
function wp_new_blog_notification( $blog_title, $blog_url, $user_id, $password ) {
	// No e-mail: the password is in Secrets Manager, and servers do not send mail.
}
require '/var/www/html/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
global $wpdb;
if ( '1' !== (string) $wpdb->get_var( "SELECT GET_LOCK('wordpress-converge-install', 300)" ) ) {
	fwrite( STDERR, "could not take the install lock\n" );
	exit( 1 );
}
$wanted = array(
	'site-title'  => (string) $settings['site-title'],
	'admin-user'  => (string) $settings['admin-user'],
	'admin-email' => (string) $settings['admin-email'],
	'locale'      => (string) $settings['locale'],
);
$language = 'en_US' === $wanted['locale'] ? '' : $wanted['locale'];
// Staging (docs/staging.md): no indexing, ever; edge-cache.php drops mail.
$staging = '1' === (string) ( $settings['staging'] ?? '0' );

// The plugins of the image recipe (slug@version, space-separated): each is activated once,
// the first time it is listed; one deactivated in wp-admin later stays deactivated.
function activate_listed_plugins() {
	$done = get_option( 'scalable_wordpress_activated', array() );
	$done = is_array( $done ) ? $done : array();
	$new  = array();
	foreach ( preg_split( '/\s+/', (string) getenv( 'WP_PLUGINS' ), -1, PREG_SPLIT_NO_EMPTY ) as $entry ) {
		$slug = strtok( $entry, '@' );
		if ( in_array( $slug, $done, true ) ) {
			continue;
		}
		$files = array_keys( get_plugins( '/' . $slug ) );
		if ( ! $files ) {
			fwrite( STDERR, "wordpress-converge: plugin $slug is not installed in this image\n" );
			exit( 1 );
		}
		$result = activate_plugin( $slug . '/' . $files[0] );
		if ( is_wp_error( $result ) ) {
			fwrite( STDERR, "wordpress-converge: cannot activate plugin $slug: " . $result->get_error_message() . "\n" );
			exit( 1 );
		}
		$done[] = $slug;
		$new[]  = $slug;
	}
	update_option( 'scalable_wordpress_activated', $done, false );
	return $new;
}

// The first theme of the image recipe (slug@version:sha256, space-separated) becomes the
// site's theme once, when it first heads the list; a theme chosen in wp-admin later stands
// until the config puts another theme first. A child theme is listed before its parent.
function activate_listed_theme() {
	$first = preg_split( '/\s+/', (string) getenv( 'WP_THEMES' ), -1, PREG_SPLIT_NO_EMPTY )[0] ?? '';
	$slug  = strtok( $first, '@' );
	if ( '' === $first || get_option( 'scalable_wordpress_theme' ) === $slug ) {
		return array();
	}
	$theme = wp_get_theme( $slug );
	if ( ! $theme->exists() || $theme->errors() ) {
		$why = $theme->errors() ? $theme->errors()->get_error_message() : 'not installed in this image';
		fwrite( STDERR, "wordpress-converge: cannot switch to theme $slug: $why\n" );
		exit( 1 );
	}
	switch_theme( $slug );
	update_option( 'scalable_wordpress_theme', $slug, false );
	return array( "theme $slug" );
}

// activate_listed activates what the recipe lists and names what it activated.
function activate_listed() {
	global $staging;
	if ( $staging ) {
		update_option( 'blog_public', '0' );
	}
	update_option( 'scalable_wordpress_staging', $staging ? '1' : '0' );
	$new = array_merge( activate_listed_plugins(), activate_listed_theme() );
	return $new ? '; activated ' . implode( ', ', $new ) : '';
}

if ( ! is_blog_installed() ) {
	$result = wp_install( $wanted['site-title'], $wanted['admin-user'], $wanted['admin-email'], true, '', getenv( 'WP_ADMIN_PASSWORD' ), $language );
	if ( is_wp_error( $result ) || empty( $result['user_id'] ) ) {
		fwrite( STDERR, "wp_install failed\n" );
		exit( 1 );
	}
	update_option( 'permalink_structure', '/%postname%/' );
	update_option( 'scalable_wordpress_applied', $wanted + array( 'admin-id' => (int) $result['user_id'] ), false );
	echo 'wordpress-converge: installed', activate_listed(), "\n";
	exit( 0 );
}

// A new release: its database upgrade, once. The lock makes every other server wait, and
// then find the schema current.
$upgraded = '';
$from     = (int) get_option( 'db_version' );
if ( $from < (int) $wp_db_version ) {
	wp_upgrade();
	$upgraded = "upgraded the database from $from to $wp_db_version for WordPress $wp_version";
}

$applied = get_option( 'scalable_wordpress_applied' );
if ( ! is_array( $applied ) ) {
	// Installed before settings were applied after install: take the site as it is.
	$admin   = get_user_by( 'login', $wanted['admin-user'] );
	$applied = $wanted + array( 'admin-id' => $admin ? (int) $admin->ID : 0 );
	update_option( 'scalable_wordpress_applied', $applied, false );
}
$changed = array();
foreach ( $wanted as $key => $value ) {
	if ( ( $applied[ $key ] ?? null ) === $value ) {
		continue;
	}
	$admin_id = (int) ( $applied['admin-id'] ?? 0 );
	switch ( $key ) {
		case 'site-title':
			update_option( 'blogname', $value );
			break;
		case 'locale':
			update_option( 'WPLANG', $language );
			break;
		case 'admin-email':
			update_option( 'admin_email', $value );
			if ( $admin_id ) {
				// Directly, not wp_update_user(): that mails the old address, and servers send no mail.
				$wpdb->update( $wpdb->users, array( 'user_email' => $value ), array( 'ID' => $admin_id ) );
				clean_user_cache( $admin_id );
			}
			break;
		case 'admin-user':
			$taken = get_user_by( 'login', $value );
			if ( ! $admin_id || ( $taken && (int) $taken->ID !== $admin_id ) ) {
				fwrite( STDERR, "wordpress-converge: cannot rename the administrator to $value: the login is taken or the administrator is unknown\n" );
				continue 2;
			}
			// WordPress offers no rename; the login is a column of its own.
			$wpdb->update( $wpdb->users, array( 'user_login' => $value, 'user_nicename' => sanitize_title( $value ) ), array( 'ID' => $admin_id ) );
			clean_user_cache( $admin_id );
			break;
	}
	$applied[ $key ] = $value;
	$changed[]       = $key;
}
update_option( 'scalable_wordpress_applied', $applied, false );
echo 'wordpress-converge: already installed', $upgraded ? "; $upgraded" : '', $changed ? '; applied ' . implode( ', ', $changed ) : '',
	activate_listed(), "\n";

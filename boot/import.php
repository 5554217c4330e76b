<?php
// Moves an existing WordPress site into this stack's database, once (import.sh.tmpl runs it;
// docs/operations.md#moving-a-site-in).
//   php import.php status               prints "imported SOURCE" or "none"
//   php import.php members NAMES TYPES  checks an uploads archive's member list (one name a
//                                       line; one type letter a line, as tar -tv or zipinfo
//                                       print it) and prints the folder holding the uploads
//   php import.php run                  the import, under the install lock
//
// run: the dump (IMPORT_DUMP) is loaded into staging tables (wpimport_*), checked to be
// WordPress with the stack's table prefix, its URLs rewritten from the old site's
// (IMPORT_SITE_URL, else its siteurl) to the stack's, the uploads copied (IMPORT_UPLOADS_DIR)
// onto the shared file system, and then the staging tables swapped in by one RENAME TABLE,
// the marker (scalable_wordpress_imported, naming IMPORT_DATABASE) among them: the site is the
// fresh install or the imported one, never half of each. A failure drops the staging tables.
const STAGE   = 'wpimport_';
const RETIRED = 'wpretired_';
const MARKER  = 'scalable_wordpress_imported';
const LOCK    = 'wordpress-converge-install';
// Names PHP could run, as the uploads' Apache rule refuses them (wordpress.conf), and the
// files that configure a server.
const NOT_DATA = '/(?i)\.(php\d*|pht|phtml|phar|phps)(\.|$)|^\.htaccess$|^\.user\.ini$/';

function fail( $message ) {
	fwrite( STDERR, "wordpress-import: $message\n" );
	exit( 1 );
}

$mode = $argv[1] ?? '';
if ( 'members' === $mode ) {
	exit( check_members( (string) file_get_contents( $argv[2] ?? '' ), (string) file_get_contents( $argv[3] ?? '' ) ) );
}
if ( 'status' !== $mode && 'run' !== $mode ) {
	fail( 'usage: import.php status | members NAMES TYPES | run' );
}

// check_members refuses an archive unless every member is a plain file or folder, inside one
// root ("", "uploads/" or "wp-content/uploads/", which it prints), with no absolute path, no
// "..", no PHP; it names the first member refused.
function check_members( $names, $types ) {
	$names = preg_split( '/\n/', rtrim( $names, "\n" ) );
	$types = preg_split( '/\n/', rtrim( $types, "\n" ) );
	if ( array( '' ) === $names ) {
		fwrite( STDERR, "wordpress-import: the uploads archive is empty\n" );
		return 1;
	}
	if ( count( $names ) !== count( $types ) ) {
		fwrite( STDERR, "wordpress-import: the uploads archive's listing is not one line per member\n" );
		return 1;
	}
	$roots = array( 'wp-content/uploads/', 'uploads/', '' );
	foreach ( $names as $i => $name ) {
		$why = '';
		if ( '-' !== $types[ $i ] && 'd' !== $types[ $i ] ) {
			$why = 'is a link or a special file, not a plain file or folder';
		} elseif ( '' === $name || '/' === $name[0] || preg_match( '/[\x00-\x1f\\\\]/', $name ) ) {
			$why = 'is an absolute path or holds control characters or backslashes';
		}
		$parts = explode( '/', preg_replace( '#^(\./)+#', '', $name ) );
		foreach ( $parts as $part ) {
			if ( '..' === $part ) {
				$why = $why ? $why : 'escapes the uploads (..)';
			} elseif ( preg_match( NOT_DATA, $part ) ) {
				$why = $why ? $why : 'is PHP or server configuration (uploads are data)';
			}
		}
		if ( $why ) {
			fwrite( STDERR, "wordpress-import: the uploads archive's member $name $why\n" );
			return 1;
		}
		$rel = rtrim( implode( '/', $parts ), '/' ) . ( 'd' === $types[ $i ] || '/' === substr( $name, -1 ) ? '/' : '' );
		// The roots this member allows: a folder on the way to a root allows it too.
		$roots = array_values(
			array_filter(
				$roots,
				function ( $root ) use ( $rel ) {
					return '' === $root || 0 === strpos( $rel, $root ) || ( '/' === substr( $rel, -1 ) && 0 === strpos( $root, $rel ) ) || '' === trim( $rel, '/' );
				}
			)
		);
	}
	echo $roots[0], "\n";
	return 0;
}

$settings = json_decode( (string) file_get_contents( (string) getenv( 'SETTINGS_FILE' ) ), true );
if ( ! is_array( $settings ) ) {
	fail( 'the settings are not the JSON object expected' );
}
define( 'WP_INSTALLING', true );
$host                   = (string) parse_url( (string) $settings['site-url'], PHP_URL_HOST );
$_SERVER['HTTP_HOST']   = $host;
$_SERVER['SERVER_NAME'] = $host;
$_SERVER['REQUEST_URI'] = '/';
require '/var/www/html/wp-load.php';
global $wpdb;
// A rewrite alone (no dump: the stack's database restored from another stack's snapshot);
// its marker names no URL (import.sh.tmpl's IMPORT_SOURCE).
$rewrite = '' === (string) getenv( 'IMPORT_DATABASE' );
$source  = $rewrite ? 'rewrite-only' : (string) getenv( 'IMPORT_DATABASE' );
$prefix  = $wpdb->prefix;

// imported_from is the source the marker names, or "".
function imported_from( $table ) {
	global $wpdb;
	$wpdb->suppress_errors( true );
	$raw = $wpdb->get_var( $wpdb->prepare( "SELECT option_value FROM `$table` WHERE option_name = %s", MARKER ) );
	$wpdb->suppress_errors( false );
	$marker = is_string( $raw ) ? @unserialize( $raw, array( 'allowed_classes' => false ) ) : false;
	return is_array( $marker ) ? (string) ( $marker['database'] ?? '' ) : '';
}

if ( 'status' === $mode ) {
	$from = imported_from( $wpdb->options );
	echo $from ? "imported $from" : 'none', "\n";
	exit( 0 );
}

$db = $wpdb->dbh;
if ( '1' !== (string) $wpdb->get_var( "SELECT GET_LOCK('" . LOCK . "', 600)" ) ) {
	fail( 'could not take the install lock' );
}
$from = imported_from( $wpdb->options );
if ( $from === $source ) {
	echo $rewrite ? "wordpress-import: the site was rewritten to this stack's URL already: nothing to do\n" : "wordpress-import: the site was imported from $source already: nothing to do\n";
	exit( 0 );
}
// A rewrite's database may hold the marker of the stack it was restored from.
if ( '' !== $from && ! $rewrite ) {
	fail( "this stack's site was imported from $from; importFrom now names $source: a stack imports once" );
}
// Only a fresh install is replaced: its one administrator, and no post of anyone's.
$users = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->users}" );
$posts = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->posts} WHERE ID > 3 AND post_status NOT IN ('auto-draft', 'inherit') AND post_type IN ('post', 'page', 'attachment')" );
if ( ! $rewrite && ( $users > 1 || $posts > 0 ) ) {
	fail( "this stack's site is not a fresh install ($users users, $posts posts and pages of its own): an import replaces only a new stack's site; nothing changed" );
}

function tables_like( $like ) {
	global $wpdb;
	return $wpdb->get_col( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $like ) . '%' ) );
}
function drop_tables( $like ) {
	global $wpdb;
	foreach ( tables_like( $like ) as $t ) {
		$wpdb->query( "DROP TABLE IF EXISTS `$t`" );
	}
}
// Whatever ends this run before the swap, the staging tables go with it.
$swapped = false;
register_shutdown_function(
	function () use ( &$swapped ) {
		if ( ! $swapped ) {
			drop_tables( STAGE );
		}
	}
);
drop_tables( STAGE );
drop_tables( RETIRED );

// --- the dump, into the staging tables; or, for a rewrite alone, the stack's own tables ---

$dump = (string) getenv( 'IMPORT_DUMP' );
if ( $rewrite ) {
	foreach ( tables_like( $prefix ) as $t ) {
		$stage = STAGE . substr( $t, strlen( $prefix ) );
		if ( ! mysqli_query( $db, "CREATE TABLE `$stage` LIKE `$t`" ) || ! mysqli_query( $db, "INSERT INTO `$stage` SELECT * FROM `$t`" ) ) {
			fail( "cannot copy $t: " . mysqli_error( $db ) );
		}
	}
}
if ( ! $rewrite ) {
	$fh   = fopen( $dump, 'rb' );
	if ( ! $fh ) {
		fail( "cannot open the dump $dump" );
	}
	// A first pass: the tables the dump creates, to say at once what is wrong with it.
	$tables = array();
	while ( false !== ( $line = fgets( $fh ) ) ) {
		if ( preg_match( '/^CREATE TABLE (?:IF NOT EXISTS )?`([^`]+)`/', $line, $m ) ) {
			$tables[] = $m[1];
		}
	}
	$core = array( 'options', 'users', 'usermeta', 'posts' );
	if ( array_diff( array_map( fn( $t ) => $prefix . $t, $core ), $tables ) ) {
		$theirs = array();
		foreach ( $tables as $t ) {
			if ( preg_match( '/^(.*)options$/', $t, $m ) && array( $m[1] . 'options', $m[1] . 'posts', $m[1] . 'users', $m[1] . 'usermeta' ) === array_values( array_intersect( array( $m[1] . 'options', $m[1] . 'posts', $m[1] . 'users', $m[1] . 'usermeta' ), $tables ) ) ) {
				$theirs[] = $m[1];
			}
		}
		if ( $theirs ) {
			fail( "the dump's table prefix is {$theirs[0]}, this stack's is $prefix: rename its tables and the prefixed option and user meta keys ({$theirs[0]}user_roles, {$theirs[0]}capabilities, {$theirs[0]}user_level) to $prefix before exporting" );
		}
		fail( 'the dump is not a WordPress database: it creates no ' . implode( ', ', array_map( fn( $t ) => $prefix . $t, $core ) ) . ' tables' . ( $tables ? ' (it creates ' . implode( ', ', array_slice( $tables, 0, 8 ) ) . ')' : '' ) . '' );
	}
	foreach ( $tables as $t ) {
		if ( 0 !== strpos( $t, $prefix ) ) {
			fail( "the dump holds the table $t, outside the table prefix $prefix: export only the site's tables" );
		}
	}

	// The statements, one by one: mysqldump and wp db export write each on lines of its own,
	// ending with ";" (a value's newlines are escaped). Table names are moved to the staging
	// prefix; a database named, table locks and the dump's own comments are left out.
	rewind( $fh );
	$stmt   = '';
	$lineno = 0;
	$head   = '/^((?:\/\*!\d+ )?(?:DROP TABLE IF EXISTS|CREATE TABLE(?: IF NOT EXISTS)?|INSERT INTO|INSERT IGNORE INTO|REPLACE INTO|ALTER TABLE)) `' . preg_quote( $prefix, '/' ) . '([^`]*)`/';
	while ( false !== ( $line = fgets( $fh ) ) ) {
		++$lineno;
		if ( '' === $stmt ) {
			if ( '' === trim( $line ) || 0 === strpos( $line, '-- ' ) || "--\n" === $line ) {
				continue;
			}
			if ( preg_match( '/^(USE |CREATE DATABASE|(LOCK|UNLOCK) TABLES|\/\*M!999999)/', $line ) ) {
				continue;
			}
			if ( preg_match( '/^DELIMITER|^\/\*!50003 CREATE|^\/\*!50001 (CREATE|VIEW|DROP VIEW)/', $line ) ) {
				fail( "the dump holds triggers, routines or views (line $lineno): export the tables only (mysqldump --skip-triggers, no --routines)" );
			}
			$line = preg_replace( $head, '$1 `' . STAGE . '$2`', $line, 1 );
		}
		$stmt .= $line;
		if ( ';' !== substr( rtrim( $line ), -1 ) ) {
			continue;
		}
		if ( ! mysqli_query( $db, $stmt ) ) {
			fail( "the dump does not load at line $lineno: " . mysqli_error( $db ) . '' );
		}
		$stmt = '';
	}
	fclose( $fh );
	if ( '' !== trim( $stmt ) ) {
		fail( 'the dump ends inside a statement (cut short?)' );
	}
}

// --- is it WordPress? ---

$opt     = STAGE . 'options';
$options = $wpdb->get_results( "SELECT option_name, option_value FROM `$opt` WHERE option_name IN ('siteurl', 'home', '{$prefix}user_roles')", OBJECT_K );
foreach ( array( 'siteurl', 'home', $prefix . 'user_roles' ) as $name ) {
	if ( ! isset( $options[ $name ] ) ) {
		fail( "the dump is not a WordPress site of table prefix $prefix: its {$prefix}options has no $name" );
	}
}
$user_count = (int) $wpdb->get_var( 'SELECT COUNT(*) FROM `' . STAGE . 'users`' );
if ( $user_count < 1 ) {
	fail( 'the dump has no users' );
}

// --- the URLs ---

$old = rtrim( (string) ( getenv( 'IMPORT_SITE_URL' ) ? getenv( 'IMPORT_SITE_URL' ) : $options['siteurl']->option_value ), '/' );
$new = rtrim( (string) $settings['site-url'], '/' );
if ( ! preg_match( '#^https?://[^/]+#', $old ) ) {
	fail( "the old site URL $old is not a URL; set importFrom.siteUrl" );
}
$rewritten = $old === $new ? 0 : search_replace( $old, $new, tables_like( STAGE ) );

// --- the stack's own options, in the staging tables ---

$wpdb->query( $wpdb->prepare( "UPDATE `$opt` SET option_value = %s WHERE option_name IN ('siteurl', 'home')", $new ) );
// The stack's settings stand as the site's own (the imported title, e-mail and users are
// kept): later changes of the config apply, to the imported user of the admin login if any.
$wanted = array(
	'site-title'  => (string) $settings['site-title'],
	'admin-user'  => (string) $settings['admin-user'],
	'admin-email' => (string) $settings['admin-email'],
	'locale'      => (string) $settings['locale'],
);
$admin  = (int) $wpdb->get_var( $wpdb->prepare( 'SELECT ID FROM `' . STAGE . 'users` WHERE user_login = %s', $wanted['admin-user'] ) );
// The recipe's plugins and theme are activated by the next converge, as after a fresh install.
$wpdb->query( "DELETE FROM `$opt` WHERE option_name IN ('scalable_wordpress_applied', 'scalable_wordpress_activated', 'scalable_wordpress_theme', '" . MARKER . "')" );
// The marker names the source (and not the old URL: no old URL stays in the options).
$marker = array(
	'database' => $source,
	'at'       => gmdate( 'c' ),
);
foreach ( array( 'scalable_wordpress_applied' => $wanted + array( 'admin-id' => $admin ), MARKER => $marker ) as $name => $value ) {
	$wpdb->insert( $opt, array( 'option_name' => $name, 'option_value' => serialize( $value ), 'autoload' => 'no' ) );
}

// --- the uploads, onto the shared file system ---

$staged = (string) getenv( 'IMPORT_UPLOADS_DIR' );
if ( '' !== $staged ) {
	$target = (string) getenv( 'IMPORT_UPLOADS_TARGET' );
	$cmd    = 'runuser -u ' . escapeshellarg( (string) getenv( 'IMPORT_WEB_USER' ) ) . ' -- cp -R --preserve=timestamps '
		. escapeshellarg( $staged . '/.' ) . ' ' . escapeshellarg( $target . '/' ) . ' 2>&1';
	exec( $cmd, $out, $rc );
	if ( 0 !== $rc ) {
		fail( 'cannot copy the uploads onto the shared file system: ' . implode( ' ', $out ) . '; the database was not imported' );
	}
}

// --- the swap: one statement ---

$renames = array();
foreach ( tables_like( STAGE ) as $t ) {
	$live = $prefix . substr( $t, strlen( STAGE ) );
	if ( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', $wpdb->esc_like( $live ) ) ) ) {
		$renames[] = "`$live` TO `" . RETIRED . substr( $live, strlen( $prefix ) ) . '`';
	}
	$renames[] = "`$t` TO `$live`";
}
if ( ! mysqli_query( $db, 'RENAME TABLE ' . implode( ', ', $renames ) ) ) {
	fail( 'the swap failed: ' . mysqli_error( $db ) . '; the site is as it was' );
}
$swapped = true;
drop_tables( RETIRED );
wp_cache_flush();
echo $rewrite ? "wordpress-import: rewrote the site's URLs from $old to $new in $rewritten values ($user_count users)\n"
	: "wordpress-import: imported the site from $source ($user_count users; $old rewritten to $new in $rewritten values)\n";

// --- the URL rewrite ---

// search_replace rewrites the old site URL to the new one in every text column of the
// tables, keeping PHP-serialized values valid, and returns how many values changed. The seam
// where WP-CLI plugs in: with IMPORT_WP_CLI naming its wp, `wp search-replace` does the work.
function search_replace( $old, $new, $tables ) {
	$pairs = url_pairs( $old, $new );
	$cli   = (string) getenv( 'IMPORT_WP_CLI' );
	if ( '' !== $cli ) {
		$n = 0;
		foreach ( $pairs as $from => $to ) {
			$args = array_merge( array( $cli, 'search-replace', $from, $to ), $tables, array( '--precise', '--skip-plugins', '--skip-themes', '--allow-root', '--path=' . ABSPATH, '--format=count' ) );
			$n   += (int) shell_exec( implode( ' ', array_map( 'escapeshellarg', $args ) ) );
		}
		return $n;
	}
	global $wpdb;
	$needle = (string) parse_url( $old, PHP_URL_HOST );
	$n      = 0;
	foreach ( $tables as $table ) {
		$text = array();
		$keys = array();
		foreach ( $wpdb->get_results( "SHOW COLUMNS FROM `$table`" ) as $c ) {
			if ( preg_match( '/char|text/i', $c->Type ) ) {
				$text[] = $c->Field;
			}
			if ( 'PRI' === $c->Key ) {
				$keys[] = $c->Field;
			}
		}
		if ( ! $text ) {
			continue;
		}
		if ( ! $keys ) {
			fwrite( STDERR, "wordpress-import: $table has no primary key: its URLs are left as they are\n" );
			continue;
		}
		$like  = '%' . $wpdb->esc_like( $needle ) . '%';
		$where = implode( ' OR ', array_map( fn( $c ) => $wpdb->prepare( "`$c` LIKE %s", $like ), $text ) );
		$cols  = implode( ', ', array_map( fn( $c ) => "`$c`", array_unique( array_merge( $keys, $text ) ) ) );
		foreach ( $wpdb->get_results( "SELECT $cols FROM `$table` WHERE $where", ARRAY_A ) as $row ) {
			$set = array();
			foreach ( $text as $c ) {
				if ( is_string( $row[ $c ] ) ) {
					$v = rewrite_value( $row[ $c ], $pairs );
					if ( $v !== $row[ $c ] ) {
						$set[ $c ] = $v;
					}
				}
			}
			if ( $set ) {
				$wpdb->update( $table, $set, array_intersect_key( $row, array_flip( $keys ) ) );
				$n += count( $set );
			}
		}
	}
	return $n;
}

// url_pairs are the forms of the old URL, each with its new form: http and https (both
// become the new scheme), scheme-less (//old), and each of them JSON-escaped (block
// attributes hold https:\/\/old).
function url_pairs( $old, $new ) {
	$o     = preg_replace( '#^https?://#', '', $old );
	$n     = preg_replace( '#^https?://#', '', $new );
	$pairs = array(
		'https://' . $o => $new,
		'http://' . $o  => $new,
		'//' . $o       => '//' . $n,
	);
	foreach ( $pairs as $from => $to ) {
		$pairs[ str_replace( '/', '\/', $from ) ] = str_replace( '/', '\/', $to );
	}
	return $pairs;
}

// replace_urls replaces each form where the host (and path) ends: http://old.example.com
// does not rewrite http://old.example.com.evil or http://old.example.company.
function replace_urls( $s, $pairs ) {
	static $pattern = array();
	$key = serialize( $pairs );
	if ( ! isset( $pattern[ $key ] ) ) {
		$froms = array_keys( $pairs );
		usort( $froms, fn( $a, $b ) => strlen( $b ) - strlen( $a ) );
		$pattern[ $key ] = '~(' . implode( '|', array_map( fn( $f ) => preg_quote( $f, '~' ), $froms ) ) . ')(?![A-Za-z0-9_-]|\.[A-Za-z0-9])~';
	}
	return preg_replace_callback( $pattern[ $key ], fn( $m ) => $pairs[ $m[1] ], $s );
}

// rewrite_value rewrites one column's value. A PHP-serialized one (WordPress's is_serialized)
// is rewritten in its serialized form, string by string, each string's length recomputed:
// objects keep their class and are never instantiated (unserialize() of a dump's data could
// run any loaded class's __wakeup or __destruct, and a class not loaded here would come back
// as __PHP_Incomplete_Class, whose properties cannot be changed). A value that does not parse,
// or whose result unserialize() (allowed_classes false) would not read, is left as it was.
function rewrite_value( $v, $pairs ) {
	if ( is_serialized( $v ) ) {
		$p   = 0;
		$out = rewrite_serialized( $v, $p, $pairs, 0 );
		if ( null === $out || strlen( $v ) !== $p ) {
			fwrite( STDERR, 'wordpress-import: a serialized value does not parse; left as it was: ' . substr( $v, 0, 60 ) . "\n" );
			return $v;
		}
		if ( $out !== $v && false === @unserialize( $out, array( 'allowed_classes' => false ) ) && 'b:0;' !== $out ) {
			return $v;
		}
		return $out;
	}
	return replace_urls( $v, $pairs );
}

// rewrite_serialized reads one serialized value at $p and returns it rewritten (null if it
// is not PHP's serialization).
function rewrite_serialized( $s, &$p, $pairs, $depth ) {
	if ( $depth > 64 ) {
		return null;
	}
	$t = $s[ $p ] ?? '';
	if ( 'N' === $t && 'N;' === substr( $s, $p, 2 ) ) {
		$p += 2;
		return 'N;';
	}
	if ( preg_match( '/\G(?:b:[01]|i:[+-]?\d+|d:[^;]+|[rR]:\d+);/', $s, $m, 0, $p ) ) {
		$p += strlen( $m[0] );
		return $m[0];
	}
	if ( preg_match( '/\GE:\d+:"[^"]*";/', $s, $m, 0, $p ) ) {
		$p += strlen( $m[0] );
		return $m[0];
	}
	if ( preg_match( '/\Gs:(\d+):"/', $s, $m, 0, $p ) ) {
		$start = $p + strlen( $m[0] );
		$len   = (int) $m[1];
		if ( '";' !== substr( $s, $start + $len, 2 ) ) {
			return null;
		}
		$p   = $start + $len + 2;
		$str = rewrite_value( substr( $s, $start, $len ), $pairs );
		return 's:' . strlen( $str ) . ':"' . $str . '";';
	}
	if ( preg_match( '/\GC:\d+:"[^"]*":(\d+):\{/', $s, $m, 0, $p ) ) {
		// A class's own serialization (Serializable): opaque, kept byte for byte.
		$end = $p + strlen( $m[0] ) + (int) $m[1];
		if ( '}' !== ( $s[ $end ] ?? '' ) ) {
			return null;
		}
		$out = substr( $s, $p, $end + 1 - $p );
		$p   = $end + 1;
		return $out;
	}
	if ( preg_match( '/\G(?:a|O:\d+:"[^"]*"):(\d+):\{/', $s, $m, 0, $p ) ) {
		$out = $m[0];
		$p  += strlen( $m[0] );
		for ( $i = 0; $i < 2 * (int) $m[1]; $i++ ) {
			$item = rewrite_serialized( $s, $p, $pairs, $depth + 1 );
			if ( null === $item ) {
				return null;
			}
			$out .= $item;
		}
		if ( '}' !== ( $s[ $p ] ?? '' ) ) {
			return null;
		}
		++$p;
		return $out . '}';
	}
	return null;
}

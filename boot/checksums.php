<?php
// Checks a plugin's files against wordpress.org's published checksums (the plugin-checksums
// API: {"files": {"path": {"sha256": "…" or ["…", …], "md5": …}}}). Every listed file must be
// there with a listed SHA-256, and no other file may be: a tampered or padded archive fails.
// Usage: php checksums.php CHECKSUMS.json PLUGIN_DIR
$doc = json_decode( (string) file_get_contents( $argv[1] ?? '' ), true );
$dir = rtrim( $argv[2] ?? '', '/' );
if ( ! is_array( $doc ) || ! is_array( $doc['files'] ?? null ) || array() === $doc['files'] || ! is_dir( $dir ) ) {
	fwrite( STDERR, "wordpress-converge: no checksums, or no plugin folder, to check\n" );
	exit( 1 );
}
$bad = array();
foreach ( $doc['files'] as $path => $sums ) {
	$want = (array) ( $sums['sha256'] ?? array() );
	$file = $dir . '/' . ltrim( (string) $path, '/' );
	if ( array() === $want ) {
		$bad[] = "$path (no SHA-256 published)";
	} elseif ( ! is_file( $file ) ) {
		$bad[] = "$path (missing)";
	} elseif ( ! in_array( hash_file( 'sha256', $file ), array_map( 'strtolower', $want ), true ) ) {
		$bad[] = "$path (changed)";
	}
}
$files = new RecursiveIteratorIterator( new RecursiveDirectoryIterator( $dir, FilesystemIterator::SKIP_DOTS ) );
foreach ( $files as $f ) {
	$rel = substr( $f->getPathname(), strlen( $dir ) + 1 );
	if ( ! $f->isDir() && ! array_key_exists( $rel, $doc['files'] ) ) {
		$bad[] = "$rel (not published)";
	}
}
if ( $bad ) {
	fwrite( STDERR, 'wordpress-converge: ' . count( $bad ) . ' file(s) do not match: ' . implode( ', ', array_slice( $bad, 0, 5 ) ) . "\n" );
	exit( 1 );
}
echo 'wordpress-converge: ', count( $doc['files'] ), " files match\n";

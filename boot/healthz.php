<?php
// The load balancer's health check. It answers 200 only when PHP itself runs (a static file
// would pass with PHP-FPM dead, and the server would fail every request sent to it) and this
// server has converged: its runtime config from Secrets Manager and SSM is in place and the
// WordPress code is here. It never touches the database, so a database failover does not mark
// every server unhealthy at once (the target group would fail open and an Auto Scaling group
// would replace healthy servers).
header( 'Cache-Control: no-store' );
header( 'Content-Type: text/plain; charset=utf-8' );
$ready = is_readable( '/run/wordpress/runtime.php' ) && is_readable( __DIR__ . '/wp-includes/version.php' );
http_response_code( $ready ? 200 : 503 );
echo $ready ? "ok\n" : "not ready\n";

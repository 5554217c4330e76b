# shellcheck shell=bash
# Sizes PHP-FPM, OPcache and Apache to the machine they run on, on every boot, so that a burst
# of traffic queues briefly and then gets fast 503s instead of starting more PHP workers than
# memory holds (the kernel would then kill PHP, Apache or the agents, the health check would
# fail and the group would replace the server: a cascade). Inlined into the converge script
# without its comment lines (EC2's 16 KB of user data); the tests source it alone. Sizes are
# in MiB.
#
#   memory   = min(MemTotal, the memory limit of our cgroup)      (a container or a test's limit)
#   reserve  = 256 + memory/16      the OS, SSM and CloudWatch agents, page cache for the code
#   apache   = 64                   the event MPM's processes (threads are cheap) and the
#                                   health check's own PHP worker
#   opcache  = memory/16, 64..256   compiled WordPress core, plugins and themes
#   children = (memory - reserve - apache - opcache) / 64, at least 2, at most 8 per vCPU
#              (64 MiB: room for a worker's peak with plugins and big pages; the capacity
#              benchmark's whole 9-worker server peaked at 144 MiB; more than 8 workers
#              per vCPU add latency, not throughput)
#   queue    = children             requests waiting for a worker (in PHP-FPM's socket):
#                                   about one service time; Apache opens at most children +
#                                   queue connections to PHP, and answers a request that
#                                   finds none free within 100 ms with a 503
#   threads  = 4 x children + 32    Apache's one process: a thread per request to PHP,
#                                   static files and the health check (a second process
#                                   only during a graceful restart)

readonly SIZING_CHILD_MIB=64 SIZING_APACHE_MIB=64

# machine_memory_mib prints the memory this server may use: MemTotal, or less when our cgroup
# (v2 memory.max or v1 memory.limit_in_bytes) says so.
machine_memory_mib() {
  local total limit cg
  total=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  cg=$(awk -F: '$2 == "" || $2 ~ /(^|,)memory(,|$)/ {print $3; exit}' /proc/self/cgroup 2>/dev/null)
  for limit in "/sys/fs/cgroup$cg/memory.max" "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes"; do
    [[ -r $limit ]] || continue
    limit=$(<"$limit")
    if [[ $limit =~ ^[0-9]+$ ]] && ((limit / 1048576 < total)); then
      total=$((limit / 1048576))
    fi
  done
  echo "$total"
}

# php_sizing MEMORY_MIB VCPUS prints the derived settings, one name=value per line.
php_sizing() {
  local memory=$1 vcpus=$2 reserve opcache children
  ((vcpus >= 1)) || vcpus=1
  reserve=$((256 + memory / 16))
  opcache=$((memory / 16))
  ((opcache >= 64)) || opcache=64
  ((opcache <= 256)) || opcache=256
  children=$(((memory - reserve - SIZING_APACHE_MIB - opcache) / SIZING_CHILD_MIB))
  ((children >= 2)) || children=2
  ((children <= 8 * vcpus)) || children=$((8 * vcpus))
  printf '%s\n' "memory=$memory" "vcpus=$vcpus" "pm=static" "max_children=$children" \
    "max_requests=500" "queue=$children" "php_connections=$((2 * children))" "acquire_ms=100" \
    "terminate_timeout=60s" "opcache_mib=$opcache" "interned_mib=$((opcache / 8))" \
    "max_files=20000" "threads=$((4 * children + 32))"
}

# write_sizing_config MEMORY_MIB VCPUS writes the pool, OPcache and Apache settings (read when
# php-fpm and httpd start; a server's memory only changes across a stop and start).
write_sizing_config() {
  local -A s
  local key value
  while IFS='=' read -r key value; do s[$key]=$value; done < <(php_sizing "$1" "$2")
  # The pool of Amazon Linux's www.conf, redefined: php-fpm applies a [www] section that
  # comes later on top of the first.
  cat >/etc/php-fpm.d/zz-sizing.conf <<CONF
; Written by wordpress-converge for ${s[memory]} MiB and ${s[vcpus]} vCPUs.
[www]
pm = ${s[pm]}
pm.max_children = ${s[max_children]}
pm.max_requests = ${s[max_requests]}
listen.backlog = ${s[queue]}
request_terminate_timeout = ${s[terminate_timeout]}
; Only .php runs (the default adds .phar): a second guard behind wordpress.conf's.
security.limit_extensions = .php

; The load balancer's health check has a worker of its own: a server busy to its limit still
; answers it, so it stays in rotation and sheds the excess with 503s instead of leaving (its
; neighbours would take its share and follow it out: a cascade). A dead php-fpm fails it.
[healthz]
user = apache
group = apache
listen = /run/php-fpm/healthz.sock
listen.owner = apache
listen.group = apache
listen.mode = 0660
pm = static
pm.max_children = 1
security.limit_extensions = .php
php_admin_value[error_log] = /var/log/php-fpm/www-error.log
php_admin_flag[log_errors] = on
CONF
  install -d /etc/php.d
  cat >/etc/php.d/90-sizing.ini <<INI
; Written by wordpress-converge for ${s[memory]} MiB.
opcache.enable = 1
opcache.memory_consumption = ${s[opcache_mib]}
opcache.interned_strings_buffer = ${s[interned_mib]}
opcache.max_accelerated_files = ${s[max_files]}
opcache.validate_timestamps = 1
opcache.revalidate_freq = 2
INI
  # One Apache process, so that its limit on connections to PHP (max, per process) is the
  # server's: the workers plus the queue. A request that finds them all taken gets a 503
  # after acquire ms (PHP's socket would otherwise hold it, and Apache's threads with it,
  # until the load balancer gives up); retry=0 keeps PHP in use for the next request.
  cat >/etc/httpd/conf.d/sizing.conf <<CONF
# Written by wordpress-converge for ${s[max_children]} PHP workers.
<IfModule mpm_event_module>
    StartServers 1
    ServerLimit 2
    ThreadLimit ${s[threads]}
    ThreadsPerChild ${s[threads]}
    MaxRequestWorkers ${s[threads]}
    MinSpareThreads 1
    MaxSpareThreads ${s[threads]}
</IfModule>
<Proxy "unix:/run/php-fpm/www.sock|fcgi://localhost">
    ProxySet max=${s[php_connections]} acquire=${s[acquire_ms]} timeout=60 retry=0
</Proxy>
<Files "healthz.php">
    SetHandler "proxy:unix:/run/php-fpm/healthz.sock|fcgi://healthz"
</Files>
<Proxy "unix:/run/php-fpm/healthz.sock|fcgi://healthz">
    ProxySet connectiontimeout=2 timeout=10 retry=0
</Proxy>
CONF
  log "sized for ${s[memory]} MiB, ${s[vcpus]} vCPUs: ${s[max_children]} PHP workers, OPcache ${s[opcache_mib]} MiB"
}

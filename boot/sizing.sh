# shellcheck shell=bash
# Sizes PHP-FPM, OPcache and Apache to the machine they run on, on every boot, so that a burst
# of traffic queues briefly and then gets fast 503s instead of starting more PHP workers than
# memory holds (the kernel would then kill PHP, Apache or the agents, the health check would
# fail and the group would replace the server: a cascade). Inlined into the converge script;
# the tests source it alone. Sizes are in MiB.
#
#   memory   = min(MemTotal, the memory limit of our cgroup)      (a container or a test's limit)
#   reserve  = 256 + memory/16      the OS, SSM and CloudWatch agents, page cache for the code
#   apache   = 48                   the event MPM's processes (threads are cheap)
#   opcache  = memory/16, 64..256   compiled WordPress core, plugins and themes
#   children = (memory - reserve - apache - opcache) / 64, at least 2, at most 8 per vCPU
#              (64 MiB: a WordPress worker's peak, measured at 30-45; more children than 8
#              per vCPU add latency, not throughput)
#   backlog  = 2 x children         requests queued in PHP-FPM's socket: about two service
#                                   times of waiting; beyond it Apache answers 503 at once

readonly SIZING_CHILD_MIB=64 SIZING_APACHE_MIB=48 SIZING_THREADS=25

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
  local workers=$(((4 * children + SIZING_THREADS - 1) / SIZING_THREADS * SIZING_THREADS))
  ((workers >= 2 * SIZING_THREADS)) || workers=$((2 * SIZING_THREADS))
  printf '%s\n' "memory=$memory" "vcpus=$vcpus" "pm=static" "max_children=$children" \
    "max_requests=500" "backlog=$((2 * children))" "terminate_timeout=60s" \
    "opcache_mib=$opcache" "interned_mib=$((opcache / 8))" "max_files=20000" \
    "threads=$SIZING_THREADS" "max_workers=$workers" "server_limit=$((workers / SIZING_THREADS))"
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
listen.backlog = ${s[backlog]}
request_terminate_timeout = ${s[terminate_timeout]}
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
  # Apache holds one thread per request waiting for PHP: enough for every child and a queue
  # as long again. PHP's socket refuses what its backlog cannot hold, and with retry=0 Apache
  # answers that request 503 without marking PHP down for the next ones.
  cat >/etc/httpd/conf.d/sizing.conf <<CONF
# Written by wordpress-converge for ${s[max_children]} PHP workers.
<IfModule mpm_event_module>
    StartServers 1
    ThreadsPerChild ${s[threads]}
    MinSpareThreads ${s[threads]}
    MaxSpareThreads ${s[max_workers]}
    ServerLimit ${s[server_limit]}
    MaxRequestWorkers ${s[max_workers]}
</IfModule>
<Proxy "unix:/run/php-fpm/www.sock|fcgi://localhost">
    ProxySet connectiontimeout=5 timeout=60 retry=0
</Proxy>
CONF
  log "sized for ${s[memory]} MiB, ${s[vcpus]} vCPUs: ${s[max_children]} PHP workers, OPcache ${s[opcache_mib]} MiB"
}

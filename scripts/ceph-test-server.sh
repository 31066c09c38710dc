#!/usr/bin/env bash
# A single-node Ceph cluster with an S3 gateway for tests, entirely inside DIR and on loopback:
# one monitor, one OSD (memstore: objects live in the OSD's memory), radosgw with the beast
# frontend on 127.0.0.1:PORT, no cephx, no manager, no systemd, nothing under /etc/ceph.
#
#   ceph-test-server.sh start DIR PORT   prints, as its last line,
#                                        "http://127.0.0.1:PORT ACCESS_KEY SECRET_KEY"
#   ceph-test-server.sh stop DIR         stops the daemons it started (by their pid files)
#
# Environment (for benchmarks that write and delete large objects): CEPH_TEST_MEMSTORE_BYTES
# (the OSD's RAM store, default 4 GiB), CEPH_TEST_GC_WAIT and CEPH_TEST_GC_PERIOD (seconds
# before deleted data is collected, and between collections; defaults 30 and 3600),
# CEPH_TEST_BENCH=1 (bench/storage: no daemon logging, a 64 MiB write window per PUT; the
# bench then empties the store between turns with `radosgw-admin gc process --include-all`).
#
# Needs the Debian 12 packages ceph-mon ceph-osd radosgw ceph-common (scripts/install-deps.sh).
# Settings follow Ceph's own development cluster script; see docs/operations.md.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 1; }
dir=$(cd "$dir" && pwd -P)
conf="$dir/ceph.conf"

# True when pid names a live (not zombie) process started with this cluster's config.
ours() {
  local pid=$1
  [[ -r /proc/$pid/status ]] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$conf"
}

stop() {
  for name in client osd mon; do
    local f="$dir/run/$name.pid"
    [[ -f "$f" ]] || continue
    local pid
    pid=$(cat "$f")
    if ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do
    local alive=0
    for name in client osd mon; do
      local f="$dir/run/$name.pid"
      [[ -f "$f" ]] && ours "$(cat "$f")" && alive=1
    done
    ((alive)) || return 0
    sleep 0.1
  done
  for name in client osd mon; do
    local f="$dir/run/$name.pid"
    [[ -f "$f" ]] && ours "$(cat "$f")" && kill -KILL "$(cat "$f")" 2>/dev/null || true
  done
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
[[ "$cmd" == start ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 1; }
port=${3:-}
[[ "$port" =~ ^[0-9]+$ ]] || { echo "usage: $0 start DIR PORT" >&2; exit 1; }

mkdir -p "$dir"/{run,log,mon,osd}
fsid=$(cat /proc/sys/kernel/random/uuid)
host=$(hostname -s)
# Monitor and OSD ports next to the gateway's, so that parallel clusters do not collide.
mon_port=$((port + 1))
osd_lo=$((port + 2))
osd_hi=$((port + 9))

cat >"$conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_port_min = $osd_lo
ms_bind_port_max = $osd_hi
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
keyring = /dev/null
run_dir = $dir/run
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$type.pid
log_file = $dir/log/\$name.log
log_to_stderr = false
err_to_stderr = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
mon_osd_full_ratio = .99
mon_osd_nearfull_ratio = .99
mon_osd_backfillfull_ratio = .99
mon_data_avail_crit = 1
mon_data_avail_warn = 2
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
mon_data = $dir/mon/\$cluster-\$id
osd_data = $dir/osd/\$cluster-\$id
osd_objectstore = memstore
memstore_device_bytes = ${CEPH_TEST_MEMSTORE_BYTES:-4294967296}
rgw_frontends = beast endpoint=127.0.0.1:$port
rgw_thread_pool_size = 64
rgw_gc_obj_min_wait = ${CEPH_TEST_GC_WAIT:-30}
rgw_gc_processor_period = ${CEPH_TEST_GC_PERIOD:-3600}
rgw_data = $dir/rgw
EOF
if [[ ${CEPH_TEST_BENCH:-0} == 1 ]]; then
  # why: steadier throughput on a small shared machine. Logging (default levels 1/5, kept in
  # memory) costs CPU on every operation; the default 16 MiB window of RADOS writes in flight
  # per PUT makes a large object wait on the OSD's queue in steps.
  cat >>"$conf" <<EOF
debug_rgw = 0/0
debug_ms = 0/0
debug_osd = 0/0
debug_objecter = 0/0
debug_rados = 0/0
debug_memstore = 0/0
debug_mon = 0/0
debug_paxos = 0/0
rgw_put_obj_min_window_size = 67108864
EOF
fi

monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
  "$dir/monmap" >/dev/null
ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" >/dev/null 2>&1
ceph-mon -c "$conf" -i a
osd_id=$(ceph -c "$conf" --connect-timeout 20 osd create 2>/dev/null)
mkdir -p "$dir/osd/ceph-$osd_id"
ceph-osd -c "$conf" -i "$osd_id" --mkfs >/dev/null 2>&1
ceph -c "$conf" --connect-timeout 20 osd crush add "osd.$osd_id" 1.0 host="$host" root=default \
  >/dev/null 2>&1 || true
ceph-osd -c "$conf" -i "$osd_id"
mkdir -p "$dir/rgw"
radosgw -c "$conf" -n client.rgw

access=$(head -c 15 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F')
secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')
for _ in $(seq 1 300); do
  if timeout 20 radosgw-admin -c "$conf" -n client.rgw user create --uid=zengen-test \
      --display-name="Zengen tests" --access-key="$access" --secret="$secret" >/dev/null 2>&1; then
    break
  fi
  sleep 0.1
done
for _ in $(seq 1 300); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "http://127.0.0.1:$port $access $secret"
    exit 0
  fi
  sleep 0.1
done
echo "ceph-test-server: radosgw did not answer on 127.0.0.1:$port (logs in $dir/log)" >&2
stop
exit 1

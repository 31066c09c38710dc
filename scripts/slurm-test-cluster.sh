#!/usr/bin/env bash
# A single-node Slurm cluster for tests, entirely inside DIR and on loopback: munged with its
# own key and socket, slurmctld and slurmd on non-default ports, no accounting database (poll
# with scontrol/squeue; sacct is unavailable), no cgroups.
#
#   slurm-test-cluster.sh start DIR PORT   PORT and PORT+1 are slurmctld's and slurmd's ports;
#                                          prints, as its last line, the SLURM_CONF path to
#                                          export for sbatch/squeue/scontrol
#   slurm-test-cluster.sh stop DIR         stops the daemons it started (by their pid files)
#
# Needs root and the Debian 12 packages slurmctld slurmd slurm-client munge
# (scripts/install-deps.sh).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

# True when the pid file names a live (not zombie) process whose command line mentions DIR.
ours() {
  local f=$1 pid
  [[ -f "$f" ]] || return 1
  pid=$(cat "$f")
  [[ -r /proc/$pid/status ]] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir"
}

stop() {
  for f in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/msock/pid"; do
    if ours "$f"; then kill -TERM "$(cat "$f")" 2>/dev/null || true; fi
  done
  for _ in $(seq 1 50); do
    local alive=0
    for f in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/msock/pid"; do
      ours "$f" && alive=1
    done
    ((alive)) || return 0
    sleep 0.1
  done
  for f in "$dir/run/slurmd.pid" "$dir/run/slurmctld.pid" "$dir/msock/pid"; do
    if ours "$f"; then kill -KILL "$(cat "$f")" 2>/dev/null || true; fi
  done
}

if [[ "$cmd" == stop ]]; then
  stop
  exit 0
fi
[[ "$cmd" == start ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 1; }
port=${3:-}
[[ "$port" =~ ^[0-9]+$ ]] || { echo "usage: $0 start DIR PORT" >&2; exit 1; }

chmod 755 "$dir"
mkdir -p "$dir"/{munge,msock,run,spool,state,log}
chown munge:munge "$dir/munge" "$dir/msock"
chmod 0711 "$dir/munge"
chmod 0755 "$dir/msock"
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chown munge:munge "$dir/munge/munge.key"
chmod 0400 "$dir/munge/munge.key"
runuser -u munge -- munged --key-file="$dir/munge/munge.key" --socket="$dir/msock/sock" \
  --pid-file="$dir/msock/pid" --log-file="$dir/msock/log" --seed-file="$dir/msock/seed"

host=$(hostname -s)
mem=$(awk '/MemTotal/ {print int($2 / 1024) - 2048}' /proc/meminfo)
cat >"$dir/slurm.conf" <<EOF
ClusterName=zengen-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/msock/sock
CredType=cred/munge
SlurmUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

export SLURM_CONF="$dir/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 200); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "$SLURM_CONF"
    exit 0
  fi
  sleep 0.1
done
echo "slurm-test-cluster: the node did not become idle (logs in $dir/log)" >&2
stop
exit 1

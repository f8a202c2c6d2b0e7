#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the specs under spec/cluster (as root):
#   tools/slurm-cluster.sh up     install slurm-wlm + munge with apt-get when missing, write slurm.conf (unless one
#                                 not written here exists), start munged, slurmctld and slurmd when not running,
#                                 wait until sinfo shows the node idle. Idempotent: a second `up` changes nothing.
#   tools/slurm-cluster.sh down   stop only the daemons `up` started (their pids are kept in $RUN/started)
# Settings that work for Debian's SLURM 22.05 in a container: root runs everything, process tracking by /proc
# (proctrack/linuxproc, task/none; no cgroup.conf: 22.05 has no CgroupPlugin=disabled), no accounting storage.
set -euo pipefail

RUN=/run/wavprobe-slurm        # pid files and the list of what `up` started
STATE=/var/lib/wavprobe-slurm  # slurmctld state and slurmd spool
CONF=/etc/slurm/slurm.conf
MARK='# written by wavprobe tools/slurm-cluster.sh'

say() { echo "slurm-cluster: $*" >&2; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null && return
  say 'installing slurm-wlm and munge (apt-get)'
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    say "keeping $CONF (not written by this script)"
    return
  fi
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo) # MiB, below what slurmd detects
  # DefMemPerCPU: a job without --mem gets its CPUs' share, not the whole node (which would run one job at a time).
  local text
  text=$(
    cat <<EOF
$MARK
ClusterName=wavprobe
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((mem / cpus))
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  )
  if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$text" ]; then return; fi
  CONF_CHANGED=1
  mkdir -p "$(dirname "$CONF")"
  printf '%s\n' "$text" >"$CONF.tmp-$$"
  mv "$CONF.tmp-$$" "$CONF"
  say "wrote $CONF ($host: $cpus CPUs, $mem MiB)"
}

# Starts a daemon unless its pid file names a live process; records the pid of what it started.
start() {
  local name=$1 pidfile=$2
  shift 2
  if alive "$pidfile"; then return; fi
  "$@"
  for _ in $(seq 50); do alive "$pidfile" && break; sleep 0.1; done
  alive "$pidfile" || { say "$name did not start (see $STATE/$name.log)"; exit 1; }
  echo "$name $(cat "$pidfile")" >>"$RUN/started"
  say "started $name (pid $(cat "$pidfile"))"
}

up() {
  [ "$(id -u)" -eq 0 ] || { say 'run as root (sudo tools/slurm-cluster.sh up)'; exit 1; }
  install_packages
  mkdir -p "$RUN" "$STATE/ctld" "$STATE/d" /run/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
  local running=0
  alive "$RUN/slurmctld.pid" && running=1
  CONF_CHANGED=0
  write_conf
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then :; else
    start munged "$RUN/munged.pid" munged --force --pid-file="$RUN/munged.pid" --log-file="$STATE/munged.log"
  fi
  start slurmctld "$RUN/slurmctld.pid" slurmctld
  start slurmd "$RUN/slurmd.pid" slurmd
  if [ "$running" = 1 ] && [ "$CONF_CHANGED" = 1 ]; then scontrol reconfigure; fi
  local state=''
  for _ in $(seq 120); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
    case $state in
      idle | mixed | allocated) say "node $(hostname -s) is $state"; return ;;
      down* | drain*) scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  say "node not idle after 60 s (sinfo: '${state:-no answer}'; logs in $STATE)"
  exit 1
}

down() {
  [ -f "$RUN/started" ] || { say 'nothing started by this script'; return; }
  # Reverse order: slurmd, slurmctld, then munged.
  tac "$RUN/started" | while read -r name pid; do
    if kill "$pid" 2>/dev/null; then say "stopped $name (pid $pid)"; fi
  done
  rm -f "$RUN/started"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

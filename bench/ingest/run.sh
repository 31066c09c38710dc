#!/usr/bin/env bash
# FASTQ ingest: the fused pass (SHA-256 + MD5 + ISA-L inflate + validate + QC + Crypt4GH) against its
# components and fastp, on one generated FASTQ.gz, in the same run.
#
#   bash bench/ingest/run.sh                   # 10 M reads (PE150-style, ~3.6 GB raw)
#   READS=1000000 bash bench/ingest/run.sh     # quick run
#   RUNS=3 bash bench/ingest/run.sh            # repetitions per tool (the median is printed)
#   FASTQ_BENCH_BIN=path/to/fastq_bench bash bench/ingest/run.sh   # skip the build
#
# It builds fastq_bench (scripts/build.sh), generates $TMPDIR/zg-ingest-READS.fq.gz once with
# `fastq_bench gen | gzip -6` (kept for later runs), installs the Debian `isal` package for the
# igzip binary if it is missing, then times each tool (wall and user+sys CPU of the process
# and its children) and prints MB of raw (uncompressed) FASTQ per CPU-second and per
# wall-second, plus the ratios the sequencing issue sets as targets:
#   fused (1 thread) per CPU-second >= 40 % of `igzip -dc` alone per CPU-second,
#   fused per CPU-second >= 4x fastp (-w 1 -A -G -Q -L, QC only) per CPU-second,
#   fused with 2 threads uses both cores (CPU-s / wall-s close to 2 when inflate and parse
#   are balanced; at least > 1).
set -euo pipefail
cd "$(dirname "$0")/../.."

READS=${READS:-10000000}
RUNS=${RUNS:-1}
die() { echo "bench/ingest: $*" >&2; exit 1; }
[[ $READS =~ ^[0-9]+$ ]] && ((READS >= 1000)) || die "READS must be an integer >= 1000"
[[ $RUNS =~ ^[0-9]+$ ]] && ((RUNS >= 1 && RUNS <= 9)) || die "RUNS must be 1-9"

BIN=${FASTQ_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  bash scripts/build.sh --target fastq_bench || die "build failed"
  BIN=build/bench/ingest/fastq_bench
fi
[[ -x $BIN ]] || die "no executable at $BIN"
command -v fastp >/dev/null || die "fastp is not installed (apt-get install fastp)"
if ! command -v igzip >/dev/null; then
  echo "installing the isal package for igzip ..." >&2
  if [[ $(id -u) == 0 ]]; then apt-get install -y -qq isal >/dev/null; else sudo apt-get install -y -qq isal >/dev/null; fi
fi
command -v igzip >/dev/null || die "igzip is not available"

TMP=${TMPDIR:-/tmp}
GZ=$TMP/zg-ingest-$READS.fq.gz
if [[ ! -s $GZ ]]; then
  echo "generating $GZ ($READS reads, gzip -6) ..." >&2
  "$BIN" gen "$READS" 42 | gzip -6 >"$GZ.part"
  mv "$GZ.part" "$GZ"
fi
WORK=$(mktemp -d "$TMP/zg-ingest-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

RAW=$("$BIN" ingest "$GZ" 1 2>/dev/null | awk '{print $3}')
GZ_BYTES=$(stat -c %s "$GZ")
echo "file: $GZ  reads=$READS  raw=$((RAW / 1000000)) MB  gz=$((GZ_BYTES / 1000000)) MB"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# median of RUNS "wall cpu" lines
median() { sort -n -k1 | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
measure() {  # name, then a command; prints "name wall cpu"
  local name=$1; shift
  local i out=""
  for ((i = 0; i < RUNS; i++)); do
    out+="$("$@")"$'\n'
  done
  echo "$name $(printf '%s' "$out" | median | awk '{print $1, $2}')"
}
{
  measure fused-1t "$BIN" ingest "$GZ" 1
  measure fused-2t "$BIN" ingest "$GZ" 2
  measure igzip-dc "$BIN" time "igzip -dc '$GZ' >/dev/null"
  measure gzip-dc "$BIN" time "gzip -dc '$GZ' >/dev/null"
  measure sha256sum "$BIN" time "sha256sum '$GZ' >/dev/null"
  measure fastp-qc "$BIN" time "fastp -i '$GZ' -w 1 -A -G -Q -L -j '$WORK/fastp.json' -h /dev/null -o /dev/null 2>/dev/null"
} 2>/dev/null >"$WORK/times"

awk -v raw="$RAW" '
  { wall[$1] = $2; cpu[$1] = $3; order[NR] = $1 }
  END {
    printf "%-10s %8s %8s %12s %12s %8s\n", "tool", "wall_s", "cpu_s", "MB/cpu-s", "MB/wall-s", "cores"
    for (i = 1; i <= NR; i++) {
      t = order[i]
      printf "%-10s %8.3f %8.3f %12.1f %12.1f %8.2f\n", t, wall[t], cpu[t], raw / 1e6 / cpu[t], raw / 1e6 / wall[t], cpu[t] / wall[t]
    }
    f = raw / cpu["fused-1t"]; g = raw / cpu["igzip-dc"]; p = raw / cpu["fastp-qc"]
    printf "\nfused-1t vs igzip -dc per CPU-second: %5.1f %%   (target >= 40 %%)  %s\n", 100 * f / g, (f / g >= 0.4 ? "MET" : "NOT MET")
    printf "fused-1t vs fastp per CPU-second:     %5.2f x   (target >= 4x)    %s\n", f / p, (f / p >= 4 ? "MET" : "NOT MET")
    printf "fused-2t cores used (cpu/wall):       %5.2f     wall speed-up vs 1t: %.2f x\n", cpu["fused-2t"] / wall["fused-2t"], wall["fused-1t"] / wall["fused-2t"]
  }' "$WORK/times"

#!/usr/bin/env bash
# Server CPU per htsget region read, for two zengen binaries in one run (issue 12: the one
# access gate decides and audits each block request once instead of twice).
#
#   BEFORE_BIN=../main/build/zengen bash bench/htsget/cpu_per_region.sh
#   BEFORE_BIN=old/zengen AFTER_BIN=build/zengen GEN_BIN=build/bench/htsget/gen_alignments \
#     PAIRS=200000 REGIONS=40 bash bench/htsget/cpu_per_region.sh
#
# For each binary in turn it loads the demo data center into a temporary directory (`zengen
# demo` on a free 127.0.0.1 port), uploads the same synthetic coordinate-sorted BAM of PAIRS read
# pairs for the demo's analysis centre, then reads REGIONS 1 Mb regions with `samtools view -c`
# through htsget tickets (ticket + header, body and EOF blocks, each decided by the server), and
# reads the server process's CPU time (user + system, /proc/PID/stat) before and after. It
# prints CPU milliseconds per region read and per request for each binary, and their ratio
# (after / before): the before binary is the anchor measured in the same run, on the same data.
# Without AFTER_BIN/GEN_BIN it builds zengen and gen_alignments of this tree (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

PAIRS=${PAIRS:-200000}
REGIONS=${REGIONS:-40}
die() { echo "bench/htsget/cpu_per_region: $*" >&2; exit 1; }
[[ -n ${BEFORE_BIN:-} ]] || die "set BEFORE_BIN to the zengen binary to compare with (e.g. main's)"
[[ $PAIRS =~ ^[0-9]+$ ]] && ((PAIRS >= 1000 && PAIRS <= 20000000)) || die "PAIRS must be 1000-20000000"
[[ $REGIONS =~ ^[0-9]+$ ]] && ((REGIONS >= 5 && REGIONS <= 10000)) || die "REGIONS must be 5-10000"
for tool in curl jq bc samtools; do
  command -v "$tool" >/dev/null || die "$tool is needed (ZENGEN_WITH_BENCH=1 bash scripts/install-deps.sh)"
done
AFTER=${AFTER_BIN:-}
GEN=${GEN_BIN:-}
if [[ -z $AFTER || -z $GEN ]]; then
  bash scripts/build.sh --target zengen gen_alignments >&2
  AFTER=build/zengen
  GEN=build/bench/htsget/gen_alignments
fi
BEFORE=$BEFORE_BIN

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zg-htsget-cpu-XXXXXX")
PID=
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

echo "generating a BAM of $PAIRS read pairs ..." >&2
"$GEN" "$PAIRS" "$TMP/local.bam" AC-BENCH-SAMPLE
samtools index "$TMP/local.bam"
SIZE=$(stat -c %s "$TMP/local.bam")
SHA=$(sha256sum "$TMP/local.bam" | cut -d' ' -f1)
TICKS=$(getconf CLK_TCK)

cpu_ms() {  # cpu_ms PID -> user+system CPU of the process in milliseconds
  awk -v t="$TICKS" '{print ($14 + $15) * 1000 / t}' "/proc/$1/stat"
}

# measure BIN LABEL -> prints "label cpu_ms_per_region requests_per_region"
measure() {
  local bin=$1 label=$2 dir=$TMP/$2
  local port base ca op token specimen fastq up upload chunks file
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base=https://127.0.0.1:$port
  "$bin" demo --data "$dir" --listen "127.0.0.1:$port" >"$TMP/$label.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 900); do
    grep -q "serving https" "$TMP/$label.log" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || die "$label: zengen demo exited: $(tail -5 "$TMP/$label.log")"
    sleep 0.2
  done
  grep -q "serving https" "$TMP/$label.log" || die "$label: zengen demo did not start"
  ca=$dir/tls/server.crt
  op=$(cat "$dir/demo-operator-token.txt")
  api() {  # api TOKEN METHOD PATH [JSON]
    local args=(-sS --fail-with-body --cacert "$ca" -H "Authorization: Bearer $1" -X "$2")
    [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
    curl "${args[@]}" "$base$3"
  }
  token=$(api "$op" POST /api/v1/admin/tokens \
    '{"name":"htsget-cpu","organisation":"analysis-center","role":"analyst","days":1,
      "actions":["specimen.read","file.read","upload.write","htsget.read"]}' | jq -r .token)
  specimen= fastq=
  for sid in $(api "$token" GET "/api/v1/specimens?holder=analysis-center&state=analysed" | jq -r '.items[].id'); do
    local pid
    pid=$(api "$token" GET "/api/v1/specimens/$sid" | jq -r .participant_id)
    fastq=$(api "$token" GET "/api/v1/participants/$pid/files" |
      jq -c --arg s "$sid" '[.items[] | select(.kind=="fastq" and .specimen_id==$s) | .id]')
    if [[ $fastq != "[]" ]]; then specimen=$sid; break; fi
  done
  [[ -n $specimen ]] || die "$label: no analysed specimen with FASTQ in the demo"
  up=$(api "$token" POST /api/v1/uploads "$(jq -nc --arg s "$specimen" --argjson d "$fastq" \
    --argjson size "$SIZE" --arg sha "$SHA" --argjson c $((64 << 20)) \
    '{kind:"bam",specimen_id:$s,derived_from:$d,file_name:"bench.bam",size:$size,sha256:$sha,chunk_size:$c}')")
  upload=$(jq -r .id <<<"$up")
  chunks=$(jq -r .chunks <<<"$up")
  split -b $((64 << 20)) -d -a 6 "$TMP/local.bam" "$TMP/chunk."
  for ((i = 0; i < chunks; i++)); do
    curl -sS --fail-with-body --cacert "$ca" -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/octet-stream' -X PUT \
      --data-binary "@$TMP/chunk.$(printf %06d "$i")" "$base/api/v1/uploads/$upload/chunks/$i" >/dev/null
  done
  rm -f "$TMP"/chunk.*
  file=$(api "$token" POST "/api/v1/uploads/$upload/complete" | jq -r .file.id)
  [[ -n $file && $file != null ]] || die "$label: upload failed"
  echo "$token" >"$TMP/token"
  # One warm-up read (header and index caches), then the measured ones.
  HTS_AUTH_LOCATION=$TMP/token CURL_CA_BUNDLE=$ca samtools view -c \
    "$base/ga4gh/htsget/v1/reads/$file?referenceName=chrZ&start=1000000&end=2000000" >/dev/null
  local requests_before requests_after c0 c1
  requests_before=$(grep -c '"path":"/ga4gh/htsget' "$TMP/$label.log" || true)
  c0=$(cpu_ms "$PID")
  for ((k = 0; k < REGIONS; k++)); do
    local start=$(((k * 1000003) % 48000000 + 1000000))
    HTS_AUTH_LOCATION=$TMP/token CURL_CA_BUNDLE=$ca samtools view -c \
      "$base/ga4gh/htsget/v1/reads/$file?referenceName=chrZ&start=$start&end=$((start + 1000000))" >/dev/null
  done
  c1=$(cpu_ms "$PID")
  requests_after=$(grep -c '"path":"/ga4gh/htsget' "$TMP/$label.log" || true)
  kill "$PID" && wait "$PID" 2>/dev/null || true
  PID=
  echo "$label $(echo "($c1 - $c0) / $REGIONS" | bc -l) $(echo "($requests_after - $requests_before) / $REGIONS" | bc -l)"
}

read -r _ before_ms before_req <<<"$(measure "$BEFORE" before)"
read -r _ after_ms after_req <<<"$(measure "$AFTER" after)"
echo
echo "bench/htsget/cpu_per_region: $PAIRS read pairs (BAM $((SIZE / 1000000)) MB), $REGIONS regions of 1 Mb, samtools view -c through htsget"
printf "%-28s %16s %18s %16s\n" "binary" "CPU ms/region" "requests/region" "CPU ms/request"
printf "%-28s %16.2f %18.1f %16.3f\n" "before ($BEFORE)" "$before_ms" "$before_req" "$(echo "$before_ms / $before_req" | bc -l)"
printf "%-28s %16.2f %18.1f %16.3f\n" "after ($AFTER)" "$after_ms" "$after_req" "$(echo "$after_ms / $after_req" | bc -l)"
printf "%-28s %16.2f\n" "ratio after/before" "$(echo "$after_ms / $before_ms" | bc -l)"

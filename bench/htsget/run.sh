#!/usr/bin/env bash
# htsget benchmark: ticket latency and slice throughput of zengen over loopback HTTPS, next to
# samtools reading the same BAM locally, in one run.
#
#   bash bench/htsget/run.sh                 # 1 M read pairs (~200 MB BAM)
#   PAIRS=200000 bash bench/htsget/run.sh    # quicker
#   ZENGEN_BIN=build/zengen GEN_BIN=build/bench/htsget/gen_alignments bash bench/htsget/run.sh
#
# It builds zengen and gen_alignments (scripts/build.sh), loads the demo data center into a
# temporary directory (`zengen demo`, served on a free 127.0.0.1 port), makes an API token for
# the demo's analysis centre, generates a coordinate-sorted synthetic BAM of PAIRS read pairs
# over a 50 Mb contig, uploads it through the resumable upload API (it is validated,
# sanitised, indexed, Crypt4GH-encrypted and stored twice), then measures:
#   - ticket latency: REQUESTS sequential ticket requests on one keep-alive connection (curl),
#     for a whole-file and a region ticket; median and p95;
#   - slice throughput: `samtools view -c` of a 10 Mb region and of the whole file through the
#     ticket URL, against `samtools view -c` of the same region / file on the local BAM;
#     MB/s = bytes of the BAM slice delivered (the ticket's ranges) / wall seconds.
# Everything it starts is stopped and the temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

PAIRS=${PAIRS:-1000000}
REQUESTS=${REQUESTS:-200}
die() { echo "bench/htsget: $*" >&2; exit 1; }
[[ $PAIRS =~ ^[0-9]+$ ]] && ((PAIRS >= 1000 && PAIRS <= 20000000)) || die "PAIRS must be 1000-20000000"
[[ $REQUESTS =~ ^[0-9]+$ ]] && ((REQUESTS >= 10 && REQUESTS <= 10000)) || die "REQUESTS must be 10-10000"

for tool in curl jq bc samtools; do
  command -v "$tool" >/dev/null || ZENGEN_WITH_BENCH=1 bash scripts/install-deps.sh >&2
done
BIN=${ZENGEN_BIN:-}
GEN=${GEN_BIN:-}
if [[ -z $BIN || -z $GEN ]]; then
  bash scripts/build.sh --target zengen gen_alignments >&2
  BIN=build/zengen
  GEN=build/bench/htsget/gen_alignments
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/zg-htsget-bench-XXXXXX")
PID=
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE=https://127.0.0.1:$PORT
"$BIN" demo --data "$TMP/demo" --listen "127.0.0.1:$PORT" >"$TMP/demo.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
  grep -q "serving https" "$TMP/demo.log" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || die "zengen demo exited: $(tail -5 "$TMP/demo.log")"
  sleep 0.2
done
grep -q "serving https" "$TMP/demo.log" || die "zengen demo did not start"
CA=$TMP/demo/tls/server.crt
OP=$(cat "$TMP/demo/demo-operator-token.txt")
api() {  # api TOKEN METHOD PATH [JSON]
  local args=(-sS --fail-with-body --cacert "$CA" -H "Authorization: Bearer $1" -X "$2")
  [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${args[@]}" "$BASE$3"
}

TOKEN=$(api "$OP" POST /api/v1/admin/tokens \
  '{"name":"htsget-bench","organisation":"analysis-center","role":"analyst","days":1,
    "actions":["specimen.read","file.read","upload.write","htsget.read"]}' | jq -r .token)
# An analysed specimen with its FASTQ, to register the BAM against.
SPECIMEN= FASTQ=
for sid in $(api "$TOKEN" GET "/api/v1/specimens?holder=analysis-center&state=analysed" | jq -r '.items[].id'); do
  pid=$(api "$TOKEN" GET "/api/v1/specimens/$sid" | jq -r .participant_id)
  FASTQ=$(api "$TOKEN" GET "/api/v1/participants/$pid/files" |
    jq -c --arg s "$sid" '[.items[] | select(.kind=="fastq" and .specimen_id==$s) | .id]')
  if [[ $FASTQ != "[]" ]]; then SPECIMEN=$sid; break; fi
done
[[ -n $SPECIMEN ]] || die "no analysed specimen with FASTQ in the demo"

echo "generating a BAM of $PAIRS read pairs ..." >&2
"$GEN" "$PAIRS" "$TMP/local.bam" AC-BENCH-SAMPLE
samtools index "$TMP/local.bam"
SIZE=$(stat -c %s "$TMP/local.bam")
SHA=$(sha256sum "$TMP/local.bam" | cut -d' ' -f1)
CHUNK=$((8 << 20))
UP=$(api "$TOKEN" POST /api/v1/uploads "$(jq -nc --arg s "$SPECIMEN" --argjson d "$FASTQ" \
  --argjson size "$SIZE" --arg sha "$SHA" --argjson c "$CHUNK" \
  '{kind:"bam",specimen_id:$s,derived_from:$d,file_name:"bench.bam",size:$size,sha256:$sha,chunk_size:$c}')")
UPLOAD=$(jq -r .id <<<"$UP")
CHUNKS=$(jq -r .chunks <<<"$UP")
split -b "$CHUNK" -d -a 6 "$TMP/local.bam" "$TMP/chunk."
t0=$(date +%s.%N)
for ((i = 0; i < CHUNKS; i++)); do
  curl -sS --fail-with-body --cacert "$CA" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/octet-stream' -X PUT --data-binary "@$TMP/chunk.$(printf %06d "$i")" \
    "$BASE/api/v1/uploads/$UPLOAD/chunks/$i" >/dev/null
done
FILE=$(api "$TOKEN" POST "/api/v1/uploads/$UPLOAD/complete" | jq -r .file.id)
t1=$(date +%s.%N)
rm -f "$TMP"/chunk.*

# Ticket latency on one keep-alive connection.
latency() {  # latency URL -> "median p95" in ms
  local args=()
  for ((i = 0; i < REQUESTS; i++)); do args+=(-o /dev/null "$1"); done
  curl -sS --cacert "$CA" -H "Authorization: Bearer $TOKEN" -w '%{time_total}\n' "${args[@]}" |
    sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f", a[int(NR*0.5)+1]*1000, a[int(NR*0.95)]*1000}'
}
WHOLE_URL="$BASE/ga4gh/htsget/v1/reads/$FILE"
REGION_URL="$BASE/ga4gh/htsget/v1/reads/$FILE?referenceName=chrZ&start=20000000&end=30000000"
read -r whole_med whole_p95 <<<"$(latency "$WHOLE_URL")"
read -r region_med region_p95 <<<"$(latency "$REGION_URL")"

ticket_bytes() {  # total bytes the ticket's URLs cover
  api "$TOKEN" GET "${1#"$BASE"}" | jq -r '.htsget.urls[].url' |
    sed -E 's/.*start=([0-9]+)&end=([0-9]+).*/\2 \1/' | awk '{s+=$1-$2} END {print s}'
}
timed() {  # timed CMD... -> "seconds output"
  local s e out
  s=$(date +%s.%N)
  out=$("$@")
  e=$(date +%s.%N)
  echo "$(echo "$e - $s" | bc -l) $out"
}
echo "$TOKEN" >"$TMP/token"
export HTS_AUTH_LOCATION=$TMP/token CURL_CA_BUNDLE=$CA
read -r r_remote_s r_remote_n <<<"$(timed samtools view -c "$REGION_URL")"
read -r r_local_s r_local_n <<<"$(timed samtools view -c "$TMP/local.bam" chrZ:20000001-30000000)"
read -r w_remote_s w_remote_n <<<"$(timed samtools view -c "$WHOLE_URL")"
read -r w_local_s w_local_n <<<"$(timed samtools view -c "$TMP/local.bam")"
r_bytes=$(ticket_bytes "$REGION_URL")
w_bytes=$(ticket_bytes "$WHOLE_URL")

mbps() { echo "$1 / $2 / 1000000" | bc -l; }
echo
echo "bench/htsget: $PAIRS read pairs, BAM $((SIZE / 1000000)) MB; upload+ingest $(printf %.1f "$(echo "$t1 - $t0" | bc -l)") s"
printf "%-34s %10s %10s\n" "ticket latency (keep-alive)" "median ms" "p95 ms"
printf "%-34s %10s %10s\n" "whole file" "$whole_med" "$whole_p95"
printf "%-34s %10s %10s\n" "region chrZ:20-30 Mb" "$region_med" "$region_p95"
echo
printf "%-34s %10s %10s %10s %10s\n" "samtools view -c" "records" "seconds" "MB/s" "ratio"
printf "%-34s %10s %10.3f %10.1f %10s\n" "region via htsget (loopback)" "$r_remote_n" "$r_remote_s" "$(mbps "$r_bytes" "$r_remote_s")" \
  "$(printf %.2f "$(echo "$r_local_s / $r_remote_s" | bc -l)")"
printf "%-34s %10s %10.3f %10.1f %10s\n" "region, local file (anchor)" "$r_local_n" "$r_local_s" "$(mbps "$r_bytes" "$r_local_s")" "1.00"
printf "%-34s %10s %10.3f %10.1f %10s\n" "whole file via htsget (loopback)" "$w_remote_n" "$w_remote_s" "$(mbps "$w_bytes" "$w_remote_s")" \
  "$(printf %.2f "$(echo "$w_local_s / $w_remote_s" | bc -l)")"
printf "%-34s %10s %10.3f %10.1f %10s\n" "whole file, local file (anchor)" "$w_local_n" "$w_local_s" "$(mbps "$w_bytes" "$w_local_s")" "1.00"
echo "(a region ticket covers whole BGZF blocks, so it may hold a few records beyond the region)"
[[ $w_remote_n == "$w_local_n" ]] || die "whole-file record counts differ between htsget and the local file"
((r_remote_n >= r_local_n)) || die "the region slice misses records"

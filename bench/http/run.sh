#!/usr/bin/env bash
# HTTP benchmark of zengen against an nginx anchor, on loopback HTTPS, in one run.
#
#   bash bench/http/run.sh                      # SQLite metadata store, 10 s per target
#   DURATION=30 bash bench/http/run.sh          # longer runs (1-300 s)
#   DATABASE=postgres://zengen@127.0.0.1:5432/zengen bash bench/http/run.sh
#   ZENGEN_BIN=build/zengen bash bench/http/run.sh   # skip install and build
#
# It installs nginx and wrk (scripts/install-deps.sh with ZENGEN_WITH_BENCH=1), builds zengen,
# creates a temporary data directory, serves zengen and nginx on free 127.0.0.1 ports with the
# same self-signed certificate, warms each target, runs
#   wrk -t2 -c32 -d${DURATION}s --latency URL
# against each target in turn, and prints a table with the ratios to the anchor: nginx serving
# a small static JSON file over TLS. Everything it starts is stopped, and the temporary
# directory removed, on exit (also on failure or Ctrl-C).
#
# Environment: DURATION (seconds per target, default 10), CONNECTIONS (default 32),
# WRK_THREADS (default 2), WARMUP (seconds per target, default 2), DATABASE (postgres:// URL;
# default SQLite in the data directory), ZENGEN_BIN (an existing zengen binary),
# ZENGEN_LOG (where zengen's stderr access log goes; default a file in the temporary
# directory, removed on exit; /dev/null to discard).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/sbin:/sbin  # nginx lives in /usr/sbin

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-2}
DATABASE=${DATABASE:-}

die() { echo "bench/http: $*" >&2; exit 1; }
int_in() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= $2 && $1 <= $3)); }
int_in "$DURATION" 1 300 || die "DURATION must be 1-300 seconds, got '$DURATION'"
int_in "$CONNECTIONS" 1 1000 || die "CONNECTIONS must be 1-1000, got '$CONNECTIONS'"
int_in "$WRK_THREADS" 1 64 || die "WRK_THREADS must be 1-64, got '$WRK_THREADS'"
int_in "$WARMUP" 0 60 || die "WARMUP must be 0-60 seconds, got '$WARMUP'"
if [[ -n $DATABASE && ! $DATABASE =~ ^postgres(ql)?:// ]]; then
  die "DATABASE must be a postgres:// URL (leave it unset for SQLite)"
fi

# --- dependencies and binary -------------------------------------------------------------
if [[ -n ${ZENGEN_BIN:-} ]]; then
  [[ -x $ZENGEN_BIN ]] || die "ZENGEN_BIN=$ZENGEN_BIN is not an executable file"
  for tool in nginx wrk curl oathtool; do
    command -v "$tool" >/dev/null ||
      die "$tool is missing; run: ZENGEN_WITH_BENCH=1 bash scripts/install-deps.sh"
  done
else
  ZENGEN_WITH_BENCH=1 bash scripts/install-deps.sh
  bash scripts/build.sh --target zengen
  ZENGEN_BIN=build/zengen
fi
ZENGEN_BIN=$(realpath "$ZENGEN_BIN")
NGINX=$(command -v nginx)
WRK=$(command -v wrk)

# --- temporary directory and cleanup -----------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zengen-bench-http.XXXXXX")
ZENGEN_PID=""
NGINX_PID=""
ZENGEN_LOG=${ZENGEN_LOG:-$WORK/zengen-stderr.log}

stop_pid() {  # pid, name: SIGTERM, wait up to 25 s, then SIGKILL
  local pid=$1 name=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 250; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "bench/http: $name did not stop on SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_pid "$ZENGEN_PID" zengen
  stop_pid "$NGINX_PID" nginx
  if ((rc != 0)); then
    for f in "$WORK/zengen.out" "$WORK/nginx/error.log"; do
      if [[ -s $f ]]; then
        echo "--- last lines of $(basename "$f"):" >&2
        tail -n 20 "$f" >&2
      fi
    done
    if [[ -s $ZENGEN_LOG && $ZENGEN_LOG == "$WORK"/* ]]; then
      echo "--- last lines of zengen's stderr:" >&2
      tail -n 20 "$ZENGEN_LOG" >&2
    fi
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {  # seconds, description, command...: polls every 0.1 s
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  die "timed out after ${secs}s waiting for $what"
}

# --- zengen -------------------------------------------------------------------------------
DATA=$WORK/data
init_args=(init --data "$DATA" --listen 127.0.0.1:0)
[[ -n $DATABASE ]] && init_args+=(--database "$DATABASE")
"$ZENGEN_BIN" "${init_args[@]}" >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" >&2; die "zengen init failed"; }
TOKEN=$(sed -n 's/^operator token (shown once; keep it safe): //p' "$WORK/init.out")
[[ $TOKEN == zgo_* ]] || die "no operator token in zengen init output"
# The machine has 2 cores: 2 serving threads (the default, set explicitly here).
sed -i 's/^threads = .*/threads = 2/' "$DATA/zengen.conf"
grep -q '^threads = 2$' "$DATA/zengen.conf" || die "could not set threads = 2"

"$ZENGEN_BIN" serve --data "$DATA" >"$WORK/zengen.out" 2>"$ZENGEN_LOG" &
ZENGEN_PID=$!
zengen_ready() {
  kill -0 "$ZENGEN_PID" 2>/dev/null || die "zengen serve exited"
  grep -q '^zengen: serving https://' "$WORK/zengen.out"
}
wait_for 20 "zengen to serve" zengen_ready
ZENGEN_URL=$(sed -n 's/^zengen: serving \(https:\/\/[^ ]*\).*/\1/p' "$WORK/zengen.out" | head -n 1)
[[ $ZENGEN_URL =~ ^https://127\.0\.0\.1:[0-9]+$ ]] || die "unexpected zengen URL '$ZENGEN_URL'"

# --- nginx anchor -------------------------------------------------------------------------
NGX=$WORK/nginx
mkdir -p "$NGX/html" "$NGX/tmp"
# About the size of zengen's /healthz answer ({"status":"ok"}).
printf '{"status":"ok"}' >"$NGX/html/healthz.json"
NGINX_USER=""
((EUID == 0)) && NGINX_USER="user root;"  # workers must read the key in the temporary dir

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NGINX_PORT=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  cat >"$NGX/nginx.conf" <<EOF
# Generated by bench/http/run.sh: the anchor, a static file over TLS on loopback.
$NGINX_USER
worker_processes 2;
daemon off;
pid $NGX/nginx.pid;
error_log $NGX/error.log warn;
events { worker_connections 1024; }
http {
  types { application/json json; }
  default_type application/json;
  access_log off;
  sendfile on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_body_temp_path $NGX/tmp/client_body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  server {
    listen 127.0.0.1:$port ssl;
    server_name localhost;
    ssl_certificate $DATA/tls/server.crt;
    ssl_certificate_key $DATA/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $NGX/html;
    location = /healthz.json { }
    location / { return 404; }
  }
}
EOF
  "$NGINX" -p "$NGX/" -c "$NGX/nginx.conf" -e "$NGX/error.log" &
  NGINX_PID=$!
  for ((i = 0; i < 100; i++)); do
    kill -0 "$NGINX_PID" 2>/dev/null || break
    curl -ksf -o /dev/null "https://127.0.0.1:$port/healthz.json" && { NGINX_PORT=$port; break; }
    sleep 0.1
  done
  [[ -n $NGINX_PORT ]] && break
  stop_pid "$NGINX_PID" nginx
  NGINX_PID=""
done
[[ -n $NGINX_PORT ]] || die "could not start nginx on a free loopback port"
NGINX_URL=https://127.0.0.1:$NGINX_PORT

# --- fixtures -----------------------------------------------------------------------------
code=$(curl -ks -o "$WORK/put.out" -w '%{http_code}' -X PUT \
  -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  --data '{"value":"全ゲノム"}' "$ZENGEN_URL/api/v1/settings/program_name")
[[ $code == 200 ]] || { cat "$WORK/put.out" >&2; die "setting program_name returned HTTP $code"; }

# The authenticated write: the same setting rewritten, one transaction per request.
cat >"$WORK/put.lua" <<EOF
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"value":"bench"}'
EOF

# The authenticated read: a data steward's browser session that passed TOTP, reading the user
# list. Each request pays for the session lookup, the policy decision (role, second factor),
# one audit record (group commit) and the database read.
admin() {  # method path json: as the operator
  curl -ks -X "$1" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data "$3" "$ZENGEN_URL$2"
}
BENCH_PASSWORD="wrk-load-passphrase-$RANDOM$RANDOM"
admin POST /api/v1/admin/organisations \
  '{"id":"bench-dc","name":"Bench data center","kind":"data_center","jurisdiction":"JP"}' >/dev/null
admin POST /api/v1/admin/users "{\"id\":\"bench-steward\",\"organisation\":\"bench-dc\",\"display_name\":\"Bench\",\"email\":\"bench@example.org\",\"roles\":[\"data_steward\"],\"password\":\"$BENCH_PASSWORD\"}" >/dev/null
curl -ks -c "$WORK/jar" -o "$WORK/login.json" -H 'Content-Type: application/json' \
  --data "{\"username\":\"bench-steward\",\"password\":\"$BENCH_PASSWORD\"}" \
  "$ZENGEN_URL/api/v1/auth/login"
CSRF=$(sed -n 's/.*"csrf_token":"\([0-9a-f]*\)".*/\1/p' "$WORK/login.json")
SESSION=$(awk '$6 == "zg_session" {print $7}' "$WORK/jar")
[[ -n $CSRF && -n $SESSION ]] || die "bench login failed: $(cat "$WORK/login.json")"
ENROLMENT_CODE=$(admin POST /api/v1/admin/users/bench-steward/enrolment-code '' |
  sed -n 's/.*"enrolment_code":"\([a-z0-9-]*\)".*/\1/p')
curl -ks -b "zg_session=$SESSION" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
  -o "$WORK/enrol.json" --data "{\"enrolment_code\":\"$ENROLMENT_CODE\"}" \
  "$ZENGEN_URL/api/v1/auth/mfa/enrol"
SECRET=$(sed -n 's/.*"secret":"\([A-Z2-7]*\)".*/\1/p' "$WORK/enrol.json")
[[ -n $SECRET ]] || die "TOTP enrolment failed: $(cat "$WORK/enrol.json")"
code=$(curl -ks -b "zg_session=$SESSION" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
  -o "$WORK/confirm.json" -w '%{http_code}' \
  --data "{\"code\":\"$(oathtool --totp -b "$SECRET")\"}" "$ZENGEN_URL/api/v1/auth/mfa/confirm")
[[ $code == 200 ]] || die "TOTP confirmation returned HTTP $code: $(cat "$WORK/confirm.json")"
printf 'wrk.headers["Cookie"] = "zg_session=%s"\n' "$SESSION" >"$WORK/session.lua"

# name | url | wrk script ("" for GET)
targets=(
  "nginx static file (anchor)|$NGINX_URL/healthz.json|"
  "zengen GET /healthz|$ZENGEN_URL/healthz|"
  "zengen GET /api/v1/version|$ZENGEN_URL/api/v1/version|"
  "zengen GET /api/v1/settings/program_name|$ZENGEN_URL/api/v1/settings/program_name|"
  "zengen PUT /api/v1/settings/bench_write|$ZENGEN_URL/api/v1/settings/bench_write|$WORK/put.lua"
  "zengen GET /api/v1/admin/users (session, MFA, policy, audit)|$ZENGEN_URL/api/v1/admin/users|$WORK/session.lua"
)
for t in "${targets[@]}"; do  # every target answers 200 before it is measured
  IFS='|' read -r name url script <<<"$t"
  if [[ $script == *session.lua ]]; then
    code=$(curl -ks -o /dev/null -w '%{http_code}' -b "zg_session=$SESSION" "$url")
  elif [[ -n $script ]]; then
    code=$(curl -ks -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
      -H 'Content-Type: application/json' --data '{"value":"bench"}' "$url")
  else
    code=$(curl -ks -o /dev/null -w '%{http_code}' "$url")
  fi
  [[ $code == 200 ]] || die "$name: $url returned HTTP $code"
done

# --- measure ------------------------------------------------------------------------------
run_wrk() {  # seconds, url, script, output file
  local args=(-t"$WRK_THREADS" -c"$CONNECTIONS" -d"$1"s --latency)
  [[ -n $3 ]] && args+=(-s "$3")
  timeout $(($1 + 60)) "$WRK" "${args[@]}" "$2" >"$4" 2>&1 || die "wrk failed on $2: $(cat "$4")"
}
# wrk prints latencies as 812.00us, 1.23ms, 1.05s, 1.00m.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    else if (u != "ms") { print "nan"; exit }
    printf "%.3f", n }'
}

results=()
for t in "${targets[@]}"; do
  IFS='|' read -r name url script <<<"$t"
  echo "bench/http: $name: warm ${WARMUP}s, measure ${DURATION}s" >&2
  if ((WARMUP > 0)); then run_wrk "$WARMUP" "$url" "$script" "$WORK/warm.out"; fi
  out=$WORK/wrk-$((${#results[@]} + 1)).out
  run_wrk "$DURATION" "$url" "$script" "$out"
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  total=$(awk '/requests in/ {print $1}' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  sockerr=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$out")
  [[ -n $rps && -n $p50 && -n $p99 && -n $total ]] || die "cannot parse wrk output: $(cat "$out")"
  results+=("$name|$rps|$(to_ms "$p50")|$(to_ms "$p99")|$total|$((${non2xx:-0} + ${sockerr:-0}))")
done

# --- report -------------------------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
zver=$("$ZENGEN_BIN" --version 2>&1 | head -n 1)
nver=$("$NGINX" -v 2>&1 | head -n 1)
wver=$("$WRK" -v 2>&1 | head -n 1 | awk '{print $1, $2}' || true)
tls_of() {  # url: the protocol and cipher a default OpenSSL client negotiates
  openssl s_client -connect "${1#https://}" -servername localhost </dev/null 2>/dev/null |
    awk '/^New, / {gsub(/,/, ""); print $2 ", " $NF; exit}'
}
tls_zengen=$(tls_of "$ZENGEN_URL")
tls_nginx=$(tls_of "$NGINX_URL")
if [[ $ZENGEN_LOG == "$WORK"/* ]]; then
  logdesc="a file in the temporary directory ($(du -h "$ZENGEN_LOG" | cut -f1), removed on exit)"
else
  logdesc=$ZENGEN_LOG
fi

echo
echo "Zengen HTTP benchmark (bench/http/run.sh), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine    : $(nproc) CPUs, ${cpu:-unknown CPU}, $(uname -sr)"
echo "versions   : zengen $zver; $nver; $wver"
echo "database   : $([[ -n $DATABASE ]] && echo "PostgreSQL" || echo "SQLite (in the data directory)")"
echo "load       : wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --latency, keep-alive, HTTPS over 127.0.0.1 (${WARMUP}s warm-up each, targets one after another)"
echo "servers    : zengen threads = 2; nginx worker_processes 2, TLSv1.2/1.3, same self-signed certificate, access_log off"
echo "tls        : zengen ${tls_zengen:-?}; nginx ${tls_nginx:-?}"
echo "zengen log : stderr (one JSON access line per request) to $logdesc"
echo "note       : wrk and the server under test share the same $(nproc) cores"
echo
awk -F'|' -v n="${#results[@]}" '
  { name[NR] = $1; rps[NR] = $2; p50[NR] = $3; p99[NR] = $4; tot[NR] = $5; err[NR] = $6 }
  END {
    fmt = "%-58s %11s %9s %9s %9s %9s %10s %7s\n"
    printf fmt, "target", "requests/s", "p50 ms", "p99 ms", "rps/nginx", "p99/nginx", "requests", "errors"
    for (i = 1; i <= n; i++)
      printf "%-58s %11.0f %9.3f %9.3f %9.2f %9.2f %10d %7d\n", name[i], rps[i], p50[i], p99[i],
        rps[i] / rps[1], p99[i] / p99[1], tot[i], err[i]
  }' < <(printf '%s\n' "${results[@]}")
echo
echo "errors = wrk's non-2xx/3xx responses plus socket errors (connect, read, write, timeout);"
echo "figures count only when it is 0. Ratios are to the first row, the nginx anchor."
bad=0
for r in "${results[@]}"; do [[ ${r##*|} == 0 ]] || bad=1; done
if ((bad)); then
  echo "bench/http: some targets reported errors; the figures do not count" >&2
  exit 2
fi

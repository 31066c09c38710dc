#!/usr/bin/env bash
# Installs every Debian 12 package Zengen needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt; the package index is
# refreshed only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-url1.81-dev
  nlohmann-json3-dev libssl-dev libsodium-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libisal-dev libzstd-dev libhts-dev
  samtools bcftools fastp python3-nacl python3-bcrypt
  openssl curl ca-certificates
  postgresql-15 postgresql-client-15
  libcurl4-gnutls-dev libpugixml-dev libroaring-dev
  ceph-mon ceph-osd radosgw ceph-common
  chromium fonts-noto-cjk
  clang libclang-rt-14-dev llvm
  # Uniform analysis (issue 16): the workflow engines, a single-node Slurm for tests, the
  # pipelines' tools (fastp, samtools, bcftools above).
  cwltool toil slurmctld slurmd slurm-client munge bwa
)
# Node.js for the web front-end: Debian's nodejs and npm, unless a node is already installed
# (another build of Node.js would conflict with Debian's npm package).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [[ "${ZENGEN_WITH_BENCH:-0}" == 1 ]]; then
  packages+=(nginx-light wrk oathtool jq bc bwa cwltool toil slurmctld slurmd slurm-client munge)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all packages present"

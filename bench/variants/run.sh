#!/usr/bin/env bash
# Cohort variant store against its anchors, measured in the same run on the same cohort:
#   - region queries (10 kb, 1 Mb) with a 30 % consent subset: Zengen's chunks against bcftools
#     on the merged BCF (view -r -S | +fill-tags | view -c1), and, for the smallest cohort,
#     bcftools merging the single-sample files on the fly (merge -0 -r);
#   - allele frequencies over the whole chromosome with the subset, in genotypes per CPU
#     second: Zengen, Savvy (libsavvy on a SAV file made by `sav import`) and bcftools;
#   - bytes per genotype: Zengen's chunks, SAV, BCF;
#   - ingest in samples per hour (the real reader and chunk builder);
#   - region rebuilds, for cohorts of at most SINGLES_MAX (200) samples: the single-sample files
#     ingested one batch each, region queries before and after every region is merged into one
#     chunk, and the merge's own time.
# Needs the packages of scripts/install-deps.sh with ZENGEN_WITH_BENCH=1 (savvy-util,
# libsavvy-dev) and a build (scripts/build.sh) configured after they were installed.
#
#   SAMPLES="200 1000 5000" LENGTH=2000000 bash bench/variants/run.sh
#
# A/B in the same run: OLD=path/to/an/older/variants_bench also runs that binary's query step
# on the same files, right after the new one's (lines prefixed "old:"); build it from another
# checkout, e.g. `git worktree add /tmp/old main && (cd /tmp/old && bash scripts/build.sh
# --target variants_bench)`, then OLD=/tmp/old/build/bench/variants/variants_bench.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
bin="$root/build/bench/variants/variants_bench"
[[ -x "$bin" ]] || { echo "run.sh: build variants_bench first (needs libsavvy-dev)" >&2; exit 1; }
length=${LENGTH:-2000000}
work=$(mktemp -d /tmp/zengen-variants-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
TIMEFORMAT='%R %U %S'

# Median wall seconds of a command run N times.
median_wall() {
  local n=$1
  shift
  local times=()
  for _ in $(seq 1 "$n"); do
    local t
    t=$({ time bash -c "$*" >/dev/null 2>&1; } 2>&1 | awk '{print $1}')
    times+=("$t")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
# CPU seconds (user + system, children included) of one run.
cpu_seconds() {
  { time bash -c "$*" >/dev/null 2>&1; } 2>&1 | awk '{print $2 + $3}'
}
# Median CPU seconds of a command run N times (on a shared machine the wall time also counts
# waiting for a core; CPU time does not).
median_cpu() {
  local n=$1
  shift
  for _ in $(seq 1 "$n"); do cpu_seconds "$@"; done | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

for n in ${SAMPLES:-200 1000 5000}; do
  # A row runs only if it fits: the query step's peak memory grows with samples × length
  # (measured 40 MB at 5,000 samples × 500 kb); the estimate below allows several times that,
  # and the row says why when it is skipped.
  need_mb=$((n * length / 15000000 + 200))
  avail_mb=$(awk '/MemAvailable/ {print int($2 / 1024)}' /proc/meminfo)
  if ((avail_mb < need_mb)); then
    echo "== $n samples: skipped (needs about $need_mb MB of memory, $avail_mb MB available)"
    continue
  fi
  dir="$work/n$n"
  singles=0
  if ((n <= ${SINGLES_MAX:-200})); then singles=$n; fi
  "$bin" generate "$dir" "$n" "$length" "$singles"
  bcftools view -Ob -o "$dir/cohort.bcf" "$dir/cohort.vcf"
  bcftools index "$dir/cohort.bcf"
  rm "$dir/cohort.vcf"
  if ((singles > 0)); then
    for f in "$dir"/S*.vcf; do
      bcftools view -Ob -o "${f%.vcf}.bcf" "$f" && bcftools index "${f%.vcf}.bcf" && rm "$f"
    done
  fi
  bcftools query -l "$dir/cohort.bcf" >"$dir/samples.txt"
  shuf --random-source=<(yes) "$dir/samples.txt" >"$dir/shuffled.txt"
  head -n $((n * 30 / 100)) "$dir/shuffled.txt" >"$dir/subset.txt"
  sav import --phasing none "$dir/cohort.bcf" "$dir/cohort.sav" >/dev/null 2>&1
  sites=$(bcftools index -n "$dir/cohort.bcf")
  genotypes=$((sites * n))
  echo "== $n samples, $sites sites, 30 % subset ($(wc -l <"$dir/subset.txt") samples)"
  out=$(/usr/bin/time -f "zengen query step peak memory: %M kB" "$bin" query "$dir" "$n" \
    "$length" "$dir/subset.txt" 2>&1)
  echo "$out"
  if [[ -n "${OLD:-}" ]]; then
    "$OLD" query "$dir" "$n" "$length" "$dir/subset.txt" 2>&1 | grep -E "region|AF" | sed 's/^/old: /'
  fi
  start=$((length / 3))
  for span in 10000 1000000; do
    end=$((start + span - 1))
    z=$(echo "$out" | awk -v s="$span" '$2 == "region" && $3 == s {print $5}')
    zc=$(echo "$out" | awk -v s="$span" '$2 == "region" && $3 == s {print $12}')
    query="bcftools view -r chrB:$start-$end -S $dir/subset.txt -Ou $dir/cohort.bcf |
        bcftools +fill-tags -Ou -- -t AC,AN | bcftools view -c1 -Ou | bcftools query -f '%AC\n'"
    b=$(median_wall 5 "$query")
    bc_=$(median_cpu 5 "$query")
    echo "bcftools region $span bp (merged BCF): $b s median; zengen is $(echo "scale=1; $b / $z" | bc)x faster"
    echo "bcftools region $span bp (merged BCF), CPU: $bc_ CPU-s median; zengen $zc CPU-s, $(echo "scale=1; $bc_ / $zc" | bc)x less CPU"
    if ((singles > 0)); then
      m=$(median_wall 3 "bcftools merge -0 -r chrB:$start-$end -Ou $dir/S*.bcf |
          bcftools view -S $dir/subset.txt -Ou | bcftools +fill-tags -Ou -- -t AC,AN |
          bcftools view -c1 -Ou | bcftools query -f '%AC\n'")
      echo "bcftools region $span bp (merging $singles single-sample BCFs): $m s median; zengen is $(echo "scale=1; $m / $z" | bc)x faster"
    fi
  done
  bc_cpu=$(cpu_seconds "bcftools view -S $dir/subset.txt -Ou $dir/cohort.bcf |
      bcftools +fill-tags -Ou -- -t AC,AN | bcftools query -f '%AC\n'")
  echo "bcftools whole-chromosome AF: $bc_cpu CPU-s, $(echo "scale=3; $genotypes / $bc_cpu" | bc) genotypes/s/core"
  "$bin" savvy "$dir/cohort.sav" "$dir/subset.txt"
  if ((singles > 0)); then
    # Region rebuilds: the same cohort as one batch per single-sample file, queried before and
    # after every region's chunks are merged into one.
    "$bin" singles "$dir" "$n" "$length" "$dir/subset.txt"
  fi
  echo "bytes/genotype: SAV $(echo "scale=4; $(stat -c %s "$dir/cohort.sav") / $genotypes" | bc), BCF $(echo "scale=4; $(stat -c %s "$dir/cohort.bcf") / $genotypes" | bc)"
  rm -rf "$dir"
done

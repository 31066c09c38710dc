#!/usr/bin/env bash
# Accuracy and orchestration overhead of the germline pipeline (pipelines/germline/1.0.0).
#
# Makes a synthetic diploid genome with known SNVs and indels (make_truth.py; LENGTH bp, default
# 2 Mb), simulates ~30x paired 150 bp reads from both haplotypes (the synthetic module's
# Illumina-like reads, which pass Zengen's QC; build/bench/pipeline/pipeline_overhead reads),
# then runs the same tool commands on the same input, in this order, and prints the wall time
# of each:
#   1. by hand: the pipeline's commands in a plain shell script (the anchor);
#   2. cwltool alone (the local executor's engine);
#   3. a Zengen analysis run on the local executor (pipeline_overhead run local: from the
#      request to `succeeded`, with input decryption, the engine, output sanitising,
#      encryption and registration), whose overhead over the anchor is the figure of issue 16;
#   4. toil-cwl-runner --batchSystem slurm alone, with the slurm executor's options, on a
#      single-node Slurm cluster started here (scripts/slurm-test-cluster.sh; its one node is
#      this machine, where the anchor runs), followed by where Toil's own time went
#      (toil_timeline.py: toil_phase NAME SECONDS), and 5. a Zengen run on the slurm
#      executor in each mode of SLURM_MODES (default "per_step per_run": Toil submitting each
#      step, then one Slurm allocation per run running cwltool), unless SLURM=0. When 2-3 ran
#      too, the anchor is run again right before 4; it is run once more after 5, and each
#      Slurm figure is printed against it and against the mean of the two.
# LOCAL=0 skips 2 and 3 (the anchor always runs). ROUNDS=N (default 1) runs the anchor, 2 and 3
# N times in alternating order and prints the medians (the local target is judged on them).
# Each Zengen run also prints its phases (zengen_phase NAME SECONDS, from the run's provenance).
# A/B: OLD=path/to/another/pipeline_overhead (e.g. built from main) adds the same Zengen run(s)
# by that binary right after the new one's, in the same bench run:
#   git worktree add /tmp/zengen-old main && (cd /tmp/zengen-old && bash scripts/build.sh \
#     --target pipeline_overhead) && OLD=/tmp/zengen-old/build/bench/pipeline/pipeline_overhead \
#     LENGTH=10000000 COVERAGE=30 SEED=1 SLURM=0 THREADS=2 bash bench/pipeline/run.sh
# Precision, recall and F1 for SNVs and indels (compare.py: exact-allele matching after
# bcftools norm) are printed for every run. Needs root (Slurm and munge), the packages of
# scripts/install-deps.sh with ZENGEN_WITH_BENCH=1, and a build (scripts/build.sh).
#
#   LENGTH=2000000 COVERAGE=30 SEED=1 SLURM=1 bash bench/pipeline/run.sh
# The Slurm figures alone (anchor, Toil alone, both modes):
#   LOCAL=0 LENGTH=3000000 COVERAGE=30 SEED=1 bash bench/pipeline/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
pipeline="$root/pipelines/germline/1.0.0/germline.cwl"
length=${LENGTH:-2000000}
coverage=${COVERAGE:-30}
seed=${SEED:-1}
threads=${THREADS:-$(nproc)}

work=$(mktemp -d /tmp/zengen-pipeline-bench.XXXXXX)
slurmdir=""
cleanup() {
  if [[ -n "$slurmdir" ]]; then bash "$root/scripts/slurm-test-cluster.sh" stop "$slurmdir" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

python3 "$here/make_truth.py" truth --length "$length" --seed "$seed"
samtools faidx truth/ref.fa
bwa index truth/ref.fa 2>/dev/null
driver=${ZENGEN_PIPELINE_OVERHEAD:-$root/build/bench/pipeline/pipeline_overhead}
# Half the coverage from each haplotype.
"$driver" reads truth/hap1.fa truth/hap2.fa $((coverage / 2)) "$seed" .
bcftools norm -f truth/ref.fa -m -any truth/truth.vcf -Oz -o truth.norm.vcf.gz 2>/dev/null
cat >job.yml <<EOF
reads_1: {class: File, path: $work/r1.fq.gz}
reads_2: {class: File, path: $work/r2.fq.gz}
reference: {class: File, path: $work/truth/ref.fa}
sample: S1
threads: $threads
EOF

now() { date +%s.%N; }
report() {  # name seconds vcf
  printf '%-22s wall %7.1f s  %s\n' "$1" "$2" "$(python3 "$here/compare.py" truth.norm.vcf.gz "$3")"
}

# 1. By hand: the same commands as the CWL tools, in one shell, serially, on this machine (the
# single Slurm node is this machine too). Run again right before the Slurm runs when both
# sections run, so that each section is compared with an anchor measured next to it.
hand_run() {
  rm -rf hand && mkdir hand && cd hand
  local t0
  t0=$(now)
  fastp -i ../r1.fq.gz -I ../r2.fq.gz -o trimmed_1.fq.gz -O trimmed_2.fq.gz -j fastp.json \
    -h fastp.html -w "$threads" 2>/dev/null
  bwa mem -t "$threads" -R '@RG\tID:S1\tSM:S1\tPL:ILLUMINA' ../truth/ref.fa trimmed_1.fq.gz \
    trimmed_2.fq.gz 2>/dev/null | samtools fixmate -m - - | samtools sort -@ "$threads" -o sorted.bam - 2>/dev/null
  samtools markdup -s -f markdup.txt sorted.bam markdup.bam 2>/dev/null
  samtools view -C -T ../truth/ref.fa -o S1.cram markdup.bam
  samtools index S1.cram
  bcftools mpileup -f ../truth/ref.fa -a AD,DP S1.cram 2>/dev/null | bcftools call -mv -Ou 2>/dev/null |
    bcftools norm -f ../truth/ref.fa -m -any -Oz -o S1.vcf.gz 2>/dev/null
  bcftools index -t S1.vcf.gz
  t_hand=$(echo "$(now) - $t0" | bc)
  cd ..
}
hand_run
report "by hand (anchor)" "$t_hand" hand/S1.vcf.gz

if [[ "${LOCAL:-1}" == 1 ]]; then
# 2. cwltool alone and 3. Zengen on the local executor (cwltool), the same input, in ROUNDS
# rounds whose order reverses every other round (anchor, cwltool, Zengen[, OLD]; then the
# reverse), so that a machine that drifts during the bench weighs on every contender alike;
# the medians and their ratios are printed after the turns.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
pct_over() { echo "scale=1; ($1 - $2) * 100 / $2" | bc; }
cwl_run() {
  rm -rf cwl && mkdir -p cwl/tmp
  local t0
  t0=$(now)
  # The options of the local executor (src/analysis/executor.cc), so that "over cwltool alone"
  # is Zengen's own cost.
  cwltool --quiet --no-container --no-compute-checksum --outdir cwl/out --tmpdir-prefix cwl/tmp/ \
    --tmp-outdir-prefix cwl/tmp/ \
    "$pipeline" job.yml >cwl/result.json 2>cwl/log
  t_cwl=$(echo "$(now) - $t0" | bc)
  report "cwltool (local)" "$t_cwl" cwl/out/S1.vcf.gz
}
zengen_local_run() {  # NAME DRIVER
  rm -rf "$work/$1" "$1".*
  "$2" run local truth/ref.fa r1.fq.gz r2.fq.gz "$root/pipelines" "$work/$1" \
    "$threads" "$1.vcf.gz" >"$1.out" 2>"$1.err" || true
  t_zl=$(awk '/^zengen_run_seconds/ {print $2}' "$1.out")
  [[ -n "$t_zl" ]] || { cat "$1.err" >&2; exit 1; }
  bcftools norm -f truth/ref.fa -m -any "$1.vcf.gz" -Oz -o "$1.norm.vcf.gz" 2>/dev/null
  report "$1" "$t_zl" "$1.norm.vcf.gz"
  grep '^zengen_phase' "$1.out" | sed 's/^/  /' || true
  rm -rf "$work/$1"
}
rounds=${ROUNDS:-1}
hand_walls=("$t_hand") cwl_walls=() zl_walls=() zo_walls=()
for ((r = 1; r <= rounds; r++)); do
  order=(hand cwl zengen old)
  ((r % 2 == 0)) && order=(old zengen cwl hand)
  echo "local round $r of $rounds"
  for c in "${order[@]}"; do
    case $c in
      hand) if ((r > 1)); then hand_run; report "by hand (anchor)" "$t_hand" hand/S1.vcf.gz; hand_walls+=("$t_hand"); fi ;;
      cwl) cwl_run; cwl_walls+=("$t_cwl") ;;
      zengen) zengen_local_run zengen-local "$driver"; zl_walls+=("$t_zl") ;;
      # A/B: the same run by another build of the driver (e.g. main's), when OLD names it.
      old) if [[ -n "${OLD:-}" ]]; then zengen_local_run zengen-old "$OLD"; zo_walls+=("$t_zl"); fi ;;
    esac
  done
done
m_hand=$(median "${hand_walls[@]}")
m_cwl=$(median "${cwl_walls[@]}")
m_zl=$(median "${zl_walls[@]}")
echo "local medians over $rounds round(s): anchor $m_hand s (${hand_walls[*]}), cwltool $m_cwl s (${cwl_walls[*]}), zengen $m_zl s (${zl_walls[*]})"
echo "cwltool overhead: $(pct_over "$m_cwl" "$m_hand") % of the anchor's wall (medians)"
echo "zengen local overhead: $(pct_over "$m_zl" "$m_hand") % of the anchor's wall (medians; target <= 5 %)"
if ((${#zo_walls[@]})); then
  m_zo=$(median "${zo_walls[@]}")
  echo "zengen local overhead, OLD build: $(pct_over "$m_zo" "$m_hand") % of the anchor's wall (median $m_zo s: ${zo_walls[*]})"
fi
fi  # LOCAL

# 4. Toil on Slurm.
if [[ "${SLURM:-1}" == 1 ]]; then
  if [[ "${LOCAL:-1}" == 1 ]]; then
    hand_run
    report "by hand (anchor again)" "$t_hand" hand/S1.vcf.gz
  fi
  slurmdir=$(mktemp -d /tmp/zengen-slurm.XXXXXX)
  port=$(shuf -i 30000-39990 -n 1)
  export SLURM_CONF
  SLURM_CONF=$(bash "$root/scripts/slurm-test-cluster.sh" start "$slurmdir" "$port" | tail -n 1)
  mkdir -p toil/work toil/tmp
  # The options of the slurm executor (src/analysis/executor.cc), so that "over toil alone" is
  # Zengen's own cost; --logDebug only for the timeline below.
  t0=$(now)
  toil-cwl-runner --batchSystem slurm --jobStore "file:$work/toil/js" --workDir "$work/toil/work" \
    --outdir toil/out --bypass-file-store --tmpdir-prefix "$work/toil/tmp/eng-" \
    --tmp-outdir-prefix "$work/toil/tmp/eng-" --disableCaching --no-compute-checksum \
    --retryCount 1 --statePollingWait 2 --defaultCores "$threads" --defaultMemory 2G \
    --logDebug "$pipeline" job.yml >toil/result.json 2>toil/err
  t1=$(now)
  t_toil=$(echo "$t1 - $t0" | bc)
  report "toil on Slurm" "$t_toil" toil/out/S1.vcf.gz
  echo "toil+Slurm overhead: $(echo "scale=3; ($t_toil - $t_hand) * 100 / $t_hand" | bc) % of the anchor's wall"
  # Where Toil's own time goes (seconds, +-1: the log's resolution).
  python3 "$here/toil_timeline.py" toil/err "$t0" "$t1" | sed 's/^/  /' || true
  # 5. Zengen on the slurm executor, in each mode of SLURM_MODES (default both): per_step
  # (analysis_executor = slurm: Toil submits every step) and per_run (slurm_allocation: the run
  # is one Slurm job running cwltool on the node), each against the same anchor.
  slurm_walls=()
  for mode in ${SLURM_MODES:-per_step per_run}; do
    case "$mode" in
      per_step) exe=slurm ;;
      per_run) exe=slurm_allocation ;;
      *) echo "run.sh: SLURM_MODES holds per_step and/or per_run, not $mode" >&2; exit 2 ;;
    esac
    "$driver" run "$exe" truth/ref.fa r1.fq.gz r2.fq.gz "$root/pipelines" "$work/zengen-$mode" \
      "$threads" "zengen-$mode.vcf.gz" >"zengen-$mode.out" 2>"zengen-$mode.err" || true
    t_zs=$(awk '/^zengen_run_seconds/ {print $2}' "zengen-$mode.out")
    [[ -n "$t_zs" ]] || { cat "zengen-$mode.err" >&2; exit 1; }
    bcftools norm -f truth/ref.fa -m -any "zengen-$mode.vcf.gz" -Oz -o "zengen-$mode.norm.vcf.gz" 2>/dev/null
    report "zengen run (slurm $mode)" "$t_zs" "zengen-$mode.norm.vcf.gz"
    echo "zengen slurm $mode overhead: $(echo "scale=3; ($t_zs - $t_hand) * 100 / $t_hand" | bc) % of the anchor's wall; $(echo "scale=3; ($t_zs - $t_toil) * 100 / $t_toil" | bc) % over toil alone"
    grep '^zengen_phase' "zengen-$mode.out" | sed 's/^/  /' || true
    slurm_walls+=("$mode $t_zs")
  done
  # The anchor once more after the Slurm runs, so that a run late in a loaded bench is also
  # compared with an anchor measured next to it (the load moves while the bench runs).
  t_hand_before=$t_hand
  hand_run
  report "by hand (anchor after)" "$t_hand" hand/S1.vcf.gz
  echo "toil+Slurm overhead against the anchor after: $(echo "scale=3; ($t_toil - $t_hand) * 100 / $t_hand" | bc) %"
  for w in "${slurm_walls[@]}"; do
    set -- $w
    echo "zengen slurm $1 overhead against the anchor after: $(echo "scale=3; ($2 - $t_hand) * 100 / $t_hand" | bc) %; against the mean of both anchors: $(echo "scale=3; ($2 - ($t_hand + $t_hand_before) / 2) * 200 / ($t_hand + $t_hand_before)" | bc) %"
  done
  if [[ -n "${OLD:-}" ]]; then
    t_zso=$("$OLD" run slurm truth/ref.fa r1.fq.gz r2.fq.gz "$root/pipelines" "$work/zengen-slurm-old" \
      "$threads" zengen-slurm-old.vcf.gz 2>zengen-slurm-old.err | awk '/^zengen_run_seconds/ {print $2}')
    [[ -n "$t_zso" ]] || { cat zengen-slurm-old.err >&2; exit 1; }
    bcftools norm -f truth/ref.fa -m -any zengen-slurm-old.vcf.gz -Oz -o zengen-slurm-old.norm.vcf.gz 2>/dev/null
    report "zengen run (slurm, OLD)" "$t_zso" zengen-slurm-old.norm.vcf.gz
    echo "zengen slurm overhead, OLD build: $(echo "scale=3; ($t_zso - $t_hand) * 100 / $t_hand" | bc) % of the anchor's wall"
  fi
fi

#!/usr/bin/env cwl-runner
# Zengen somatic (tumour/normal) pipeline 1.1.0 (1.0.0 with a one-sample output VCF: the tumour's
# column; a registered VCF names one sample per participant): two FASTQ pairs of one participant -> trimmed,
# aligned, duplicate-marked CRAMs -> bcftools tumour/normal calls filtered on the normal's
# genotype and depth (somatic_call.cwl). Debian 12 tools only; the same file runs under cwltool
# and toil-cwl-runner --batchSystem slurm.
#
# Known limits (bcftools is a germline caller used here with a somatic filter): the diploid
# genotype model misses subclonal variants below ~20-25 % allele fraction and tumour-purity
# effects; no panel of normals, no strand-bias or orientation (FFPE) filters, no copy-number
# or structural variants; a normal contaminated with tumour reads loses true somatic calls
# (the filter demands no alternate read in the normal). Dedicated callers (Mutect2, Strelka2)
# are not Debian packages.
cwlVersion: v1.2
class: Workflow
label: somatic
doc: "tumour + normal: fastp -> bwa mem -> samtools markdup -> CRAM; bcftools tumour/normal call with a normal-genotype filter"

requirements:
  StepInputExpressionRequirement: {}

inputs:
  tumour_reads_1: File
  tumour_reads_2: File
  normal_reads_1: File
  normal_reads_2: File
  reference:
    type: File
    secondaryFiles: [.fai, .amb, .ann, .bwt, .pac, .sa]
  tumour_sample:
    type: string
    doc: "[A-Za-z0-9_-] only"
  normal_sample:
    type: string
    doc: "[A-Za-z0-9_-] only"
  threads:
    type: int
    default: 2

outputs:
  tumour_cram:
    type: File
    outputSource: align_tumour/cram
  normal_cram:
    type: File
    outputSource: align_normal/cram
  vcf:
    type: File
    outputSource: call/vcf

steps:
  trim_tumour:
    run: fastp.cwl
    in: {reads_1: tumour_reads_1, reads_2: tumour_reads_2, threads: threads}
    out: [trimmed_1, trimmed_2, report]
  trim_normal:
    run: fastp.cwl
    in: {reads_1: normal_reads_1, reads_2: normal_reads_2, threads: threads}
    out: [trimmed_1, trimmed_2, report]
  align_tumour:
    run: align.cwl
    in:
      reads_1: trim_tumour/trimmed_1
      reads_2: trim_tumour/trimmed_2
      reference: reference
      sample: tumour_sample
      threads: threads
    out: [cram, markdup_stats]
  align_normal:
    run: align.cwl
    in:
      reads_1: trim_normal/trimmed_1
      reads_2: trim_normal/trimmed_2
      reference: reference
      sample: normal_sample
      threads: threads
    out: [cram, markdup_stats]
  call:
    run: somatic_call.cwl
    in:
      tumour: align_tumour/cram
      normal: align_normal/cram
      reference: reference
      sample: tumour_sample
    out: [vcf]

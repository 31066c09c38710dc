#!/usr/bin/env cwl-runner
# Zengen germline pipeline 1.0.0: FASTQ pair -> trimmed reads -> aligned, duplicate-marked CRAM
# with index -> left-normalised, split VCF.gz with index. Debian 12 tools only; the same file
# runs under cwltool (local executor) and toil-cwl-runner --batchSystem slurm.
cwlVersion: v1.2
class: Workflow
label: germline
doc: "fastp -> bwa mem -> samtools fixmate/sort/markdup -> CRAM; bcftools mpileup/call/norm -> VCF"

requirements:
  StepInputExpressionRequirement: {}

inputs:
  reads_1: File
  reads_2: File
  reference:
    type: File
    secondaryFiles: [.fai, .amb, .ann, .bwt, .pac, .sa]
  sample:
    type: string
    doc: "Sample name written into the read group and the VCF ([A-Za-z0-9_-] only)"
  threads:
    type: int
    default: 2

outputs:
  cram:
    type: File
    outputSource: align/cram
  vcf:
    type: File
    outputSource: call/vcf
  qc_report:
    type: File
    outputSource: trim/report
  duplicate_stats:
    type: File
    outputSource: align/markdup_stats

steps:
  trim:
    run: fastp.cwl
    in:
      reads_1: reads_1
      reads_2: reads_2
      threads: threads
    out: [trimmed_1, trimmed_2, report]
  align:
    run: align.cwl
    in:
      reads_1: trim/trimmed_1
      reads_2: trim/trimmed_2
      reference: reference
      sample: sample
      threads: threads
    out: [cram, markdup_stats]
  call:
    run: call.cwl
    in:
      cram: align/cram
      reference: reference
      sample: sample
    out: [vcf]

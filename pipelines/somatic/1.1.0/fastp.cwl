cwlVersion: v1.2
class: CommandLineTool
label: fastp
doc: "Adapter and quality trimming of a read pair; the JSON report carries the QC figures"
baseCommand: [fastp]
arguments:
  - {prefix: -o, valueFrom: trimmed_1.fq.gz}
  - {prefix: -O, valueFrom: trimmed_2.fq.gz}
  - {prefix: -j, valueFrom: fastp.json}
  - {prefix: -h, valueFrom: fastp.html}
inputs:
  reads_1: {type: File, inputBinding: {prefix: -i}}
  reads_2: {type: File, inputBinding: {prefix: -I}}
  threads: {type: int, inputBinding: {prefix: -w}}
outputs:
  trimmed_1: {type: File, outputBinding: {glob: trimmed_1.fq.gz}}
  trimmed_2: {type: File, outputBinding: {glob: trimmed_2.fq.gz}}
  report: {type: File, outputBinding: {glob: fastp.json}}

cwlVersion: v1.2
class: CommandLineTool
label: merge
doc: >-
  One region rebuild of the cohort variant store: merges the region's chunks (ZGVC1, one per
  batch or earlier merge) into one with `zengen variants merge-chunks`, which refuses chunks of
  different regions or sharing a sample. The chunks are plaintext in the run's scratch
  directory; the server checks the answer against them before recording it.
requirements:
  ResourceRequirement: {coresMin: 1, ramMin: 2048}
arguments:
  - {position: 0, valueFrom: $(inputs.zengen)}
  - {position: 1, valueFrom: variants}
  - {position: 2, valueFrom: merge-chunks}
  - {position: 3, prefix: --out, valueFrom: merged.zgvc}
inputs:
  zengen:
    type: string
    doc: the zengen executable as the node running the step sees it
  chunks:
    type: File[]
    inputBinding: {position: 4}
outputs:
  merged:
    type: File
    outputBinding: {glob: merged.zgvc}

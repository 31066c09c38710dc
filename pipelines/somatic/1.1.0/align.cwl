cwlVersion: v1.2
class: CommandLineTool
label: align
doc: "bwa mem | samtools fixmate -m | samtools sort; samtools markdup; CRAM against the reference, indexed"
requirements:
  ShellCommandRequirement: {}
baseCommand: [sh, -ec]
arguments:
  - shellQuote: true
    valueFrom: >-
      bwa mem -t $(inputs.threads) -R '@RG\tID:$(inputs.sample)\tSM:$(inputs.sample)\tPL:ILLUMINA'
      $(inputs.reference.path) $(inputs.reads_1.path) $(inputs.reads_2.path)
      | samtools fixmate -m - -
      | samtools sort -@ $(inputs.threads) -o sorted.bam - ;
      samtools markdup -s -f markdup.txt sorted.bam markdup.bam ;
      samtools view -C -T $(inputs.reference.path) -o $(inputs.sample).cram markdup.bam ;
      samtools index $(inputs.sample).cram ;
      rm -f sorted.bam markdup.bam
inputs:
  reads_1: File
  reads_2: File
  reference:
    type: File
    secondaryFiles: [.fai, .amb, .ann, .bwt, .pac, .sa]
  sample: string
  threads: int
outputs:
  cram:
    type: File
    outputBinding: {glob: $(inputs.sample).cram}
    secondaryFiles: [.crai]
  markdup_stats:
    type: File
    outputBinding: {glob: markdup.txt}

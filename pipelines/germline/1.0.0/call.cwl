cwlVersion: v1.2
class: CommandLineTool
label: call
doc: "bcftools mpileup | call -mv | norm (left-normalise, split multi-allelic sites); VCF.gz indexed"
requirements:
  ShellCommandRequirement: {}
baseCommand: [sh, -ec]
arguments:
  - shellQuote: true
    valueFrom: >-
      bcftools mpileup -f $(inputs.reference.path) -a AD,DP $(inputs.cram.path)
      | bcftools call -mv -Ou
      | bcftools norm -f $(inputs.reference.path) -m -any -Oz -o $(inputs.sample).vcf.gz ;
      bcftools index -t $(inputs.sample).vcf.gz
inputs:
  cram:
    type: File
    secondaryFiles: [.crai]
  reference:
    type: File
    secondaryFiles: [.fai]
  sample: string
outputs:
  vcf:
    type: File
    outputBinding: {glob: $(inputs.sample).vcf.gz}
    secondaryFiles: [.tbi]

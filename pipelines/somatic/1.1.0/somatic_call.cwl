cwlVersion: v1.2
class: CommandLineTool
label: somatic_call
doc: >-
  Tumour/normal calling with bcftools: mpileup over both CRAMs together, multiallelic call of
  both samples, then keep a site only when the normal is confidently reference (GT 0/0 with
  depth >= min_normal_depth and no alternate read) and the tumour carries the alternate allele
  (non-reference GT, >= min_tumour_alt_reads alternate reads, depth >= min_tumour_depth);
  left-normalised, split; the output VCF.gz (with index) keeps the tumour's column only
  (1.1.0: a registered VCF names one sample per participant). Sample 1 is the tumour, sample 2
  the normal while filtering.
requirements:
  ShellCommandRequirement: {}
baseCommand: [sh, -ec]
arguments:
  - shellQuote: true
    valueFrom: >-
      bcftools mpileup -f $(inputs.reference.path) -a AD,DP -Ou $(inputs.tumour.path) $(inputs.normal.path)
      | bcftools call -m -Ou
      | bcftools norm -f $(inputs.reference.path) -m -any -Ou
      | bcftools view -i 'GT[0]!="ref" && GT[0]!="mis" && GT[1]="RR" && FMT/DP[1]>=$(inputs.min_normal_depth) && FMT/AD[1:1]==0 && FMT/AD[0:1]>=$(inputs.min_tumour_alt_reads) && FMT/DP[0]>=$(inputs.min_tumour_depth)' -Ou
      | bcftools view -s $(inputs.sample) -Oz -o $(inputs.sample).somatic.vcf.gz ;
      bcftools index -t $(inputs.sample).somatic.vcf.gz
inputs:
  tumour:
    type: File
    secondaryFiles: [.crai]
  normal:
    type: File
    secondaryFiles: [.crai]
  reference:
    type: File
    secondaryFiles: [.fai]
  sample: string
  min_normal_depth: {type: int, default: 10}
  min_tumour_depth: {type: int, default: 10}
  min_tumour_alt_reads: {type: int, default: 3}
outputs:
  vcf:
    type: File
    outputBinding: {glob: $(inputs.sample).somatic.vcf.gz}
    secondaryFiles: [.tbi]

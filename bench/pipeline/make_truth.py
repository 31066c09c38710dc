#!/usr/bin/env python3
"""A synthetic diploid genome with known variants, for measuring the analysis pipelines.

Writes into OUT:
  ref.fa            a random reference (one contig, GC ~41 %, with some low-complexity repeats)
  truth.vcf         the spiked-in SNVs and indels (1-10 bp), het or hom-alt, sorted
  hap1.fa, hap2.fa  the two haplotypes (the reference with each variant applied to its
                    haplotype(s)); wgsim simulates reads from each

Deterministic for a given --seed. No download: everything is generated here.
"""
import argparse
import os
import random

BASES = "ACGT"


def random_reference(rng, length):
    weights = [0.295, 0.205, 0.205, 0.295]  # A C G T
    seq = rng.choices(BASES, weights=weights, k=length)
    # A few tandem repeats and homopolymers, as real genomes have, to make indels realistic.
    for _ in range(length // 20000):
        at = rng.randrange(0, length - 200)
        unit = "".join(rng.choices(BASES, k=rng.choice([1, 2, 3, 4])))
        rep = (unit * 60)[: rng.randrange(12, 60)]
        seq[at : at + len(rep)] = list(rep)
    return "".join(seq)


def make_variants(rng, ref, snv_rate, indel_rate):
    """Non-overlapping variants at least 20 bp apart, in position order."""
    variants = []
    pos = 100
    n = len(ref)
    while pos < n - 100:
        r = rng.random()
        if r < snv_rate:
            refb = ref[pos]
            alt = rng.choice([b for b in BASES if b != refb])
            variants.append((pos, refb, alt))
            pos += 20
        elif r < snv_rate + indel_rate:
            size = min(10, int(rng.expovariate(0.45)) + 1)
            if rng.random() < 0.5:  # deletion: REF = anchor + deleted bases
                refs = ref[pos : pos + 1 + size]
                variants.append((pos, refs, ref[pos]))
                pos += size + 20
            else:  # insertion after the anchor base
                ins = "".join(rng.choices(BASES, k=size))
                variants.append((pos, ref[pos], ref[pos] + ins))
                pos += 20
        else:
            pos += 1
    return variants


def apply(ref, variants):
    out = []
    last = 0
    for pos, r, a in variants:
        out.append(ref[last:pos])
        out.append(a)
        last = pos + len(r)
    out.append(ref[last:])
    return "".join(out)


def write_fasta(path, name, seq):
    with open(path, "w") as f:
        f.write(f">{name}\n")
        for i in range(0, len(seq), 60):
            f.write(seq[i : i + 60] + "\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--length", type=int, default=2_000_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--snv-rate", type=float, default=1e-3)
    p.add_argument("--indel-rate", type=float, default=1.5e-4)
    p.add_argument("--hom-fraction", type=float, default=0.35)
    p.add_argument("--contig", default="chrS")
    a = p.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    ref = random_reference(rng, a.length)
    variants = make_variants(rng, ref, a.snv_rate, a.indel_rate)
    h1, h2, rows = [], [], []
    for v in variants:
        hom = rng.random() < a.hom_fraction
        if hom:
            h1.append(v)
            h2.append(v)
            gt = "1/1"
        elif rng.random() < 0.5:
            h1.append(v)
            gt = "0/1"
        else:
            h2.append(v)
            gt = "0/1"
        rows.append((v, gt))
    write_fasta(os.path.join(a.out, "ref.fa"), a.contig, ref)
    write_fasta(os.path.join(a.out, "hap1.fa"), a.contig, apply(ref, h1))
    write_fasta(os.path.join(a.out, "hap2.fa"), a.contig, apply(ref, h2))
    with open(os.path.join(a.out, "truth.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        f.write(f"##contig=<ID={a.contig},length={a.length}>\n")
        f.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ttruth\n")
        for (pos, r, alt), gt in rows:
            f.write(f"{a.contig}\t{pos + 1}\t.\t{r}\t{alt}\t.\tPASS\t.\tGT\t{gt}\n")
    snv = sum(1 for (v, _) in rows if len(v[1]) == len(v[2]) == 1)
    print(f"make_truth: {a.length} bp, {snv} SNVs, {len(rows) - snv} indels, seed {a.seed}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Precision, recall and F1 of called variants against a truth set, for SNVs and indels.

Both VCFs must already be left-normalised and split (bcftools norm -f REF -m -any). Matching
is exact on (CHROM, POS, REF, ALT): a haplotype-aware comparator such as hap.py (not packaged
in Debian) would also credit complex indels represented differently, so the indel figures
here are a lower bound. Genotypes are not compared. Calls with FILTER other than PASS or '.'
are ignored.

Prints one JSON object: {"snv": {"tp","fp","fn","precision","recall","f1"}, "indel": {...}}.
"""
import gzip
import json
import sys


def read(path):
    opener = gzip.open if path.endswith(".gz") else open
    out = set()
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            c = line.rstrip("\n").split("\t")
            if c[6] not in ("PASS", "."):
                continue
            for alt in c[4].split(","):
                if alt in ("*", "<*>", "."):
                    continue
                out.add((c[0], int(c[1]), c[3].upper(), alt.upper()))
    return out


def kind(v):
    return "snv" if len(v[2]) == 1 and len(v[3]) == 1 else "indel"


def scores(truth, calls, k):
    t = {v for v in truth if kind(v) == k}
    c = {v for v in calls if kind(v) == k}
    tp = len(t & c)
    fp = len(c - t)
    fn = len(t - c)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(f1, 4)}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare.py TRUTH.vcf[.gz] CALLS.vcf[.gz]")
    truth, calls = read(sys.argv[1]), read(sys.argv[2])
    print(json.dumps({k: scores(truth, calls, k) for k in ("snv", "indel")}))


if __name__ == "__main__":
    main()

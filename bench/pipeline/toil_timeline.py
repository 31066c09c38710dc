#!/usr/bin/env python3
"""Where Toil's time goes in one toil-cwl-runner run on Slurm (issue 16), from its debug log.

    toil_timeline.py LOG START END

LOG is the run's --logDebug output (its stderr), START and END the run's wall-clock
start and end (seconds since the epoch, as date +%s.%N prints). Prints one line per phase:

    toil_phase startup S          launch to the first step issued (Python start, import of the
                                  inputs, the CWL internal job that builds the job graph)
    toil_phase STEP:to_start S    step issued by the leader to its worker starting on the node
                                  (sbatch, Slurm scheduling, the worker's Python start)
    toil_phase STEP:body S        the worker's start to the tool's end (the tool itself, with
                                  input staging)
    toil_phase STEP:to_notice S   the tool's end to the leader noticing the job ended (worker
                                  teardown, Slurm completion, state polling)
    toil_phase STEP:to_next S     the leader noticing to the next job issued
    toil_phase teardown S         the last step noticed to the end of the run (the CWL internal
                                  jobs that resolve the outputs, staging, job store deletion)

The log's timestamps have a resolution of one second, so each figure is within about 1 s.
"""
import re
import sys
from datetime import datetime, timezone

STAMP = re.compile(r"^\s*\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)[+-]\d{4}\]")


def seconds(line):
    m = STAMP.match(line)
    if not m:
        return None
    return datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=timezone.utc).timestamp()


def main():
    log, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    issued, working, done, noticed = {}, {}, {}, {}
    order = []
    first_issue = None
    for line in open(log, errors="replace"):
        t = seconds(line)
        if t is None:
            continue
        m = re.search(r"Issued job '(\w+)' (\S+)", line)
        if m and "[toil.leader]" in line:
            first_issue = first_issue or t
            if m.group(1) == "CWLJob":
                name = m.group(2)
                issued.setdefault(name, t)
                if name not in order:
                    order.append(name)
            continue
        m = re.search(r"Working on job 'CWLJob' (\S+)", line)
        if m:
            working.setdefault(m.group(1), t)
            continue
        m = re.search(r"\[job (\S+)\] completed success", line)
        if m:
            done.setdefault(m.group(1), t)
            continue
        m = re.search(r"Job ended: 'CWLJob' (\S+)", line)
        if m and "[toil.leader]" in line:
            noticed.setdefault(m.group(1), t)
    if first_issue is None or not order:
        print("toil_timeline: no job found in the log", file=sys.stderr)
        return 1
    print(f"toil_phase startup {issued[order[0]] - start:.0f}")
    for i, name in enumerate(order):
        short = name.split(".cwl.")[-1].split(".")[0] if ".cwl." in name else name
        if name in working:
            print(f"toil_phase {short}:to_start {working[name] - issued[name]:.0f}")
        if name in working and name in done:
            print(f"toil_phase {short}:body {done[name] - working[name]:.0f}")
        if name in done and name in noticed:
            print(f"toil_phase {short}:to_notice {noticed[name] - done[name]:.0f}")
        if i + 1 < len(order) and name in noticed and order[i + 1] in issued:
            print(f"toil_phase {short}:to_next {issued[order[i + 1]] - noticed[name]:.0f}")
    last = max(noticed.values()) if noticed else None
    if last is not None:
        print(f"toil_phase teardown {end - last:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

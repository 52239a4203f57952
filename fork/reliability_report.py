#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""fork/reliability_report.py LOG OUTDIR: the reliability summary of a guest run.

Reads the console log of fork/boot: the RELIABILITY records of the fault-injection, fuzzing
and removal checks (fork/guest/checks.d/reliability.sh) and their KTAP results. Writes
OUTDIR/results.json and OUTDIR/results.md, and prints the table: per driver, the faults
injected, the calls that reached the driver under fuzzing, the removals survived, the splats
found, and whether its checks passed. Exits 1 if a reliability check failed.
"""

import datetime
import json
import os
import re
import sys

FIELDS = (
    ("faults_injected", "faults injected"),
    ("cycles", "cycles under injection"),
    ("calls_at_driver", "fuzzed calls at the driver"),
    ("removals", "removals survived"),
    ("splats", "splats"),
)


def parse(log):
    records, results = [], {}
    for line in log.splitlines():
        line = line.strip()
        m = re.match(r"^RELIABILITY (.*)$", line)
        if m:
            rec = {}
            for kv in m.group(1).split():
                k, _, v = kv.partition("=")
                rec[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
            # A record garbled on the console (lines of other output mixed in) is left out.
            if isinstance(rec.get("check"), str) and isinstance(rec.get("driver"), str):
                records.append(rec)
            continue
        m = re.match(r"^(not )?ok \d+ (\S+)( # SKIP)?", line)
        if m:
            results[m.group(2)] = "skipped" if m.group(3) else ("failed" if m.group(1) else "passed")
    return records, results


def summarize(records, results):
    drivers = {}
    checks = [c for c in results if re.match(r"(faults|fuzz|removal)_", c)]
    def num(rec, key):
        v = rec.get(key, 0)
        return v if isinstance(v, int) else 0

    for rec in records:
        d = drivers.setdefault(rec["driver"], {f: 0 for f, _ in FIELDS} | {"checks": {}})
        d["faults_injected"] += num(rec, "faults_injected")
        d["cycles"] += sum(num(rec, k) for k in ("probe_cycles", "file_cycles", "load_cycles", "ff_cycles"))
        d["calls_at_driver"] += num(rec, "calls_at_driver")
        d["removals"] += num(rec, "removals")
        d["splats"] += num(rec, "splats")
        d["checks"][rec["check"]] = {k: v for k, v in rec.items() if k not in ("check", "driver")}
    # A check with a result but no record (its output was lost) is listed as such.
    for c in checks:
        driver = next((n for n, d in drivers.items() if c in d["checks"]), None)
        if driver is None:
            driver = "(no record)"
            drivers.setdefault(driver, {f: 0 for f, _ in FIELDS} | {"checks": {}})
            drivers[driver]["checks"][c] = {}
        drivers[driver]["checks"][c]["result"] = results[c]
    for d in drivers.values():
        states = [c.get("result", "failed") for c in d["checks"].values()]
        d["result"] = "failed" if "failed" in states else ("skipped" if "skipped" in states else "passed")
    return drivers


def table(drivers):
    head = ["driver"] + [t for _, t in FIELDS] + ["checks"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, d in sorted(drivers.items()):
        passed = sum(1 for c in d["checks"].values() if c.get("result") == "passed")
        rows.append("| " + " | ".join(
            [name] + [f"{d[f]:,}" for f, _ in FIELDS] + [f"{passed}/{len(d['checks'])} {d['result']}"]) + " |")
    return "\n".join(rows)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], errors="replace") as f:
        log = f.read()
    records, results = parse(log)
    drivers = summarize(records, results)
    # The guest checks' last line; without it the guest died or timed out mid-run.
    complete = re.search(r"^# guest checks: ", log, re.M) is not None
    if not drivers:
        print("reliability: no fault-injection, fuzzing or removal check ran")
        return 0
    os.makedirs(sys.argv[2], exist_ok=True)
    out = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kernel": os.environ.get("FORK_RELIABILITY_KERNEL", ""),
        "complete": complete,
        "drivers": drivers,
        "records": records,
    }
    with open(os.path.join(sys.argv[2], "results.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    text = table(drivers)
    with open(os.path.join(sys.argv[2], "results.md"), "w") as f:
        f.write(f"Reliability run of {out['date']} ({out['kernel'] or 'kernel not recorded'})\n\n{text}\n")
    print("reliability summary (" + os.path.join(sys.argv[2], "results.json") + "):")
    print(text)
    if not complete:
        print("reliability: the guest checks did not finish: these figures are of part of the run")
        return 1
    return 1 if any(d["result"] == "failed" for d in drivers.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

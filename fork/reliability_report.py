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
            records.append(rec)
            continue
        m = re.match(r"^(not )?ok \d+ (\S+)( # SKIP)?", line)
        if m:
            results[m.group(2)] = "skipped" if m.group(3) else ("failed" if m.group(1) else "passed")
    return records, results


def summarize(records, results):
    drivers = {}
    checks = [c for c in results if re.match(r"(faults|fuzz|removal)_", c)]
    for rec in records:
        d = drivers.setdefault(rec["driver"], {f: 0 for f, _ in FIELDS} | {"checks": {}})
        d["faults_injected"] += rec.get("faults_injected", 0)
        d["cycles"] += sum(rec.get(k, 0) for k in ("probe_cycles", "file_cycles", "load_cycles"))
        d["calls_at_driver"] += rec.get("calls_at_driver", 0)
        d["removals"] += rec.get("removals", 0)
        d["splats"] += rec.get("splats", 0)
        d["checks"][rec["check"]] = {k: v for k, v in rec.items() if k not in ("check", "driver")}
    # Every check prints its first record (check and driver) before anything else; one that
    # has none did not even start (the guest died first) and is listed as such.
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
        records, results = parse(f.read())
    drivers = summarize(records, results)
    if not drivers:
        print("reliability: no fault-injection, fuzzing or removal check ran")
        return 0
    os.makedirs(sys.argv[2], exist_ok=True)
    out = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "kernel": os.environ.get("FORK_RELIABILITY_KERNEL", ""),
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
    return 1 if any(d["result"] == "failed" for d in drivers.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

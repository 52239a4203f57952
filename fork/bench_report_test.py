#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of fork/bench_report.py's conclusions on synthetic console logs (no boot needed).

Each test writes the BENCHENV/BENCH/BENCHEND lines a guest would print, with values chosen so
that the right answer is known, runs the report and checks its verdicts and exit code: that an
equal pair concludes "no significant difference" at 1% under instruction counting, that a 2%
slowdown is a conclusive regression of its size, and that the determinism and sensitivity checks
fail when the figures do not support them.

Usage: bench_report_test.py --list | NAME... (exit code 0 if every named test passed)
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPORT = Path(__file__).resolve().with_name("bench_report.py")
WORKLOADS = ("randread-qd1-j1", "randread-qd32-j2")


def console(path, pair, sides, mode="icount", reps=5):
    """Writes a console log. sides maps "rust"/"c" to a function (workload, rep) -> (iops, cpu_ns)."""
    lines = ["BENCHENV " + json.dumps({
        "nproc": 2, "fio": "fio-3.33", "engine": "io_uring", "engine_note": "",
        "kernel": "6.12.117", "reps": reps, "runtime_s": 2, "ramp_s": 1, "mode": mode,
        "fatal": "", "plan": [f"{pair}/{w}" for w in WORKLOADS]})]
    n = 0
    for w in WORKLOADS:
        for rep in range(1, reps + 1):
            for side in ("rust", "c"):
                iops, cpu = sides[side](w, rep)
                n += 1
                lines.append("BENCH " + json.dumps({
                    "pair": pair, "side": side, "module": side, "workload": w, "rep": rep,
                    "iter": n, "ok": True, "kind": "block", "iops": iops, "cpu_ns_per_io": cpu,
                    "sys_ns_per_io": cpu * 0.6, "lat_p50_ns": 620, "lat_p99_ns": 628}))
    lines.append("BENCHEND " + json.dumps({"records": n, "errors": 0}))
    Path(path).write_text("\n".join(lines) + "\n")


def steady(iops, cpu, jitter=0.0003):
    """A side whose figures move by a few parts in ten thousand from one repetition to the next,
    as they do under instruction counting."""
    return lambda w, rep: (iops * (1 + jitter * ((rep * 7) % 5 - 2)),
                           cpu * (1 - jitter * ((rep * 3) % 5 - 2)))


def run(tmp, name, pair, sides, *args, mode="icount"):
    log = Path(tmp) / f"{name}.log"
    out = Path(tmp) / name
    console(log, pair, sides, mode)
    rc = subprocess.run([sys.executable, str(REPORT), "--console", str(log), "--out", str(out),
                         *args], capture_output=True, text=True).returncode
    return rc, json.loads((out / "results.json").read_text())


def verdicts(res, metric):
    return {r["workload"]: r["verdict"] for r in res["rows"] if r["metric"] == metric}


def test_equal_pair_concludes(tmp):
    rc, res = run(tmp, "equal", "p", {"rust": steady(139000, 7180), "c": steady(139010, 7179)})
    v = verdicts(res, "iops")
    assert rc == 0, rc
    assert set(v.values()) == {"no significant difference"}, v
    assert res["method"]["inconclusive_rel_width"] == 0.01


def test_two_percent_is_conclusive(tmp):
    rc, res = run(tmp, "slow", "p", {"rust": steady(139000 / 1.02, 7180 * 1.02),
                                      "c": steady(139000, 7180)})
    assert rc == 0, rc
    assert set(verdicts(res, "cpu_ns_per_io").values()) == {"Rust worse"}, res
    assert set(verdicts(res, "iops").values()) == {"Rust worse"}, res


def test_host_noise_is_inconclusive(tmp):
    # 20% spread between repetitions, as TCG gives with the host's time: no verdict.
    rc, res = run(tmp, "noisy", "p", {"rust": steady(139000, 7180, 0.1),
                                       "c": steady(139000, 7180, 0.1)}, mode="host")
    assert rc == 0, rc
    assert set(verdicts(res, "iops").values()) == {"inconclusive: spread too wide"}, res
    rc, res = run(tmp, "noisy-icount", "p", {"rust": steady(139000, 7180, 0.1),
                                              "c": steady(139000, 7180, 0.1)})
    assert set(verdicts(res, "iops").values()) == {"inconclusive: spread too wide"}, res


def test_sensitivity_detects_inserted_size(tmp):
    rc, res = run(tmp, "sens", "s", {"rust": steady(139000 / 1.02, 7180 + 143.6),
                                      "c": steady(139000, 7180)},
                  "--expect-slowdown", "143.6", "--expect-base-pair", "s")
    assert rc == 0, (rc, res["problems"])
    assert res["checks"]["sensitivity"]["ok"] is True


def test_sensitivity_fails_on_wrong_size(tmp):
    # Half of the inserted size shows up: not "a regression of the size inserted".
    rc, res = run(tmp, "sens-half", "s", {"rust": steady(139000 / 1.01, 7180 + 71.8),
                                           "c": steady(139000, 7180)},
                  "--expect-slowdown", "143.6", "--expect-base-pair", "s")
    assert rc == 1, rc
    assert res["checks"]["sensitivity"]["ok"] is False


def test_sensitivity_fails_when_invisible(tmp):
    rc, res = run(tmp, "sens-none", "s", {"rust": steady(139000, 7180), "c": steady(139000, 7180)},
                  "--expect-slowdown", "143.6", "--expect-base-pair", "s")
    assert rc == 1, rc


def test_determinism_passes_and_fails(tmp):
    rc, first = run(tmp, "first", "p", {"rust": steady(139000, 7180), "c": steady(139000, 7180)})
    assert rc == 0, rc
    prev = str(Path(tmp) / "first" / "results.json")
    rc, res = run(tmp, "same", "p", {"rust": steady(139100, 7175), "c": steady(139050, 7178)},
                  "--compare", prev, "--determinism", "0.005")
    assert rc == 0, (rc, res["problems"])
    assert res["checks"]["determinism"]["ok"] is True
    rc, res = run(tmp, "moved", "p", {"rust": steady(139000 * 1.01, 7180), "c": steady(139000, 7180)},
                  "--compare", prev, "--determinism", "0.005")
    assert rc == 1, rc
    assert res["checks"]["determinism"]["ok"] is False


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(TESTS))
        return 0
    bad = 0
    for name in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                TESTS[name](tmp)
                print(f"ok - {name}")
            except (AssertionError, KeyError) as e:
                bad += 1
                print(f"not ok - {name}: {e!r}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

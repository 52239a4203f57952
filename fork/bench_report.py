#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turns the records of a fork/bench run into a table, a JSON file and a chart.

Reads the BENCHENV/BENCH/BENCHEND lines that fork/guest/bench.sh printed on the guest's console
(the captured console log), and optionally the host-side JSON that fork/bench wrote (build-side
figures, environment, kernel-log problems). For every pair x workload x metric it computes,
per side, the median and spread (min, max, IQR) of the per-repetition values, the Rust/C ratio
of the medians with a bootstrap 95% confidence interval, and a verdict. It writes, into one
folder:

  results.md    the Markdown table, build-side figures, environment and problems
  results.json  the same, machine-readable
  ratios.png    the Rust/C ratios with their confidence intervals

and prints the table. With --compare PREVIOUS.json (a results.json of an earlier run) every row
also says whether its new ratio lies inside the previous run's confidence interval.

Nothing is hidden: an error record, a missing record (guest crash, timeout), a garbled line or
a kernel-log problem marks the rows it concerns FAILED, is listed under "Problems", and makes
the exit code 1. Exit code 2 means the inputs could not be read or matplotlib is missing.

Uses the Python standard library, and matplotlib for the chart (imported only when drawing).
"""

import argparse
import json
import math
import random
import re
import statistics
import sys
from pathlib import Path

# Metrics the guest reports: record field -> (label, unit, True if higher is better).
# A new kind of pair adds its metrics here, so that the verdict knows which way is better.
METRICS = {
    "iops": ("IOPS", "", True),
    "bw_mib_s": ("bandwidth", "MiB/s", True),
    "cpu_ns_per_io": ("CPU per I/O", "ns", False),
    "sys_ns_per_io": ("system CPU per I/O", "ns", False),
    "lat_p50_ns": ("clat p50", "ns", False),
    "lat_p99_ns": ("clat p99", "ns", False),
    "updates_per_s": ("full-screen updates", "/s", True),
    "commit_latency_us": ("commit latency", "µs", False),
}
# The metrics a row of each kind has, also when every run of it failed.
KIND_METRICS = {
    "block": ("iops", "cpu_ns_per_io", "sys_ns_per_io", "lat_p50_ns", "lat_p99_ns"),
    "nvme": ("iops", "bw_mib_s", "cpu_ns_per_io", "sys_ns_per_io", "lat_p50_ns", "lat_p99_ns"),
    "drm": ("updates_per_s", "commit_latency_us"),
}
# The metrics the verdicts rest on: --determinism holds them to its tolerance. The others are
# shown, but a percentile of a quantised latency or a tick-sampled user/system split can move
# more between two runs.
PRIMARY_METRICS = ("iops", "cpu_ns_per_io")
# The finest relative difference a metric can show. fio keeps completion latencies in a
# log-linear histogram of 64 buckets per power of two, so a percentile is a bucket's value and
# two percentiles less than 1/64 apart may be one bucket apart for any true difference: under
# instruction counting, where every repetition gives the same bucket, the interval would
# otherwise be a point and "conclude" a difference that is the histogram's.
RESOLUTION = {"lat_p50_ns": 1 / 64, "lat_p99_ns": 1 / 64}
SIDES = ("rust", "c")

# Bootstrap of the ratio of medians: resamples of each side's per-repetition values. The RNG is
# seeded per row from this seed and the row's name, so a report is reproducible and a row's CI
# does not depend on which other rows are present.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 4
CI_LEVEL = 0.95
# A row whose CI is wider than this fraction of its ratio says nothing useful about the ratio:
# it is "inconclusive" rather than "no significant difference" (or a claimed difference). Under
# instruction counting (mode "icount") a row must resolve 1%; with the host's time, whose
# noise is 10-40% under TCG, 25% is all that can be asked.
INCONCLUSIVE_REL_WIDTH = {"icount": 0.01, "host": 0.25}
# Below this many successful repetitions per side the bootstrap CI is meaningless.
MIN_REPS = 3

VERDICT_FAILED = "FAILED"
VERDICT_WIDE = "inconclusive: spread too wide"
VERDICT_FEW = "inconclusive: too few repetitions"
VERDICT_NO_CI = "inconclusive: no confidence interval"
VERDICT_SAME = "no significant difference"
VERDICT_RESOLUTION = "no difference beyond fio's latency resolution"
VERDICT_BETTER = "Rust better"
VERDICT_WORSE = "Rust worse"

# The guest's lines, found anywhere in a console line: the kernel's console and the script's
# output reach the log through different channels, so a record may follow a piece of a kernel
# message on the same line.
LINE_RE = re.compile(r"(BENCHENV|BENCHEND|BENCH) (\{.*)$")


class InputError(Exception):
    """An input file that cannot be used at all (exit code 2)."""


def quantile(values, q):
    """The q-quantile of a non-empty list, interpolating linearly between order statistics."""
    v = sorted(values)
    pos = (len(v) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def side_stats(values):
    if not values:
        return {"n": 0, "values": []}
    q1, q3 = quantile(values, 0.25), quantile(values, 0.75)
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "values": values,
    }


def bootstrap_ratio_ci(rust, c, seed_text):
    """95% percentile-bootstrap CI of median(rust) / median(c), or None."""
    rng = random.Random(f"{BOOTSTRAP_SEED}/{seed_text}")
    ratios = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        mr = statistics.median(rng.choices(rust, k=len(rust)))
        mc = statistics.median(rng.choices(c, k=len(c)))
        if mc > 0:
            ratios.append(mr / mc)
    if len(ratios) < BOOTSTRAP_RESAMPLES // 2:
        return None
    alpha = (1 - CI_LEVEL) / 2
    return [quantile(ratios, alpha), quantile(ratios, 1 - alpha)]


def parse_console(path):
    """Returns (env, records, end, problems) from a console log."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as e:
        raise InputError(f"cannot read the console log {path}: {e.strerror}") from e
    env, end, records, problems = None, None, [], []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.replace("\r", "")
        m = LINE_RE.search(line)
        if not m:
            continue
        kind, body = m.groups()
        # A kernel message may have been printed into the middle of a line: such a line does not
        # parse, and is reported rather than dropped.
        try:
            obj = json.loads(body[: body.rfind("}") + 1])
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError:
            problems.append(f"console line {lineno}: garbled {kind} line: {line[:200]}")
            continue
        if kind == "BENCHENV":
            if env is not None:
                problems.append(f"console line {lineno}: a second BENCHENV line "
                                "(two runs in one log?)")
            env = obj
        elif kind == "BENCHEND":
            end = obj
        else:
            missing = [k for k in ("pair", "side", "workload", "rep", "ok") if k not in obj]
            if missing or obj["side"] not in SIDES:
                problems.append(f"console line {lineno}: BENCH record without valid "
                                f"{', '.join(missing) or 'side'}: {line[:200]}")
                continue
            obj["_line"] = lineno
            records.append(obj)
    return env, records, end, problems


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise InputError(f"cannot read the {what} {path}: {e.strerror}") from e
    except ValueError as e:
        raise InputError(f"the {what} {path} is not valid JSON: {e}") from e


def fmt_num(x, unit=""):
    if x is None:
        return "–"
    if abs(x) >= 100:
        s = f"{x:,.0f}"
    else:
        s = f"{x:.3g}"
    return f"{s} {unit}".strip()


def fmt_secs(x):
    return "–" if x is None else f"{x:.2f}"


def fmt_side(st, unit):
    if st["n"] == 0:
        return "–"
    return (f"{fmt_num(st['median'], unit)} [{fmt_num(st['min'])}–{fmt_num(st['max'])}] "
            f"IQR {fmt_num(st['iqr'])} (n={st['n']})")


def fmt_ratio(row):
    if row["ratio"] is None:
        return "–"
    if row["ci"] is None:
        return f"{row['ratio']:.3f}"
    return f"{row['ratio']:.3f} ({row['ci'][0]:.3f}–{row['ci'][1]:.3f})"


def verdict(row, width):
    if row["errors"]:
        return VERDICT_FAILED
    if min(row["rust"]["n"], row["c"]["n"]) < MIN_REPS:
        return VERDICT_FEW
    if row["ratio"] is None or row["ci"] is None:
        # A C median (or most resampled ones) of 0: there is no ratio to speak of.
        return VERDICT_NO_CI
    lo, hi = row["ci"]
    if hi - lo > width * row["ratio"]:
        return VERDICT_WIDE
    if lo > 1 or hi < 1:
        if max(abs(lo - 1), abs(hi - 1)) <= RESOLUTION.get(row["metric"], 0):
            return VERDICT_RESOLUTION
        return VERDICT_BETTER if (lo > 1) == row["higher_is_better"] else VERDICT_WORSE
    return VERDICT_SAME


def build_rows(env, records, global_problems, width):
    """One row per pair x workload x metric, in the order of the guest's plan."""
    reps = env.get("reps") if env else None
    order = []
    for item in (env or {}).get("plan", []):
        pair, _, wl = item.partition("/")
        if (pair, wl) not in order:
            order.append((pair, wl))
    for r in records:
        key = (r["pair"], r["workload"])
        if key not in order:
            order.append(key)
            if env is not None:
                global_problems.append(f"records for {key[0]}/{key[1]}, "
                                       "which is not in the guest's plan")

    rows = []
    for pair, wl in order:
        recs = [r for r in records if r["pair"] == pair and r["workload"] == wl]
        errors = [f"{r['side']} rep {r['rep']}: "
                  f"{r.get('error') or 'error record without a message'}"
                  for r in recs if r["ok"] is not True]
        for side in SIDES:
            count = sum(1 for r in recs if r["side"] == side)
            if reps is not None and count < reps:
                errors.append(f"{side}: {reps - count} of {reps} records missing "
                              "(the guest stopped or lines were lost)")
            elif reps is not None and count > reps:
                errors.append(f"{side}: {count} records for {reps} repetitions (duplicates)")
        good = [r for r in recs if r["ok"] is True]
        kind = next((r["kind"] for r in recs if r.get("kind")), None)
        metrics = [m for m in METRICS if any(m in r for r in good)]
        if not metrics:
            metrics = list(KIND_METRICS.get(kind, ()))
        if not metrics:
            metrics = [None]
        values = {}
        for metric in metrics:
            values[metric] = {s: [] for s in SIDES}
            for r in good:
                v = r.get(metric)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    values[metric][r["side"]].append(float(v))
                elif metric is not None:
                    errors.append(f"{r['side']} rep {r['rep']}: "
                                  f"ok record without a number for {metric}")
        for metric in metrics:
            label, unit, higher = METRICS.get(metric, ("–", "", True))
            row = {
                "pair": pair,
                "workload": wl,
                "kind": kind,
                "metric": metric,
                "label": label,
                "unit": unit,
                "higher_is_better": higher,
                "rust": side_stats(values[metric]["rust"]),
                "c": side_stats(values[metric]["c"]),
                "ratio": None,
                "ci": None,
                "errors": list(errors),
            }
            rs, cs = row["rust"], row["c"]
            if rs["n"] and cs["n"] and cs["median"] > 0:
                row["ratio"] = rs["median"] / cs["median"]
                if min(rs["n"], cs["n"]) >= 2:
                    row["ci"] = bootstrap_ratio_ci(values[metric]["rust"], values[metric]["c"],
                                                   f"{pair}/{wl}/{metric}")
            row["verdict"] = verdict(row, width)
            rows.append(row)
    return rows


def compare_rows(rows, prev, prev_name):
    """Annotates rows with where their ratio lies against the previous run's CI."""
    prev_rows = {(r.get("pair"), r.get("workload"), r.get("metric")): r
                 for r in prev.get("rows", [])}
    counts = {"inside": 0, "outside": 0, "not comparable": 0}
    for row in rows:
        p = prev_rows.get((row["pair"], row["workload"], row["metric"]))
        if p is None:
            status, text = "not comparable", "not in the previous run"
        elif p.get("verdict") == VERDICT_FAILED or not p.get("ci"):
            status, text = "not comparable", "previous run has no CI here"
        elif row["ratio"] is None:
            status, text = "not comparable", "no ratio in this run"
        else:
            lo, hi = p["ci"]
            inside = lo <= row["ratio"] <= hi
            status = "inside" if inside else "outside"
            moved = row["ratio"] / p["ratio"] - 1 if p.get("ratio") else None
            text = f"{status} previous CI {lo:.3f}–{hi:.3f} (was {p['ratio']:.3f}"
            text += f", {moved:+.2%})" if moved is not None else ")"
        counts[status] += 1
        row["compare"] = {"status": status, "text": text}
        if status != "not comparable" and p.get("ratio"):
            row["compare"]["moved"] = row["ratio"] / p["ratio"] - 1
    date = prev.get("env", {}).get("date", "unknown date")
    summary = (f"compared with {prev_name} ({date}): {counts['inside']} row(s) inside the previous "
               f"CI, {counts['outside']} outside, {counts['not comparable']} not comparable")
    return {"previous": str(prev_name), "previous_date": date, "counts": counts, "summary": summary}


def determinism(rows, tolerance, problems):
    """Checks that every primary row's ratio moved by at most tolerance against the previous run
    (compare_rows ran first); returns a summary, and adds a problem for each row that moved more
    or could not be compared."""
    moves, bad = [], []
    for row in rows:
        if row["metric"] not in PRIMARY_METRICS:
            continue
        moved = row.get("compare", {}).get("moved")
        name = f"{row['pair']}/{row['workload']} {row['label']}"
        if moved is None:
            bad.append(f"determinism: {name} has no ratio to compare with the previous run")
            continue
        moves.append((abs(moved), name, moved))
        if abs(moved) > tolerance:
            bad.append(f"determinism: the Rust/C ratio of {name} moved {moved:+.3%} from the "
                       f"previous run, more than the {tolerance:.1%} allowed")
    problems.extend(bad)
    worst = max(moves, default=None)
    text = (f"Determinism: {len(moves)} ratio(s) of {', '.join(METRICS[m][0] for m in PRIMARY_METRICS)} "
            f"compared with the previous run of the same build; the largest move is "
            + (f"{worst[2]:+.3%} ({worst[1]})" if worst else "–")
            + f"; allowed {tolerance:.1%}: " + ("**pass**" if not bad else "**FAIL**"))
    return {"tolerance": tolerance, "compared": len(moves),
            "max_move": worst[2] if worst else None, "max_move_row": worst[1] if worst else None,
            "ok": not bad, "summary": text}


def sensitivity(rows, pair, inserted_ns, problems):
    """The sensitivity check: pair's "rust" side is a copy of its "c" side that runs inserted_ns
    more instructions (ns under instruction counting) per I/O. Every workload's CPU-per-I/O row
    must show a conclusive regression within a quarter of the inserted size, and its IOPS row a
    conclusive regression."""
    out, ok = [], True
    for row in rows:
        if row["pair"] != pair or row["metric"] not in ("cpu_ns_per_io", "iops"):
            continue
        entry = {"workload": row["workload"], "metric": row["metric"], "ratio": row["ratio"],
                 "ci": row["ci"], "verdict": row["verdict"]}
        passed = row["verdict"] == VERDICT_WORSE
        if row["metric"] == "cpu_ns_per_io" and row["c"]["n"]:
            expected = 1 + inserted_ns / row["c"]["median"]
            entry["expected_ratio"] = expected
            if row["ratio"] is None or abs(row["ratio"] - expected) > 0.25 * (expected - 1):
                passed = False
        entry["detected"] = passed
        if not passed:
            ok = False
            problems.append(f"sensitivity: {row['workload']} {row['label']}: verdict "
                            f"'{row['verdict']}', ratio {fmt_ratio(row)}"
                            + (f", expected {entry['expected_ratio']:.4f}"
                               if "expected_ratio" in entry else "")
                            + ": the inserted slowdown was not detected as its size")
        out.append(entry)
    if not out:
        ok = False
        problems.append(f"sensitivity: no rows of pair {pair}")
    return {"pair": pair, "inserted_ns_per_io": inserted_ns, "rows": out, "ok": ok}


def sensitivity_lines(sens):
    out = ["## Sensitivity check", "",
           f"The \"Rust\" side of `{sens['pair']}` is a copy of rnull whose `queue_rq` runs "
           f"{sens['inserted_ns_per_io']} more instructions per I/O (a countdown loop); the "
           "\"C\" side is rnull unchanged. Expected: CPU per I/O up by exactly the inserted "
           "instructions (1 ns each under instruction counting), IOPS down.", "",
           "| workload | metric | slowed/unchanged (95% CI) | expected | verdict | detected |",
           "| --- | --- | --- | --- | --- | --- |"]
    for e in sens["rows"]:
        ratio = "–" if e["ratio"] is None else f"{e['ratio']:.4f}"
        if e["ci"]:
            ratio += f" ({e['ci'][0]:.4f}–{e['ci'][1]:.4f})"
        exp = f"{e['expected_ratio']:.4f}" if "expected_ratio" in e else "below 1"
        label = METRICS[e["metric"]][0]
        out.append(f"| {e['workload']} | {label} | {ratio} | {exp} | {e['verdict']} "
                   f"| {'yes' if e['detected'] else '**no**'} |")
    out += ["", "Sensitivity check: " + ("**pass**" if sens["ok"] else "**FAIL**"), ""]
    return out


def compile_net(side):
    """Median compile time net of Kbuild's fixed overhead (the no-op make that follows)."""
    b, n = side.get("compile_s") or [], side.get("noop_s") or []
    if not b:
        return None
    if len(n) == len(b):
        return statistics.median(x - y for x, y in zip(b, n))
    return statistics.median(b)


def build_table(host):
    pairs = (host or {}).get("pairs") or {}
    if not pairs:
        return ["No build-side figures (fork/bench's host JSON was not given or has none)."]
    out = ["| pair | side | module | objects text / data / bss | .ko text / data / bss | .ko bytes "
           "| compile s (net) | compile s (gross) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, p in pairs.items():
        for side in SIDES:
            s = p.get(side) or {}
            net = compile_net(s)
            gross = statistics.median(s["compile_s"]) if s.get("compile_s") else None
            obj = " / ".join(str(s.get(k, "–")) for k in ("obj_text", "obj_data", "obj_bss"))
            ko = " / ".join(str(s.get(k, "–")) for k in ("ko_text", "ko_data", "ko_bss"))
            out.append(f"| {name} | {side} | {s.get('module', '–')} | {obj} | {ko} "
                       f"| {s.get('ko_bytes', '–')} | {fmt_secs(net)} | {fmt_secs(gross)} |")
        r, c = p.get("rust") or {}, p.get("c") or {}
        ratios = []
        for key, label in (("obj_text", "object text"), ("ko_bytes", ".ko bytes")):
            if r.get(key) and c.get(key):
                ratios.append(f"{label} {r[key] / c[key]:.2f}")
        nr, nc = compile_net(r), compile_net(c)
        if nr and nc and nr > 0 and nc > 0:
            ratios.append(f"compile time (net) {nr / nc:.2f}")
        if ratios:
            out.append(f"| {name} | Rust/C | | {'; '.join(ratios)} | | | | |")
    out.append("")
    out.append("Compile time: the median over the repetitions of `make <objects>` after deleting "
               "them; net subtracts the no-op `make` of the same objects that follows "
               "(Kbuild's fixed cost).")
    return out


def results_table(rows, with_compare):
    head = ("| pair | workload | metric | Rust median [min–max] IQR | C median [min–max] IQR "
            "| Rust/C (95% CI) | verdict |")
    sep = "| --- | --- | --- | --- | --- | --- | --- |"
    if with_compare:
        head += " vs previous |"
        sep += " --- |"
    out = [head, sep]
    for row in rows:
        unit = row["unit"]
        metric = row["label"] + (f" ({unit})" if unit else "")
        line = (f"| {row['pair']} | {row['workload']} | {metric} | {fmt_side(row['rust'], unit)} "
                f"| {fmt_side(row['c'], unit)} | {fmt_ratio(row)} | {row['verdict']} |")
        if with_compare:
            line += f" {row['compare']['text']} |"
        out.append(line)
    return out


def env_block(env):
    out = ["```"]
    width = max((len(k) for k in env), default=0)
    for k, v in env.items():
        if isinstance(v, (list, dict)):
            v = json.dumps(v)
        out.append(f"{k.ljust(width)}  {v}")
    out.append("```")
    return out


MODE_TEXT = {
    "icount": ("QEMU counted instructions (`-icount shift=0,sleep=off`): guest time is executed "
               "instructions, 1 ns each, so IOPS and CPU time per I/O measure the work each side "
               "does, whatever the host's load. It does not see cache misses, memory bandwidth, "
               "TLB or branch-predictor effects, or a real device's latency: every instruction "
               "costs the same, so a driver that executes fewer but slower instructions "
               "would look faster than it is (`fork/bench --mode host` measures those, noisily)."),
    "host": ("guest time is the host's time under TCG: the figures include what the emulated "
             "instructions really cost on this host, and all of its noise."),
}


def write_markdown(path, rows, env, host, problems, comparison, width, checks):
    failed = [r for r in rows if r["verdict"] == VERDICT_FAILED]
    lines = ["# C-vs-Rust driver benchmark", ""]
    if problems or failed:
        nfailed = len({(r["pair"], r["workload"]) for r in failed})
        lines.append(f"**FAILED**: {len(problems)} problem(s) with the run, "
                     f"{nfailed} pair/workload(s) failed; see Problems below.")
        lines.append("")
    lines += results_table(rows, comparison is not None)
    lines += ["",
              f"Ratios are Rust/C of the medians; the interval is a {CI_LEVEL:.0%} percentile "
              f"bootstrap ({BOOTSTRAP_RESAMPLES} resamples of each side's repetitions, "
              f"seed {BOOTSTRAP_SEED}). For IOPS above 1 is better for Rust, for CPU time and "
              f"latencies below 1. A row is inconclusive when its interval is wider than "
              f"{width:.0%} of its ratio, or it has fewer than {MIN_REPS} "
              "successful repetitions a side; \"no significant difference\" means the interval "
              f"holds 1 and is at most {width:.0%} wide. Latency percentiles are fio histogram "
              "buckets, 1/64 of a power of two wide: an interval that excludes 1 by less than "
              "that is \"no difference beyond fio's latency resolution\".", "",
              "CPU per I/O is the CPU time of the fio jobs (user + system, from the guest's own "
              "accounting, getrusage after the ramp) divided by the I/Os they completed; "
              "system CPU per I/O is its kernel part (the user/system split is sampled at the "
              "timer tick, the total is exact). Interrupt work that lands while a job runs is "
              "counted in it; work in other threads or on idle CPUs is not.", "",
              f"Mode: {env.get('mode', 'host')}: {MODE_TEXT.get(env.get('mode', 'host'), '')}",
              ""]
    if comparison:
        if env.get("mode") == "icount":
            lines += [comparison["summary"] + ".", ""]
        else:
            lines += [comparison["summary"] + ". Both runs are noisy, so a ratio lands outside "
                      "the previous interval now and then with nothing changed: look for rows "
                      "that move the same way run after run.", ""]
    if checks.get("determinism"):
        lines += [checks["determinism"]["summary"], ""]
    if checks.get("sensitivity"):
        lines += sensitivity_lines(checks["sensitivity"])
    lines += ["## Build-side figures", ""] + build_table(host) + [""]
    notes = []
    for name, p in ((host or {}).get("pairs") or {}).items():
        if p.get("note"):
            notes.append(f"- {name}: {p['note']}")
        for side in SIDES:
            s = p.get(side) or {}
            if s.get("params"):
                notes.append(f"- {name} {side}: `modprobe {s.get('module', '')} {s['params']}`")
        if p.get("sched"):
            notes.append(f"- {name}: both devices use the `{p['sched']}` I/O scheduler")
    if notes:
        lines += ["## Notes", ""] + notes + [""]
    if problems or failed:
        lines += ["## Problems", ""]
        lines += [f"- {p}" for p in problems]
        seen = set()
        for r in failed:
            key = (r["pair"], r["workload"])
            if key in seen:
                continue
            seen.add(key)
            for e in r["errors"]:
                lines.append(f"- {r['pair']}/{r['workload']}: {e}")
        lines.append("")
    lines += ["## Environment", ""] + env_block(env) + [""]
    Path(path).write_text("\n".join(lines))


def plot(path, rows, env):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise InputError(f"matplotlib is not installed for {sys.executable} ({e}); install it, "
                         "e.g. ~/.cache/linux-rust-lts/venv/bin/pip install matplotlib") from e

    if not rows:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no measurements: see results.md", ha="center", va="center",
                color="tab:red")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    colours = {VERDICT_BETTER: "tab:green", VERDICT_WORSE: "tab:red", VERDICT_SAME: "tab:blue",
               VERDICT_RESOLUTION: "tab:cyan"}
    n = max((sum(1 for r in rows if r["metric"] == m) for m in metrics), default=1)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(8.0, 1.1 * n + 2), 3.0 * len(metrics)),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        sel = [r for r in rows if r["metric"] == metric]
        xs = range(len(sel))
        for x, r in zip(xs, sel):
            if r["verdict"] == VERDICT_FAILED or r["ratio"] is None:
                ax.text(x, 1.0, "FAILED" if r["verdict"] == VERDICT_FAILED else "no data",
                        ha="center", va="center", color="tab:red", fontweight="bold", rotation=90)
                continue
            colour = colours.get(r["verdict"], "tab:gray")
            yerr = None
            if r["ci"]:
                yerr = [[max(0.0, r["ratio"] - r["ci"][0])], [max(0.0, r["ci"][1] - r["ratio"])]]
            # A point with its interval (bars from 0 would hide a 1% difference), hollow when
            # the row is inconclusive.
            ax.errorbar(x, r["ratio"], yerr=yerr, fmt="o", color=colour, capsize=6,
                        markersize=8, markerfacecolor="white"
                        if r["verdict"].startswith("inconclusive") else colour)
            ax.annotate(f"{r['ratio']:.3f}", (x, r["ratio"]), xytext=(10, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=8)
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([f"{r['pair']}\n{r['workload']}" for r in sel], fontsize=8)
        label, unit, higher = METRICS.get(metric, ("–", "", True))
        better = "higher" if higher else "lower"
        ax.set_ylabel("Rust / C")
        ax.set_title(f"{label}: Rust/C ratio of medians, {CI_LEVEL:.0%} CI "
                     f"({better} is better for Rust)", fontsize=10)
        tops = [r["ci"][1] if r["ci"] else r["ratio"] for r in sel if r["ratio"] is not None]
        bottoms = [r["ci"][0] if r["ci"] else r["ratio"] for r in sel if r["ratio"] is not None]
        # The range the intervals need, around 1, and at least 1% either side.
        lo, hi = min([0.99] + bottoms), max([1.01] + tops)
        pad = (hi - lo) * 0.15
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(-0.6, max(len(sel), 1) - 0.4)
    legend = [plt.Line2D([], [], marker="o", linestyle="", color=c, markersize=8)
              for c in colours.values()]
    legend.append(plt.Line2D([], [], marker="o", linestyle="", color="tab:gray",
                             markerfacecolor="white", markersize=8))
    fig.legend(legend, list(colours) + ["inconclusive"], fontsize=8, loc="lower center", ncol=3,
               frameon=False)
    fig.suptitle(f"linux-rust-lts C vs Rust, kernel {env.get('kernel_release', '?')}, "
                 f"{env.get('accel', '?')} {env.get('mode', '')}, "
                 f"{env.get('guest_cpus', '?')} guest CPUs, "
                 f"{env.get('date', '?')}", fontsize=10)
    # Room at the bottom for the legend.
    fig.tight_layout(rect=(0, 0.7 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--console", required=True, help="console log with the guest's BENCH lines")
    ap.add_argument("--host", help="fork/bench's JSON of build-side figures and environment")
    ap.add_argument("--out", required=True, help="folder for results.md, results.json, ratios.png")
    ap.add_argument("--compare", metavar="PREVIOUS.json", help="results.json of an earlier run")
    ap.add_argument("--compare-name", help=argparse.SUPPRESS)
    ap.add_argument("--determinism", type=float, metavar="TOLERANCE",
                    help="with --compare: fail unless every IOPS and CPU-per-I/O ratio is within "
                    "this fraction of the previous run's (e.g. 0.005)")
    ap.add_argument("--expect-slowdown", type=float, metavar="NS",
                    help="sensitivity check: the rust side of --expect-base-pair runs NS more "
                    "ns (instructions) per I/O than its c side; fail unless every workload "
                    "shows that as a conclusive regression")
    ap.add_argument("--expect-base-pair", default="rnull-slowed", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.determinism is not None and not args.compare:
        ap.error("--determinism needs --compare")

    try:
        env_guest, records, end, problems = parse_console(args.console)
        host = load_json(args.host, "host JSON") if args.host else None
        prev = load_json(args.compare, "previous results") if args.compare else None
        if prev is not None and not isinstance(prev.get("rows"), list):
            raise InputError(f"{args.compare} is not a results.json of fork/bench (no rows)")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    if env_guest is None:
        problems.append("no BENCHENV line: the guest script did not start (see the console log)")
    if env_guest and env_guest.get("fatal"):
        problems.append(f"guest: {env_guest['fatal']}")
    if end is None:
        problems.append("no BENCHEND line: the guest did not finish "
                        "(crash, timeout or vng failure)")
    elif end.get("records") != len(records):
        problems.append(f"the guest printed {end.get('records')} records, "
                        f"the log has {len(records)}")
    built = ((host or {}).get("env") or {}).get("kernel_release")
    if env_guest and built and env_guest.get("kernel") != built:
        problems.append(f"the guest ran kernel {env_guest.get('kernel')}, not the built {built}")
    for p in (host or {}).get("kernel_log_problems") or []:
        problems.append(f"kernel log: {p}")
    if host and host.get("guest_timeout"):
        problems.append("the guest was stopped by fork/bench's time limit")

    mode = (env_guest or {}).get("mode") or "host"
    width = INCONCLUSIVE_REL_WIDTH.get(mode, INCONCLUSIVE_REL_WIDTH["host"])
    rows = build_rows(env_guest, records, problems, width)
    if not rows:
        problems.append("no measurements at all")

    env = dict((host or {}).get("env") or {})
    if env_guest:
        env["guest_cpus"] = env_guest.get("nproc")
        env["guest_kernel"] = env_guest.get("kernel")
        env["fio"] = env_guest.get("fio")
        env["fio_engine"] = env_guest.get("engine")
        if env_guest.get("engine_note"):
            env["fio_engine_note"] = env_guest["engine_note"]
        env["reps"] = env_guest.get("reps")
        env["runtime_s"] = env_guest.get("runtime_s")
        env["ramp_s"] = env_guest.get("ramp_s")
        env["mode"] = mode
    env.setdefault("accel", "tcg")
    env.setdefault("mode", mode)

    comparison = compare_rows(rows, prev, args.compare_name or args.compare) if prev else None
    checks = {}
    if args.determinism is not None:
        checks["determinism"] = determinism(rows, args.determinism, problems)
    if args.expect_slowdown is not None:
        checks["sensitivity"] = sensitivity(rows, args.expect_base_pair, args.expect_slowdown,
                                            problems)

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_markdown(out / "results.md", rows, env, host, problems, comparison, width, checks)
        result = {
            "env": env,
            "ok": not problems and all(r["verdict"] != VERDICT_FAILED for r in rows),
            "problems": problems,
            "method": {
                "ratio": "median(rust) / median(c)",
                "ci_level": CI_LEVEL,
                "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
                "bootstrap_seed": BOOTSTRAP_SEED,
                "inconclusive_rel_width": width,
                "min_reps": MIN_REPS,
            },
            "rows": rows,
            "build": (host or {}).get("pairs") or {},
            "compare": comparison,
            "checks": checks,
        }
        (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
        plot(out / "ratios.png", rows, env)
    except OSError as e:
        print(f"error: cannot write the results into {out}: {e}", file=sys.stderr)
        return 2
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    print("\n".join(results_table(rows, comparison is not None)))
    if comparison:
        print(comparison["summary"])
    for check in checks.values():
        if "summary" in check:
            print(check["summary"].replace("**", ""))
    if "sensitivity" in checks:
        print("\n".join(sensitivity_lines(checks["sensitivity"])).replace("**", ""))
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    nfailed = len({(r["pair"], r["workload"]) for r in rows if r["verdict"] == VERDICT_FAILED})
    print(f"bench: {len(rows)} rows, {nfailed} pair/workload(s) failed, "
          f"{len(problems)} problem(s); results in {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

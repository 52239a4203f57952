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
    "lat_p50_ns": ("clat p50", "ns", False),
    "lat_p99_ns": ("clat p99", "ns", False),
}
# The metrics a row of each kind has, also when every run of it failed.
KIND_METRICS = {
    "block": ("iops", "lat_p50_ns", "lat_p99_ns"),
}
SIDES = ("rust", "c")

# Bootstrap of the ratio of medians: resamples of each side's per-repetition values. The RNG is
# seeded per row from this seed and the row's name, so a report is reproducible and a row's CI
# does not depend on which other rows are present.
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 4
CI_LEVEL = 0.95
# A row whose CI is wider than this fraction of its ratio says nothing useful about the ratio:
# it is "inconclusive" rather than "no significant difference" (or a claimed difference).
INCONCLUSIVE_REL_WIDTH = 0.25
# Below this many successful repetitions per side the bootstrap CI is meaningless.
MIN_REPS = 3

VERDICT_FAILED = "FAILED"
VERDICT_WIDE = "inconclusive: spread too wide"
VERDICT_FEW = "inconclusive: too few repetitions"
VERDICT_NO_CI = "inconclusive: no confidence interval"
VERDICT_SAME = "no significant difference"
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


def verdict(row):
    if row["errors"]:
        return VERDICT_FAILED
    if min(row["rust"]["n"], row["c"]["n"]) < MIN_REPS:
        return VERDICT_FEW
    if row["ratio"] is None or row["ci"] is None:
        # A C median (or most resampled ones) of 0: there is no ratio to speak of.
        return VERDICT_NO_CI
    lo, hi = row["ci"]
    if hi - lo > INCONCLUSIVE_REL_WIDTH * row["ratio"]:
        return VERDICT_WIDE
    if lo > 1 or hi < 1:
        return VERDICT_BETTER if (lo > 1) == row["higher_is_better"] else VERDICT_WORSE
    return VERDICT_SAME


def build_rows(env, records, global_problems):
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
            row["verdict"] = verdict(row)
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
            text = f"{status} previous CI {lo:.3f}–{hi:.3f} (was {p['ratio']:.3f})"
        counts[status] += 1
        row["compare"] = {"status": status, "text": text}
    date = prev.get("env", {}).get("date", "unknown date")
    summary = (f"compared with {prev_name} ({date}): {counts['inside']} row(s) inside the previous "
               f"CI, {counts['outside']} outside, {counts['not comparable']} not comparable")
    return {"previous": str(prev_name), "previous_date": date, "counts": counts, "summary": summary}


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


def write_markdown(path, rows, env, host, problems, comparison):
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
              f"seed {BOOTSTRAP_SEED}). For IOPS above 1 is better for Rust, for latencies "
              f"below 1. A row is inconclusive when its interval is wider than "
              f"{INCONCLUSIVE_REL_WIDTH:.0%} of its ratio, or it has fewer than {MIN_REPS} "
              "successful repetitions a side.", ""]
    if comparison:
        lines += [comparison["summary"] + ". Both runs are noisy, so a ratio lands outside the "
                  "previous interval now and then with nothing changed: look for rows that move "
                  "the same way run after run.", ""]
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
    colours = {VERDICT_BETTER: "tab:green", VERDICT_WORSE: "tab:red", VERDICT_SAME: "tab:blue"}
    n = max((sum(1 for r in rows if r["metric"] == m) for m in metrics), default=1)
    fig, axes = plt.subplots(len(metrics), 1, figsize=(max(6.0, 1.1 * n + 2), 3.2 * len(metrics)),
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
            ax.bar(x, r["ratio"], color=colour, alpha=0.75, yerr=yerr, capsize=5,
                   hatch="//" if r["verdict"].startswith("inconclusive") else None)
            # The value at the foot of the bar, clear of the 1.0 line and the error bar.
            ax.annotate(f"{r['ratio']:.3f}", (x, 0), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.8})
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
        ax.set_ylim(min([0.0] + bottoms), max([1.2] + [t * 1.1 for t in tops]))
        ax.set_xlim(-0.6, max(len(sel), 1) - 0.4)
    legend = [plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.75) for c in colours.values()]
    legend.append(plt.Rectangle((0, 0), 1, 1, facecolor="tab:gray", alpha=0.75, hatch="//"))
    fig.legend(legend, list(colours) + ["inconclusive"], fontsize=8, loc="lower center", ncol=4,
               frameon=False)
    fig.suptitle(f"linux-rust-lts C vs Rust, kernel {env.get('kernel_release', '?')}, "
                 f"{env.get('accel', '?')}, {env.get('guest_cpus', '?')} guest CPUs, "
                 f"{env.get('date', '?')}", fontsize=10)
    # Room at the bottom for the legend.
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--console", required=True, help="console log with the guest's BENCH lines")
    ap.add_argument("--host", help="fork/bench's JSON of build-side figures and environment")
    ap.add_argument("--out", required=True, help="folder for results.md, results.json, ratios.png")
    ap.add_argument("--compare", metavar="PREVIOUS.json", help="results.json of an earlier run")
    ap.add_argument("--compare-name", help=argparse.SUPPRESS)
    args = ap.parse_args()

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

    rows = build_rows(env_guest, records, problems)
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
    env.setdefault("accel", "tcg")

    comparison = compare_rows(rows, prev, args.compare_name or args.compare) if prev else None

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_markdown(out / "results.md", rows, env, host, problems, comparison)
        result = {
            "env": env,
            "ok": not problems and all(r["verdict"] != VERDICT_FAILED for r in rows),
            "problems": problems,
            "method": {
                "ratio": "median(rust) / median(c)",
                "ci_level": CI_LEVEL,
                "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
                "bootstrap_seed": BOOTSTRAP_SEED,
                "inconclusive_rel_width": INCONCLUSIVE_REL_WIDTH,
                "min_reps": MIN_REPS,
            },
            "rows": rows,
            "build": (host or {}).get("pairs") or {},
            "compare": comparison,
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
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    nfailed = len({(r["pair"], r["workload"]) for r in rows if r["verdict"] == VERDICT_FAILED})
    print(f"bench: {len(rows)} rows, {nfailed} pair/workload(s) failed, "
          f"{len(problems)} problem(s); results in {out}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Merges the JSON-line shards of an mptcp_sim seed sweep into runs.csv, summary.txt, summary.svg.

    merge.py --out DIR [--seeds A-B [--cases NAME,...]] [--wall-s S] [--cpu-s S]
             [--command TEXT] SHARD.jsonl...

runs.csv has one row per run (sorted by suite, case and seed). summary.txt has, per case, the
runs, the runs that broke an invariant, the runs over their limit, and min / median / p99 / max
of the judged measure (run time, or receive stall) against the case's limit, then the replay
command of every failing run and of runs over the limit. summary.svg plots, per case, the CDF
of the measure as a fraction of its limit, and the CDF of the longest receive stall.

With --seeds, every case found (with --cases, exactly those cases) must have every seed of A-B
exactly once: a lost or repeated shard is an error. The output depends only on the input lines
(apart from the wall and CPU figures given on the command line), so the same sweep merges to
the same files. It takes about a second for 15,000 runs, so it shows no progress. Standard
library only. Exit status: 0 when merged, 1 when a run broke an invariant, 2 for bad input.
"""

import argparse
import csv
import json
import math
import os
import sys

FIELDS = ["suite", "case", "seed", "ok", "within_limit", "measure", "value_s", "limit_s",
          "limit_fraction", "time_s", "longest_stall_s", "wall_ms", "error", "replay"]
TRANSFER_ORDER = {"Download": 0, "Upload": 1, "BothWays": 2}
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
           "#7b4173", "#3182bd"]
MAX_LISTED = 10  # replay commands listed per case and kind; runs.csv has them all


class InputError(Exception):
    pass


def case_key(suite, case):
    base, _, transfer = case.partition("/")
    return (suite, base, TRANSFER_ORDER.get(transfer, 3), transfer)


def read_runs(paths):
    runs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}:{number}: not JSON: {e}") from e
                missing = [k for k in FIELDS if k not in r and k != "error"]
                if missing:
                    raise InputError(f"{path}:{number}: missing {', '.join(missing)}")
                runs.append(r)
    seen = {}
    for r in runs:
        key = (r["suite"], r["case"], r["seed"])
        if key in seen:
            raise InputError(f"{r['suite']} {r['case']} seed {r['seed']} appears twice")
        seen[key] = r
    runs.sort(key=lambda r: case_key(r["suite"], r["case"]) + (r["seed"],))
    return runs


def check_seeds(runs, spec, cases):
    first, _, last = spec.partition("-")
    first, last = int(first), int(last or first)
    by_case = {}
    for r in runs:
        by_case.setdefault((r["suite"], r["case"]), set()).add(r["seed"])
    want = set(range(first, last + 1))
    problems = []
    if cases:
        expected = set(cases.split(","))
        found = {case for _, case in by_case}
        if expected - found:
            problems.append(f"no runs at all of {', '.join(sorted(expected - found))}")
        if found - expected:
            problems.append(f"runs of unexpected cases {', '.join(sorted(found - expected))}")
    for (suite, case), seeds in sorted(by_case.items()):
        lost, extra = want - seeds, seeds - want
        if lost:
            problems.append(f"{suite} {case}: {len(lost)} seeds missing (first {min(lost)})")
        if extra:
            problems.append(f"{suite} {case}: {len(extra)} seeds outside {spec}")
    if not by_case:
        problems.append("no runs at all")
    if problems:
        raise InputError("incomplete sweep: " + "; ".join(problems))


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6f}"
    return str(v)


def write_csv(runs, path):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FIELDS)
        for r in runs:
            w.writerow([fmt(r.get(k)) for k in FIELDS])


def quantile(sorted_values, q):
    """Nearest rank; the median is the upper one, as the conformance tests report it."""
    if q == 0.5:
        return sorted_values[len(sorted_values) // 2]
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def group(runs):
    cases = {}
    for r in runs:
        cases.setdefault((r["suite"], r["case"]), []).append(r)
    return cases


def summary_text(runs, args):
    cases = group(runs)
    suites = sorted({r["suite"] for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    lines = [f"# mptcp_sim seed sweep: {', '.join(suites)}; seeds {seeds[0]}-{seeds[-1]} "
             f"({len(seeds)} distinct); {len(runs)} runs in {len(cases)} cases"]
    if args.command:
        lines.append(f"# command: {args.command}")
    meanings = {"run_time": "the selftest's run time (as mptcp_connect -T) against its limit",
                "stall": "the judged end's longest receive stall against the RTO at the cut "
                         "+ 200 ms"}
    for measure in sorted({r["measure"] for r in runs}):
        lines.append(f"# measure {measure}: {meanings.get(measure, '?')}")
    lines.append("# failed = broke an invariant (wrong bytes, fallback, unused path, ...); "
                 "over = held every invariant but exceeded the limit")
    lines.append("")
    width = max(len("case"), max(len(c) for _, c in cases))
    head = (f"{'case':<{width}}  {'runs':>5} {'failed':>6} {'over':>5}  {'measure':<8} "
            f"{'min':>7} {'median':>7} {'p99':>7} {'max':>7}  {'limit':>7}  {'max/limit':>9}")
    lines.append(head)
    lines.append("-" * len(head))
    failing, over = [], []
    for (suite, case), rs in cases.items():
        failed = [r for r in rs if not r["ok"]]
        late = [r for r in rs if r["ok"] and not r["within_limit"]]
        failing += failed
        over += late
        values = sorted(r["value_s"] for r in rs if r["ok"] and r["value_s"] is not None)
        limits = sorted(r["limit_s"] for r in rs if r["limit_s"] is not None)
        fractions = [r["limit_fraction"] for r in rs if r["ok"] and r["limit_fraction"] is not None]
        if values:
            stats = " ".join(f"{quantile(values, q):7.3f}" for q in (0, 0.5, 0.99, 1))
        else:
            stats = " ".join(f"{'-':>7}" for _ in range(4))
        limit = f"{quantile(limits, 0.5):7.3f}" if limits else f"{'-':>7}"
        if len(set(limits)) > 1:
            limit = limit.strip() + "~"  # varies per run (a stall budget): the median
        worst = f"{max(fractions):9.3f}" if fractions else f"{'-':>9}"
        lines.append(f"{case:<{width}}  {len(rs):>5} {len(failed):>6} {len(late):>5}  "
                     f"{rs[0]['measure']:<8} {stats}  {limit:>7}  {worst}")
    lines.append("")
    lines.append(f"Totals: {len(runs)} runs, {len(failing)} broke an invariant, {len(over)} over "
                 "the limit. (~: a limit that varies per run, its median; max/limit: the "
                 "largest of value / limit over the runs.)")
    for title, chosen in (("Runs that broke an invariant", failing),
                          ("Runs over the limit", over)):
        lines.append("")
        lines.append(f"{title}: {len(chosen) if chosen else 'none'}")
        per_case = {}
        for r in chosen:
            per_case.setdefault((r["suite"], r["case"]), []).append(r)
        for (suite, case), rs in per_case.items():
            for r in rs[:MAX_LISTED]:
                what = (r.get("error") or "") if not r["ok"] else (
                    f"{r['measure']} {r['value_s']:.3f} s > {r['limit_s']:.3f} s")
                lines.append(f"  {case} seed {r['seed']}: {what}")
                lines.append(f"    {r['replay']}")
            if len(rs) > MAX_LISTED:
                lines.append(f"  {case}: and {len(rs) - MAX_LISTED} more (runs.csv lists all)")
    host = sum(r["wall_ms"] for r in runs) / 1000
    lines.append("")
    lines.append(f"Host time: the runs took {host:.1f} s of wall time in total "
                 f"(one core each).")
    if args.wall_s is not None:
        cpu = f", {args.cpu_s:.1f} CPU-seconds" if args.cpu_s is not None else ""
        lines.append(f"The sweep: {args.wall_s:.1f} s of wall time{cpu}.")
    return "\n".join(lines) + "\n"


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cdf_points(values, limit=150):
    """At most `limit` points of the empirical CDF (always the first and the last)."""
    v = sorted(values)
    n = len(v)
    if n <= limit:
        idx = range(n)
    else:
        idx = sorted({round(k * (n - 1) / (limit - 1)) for k in range(limit)})
    return [(v[i], (i + 1) / n) for i in idx]


def panel(out, top, title, xlabel, series, x_lo, x_hi, marker=None):
    left, width, height = 70, 620, 260
    out.append(f'<text x="{left}" y="{top - 8}" font-size="14" font-weight="bold">'
               f'{esc(title)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="none" '
               'stroke="#444"/>')

    def sx(x):
        return left + (x - x_lo) / (x_hi - x_lo) * width

    def sy(y):
        return top + height - y * height

    for k in range(6):
        x = x_lo + (x_hi - x_lo) * k / 5
        out.append(f'<line x1="{sx(x):.1f}" y1="{top}" x2="{sx(x):.1f}" y2="{top + height}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{top + height + 16}" font-size="11" '
                   f'text-anchor="middle">{x:.2f}</text>')
    for k in range(5):
        y = k / 4
        out.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{left + width}" y2="{sy(y):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" font-size="11" '
                   f'text-anchor="end">{y:.2f}</text>')
    out.append(f'<text x="{left + width / 2}" y="{top + height + 34}" font-size="12" '
               f'text-anchor="middle">{esc(xlabel)}</text>')
    out.append(f'<text x="{left - 48}" y="{top + height / 2}" font-size="12" '
               f'transform="rotate(-90 {left - 48} {top + height / 2})" '
               'text-anchor="middle">fraction of runs</text>')
    if marker is not None and x_lo <= marker <= x_hi:
        out.append(f'<line x1="{sx(marker):.1f}" y1="{top}" x2="{sx(marker):.1f}" '
                   f'y2="{top + height}" stroke="#c00" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{sx(marker) + 4:.1f}" y="{top + 14}" font-size="11" '
                   'fill="#c00">limit</text>')
    for colour, points in series:
        if not points:
            continue
        # A step function: the CDF jumps at each value.
        d, prev = [], 0.0
        for x, y in points:
            x = min(max(x, x_lo), x_hi)
            d.append(f"{sx(x):.1f},{sy(prev):.1f} {sx(x):.1f},{sy(y):.1f}")
            prev = y
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                   f'points="{" ".join(d)}"/>')


def summary_svg(runs):
    cases = group(runs)
    names = [c for _, c in cases]
    fractions = {k: [r["limit_fraction"] for r in rs if r["ok"] and r["limit_fraction"] is not None]
                 for k, rs in cases.items()}
    stalls = {k: [r["longest_stall_s"] for r in rs
                  if r["ok"] and r["longest_stall_s"] is not None]
              for k, rs in cases.items()}
    all_f = [x for v in fractions.values() for x in v] or [1.0]
    all_s = [x for v in stalls.values() for x in v] or [0.1]
    f_lo = math.floor(min(min(all_f), 0.9) * 10) / 10
    f_hi = math.ceil(max(max(all_f), 1.05) * 10) / 10
    s_hi = max(0.1, math.ceil(max(all_s) * 10) / 10)
    legend_rows = len(names)
    height = 60 + 2 * 330 + 18 * legend_rows + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{height}" '
           f'viewBox="0 0 760 {height}" font-family="sans-serif">',
           f'<rect width="760" height="{height}" fill="white"/>',
           f'<text x="70" y="24" font-size="16">mptcp_sim seed sweep: {len(runs)} runs, '
           f'{len(cases)} cases (runs that broke an invariant left out)</text>']
    colour = {k: COLOURS[i % len(COLOURS)] for i, k in enumerate(cases)}
    panel(out, 60, "CDF of the judged measure / its limit (run time, or stall / RTO + 200 ms)",
          "measure / limit (1 = at the limit)",
          [(colour[k], cdf_points(v)) for k, v in fractions.items()], f_lo, f_hi, marker=1.0)
    panel(out, 60 + 330, "CDF of the longest receive stall (either end)",
          "longest stall (s)", [(colour[k], cdf_points(v)) for k, v in stalls.items()], 0.0, s_hi)
    y = 60 + 2 * 330 + 4
    for k in cases:
        out.append(f'<line x1="70" y1="{y}" x2="95" y2="{y}" stroke="{colour[k]}" '
                   'stroke-width="3"/>')
        out.append(f'<text x="102" y="{y + 4}" font-size="11">{esc(k[1])} '
                   f'({len(cases[k])} runs)</text>')
        y += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="directory for runs.csv, summary.txt/.svg")
    p.add_argument("--seeds", help="A-B: require every case to have exactly these seeds")
    p.add_argument("--cases", help="NAME,...: with --seeds, require exactly these cases "
                   "(mptcp_sim --suite=S --check prints them)")
    p.add_argument("--wall-s", type=float, help="the sweep's wall time, for the summary")
    p.add_argument("--cpu-s", type=float, help="the sweep's CPU time, for the summary")
    p.add_argument("--command", help="the command that ran the sweep, for the summary")
    p.add_argument("shards", nargs="+", help="JSON-line files from mptcp_sim --suite")
    args = p.parse_args()
    try:
        runs = read_runs(args.shards)
        if args.seeds:
            check_seeds(runs, args.seeds, args.cases)
        if not runs:
            raise InputError("no runs in the shards")
    except (InputError, OSError, ValueError) as e:
        print(f"merge.py: {e}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    write_csv(runs, os.path.join(args.out, "runs.csv"))
    text = summary_text(runs, args)
    with open(os.path.join(args.out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(args.out, "summary.svg"), "w", encoding="utf-8") as f:
        f.write(summary_svg(runs))
    return 1 if any(not r["ok"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Judges a soak (tests/faults/soak_hour.sh) and plots it; standard library only.

  soak_report.py DIR --warmup SECONDS --ledger JSON [--statsd-* N ...]

Reads DIR/samples.csv (one row per interval) and DIR/sweeps.csv (one row per
sweep); writes DIR/soak-rss.svg, DIR/soak-fds.svg, DIR/soak-p99.svg and
DIR/soak-load.svg; prints the criteria, one FIGURE line and the table row;
exits 1 when a criterion fails:
  - RSS and open fds of serve and statsd: the median of the last 3 samples is
    at most 5 % above the median of the first 3 after warm-up;
  - p99 of the intake does not drift: the median p99 of the last tenth of the
    run (at least 3 intervals) is at most max(1.5 x, + 2 ms) the median p99 of
    the first tenth after warm-up;
  - the load was taken: at least 95 % of the offered alerts/s acknowledged;
  - no error: no 503, no other status, no transport error, no bad statsd line,
    every sweep exited 0 with 0 failed, no error in serve's log;
  - nothing lost: no acknowledged alert missing from the ledger, no action run
    twice, statsd flushed every metric it received and the kernel dropped at
    most --statsd-max-loss of those sent, every deleted rotation is in the
    store, the SLO segment count is exactly what the SLOs need.
"""
import argparse
import csv
import json
import math
import os
import statistics
import sys


def read_csv(path):
    with open(path) as f:
        return [{k: (float(v) if v not in ("", None) else None) for k, v in row.items()}
                for row in csv.DictReader(f)]


def slope_per_hour(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else 3600 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def svg_chart(path, title, ylabel, series, warmup, x_max):
    """series: [(name, [(x, y)...])]. A line chart with axes, ticks, a legend
    and the warm-up shaded; plain SVG 1.1."""
    w, h, ml, mr, mt, mb = 760, 300, 70, 20, 36, 46
    pw, ph = w - ml - mr, h - mt - mb
    ys = [y for _, pts in series for _, y in pts if y is not None]
    y_hi = max(ys) if ys else 1
    y_hi = y_hi * 1.15 if y_hi > 0 else 1
    x_hi = max(x_max, 1)

    def px(x):
        return ml + pw * x / x_hi

    def py(y):
        return mt + ph - ph * y / y_hi

    def nice_step(span, n):
        raw = max(span / n, 1e-9)
        mag = 10 ** math.floor(math.log10(raw))
        for m in (1, 2, 2.5, 5, 10):
            if raw <= m * mag:
                return m * mag
        return 10 * mag

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>' % (ml, title)]
    out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#eee"/>'
               % (px(0), mt, px(min(warmup, x_hi)) - px(0), ph))
    out.append('<text x="%.1f" y="%d" fill="#888">warm-up</text>' % (px(0) + 4, mt + 14))
    step = nice_step(y_hi, 5)
    v = 0.0
    while v <= y_hi:
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>'
                   % (ml, ml + pw, py(v), py(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                   % (ml - 6, py(v) + 4, ("%g" % round(v, 6))))
        v += step
    xstep = nice_step(x_hi / 60.0, 6) * 60 if x_hi >= 600 else nice_step(x_hi, 6)
    v = 0.0
    while v <= x_hi:
        out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#999"/>'
                   % (px(v), px(v), mt + ph, mt + ph + 4))
        label = "%g min" % (v / 60) if x_hi >= 600 else "%g s" % v
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (px(v), mt + ph + 18, label))
        v += xstep
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>'
               % (ml, mt, pw, ph))
    out.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>'
               % (mt + ph // 2, mt + ph // 2, ylabel))
    out.append('<text x="%d" y="%d" text-anchor="middle">time since start</text>'
               % (ml + pw // 2, h - 6))
    for i, (name, pts) in enumerate(series):
        c = COLORS[i % len(COLORS)]
        d = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts if y is not None)
        out.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (c, d))
        lx = ml + pw - 200 + 0
        ly = mt + 14 + 16 * i
        out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>'
                   % (lx, lx + 18, ly - 4, ly - 4, c))
        out.append('<text x="%d" y="%d">%s</text>' % (lx + 24, ly, name))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--warmup", type=float, required=True)
    p.add_argument("--ledger", required=True, help="faults.py check's JSON")
    for k in ("statsd-sent", "statsd-received", "statsd-flushed", "statsd-drops", "rotations",
              "rotations-not-in-store", "segments", "segments-expected", "errors-logged"):
        p.add_argument("--" + k, type=int, default=0)
    p.add_argument("--statsd-max-loss", type=float, default=0.001)
    p.add_argument("--offered-rate", type=float, default=1000,
                   help="alerts/s offered; the soak counts only if >= 95 %% was taken")
    a = p.parse_args()
    rows = read_csv(os.path.join(a.dir, "samples.csv"))
    sweeps = read_csv(os.path.join(a.dir, "sweeps.csv"))
    ledger = json.loads(a.ledger)
    if len(rows) < 8:
        print("too few samples (%d) to judge a soak" % len(rows))
        return 1
    t_end = rows[-1]["t_s"]
    after = [r for r in rows if r["t_s"] > a.warmup]
    if len(after) < 6:
        print("too few samples after the warm-up (%d)" % len(after))
        return 1
    checks = []  # (ok, text)
    figures = {}

    def growth(key):
        base = statistics.median(r[key] for r in after[:3])
        end = statistics.median(r[key] for r in after[-3:])
        peak = max(r[key] for r in after)
        g = end / base - 1 if base else 0
        figures[key] = (base, end, peak, g)
        checks.append((g <= 0.05, "%s: %.0f after warm-up -> %.0f at the end (%+.1f %%; peak %.0f)"
                       % (key, base, end, 100 * g, peak)))
        return g

    for k in ("serve_rss_kb", "serve_fds", "statsd_rss_kb", "statsd_fds"):
        growth(k)
    tenth = max(3, len(after) // 10)
    p99_first = statistics.median(r["p99_ms"] for r in after[:tenth])
    p99_last = statistics.median(r["p99_ms"] for r in after[-tenth:])
    p99_slope = slope_per_hour([r["t_s"] for r in after], [r["p99_ms"] for r in after])
    checks.append((p99_last <= max(1.5 * p99_first, p99_first + 2.0),
                   "p99: median %.2f ms in the first tenth after warm-up, %.2f ms in the last "
                   "(slope %+.2f ms/h; max of any interval %.1f ms)"
                   % (p99_first, p99_last, p99_slope, max(r["p99_ms"] for r in after))))
    sums = {k: int(sum(r[k] for r in rows)) for k in
            ("requests", "acked", "status_503", "status_other", "transport_errors")}
    bad_lines = int(rows[-1]["statsd_bad_lines"] or 0)
    sweeps_bad = [s for s in sweeps if s["rc"] != 0 or (s["failed"] or 0) != 0]
    checks.append((sums["status_503"] + sums["status_other"] + sums["transport_errors"] == 0,
                   "intake errors: %d x 503, %d other statuses, %d transport errors of %d requests"
                   % (sums["status_503"], sums["status_other"], sums["transport_errors"],
                      sums["requests"])))
    taken = sums["acked"] / t_end
    checks.append((taken >= 0.95 * a.offered_rate,
                   "intake rate: %.0f alerts/s acknowledged of %.0f/s offered (a server or "
                   "client that falls behind stretches the intervals)" % (taken, a.offered_rate)))
    checks.append((bad_lines == 0, "statsd bad lines: %d" % bad_lines))
    checks.append((not sweeps_bad and len(sweeps) > 0,
                   "sweeps: %d, %d failed or exited non-zero" % (len(sweeps), len(sweeps_bad))))
    checks.append((a.errors_logged == 0, "errors in serve's log: %d" % a.errors_logged))
    checks.append((ledger["acked_lost"] == 0 and ledger["ran_twice"] == 0
                   and ledger["bundles_bad"] == 0 and ledger["integrity"] == "ok"
                   and ledger["acked"] == sums["acked"] and ledger["acted"] > 0,
                   "ledger: %d acknowledged (load counted %d), %d lost, %d executions acted, "
                   "%d ran twice, %d bundles bad, integrity %s"
                   % (ledger["acked"], sums["acked"], ledger["acked_lost"], ledger["acted"],
                      ledger["ran_twice"], ledger["bundles_bad"], ledger["integrity"])))
    loss = 1 - a.statsd_received / a.statsd_sent if a.statsd_sent else 1
    checks.append((a.statsd_flushed == a.statsd_received and loss <= a.statsd_max_loss,
                   "statsd: %d sent, %d received (%.4f %% lost; %d kernel drops on its socket), "
                   "%d flushed" % (a.statsd_sent, a.statsd_received, 100 * loss, a.statsd_drops,
                                   a.statsd_flushed)))
    checks.append((a.rotations_not_in_store == 0 and a.segments == a.segments_expected,
                   "logship: %d rotations, %d not in the store with their MD5; %d SLO segments "
                   "(%d expected)" % (a.rotations, a.rotations_not_in_store, a.segments,
                                      a.segments_expected)))
    for ok, text in checks:
        print(("ok   - " if ok else "FAIL - ") + text)

    def pts(key, scale=1.0):
        return [(r["t_s"], r[key] * scale if r[key] is not None else None) for r in rows]

    svg_chart(os.path.join(a.dir, "soak-rss.svg"), "RSS", "MiB",
              [("serve", pts("serve_rss_kb", 1 / 1024)), ("statsd", pts("statsd_rss_kb", 1 / 1024))],
              a.warmup, t_end)
    svg_chart(os.path.join(a.dir, "soak-fds.svg"), "Open file descriptors", "fds",
              [("serve", pts("serve_fds")), ("statsd", pts("statsd_fds"))], a.warmup, t_end)
    svg_chart(os.path.join(a.dir, "soak-p99.svg"),
              "Alert intake latency per %d s interval" % (rows[1]["t_s"] - rows[0]["t_s"]), "ms",
              [("p99", pts("p99_ms")), ("p50", pts("p50_ms"))], a.warmup, t_end)
    svg_chart(os.path.join(a.dir, "soak-load.svg"), "Machine load average (1 min; 2 cores, shared)",
              "load", [("load1", pts("load1"))], a.warmup, t_end)
    g = {k: v[3] for k, v in figures.items()}
    sweep_ms = sorted(s["ms"] for s in sweeps) or [0]
    print("FIGURE soak: seconds=%d alerts_acked=%d alerts_per_s=%.0f acked_lost=%d ran_twice=%d "
          "metrics_sent=%d metrics_lost=%d sweeps=%d sweeps_failed=%d "
          "serve_rss_growth=%+.1f%% serve_fds_growth=%+.1f%% statsd_rss_growth=%+.1f%% "
          "statsd_fds_growth=%+.1f%% p99_first_ms=%.2f p99_last_ms=%.2f p99_slope_ms_per_h=%+.2f "
          "errors=%d" % (
              t_end, sums["acked"], sums["acked"] / t_end, ledger["acked_lost"],
              ledger["ran_twice"], a.statsd_sent, a.statsd_sent - a.statsd_flushed, len(sweeps),
              len(sweeps_bad), 100 * g["serve_rss_kb"], 100 * g["serve_fds"],
              100 * g["statsd_rss_kb"], 100 * g["statsd_fds"], p99_first, p99_last, p99_slope,
              sums["status_503"] + sums["status_other"] + sums["transport_errors"] + bad_lines
              + len(sweeps_bad) + a.errors_logged))
    print("sweep ms: median %.0f, max %.0f; sweep peak RSS max %d kB; load average median %.1f, "
          "max %.1f" % (statistics.median(sweep_ms), sweep_ms[-1],
                        max([s["peak_rss_kb"] or 0 for s in sweeps] or [0]),
                        statistics.median(r["load1"] for r in rows), max(r["load1"] for r in rows)))
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

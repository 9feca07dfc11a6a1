// Charts of the web UI in plain SVG (no library): a sparkline, a column chart
// over days or weeks, and a horizontal bar chart for rankings. Labels are SVG
// text nodes (set as text, never markup).
import {s} from "./dom.js";

// A polyline over `values` (oldest first), `w`x`h` pixels.
export function sparkline(values, w = 90, h = 20, title = "") {
  const max = Math.max(1, ...values);
  const n = values.length;
  const pts = values.map((v, i) => {
    const x = n > 1 ? (i * (w - 2)) / (n - 1) + 1 : w / 2;
    const y = h - 1 - (v / max) * (h - 2);
    return x.toFixed(1) + "," + y.toFixed(1);
  });
  return s("svg", {class: "spark", width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img",
                   "aria-label": title || "runs per day"},
           s("title", {}, title),
           s("polyline", {points: pts.join(" "), fill: "none", stroke: "#3465a4", "stroke-width": 1.5}));
}

// Columns for `values` with x `labels`; every `tickEvery`-th label is shown.
export function columnChart(labels, values, {width = 900, height = 160, tickEvery = 7,
                                             color = "#3465a4", format = String, name = ""} = {}) {
  const padL = 40, padB = 28, padT = 8;
  const max = Math.max(1, ...values);
  const n = Math.max(1, values.length);
  const bw = (width - padL - 4) / n;
  const plotH = height - padB - padT;
  const svg = s("svg", {class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                        "aria-label": name});
  svg.appendChild(s("title", {}, name));
  for (const frac of [0, 0.5, 1]) {
    const y = padT + plotH * (1 - frac);
    svg.appendChild(s("line", {x1: padL, x2: width, y1: y, y2: y, stroke: "#e3e3e3"}));
    svg.appendChild(s("text", {x: padL - 4, y: y + 4, "text-anchor": "end"}, format(max * frac)));
  }
  values.forEach((v, i) => {
    const bh = (v / max) * plotH;
    const x = padL + i * bw;
    const r = s("rect", {x: (x + 0.5).toFixed(1), y: (padT + plotH - bh).toFixed(1),
                         width: Math.max(1, bw - 1).toFixed(1), height: bh.toFixed(1), fill: color,
                         "data-value": v});
    r.appendChild(s("title", {}, labels[i] + ": " + format(v)));
    svg.appendChild(r);
    if (i % tickEvery === 0) {
      svg.appendChild(s("text", {x: x + 1, y: height - 10}, labels[i]));
    }
  });
  return svg;
}

// Horizontal bars: rows [{label, values: [a, b], title}], series [{name, color, format}].
export function barChart(rows, series, {width = 900, labelWidth = 300, rowHeight = 22} = {}) {
  const height = rows.length * rowHeight + 24;
  const max = series.map((_, k) => Math.max(1e-9, ...rows.map((r) => r.values[k] || 0)));
  const plotW = width - labelWidth - 90;
  const svg = s("svg", {class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
                        "aria-label": series.map((x) => x.name).join(", ")});
  series.forEach((ser, k) => {
    svg.appendChild(s("rect", {x: labelWidth + k * 170, y: 2, width: 10, height: 10, fill: ser.color}));
    svg.appendChild(s("text", {x: labelWidth + 14 + k * 170, y: 11}, ser.name));
  });
  rows.forEach((row, i) => {
    const y = 20 + i * rowHeight;
    svg.appendChild(s("text", {x: labelWidth - 6, y: y + 13, "text-anchor": "end"}, row.label));
    const bh = (rowHeight - 6) / series.length;
    series.forEach((ser, k) => {
      const v = row.values[k] || 0;
      const w = (v / max[k]) * plotW;
      const r = s("rect", {x: labelWidth, y: (y + 2 + k * bh).toFixed(1), width: Math.max(0.5, w).toFixed(1),
                           height: (bh - 1).toFixed(1), fill: ser.color, "data-value": v});
      r.appendChild(s("title", {}, row.label + " — " + ser.name + ": " + ser.format(v)));
      svg.appendChild(r);
      if (k === 0) {
        svg.appendChild(s("text", {x: labelWidth + w + 4, y: y + 2 + bh - 2}, ser.format(v)));
      }
    });
  });
  return svg;
}

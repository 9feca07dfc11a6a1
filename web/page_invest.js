// Where to invest: undiagnosed workarounds ranked by what they cost (time
// degraded, then time acting; GET /api/v1/cost's "invest"), as a bar chart and
// a table. Without /api/v1/cost, the ranking falls back to run counts.
import {get, optional} from "./api.js";
import {barChart} from "./charts.js";
import {clear, fmtSeconds, h, issuePageLink} from "./dom.js";

export async function render(view) {
  const cost = await optional("/api/v1/cost");
  clear(view).appendChild(h("h1", {}, "Where to invest"));
  view.appendChild(h("p", {class: "muted"},
    "Undiagnosed workarounds, costliest first: the time spent degraded says where a root-cause fix pays most."));
  if (cost) {
    const rows = cost.invest.slice(0, 40);
    if (!rows.length) {
      view.appendChild(h("p", {id: "invest-empty"}, "No undiagnosed workaround has cost anything yet."));
      return;
    }
    view.appendChild(barChart(rows.map((w) => ({label: w.id, values: [w.degraded_seconds || 0, w.acting_seconds || 0]})),
      [{name: "time degraded", color: "#c0392b", format: fmtSeconds},
       {name: "time acting", color: "#3465a4", format: fmtSeconds}]));
    view.appendChild(h("table", {id: "invest"},
      h("thead", {}, h("tr", {}, ["#", "workaround", "issue", "mode", "runs", "time degraded", "time acting", "median resolve", "last weeks"].map((x) => h("th", {}, x)))),
      h("tbody", {}, rows.map((w, i) => h("tr", {"data-workaround": w.id},
        h("td", {}, i + 1), h("td", {}, h("code", {}, w.id)), h("td", {}, issuePageLink(w.issue)), h("td", {}, w.mode || "auto"),
        h("td", {class: "num"}, w.runs), h("td", {class: "num"}, fmtSeconds(w.degraded_seconds)),
        h("td", {class: "num"}, fmtSeconds(w.acting_seconds)), h("td", {class: "num"}, fmtSeconds(w.median_resolve_seconds)),
        h("td", {}, (w.weekly || []).slice(-4).map((x) => x.week + ": " + x.runs).join(", ")))))));
    return;
  }
  const w = await get("/api/v1/workarounds");
  const rows = w.workarounds.filter((x) => !x.diagnosed).sort((a, b) => b.runs_total - a.runs_total).slice(0, 40);
  view.appendChild(h("p", {id: "invest-fallback", class: "warn"},
    "This stopgap serves no /api/v1/cost: ranked by runs instead of time degraded."));
  view.appendChild(barChart(rows.map((x) => ({label: x.id, values: [x.runs_total, x.runs_7d]})),
    [{name: "runs (total)", color: "#3465a4", format: String}, {name: "runs (7 days)", color: "#8fb3e0", format: String}]));
}

export const refresh = render;

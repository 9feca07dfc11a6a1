// Issue page: runs per day over 90 days (all its workarounds), time degraded
// per week (GET /api/v1/cost), its workarounds and its executions.
import {get, optional} from "./api.js";
import {columnChart} from "./charts.js";
import {clear, execLink, fmtSeconds, fmtTime, h, labelChips, stateSpan} from "./dom.js";
import {loadTracker, trackerLink} from "./tracker.js";

export async function render(view, [issue]) {
  const q = encodeURIComponent(issue);
  const [daily, cost, w, ex] = await Promise.all([
    get(`/api/v1/runs/daily?days=90&issue=${q}`), optional("/api/v1/cost"), get("/api/v1/workarounds"),
    get(`/api/v1/executions?issue=${q}&limit=100`), loadTracker()]);
  const perDay = daily.days.map((_, i) => Object.values(daily.workarounds).reduce((a, v) => a + v[i], 0));
  const total = perDay.reduce((a, b) => a + b, 0);
  clear(view).append(
    h("h1", {}, "Issue ", trackerLink(issue)),
    h("h2", {}, `Runs per day, last 90 days (${total} runs)`),
    columnChart(daily.days.map((d) => d.slice(5)), perDay, {name: "runs per day", tickEvery: 7}));
  view.lastChild.id = "runs-chart";
  const ic = cost && (cost.issues || []).find((x) => x.issue === issue);
  view.appendChild(h("h2", {}, "Time degraded per week"));
  if (!cost) {
    view.appendChild(h("p", {class: "muted"}, "This stopgap serves no /api/v1/cost."));
  } else if (!ic || !(ic.weekly || []).length) {
    view.appendChild(h("p", {class: "muted"}, "No time degraded recorded for this issue."));
  } else {
    view.appendChild(h("p", {}, `Total ${fmtSeconds(ic.degraded_seconds)} degraded, ${fmtSeconds(ic.acting_seconds)} acting, median resolve ${fmtSeconds(ic.median_resolve_seconds)}.`));
    const chart = columnChart(ic.weekly.map((x) => x.week), ic.weekly.map((x) => x.degraded_seconds),
                              {name: "time degraded per week", tickEvery: 2, color: "#c0392b", format: fmtSeconds});
    chart.id = "degraded-chart";
    view.appendChild(chart);
  }
  const mine = w.workarounds.filter((x) => x.issue === issue);
  view.append(h("h2", {}, "Workarounds"),
    h("table", {id: "issue-workarounds"},
      h("thead", {}, h("tr", {}, ["id", "cause", "diagnosed", "state", "expires", "runs total", "refused"].map((x) => h("th", {}, x)))),
      h("tbody", {}, mine.map((x) => h("tr", {"data-workaround": x.id},
        h("td", {}, h("code", {}, x.id)), h("td", {}, x.cause), h("td", {}, x.diagnosed ? "yes: " + (x.root_cause || "") : "no"),
        h("td", {}, stateSpan(x.state)), h("td", {}, x.expires || "never"), h("td", {class: "num"}, x.runs_total),
        h("td", {class: "num"}, x.refusals_total))))),
    h("h2", {}, `Executions (latest ${ex.executions.length})`),
    h("table", {id: "issue-executions"},
      h("thead", {}, h("tr", {}, ["id", "workaround", "state", "labels", "created", "detail"].map((x) => h("th", {}, x)))),
      h("tbody", {}, ex.executions.map((e) => h("tr", {"data-execution": e.id},
        h("td", {}, execLink(e.id)), h("td", {}, h("code", {}, e.workaround)),
        h("td", {}, stateSpan(e.state), e.refusal_reason ? " (" + e.refusal_reason + ")" : ""),
        h("td", {}, labelChips(e.labels)), h("td", {}, fmtTime(e.created_at)), h("td", {}, e.detail))))));
}

export const refresh = render;

// Dashboard: the breaker and pending approvals on top, then every workaround
// (issue, cause, diagnosed, mode, TTL, state, runs with a 30-day sparkline,
// refusals, last result, cost), sortable and filterable, then recent executions.
import {get, optional, post} from "./api.js";
import {sparkline} from "./charts.js";
import {clear, execLink, fmtSeconds, fmtTime, h, issuePageLink, labelChips, stateSpan} from "./dom.js";
import {loadTracker, trackerLink} from "./tracker.js";

const SPARK_DAYS = 30;
const ui = {sort: "runs_total", dir: -1, filter: "", undiagnosed: false, msg: null};
let data = null;   // the last API answers
let daily = null;  // runs per day per workaround
let painted = false;

const columns = [
  ["id", "workaround"], ["issue", "issue"], ["cause", "cause"], ["diagnosed", "diagnosed"],
  ["mode", "mode"], ["ttl", "TTL"], ["state", "state"], ["runs_24h", "24h", "num"],
  ["runs_7d", "7d", "num"], ["runs_total", "total", "num"], ["spark", "30 days"],
  ["refusals_total", "refused", "num"], ["last", "last result"], ["cost", "time degraded", "num"],
];

function sortValue(w, key) {
  switch (key) {
    case "ttl": return w.days_left === null || w.days_left === undefined ? Infinity : w.days_left;
    case "mode": return w.mode || "auto";
    case "last": return w.last ? w.last.at || "" : "";
    case "cost": return data.cost[w.id] ? data.cost[w.id].degraded_seconds || 0 : -1;  // filled after the first paint
    case "spark": return w.runs_7d;
    case "diagnosed": return w.diagnosed ? 1 : 0;
    default: return w[key];
  }
}

function ttlCell(w) {
  if (w.days_left === null || w.days_left === undefined) return h("span", {class: "muted"}, "never");
  const d = w.days_left;
  const cls = d <= 0 || w.state === "expired" ? "ttl-red" : d < 14 ? "ttl-amber" : "";
  const text = d <= 0 ? "expired" : d + " d";
  return h("span", {class: cls, title: "expires " + w.expires}, text);
}

function row(w) {
  const cost = data.cost[w.id];
  const spark = h("span", {class: "spark-slot", "data-workaround": w.id});
  if (daily) fillSpark(spark, w.id);
  const cells = {
    id: h("code", {title: w.description || ""}, w.id),
    issue: [trackerLink(w.issue), " ", h("a", {href: "#/issue/" + encodeURIComponent(w.issue), class: "muted"}, "runs")],
    cause: w.cause,
    diagnosed: w.diagnosed
      ? [h("span", {class: "badge ok", title: w.root_cause || ""}, "diagnosed"),
         w.root_cause ? h("div", {class: "muted root-cause"}, w.root_cause) : null]
      : h("span", {class: "badge warn"}, "undiagnosed"),
    mode: w.mode || "auto",
    ttl: ttlCell(w),
    state: stateSpan(w.state),
    runs_24h: w.runs_24h, runs_7d: w.runs_7d, runs_total: w.runs_total,
    spark,
    refusals_total: w.refusals_total,
    last: w.last ? [stateSpan(w.last.result), " ", execLink(w.last.execution),
                    w.last.refusal_reason ? h("span", {class: "muted"}, " (" + w.last.refusal_reason + ")") : null]
                 : h("span", {class: "muted"}, "never"),
    cost: costCell(cost),
  };
  return h("tr", {"data-workaround": w.id},
           columns.map(([key, , cls]) => h("td", {"data-col": key, class: cls}, cells[key])));
}

function costCell(cost) {
  return cost ? h("span", {title: "acting " + fmtSeconds(cost.acting_seconds) + ", median resolve " +
                                  fmtSeconds(cost.median_resolve_seconds)}, fmtSeconds(cost.degraded_seconds))
              : h("span", {class: "muted"}, "—");
}

function fillSpark(slot, id) {
  const v = daily.workarounds[id] || new Array(daily.days.length).fill(0);
  clear(slot).appendChild(sparkline(v, 90, 20, `runs per day, last ${daily.days.length} days: ${v.reduce((a, b) => a + b, 0)}`));
}

function visible() {
  const f = ui.filter.toLowerCase();
  const list = data.workarounds.filter((w) =>
    (!ui.undiagnosed || !w.diagnosed) &&
    (!f || [w.id, w.issue, w.cause, w.state, w.mode || "auto", w.root_cause, w.description]
               .some((x) => String(x || "").toLowerCase().includes(f))));
  list.sort((a, b) => {
    const x = sortValue(a, ui.sort), y = sortValue(b, ui.sort);
    return (x < y ? -1 : x > y ? 1 : 0) * ui.dir || a.id.localeCompare(b.id);
  });
  return list;
}

function renderRows(view) {
  const list = visible();
  const tbody = clear(view.querySelector("#workarounds tbody"));
  const frag = document.createDocumentFragment();
  for (const w of list) frag.appendChild(row(w));
  tbody.appendChild(frag);
  view.querySelector("#wcount").textContent = `${list.length} of ${data.workarounds.length} workarounds`;
  for (const th of view.querySelectorAll("#workarounds th")) {
    th.classList.toggle("sorted-asc", th.dataset.sort === ui.sort && ui.dir > 0);
    th.classList.toggle("sorted-desc", th.dataset.sort === ui.sort && ui.dir < 0);
  }
}

function message(view) {
  const el = view.querySelector("#msg");
  if (el && ui.msg) {
    el.textContent = ui.msg.text;
    el.className = "msg " + ui.msg.cls;
  }
}

async function act(view, path, body, ok) {
  try {
    const r = await post(path, body);
    ui.msg = {text: ok(r), cls: "ok"};
  } catch (err) {
    ui.msg = {text: err.message, cls: "bad"};
  }
  await refresh(view);
}

function breakerPanel(view, b) {
  if (!b) return null;
  const comment = h("input", {type: "text", id: "breaker-comment", placeholder: "why it is safe to reset", size: 34});
  return h("section", {id: "breaker", class: ["panel", b.tripped ? "tripped" : ""]},
    h("strong", {}, "Storm breaker: "),
    b.tripped ? h("span", {class: "state-tripped", "data-state": "tripped"}, "TRIPPED")
              : h("span", {class: "ok", "data-state": "closed"}, "closed (workarounds may act)"),
    b.tripped ? [" — ", b.reason || "", b.tripped_at ? " since " + fmtTime(b.tripped_at) : "",
                 h("div", {class: "toolbar"}, comment,
                   h("button", {id: "breaker-reset", onclick: () => act(view, "/api/v1/breaker/reset",
                       {comment: comment.value}, (r) => "Breaker reset" + (r.last_reset ? " by " + r.last_reset.by : "")) },
                     "Reset breaker"))]
              : null,
    b.last_reset ? h("div", {class: "muted"}, "Last reset " + fmtTime(b.last_reset.at) + " by " + b.last_reset.by +
                                               (b.last_reset.comment ? ": " + b.last_reset.comment : "")) : null);
}

function approvalsPanel(view, pending) {
  if (!pending || !pending.length) return null;
  return h("section", {id: "approvals", class: "panel pending"},
    h("h2", {}, `Pending approvals (${pending.length})`),
    h("table", {}, h("thead", {}, h("tr", {}, ["execution", "workaround", "labels", "waiting since", "deadline", "decision"].map((x) => h("th", {}, x)))),
      h("tbody", {}, pending.map((e) => {
        const comment = h("input", {type: "text", placeholder: "comment", size: 24, "data-comment": e.id});
        const decide = (verb) => () => act(view, `/api/v1/executions/${e.id}/${verb}`, {comment: comment.value},
                                           (r) => `Execution #${e.id} ${verb === "approve" ? "approved" : "denied"}: now ${r.state}`);
        return h("tr", {"data-execution": e.id},
          h("td", {}, execLink(e.id)), h("td", {}, h("code", {}, e.workaround)), h("td", {}, labelChips(e.labels)),
          h("td", {}, fmtTime(e.created_at)), h("td", {}, fmtTime(e.approval_deadline)),
          h("td", {}, comment, " ", h("button", {class: "approve", "data-action": "approve", onclick: decide("approve")}, "Approve"),
            " ", h("button", {class: "deny", "data-action": "deny", onclick: decide("deny")}, "Deny")));
      }))));
}

function recentTable(list) {
  return h("table", {id: "recent"},
    h("thead", {}, h("tr", {}, ["id", "workaround", "state", "source", "labels", "created", "detail"].map((x) => h("th", {}, x)))),
    h("tbody", {}, list.map((e) => h("tr", {"data-execution": e.id},
      h("td", {}, execLink(e.id)), h("td", {}, h("code", {}, e.workaround)),
      h("td", {}, stateSpan(e.state), e.refusal_reason ? " (" + e.refusal_reason + ")" : ""),
      h("td", {}, e.source), h("td", {}, labelChips(e.labels)), h("td", {}, fmtTime(e.created_at)),
      h("td", {}, e.detail)))));
}

// What the first paint needs; cost and sparklines come after it.
async function load() {
  const [w, approvals, breaker, recent] = await Promise.all([
    get("/api/v1/workarounds"), optional("/api/v1/approvals"), optional("/api/v1/breaker"),
    get("/api/v1/executions?limit=20"), loadTracker()]);
  data = {workarounds: w.workarounds, approvals: approvals ? approvals.pending : null, breaker,
          cost: data ? data.cost : {}, hasCost: data ? data.hasCost : null, recent: recent.executions};
}

function draw(view) {
  const filter = h("input", {type: "search", id: "filter", placeholder: "filter: id, issue, cause, state, mode…",
                             size: 36, value: ui.filter});
  filter.addEventListener("input", () => { ui.filter = filter.value; renderRows(view); });
  const undiag = h("input", {type: "checkbox", id: "undiagnosed", checked: ui.undiagnosed});
  undiag.addEventListener("change", () => { ui.undiagnosed = undiag.checked; renderRows(view); });
  const head = h("tr", {}, columns.map(([key, label, cls]) => {
    const th = h("th", {class: ["sortable", cls], "data-sort": key}, label);
    th.addEventListener("click", () => {
      ui.dir = ui.sort === key ? -ui.dir : (key === "id" || key === "issue" ? 1 : -1);
      ui.sort = key;
      renderRows(view);
    });
    return th;
  }));
  clear(view).append(
    h("h1", {}, "Dashboard"),
    h("div", {id: "msg", class: "msg"}),
    breakerPanel(view, data.breaker) || "",
    approvalsPanel(view, data.approvals) || "",
    h("div", {class: "toolbar"}, filter, h("label", {}, undiag, " undiagnosed only"), h("span", {id: "wcount", class: "muted"}),
      h("span", {id: "cost-note", class: "muted"}, data.hasCost === false ? "(cost: this stopgap serves no /api/v1/cost)" : "")),
    h("table", {id: "workarounds"}, h("thead", {}, head), h("tbody")),
    h("h2", {}, "Recent executions"),
    recentTable(data.recent));
  renderRows(view);
  message(view);
}

async function loadDaily(view) {
  daily = await get(`/api/v1/runs/daily?days=${SPARK_DAYS}`);
  dailyAt = Date.now();
  for (const slot of view.querySelectorAll(".spark-slot")) fillSpark(slot, slot.dataset.workaround);
}

async function loadCost(view) {
  const cost = await optional("/api/v1/cost");
  costAt = Date.now();
  const byId = {};
  for (const c of (cost && cost.workarounds) || []) byId[c.id] = c;
  data.cost = byId;
  data.hasCost = !!cost;
  for (const tr of view.querySelectorAll("#workarounds tbody tr")) {
    clear(tr.querySelector('td[data-col="cost"]')).appendChild(costCell(byId[tr.dataset.workaround]));
  }
  const note = view.querySelector("#cost-note");
  if (note) note.textContent = cost ? "" : "(cost: this stopgap serves no /api/v1/cost)";
  if (ui.sort === "cost") renderRows(view);
}

// The sparklines and the cost move slowly and cost the server more than the
// first paint's reads: re-read at most this often on live refreshes.
const SLOW_EVERY_MS = 30000;
let dailyAt = 0;
let costAt = 0;

export async function render(view) {
  await load();
  if (!painted) performance.mark("stopgap-dashboard-data");
  draw(view);
  if (!painted) {
    painted = true;
    requestAnimationFrame(() => {
      performance.mark("stopgap-dashboard-painted");
      document.body.dataset.painted = "dashboard";
    });
  }
  await Promise.all([loadDaily(view), loadCost(view)]);
}

export async function refresh(view) {
  await load();
  draw(view);
  await Promise.all([Date.now() - dailyAt > SLOW_EVERY_MS ? loadDaily(view) : null,
                     Date.now() - costAt > SLOW_EVERY_MS ? loadCost(view) : null]);
}

// Alerts page: recent alerts with their disposition ("why didn't it run?"):
// unmatched, duplicate of N, refused because of X, awaiting approval, or ran
// as execution N. Reads both the disposition string of older stopgaps and
// the disposition object.
import {get} from "./api.js";
import {clear, execLink, fmtTime, h, labelChips} from "./dom.js";

function disposition(a) {
  const d = a.disposition;
  if (d && typeof d === "object") {
    const groups = Object.entries(d.group || {}).map(([k, v]) => k + "=" + v).join(", ");
    return [h("span", {class: "badge disp-" + String(d.kind).replace(/[^a-z-]/g, "")}, d.kind),
            d.reason ? " because of " + d.reason : "",
            d.duplicate_of ? [" of ", execLink(d.duplicate_of)] : "",
            d.execution_id ? [" → ", execLink(d.execution_id)] : "",
            groups ? h("span", {class: "muted"}, " group " + groups) : ""];
  }
  return [h("span", {class: "badge"}, d), a.execution ? [" → ", execLink(a.execution)] : "",
          a.reason ? h("span", {class: "muted"}, " " + a.reason) : ""];
}

export async function render(view) {
  const r = await get("/api/v1/alerts?limit=200");
  clear(view).append(h("h1", {}, "Alerts"),
    h("p", {class: "muted"}, `The latest ${r.alerts.length} alerts received, and what became of each.`),
    h("table", {id: "alerts"},
      h("thead", {}, h("tr", {}, ["id", "received", "name", "status", "labels", "fingerprint", "source", "disposition"].map((x) => h("th", {}, x)))),
      h("tbody", {}, r.alerts.map((a) => h("tr", {"data-alert": a.id},
        h("td", {}, a.id), h("td", {}, fmtTime(a.received_at)), h("td", {}, a.name), h("td", {}, a.status),
        h("td", {}, labelChips(a.labels)), h("td", {}, h("code", {}, a.fingerprint)), h("td", {}, a.source),
        h("td", {"data-col": "disposition"}, disposition(a)))))));
}

export const refresh = render;

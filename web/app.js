// The web UI's entry module: hash routing to one page module per view, the
// token prompt, live updates (SSE, else polling) that refresh the page shown.
import {AuthNeeded, DASHBOARD_READS, initAuthForm, onTokenSaved, prefetch} from "./api.js";
import {$, clear, h} from "./dom.js";

// First paint: the dashboard's reads start now, while its modules (preloaded
// by index.html) arrive; pages are imported on first use.
if (/^#?\/?$/.test(location.hash || "#/")) prefetch(DASHBOARD_READS);

const routes = [
  [/^#?\/?$/, () => import("./page_dashboard.js"), "dashboard"],
  [/^#\/invest$/, () => import("./page_invest.js"), "invest"],
  [/^#\/alerts$/, () => import("./page_alerts.js"), "alerts"],
  [/^#\/issue\/(.+)$/, () => import("./page_issue.js"), ""],
  [/^#\/execution\/(\d+)$/, () => import("./page_execution.js"), ""],
];

let current = null;  // {page, params, view}
let refreshing = false;
let pending = false;

function showError(err) {
  $("err").textContent = err instanceof AuthNeeded ? "" : err.message;
}

async function render() {
  const hash = location.hash || "#/";
  const match = routes.find(([re]) => re.test(hash));
  const view = clear($("view"));
  for (const a of document.querySelectorAll("header nav a")) {
    a.classList.toggle("active", !!match && a.dataset.nav === match[2]);
  }
  if (!match) {
    view.appendChild(h("p", {}, "No such page. ", h("a", {href: "#/"}, "Dashboard")));
    return;
  }
  const params = (hash.match(match[0]) || []).slice(1).map(decodeURIComponent);
  current = null;
  try {
    const page = await match[1]();
    current = {page, params, view};
    await page.render(view, params);
    $("err").textContent = "";
  } catch (err) {
    showError(err);
  }
}

// A live event or a poll: the page shown re-reads its data (one at a time;
// not while the user is typing in one of its inputs).
async function refresh(kind, data) {
  if (!current || !current.page.refresh) return;
  const a = document.activeElement;
  if (a && current.view.contains(a) && (a.tagName === "INPUT" || a.tagName === "TEXTAREA")) return;
  if (refreshing) {
    pending = true;
    return;
  }
  refreshing = true;
  try {
    await current.page.refresh(current.view, current.params, kind, data);
    $("err").textContent = "";
  } catch (err) {
    showError(err);
  } finally {
    refreshing = false;
    if (pending) {
      pending = false;
      setTimeout(() => refresh("poll", null), 200);
    }
  }
}

async function live() {
  const {startLive} = await import("./live.js");
  startLive(refresh);
}

initAuthForm();
onTokenSaved(() => {
  render();
  live();
});
window.addEventListener("hashchange", render);
render();
live();

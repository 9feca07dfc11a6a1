// Links from an issue reference (as written in the catalog) to the tracker's
// page, from GET /api/v1/ui/tracker (kind and base URL; read once).
import {optional} from "./api.js";
import {h, safeHref} from "./dom.js";

let tracker;  // undefined: not read yet; null: none

export async function loadTracker() {
  if (tracker === undefined) {
    const t = await optional("/api/v1/ui/tracker");
    tracker = t ? t.tracker : null;
  }
  return tracker;
}

export function issueUrl(issue) {
  const direct = safeHref(issue);
  if (direct) return direct;
  if (!tracker) return null;
  let base = String(tracker.url || "").replace(/\/+$/, "");
  let m;
  if ((tracker.kind === "github" || tracker.kind === "gitlab") && (m = /^(.+)#(\d+)$/.exec(issue))) {
    if (tracker.kind === "github") {
      if (!base || /api\.github\.com/.test(base)) base = "https://github.com";
      return safeHref(`${base}/${m[1]}/issues/${m[2]}`);
    }
    return safeHref(`${base || "https://gitlab.com"}/${m[1]}/-/issues/${m[2]}`);
  }
  if (tracker.kind === "jira" && /^[A-Z][A-Z0-9_]*-\d+$/.test(issue)) return safeHref(`${base}/browse/${issue}`);
  if (tracker.kind === "redmine" && (m = /^#(\d+)$/.exec(issue))) return safeHref(`${base}/issues/${m[1]}`);
  return null;
}

// The issue as a link to the tracker (new tab) when one can be made, else text.
export function trackerLink(issue) {
  const url = issueUrl(issue);
  return url ? h("a", {href: url, target: "_blank", rel: "noopener noreferrer", class: "tracker"}, issue)
             : h("span", {}, issue);
}

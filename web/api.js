// The JSON API client of the web UI: the bearer token from this tab's
// sessionStorage, a prompt for one when the API answers 401, errors with the
// API's own message, and optional routes (null on 404: a stopgap without them).
import {$} from "./dom.js";

const TOKEN_KEY = "stopgap-token";

export class AuthNeeded extends Error {}
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

let onToken = () => {};
export function onTokenSaved(fn) { onToken = fn; }

export function askForToken() {
  const form = $("auth");
  form.hidden = false;
  $("token").focus();
}

export function initAuthForm() {
  $("auth").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    $("auth").hidden = true;
    onToken();
  });
}

async function call(method, path, body) {
  const headers = {};
  const t = token();
  if (t) headers["Authorization"] = "Bearer " + t;
  const init = {method, headers};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  if (r.status === 401) {
    askForToken();
    throw new AuthNeeded(path + ": the API needs a token (401)");
  }
  return r;
}

async function errorOf(r, path) {
  let msg = "HTTP " + r.status;
  try {
    const j = await r.json();
    if (j && j.error) msg += ": " + j.error;
  } catch (_) { /* not JSON */ }
  return new ApiError(r.status, path + ": " + msg);
}

// Reads started before the page's module has loaded (app.js calls prefetch
// first thing): each is used once by the next get/optional of the same path.
const early = new Map();

// What the dashboard reads for its first paint; app.js starts them while the
// modules load. Not /api/v1/cost: it is read after the paint (the ledger
// serves one query at a time, and cost is the heaviest).
export const DASHBOARD_READS = ["/api/v1/workarounds", "/api/v1/approvals", "/api/v1/breaker",
                                "/api/v1/executions?limit=20", "/api/v1/ui/tracker"];

export function prefetch(paths) {
  for (const p of paths) {
    const r = call("GET", p);
    r.catch(() => {});  // a 401 is handled by whoever takes it
    early.set(p, r);
  }
}

function callOrEarly(path) {
  const r = early.get(path);
  early.delete(path);
  return r || call("GET", path);
}

export async function get(path) {
  const r = await callOrEarly(path);
  if (!r.ok) throw await errorOf(r, path);
  return r.json();
}

// null when the route answers 404 (not served by this stopgap).
export async function optional(path) {
  const r = await callOrEarly(path);
  if (r.status === 404) return null;
  if (!r.ok) throw await errorOf(r, path);
  return r.json();
}

export async function post(path, body) {
  const r = await call("POST", path, body);
  if (!r.ok) throw await errorOf(r, path);
  return r.json();
}

export async function getText(path) {
  const r = await call("GET", path);
  if (!r.ok) throw await errorOf(r, path);
  return r.text();
}

// Downloads `path` with the token (a plain link cannot send it) as `name`.
export async function download(path, name) {
  const r = await call("GET", path);
  if (!r.ok) throw await errorOf(r, path);
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

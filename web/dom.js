// DOM helpers of the web UI: elements are built with createElement and every
// value lands as a text node or an attribute, never as HTML (labels, output
// and argv are untrusted). Formatting of times and durations.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
  } else if (child instanceof Node) {
    el.appendChild(child);
  } else {
    el.appendChild(document.createTextNode(String(child)));
  }
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v);
    } else if (k === "class") {
      el.setAttribute("class", Array.isArray(v) ? v.filter(Boolean).join(" ") : v);
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
}

// h("a", {href: "#/x", class: "c"}, "text", child, [more]): an HTML element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

// s("rect", {x: 1, ...}): an SVG element.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(id) { return document.getElementById(id); }

// A link only for http(s) URLs; anything else is shown as text.
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch (_) {
    return null;
  }
}

export function fmtSeconds(sec) {
  if (sec === null || sec === undefined) return "—";
  sec = Number(sec);
  if (sec < 1) return Math.round(sec * 1000) + " ms";
  if (sec < 120) return (Math.round(sec * 10) / 10) + " s";
  if (sec < 7200) return Math.round(sec / 60) + " min";
  if (sec < 172800) return (Math.round(sec / 360) / 10) + " h";
  return (Math.round(sec / 8640) / 10) + " d";
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
}

export function fmtBytes(n) {
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

export function stateSpan(state) {
  return h("span", {class: "state-" + String(state).replace(/[^a-z-]/g, "")}, state);
}

// Labels as chips "k=v" (text only).
export function labelChips(labels) {
  const keys = Object.keys(labels || {}).sort();
  if (!keys.length) return h("span", {class: "muted"}, "none");
  return h("span", {class: "labels"}, keys.map((k) => h("span", {}, k + "=" + labels[k])));
}

export function execLink(id) {
  return id === null || id === undefined ? h("span", {class: "muted"}, "—")
                                         : h("a", {href: "#/execution/" + Number(id)}, "#" + id);
}

export function issuePageLink(issue) {
  return h("a", {href: "#/issue/" + encodeURIComponent(issue)}, issue);
}

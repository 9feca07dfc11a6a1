// Live updates for the web UI: an EventSource on /api/v1/events (the token in
// ?token=, as EventSource cannot set headers); when that route is missing or
// refused, polling every 5 s. `onChange(kind, data)` is called for each event
// ("execution", "breaker", "alert") or each poll ("poll", null).
import {token} from "./api.js";
import {$} from "./dom.js";

const POLL_MS = 5000;
let source = null;
let timer = null;

export function liveMode() {
  return source && source.readyState === EventSource.OPEN ? "live" : timer ? "polling" : "connecting";
}

function show(text) { $("live").textContent = text; }

function poll(onChange) {
  if (timer) return;
  show("polling every 5 s (no live events from this stopgap)");
  document.body.dataset.live = "polling";
  timer = setInterval(() => onChange("poll", null), POLL_MS);
}

export function startLive(onChange) {
  if (source) source.close();
  if (timer) clearInterval(timer);
  source = null;
  timer = null;
  if (typeof EventSource === "undefined") return poll(onChange);
  const t = token();
  source = new EventSource("/api/v1/events" + (t ? "?token=" + encodeURIComponent(t) : ""));
  let opened = false;
  source.addEventListener("open", () => {
    opened = true;
    show("live");
    document.body.dataset.live = "sse";
  });
  for (const kind of ["execution", "breaker", "alert"]) {
    source.addEventListener(kind, (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch (_) { /* keep null */ }
      onChange(kind, data);
    });
  }
  source.addEventListener("error", () => {
    // Never opened (404, 401): this stopgap has no events for us; poll.
    // Opened before: the browser reconnects by itself.
    if (!opened || source.readyState === EventSource.CLOSED) {
      source.close();
      source = null;
      poll(onChange);
    } else {
      show("reconnecting…");
    }
  });
}

// Execution page: its header, approval, the timeline of steps (diagnostics,
// action, verify) with durations, exit codes and output (truncation marked),
// the triggering alert, the state history, and the bundle: file list, text
// viewer, a readable view of thread stacks, and the .tar.zst download.
import {download, get, getText, optional, post} from "./api.js";
import {s} from "./dom.js";
import {clear, fmtBytes, fmtSeconds, fmtTime, h, issuePageLink, labelChips, stateSpan} from "./dom.js";
import {loadTracker, trackerLink} from "./tracker.js";

const OUTPUT_SHOWN = 64 * 1024;

function timeline(steps) {
  const timed = steps.filter((x) => x.started_at && x.finished_at);
  if (!timed.length) return null;
  const t0 = Math.min(...timed.map((x) => Date.parse(x.started_at)));
  const t1 = Math.max(...timed.map((x) => Date.parse(x.finished_at)));
  const span = Math.max(1, t1 - t0);
  const width = 900, labelW = 220, rowH = 20;
  const svg = s("svg", {class: "chart", id: "timeline", width, height: timed.length * rowH + 8,
                        viewBox: `0 0 ${width} ${timed.length * rowH + 8}`, role: "img", "aria-label": "steps timeline"});
  const colors = {diagnostics: "#3465a4", action: "#c17d11", verify: "#4e9a06"};
  timed.forEach((st, i) => {
    const x = labelW + ((Date.parse(st.started_at) - t0) / span) * (width - labelW - 80);
    const w = Math.max(2, ((Date.parse(st.finished_at) - Date.parse(st.started_at)) / span) * (width - labelW - 80));
    const y = 4 + i * rowH;
    svg.appendChild(s("text", {x: labelW - 6, y: y + 13, "text-anchor": "end"}, `${st.phase} ${st.index} (${st.kind})`));
    const r = s("rect", {x: x.toFixed(1), y, width: w.toFixed(1), height: rowH - 6,
                         fill: st.outcome === "ok" ? colors[st.phase] || "#555" : "#b00020"});
    r.appendChild(s("title", {}, `${st.phase} ${st.index}: ${st.outcome}, ${st.duration_ms} ms`));
    svg.appendChild(r);
    svg.appendChild(s("text", {x: x + w + 4, y: y + 13}, fmtSeconds(st.duration_ms / 1000)));
  });
  return svg;
}

async function stepOutput(id, file, files) {
  const meta = files.find((f) => f.path === file);
  const box = h("div", {class: "output"}, h("div", {class: "muted"}, file + (meta ? " (" + fmtBytes(meta.size) + ")" : "")));
  if (meta && !meta.text) {
    box.appendChild(h("span", {class: "muted"}, "binary; download it from the bundle below"));
    return box;
  }
  try {
    const text = await getText(`/api/v1/executions/${id}/bundle/file?path=${encodeURIComponent(file)}`);
    box.appendChild(h("pre", {}, text.length > OUTPUT_SHOWN ? text.slice(0, OUTPUT_SHOWN) : text));
    if (text.length > OUTPUT_SHOWN) box.appendChild(h("div", {class: "trunc"}, `shown: first ${fmtBytes(OUTPUT_SHOWN)} of ${fmtBytes(text.length)}`));
  } catch (err) {
    box.appendChild(h("span", {class: "muted"}, err.message));
  }
  return box;
}

async function stepBlock(e, st, files) {
  const outputs = await Promise.all((st.files || []).filter((f) => /\.(stdout|stderr)$/.test(f))
                                                   .map((f) => stepOutput(e.id, f, files)));
  return h("div", {class: ["step", "outcome-" + st.outcome], "data-phase": st.phase},
    h("strong", {}, `${st.phase} ${st.index}`), " ", h("span", {class: "muted"}, st.kind), " — ",
    stateSpan(st.outcome),
    ", exit code ", h("span", {class: "exit-code"}, st.exit_code === null || st.exit_code === undefined ? "—" : st.exit_code),
    st.signal ? ", signal " + st.signal : "", ", ", fmtSeconds(st.duration_ms / 1000),
    st.timed_out ? h("span", {class: "trunc"}, " timed out") : "",
    st.truncated ? h("span", {class: "trunc", "data-truncated": "1"}, " output truncated at its cap") : "",
    h("div", {}, h("code", {class: "argv"}, (st.argv || []).join(" "))),
    st.error ? h("div", {class: "bad"}, st.error) : "",
    outputs);
}

// stacks.txt: "Thread <tid> "<name>" pause_us=N" then "#N 0x... symbol" lines.
// Threads with the same frames are grouped, largest group first.
export function parseStacks(text) {
  const threads = [];
  let cur = null;
  for (const line of text.split("\n")) {
    const m = /^Thread (\d+) "(.*)"(.*)$/.exec(line);
    if (m) {
      cur = {tid: m[1], name: m[2], frames: [], notes: []};
      threads.push(cur);
    } else if (cur && /^#\d+/.test(line)) {
      cur.frames.push(line.replace(/^#(\d+)\s+0x[0-9a-f]+\s*/, "#$1 "));
    } else if (cur && line.trim()) {
      cur.notes.push(line.trim());
    }
  }
  const groups = new Map();
  for (const t of threads) {
    const key = t.frames.join("\n") || t.notes.join("\n");
    if (!groups.has(key)) groups.set(key, {frames: t.frames, notes: t.notes, threads: []});
    groups.get(key).threads.push(t);
  }
  return {threads, groups: [...groups.values()].sort((a, b) => b.threads.length - a.threads.length)};
}

function stacksView(path, text) {
  const {threads, groups} = parseStacks(text);
  return h("section", {class: "stacks", "data-path": path},
    h("h3", {}, `${path}: ${threads.length} threads, ${groups.length} distinct stacks`),
    groups.map((g, i) => h("details", {class: "stack-group", open: i < 3},
      h("summary", {}, `${g.threads.length} thread${g.threads.length > 1 ? "s" : ""}: `,
        g.threads.slice(0, 8).map((t) => `${t.name || "?"} (${t.tid})`).join(", "),
        g.threads.length > 8 ? ` and ${g.threads.length - 8} more` : ""),
      h("pre", {}, g.frames.length ? g.frames.join("\n") : g.notes.join("\n")))));
}

async function bundleSection(e) {
  const section = h("section", {id: "bundle"}, h("h2", {}, "Bundle"));
  const list = await optional(`/api/v1/executions/${e.id}/bundle`).catch((err) => ({error: err.message}));
  if (!list || list.error) {
    section.appendChild(h("p", {class: "muted"}, e.bundle_dir ? "The bundle is not available: " + (list ? list.error : "no bundle route")
                                                               : "This execution has no bundle."));
    return {section, files: []};
  }
  const viewer = h("div", {id: "viewer"});
  const dl = h("a", {href: `/api/v1/executions/${e.id}/bundle.tar.zst`, id: "download"}, `Download execution-${e.id}-bundle.tar.zst`);
  dl.addEventListener("click", (ev) => {
    ev.preventDefault();
    download(dl.getAttribute("href"), `execution-${e.id}-bundle.tar.zst`).catch((err) => {
      viewer.textContent = err.message;
    });
  });
  const open = async (f) => {
    clear(viewer).appendChild(h("h3", {}, f.path));
    const text = await getText(`/api/v1/executions/${e.id}/bundle/file?path=${encodeURIComponent(f.path)}`);
    viewer.appendChild(/stacks\.txt$/.test(f.path) ? stacksView(f.path, text) : h("pre", {id: "viewer-text"}, text));
  };
  section.append(h("p", {}, dl, h("span", {class: "muted"}, ` — ${list.files.length} files in ${e.bundle_dir}`)),
    h("ul", {class: "files"}, list.files.map((f) => h("li", {},
      f.text ? h("a", {href: "#", "data-file": f.path, onclick: (ev) => { ev.preventDefault(); open(f).catch((err) => { viewer.textContent = err.message; }); }}, f.path)
             : h("span", {"data-file": f.path}, f.path), " ", h("span", {class: "muted"}, fmtBytes(f.size))))),
    viewer);
  const stacks = list.files.filter((f) => /stacks\.txt$/.test(f.path));
  for (const f of stacks) {
    const text = await getText(`/api/v1/executions/${e.id}/bundle/file?path=${encodeURIComponent(f.path)}`);
    section.appendChild(stacksView(f.path, text));
  }
  return {section, files: list.files};
}

function alertSection(e, alert) {
  return h("section", {id: "alert"}, h("h2", {}, "Triggering alert"),
    e.alert_id === undefined && !e.fingerprint ? h("p", {class: "muted"}, `Run by hand (${e.source}).`) : "",
    h("dl", {class: "kv"},
      h("dt", {}, "alert"), h("dd", {}, alert ? `#${alert.id} ${alert.name} (${alert.status}), received ${fmtTime(alert.received_at)}`
                                               : e.alert_id ? "#" + e.alert_id : "—"),
      h("dt", {}, "fingerprint"), h("dd", {}, h("code", {id: "fingerprint"}, e.fingerprint || "—")),
      h("dt", {}, "labels"), h("dd", {id: "alert-labels"}, labelChips(e.labels)),
      h("dt", {}, "annotations"), h("dd", {id: "alert-annotations"},
        alert && alert.annotations ? labelChips(alert.annotations) : h("span", {class: "muted"}, "— (the alert is no longer among the recent alerts)")),
      alert && alert.disposition ? [h("dt", {}, "disposition"), h("dd", {}, typeof alert.disposition === "object" ? alert.disposition.kind : alert.disposition)] : ""));
}

function approvalSection(view, e) {
  if (!e.approval && e.state !== "awaiting-approval") return "";
  const box = h("section", {id: "approval", class: "panel pending"}, h("h2", {}, "Approval"));
  if (e.approval) {
    box.appendChild(h("p", {}, stateSpan(e.approval.decision), ` by ${e.approval.by} at ${fmtTime(e.approval.at)}`,
                      e.approval.comment ? ": " + e.approval.comment : ""));
  }
  if (e.state === "awaiting-approval") {
    const comment = h("input", {type: "text", placeholder: "comment", size: 30});
    const msg = h("span", {class: "msg"});
    const decide = (verb) => async () => {
      try {
        await post(`/api/v1/executions/${e.id}/${verb}`, {comment: comment.value});
        await render(view, [String(e.id)]);
      } catch (err) {
        msg.textContent = err.message;
      }
    };
    box.appendChild(h("p", {}, "Awaiting approval until ", fmtTime(e.approval_deadline), ". ", comment, " ",
      h("button", {class: "approve", "data-action": "approve", onclick: decide("approve")}, "Approve"), " ",
      h("button", {class: "deny", "data-action": "deny", onclick: decide("deny")}, "Deny"), " ", msg));
  }
  return box;
}

const FINAL = new Set(["succeeded", "failed", "interrupted", "refused", "observed", "denied", "approval-expired"]);
let shownState = null;

// Live: re-read on an event about this execution, or on a poll while it is
// not in a final state.
export async function refresh(view, [id], kind, data) {
  if (kind === "execution" && data && String(data.id) !== String(id)) return;
  if (kind === "poll" && FINAL.has(shownState)) return;
  if (kind !== "execution" && kind !== "poll") return;
  await render(view, [id]);
}

export async function render(view, [id]) {
  const [e, alerts] = await Promise.all([get(`/api/v1/executions/${id}`), get("/api/v1/alerts?limit=1000"), loadTracker()]);
  const alert = e.alert_id ? alerts.alerts.find((a) => a.id === e.alert_id) : null;
  const {section: bundle, files} = await bundleSection(e);
  const steps = await Promise.all((e.steps || []).map((st) => stepBlock(e, st, files)));
  shownState = e.state;
  const group = Object.entries(e.group || {}).map(([k, v]) => k + "=" + v).join(", ");
  clear(view).append(
    h("h1", {}, `Execution #${e.id} `, stateSpan(e.state)),
    h("dl", {class: "kv", id: "execution-header"},
      h("dt", {}, "workaround"), h("dd", {}, h("code", {}, e.workaround)),
      h("dt", {}, "issue"), h("dd", {}, trackerLink(e.issue), " ", h("span", {class: "muted"}, "("), issuePageLink(e.issue), h("span", {class: "muted"}, ")")),
      h("dt", {}, "mode"), h("dd", {}, e.mode || "auto"),
      h("dt", {}, "source"), h("dd", {}, e.source, e.by_token ? ` (token ${e.by_token})` : ""),
      h("dt", {}, "created"), h("dd", {}, fmtTime(e.created_at)),
      h("dt", {}, "finished"), h("dd", {}, fmtTime(e.finished_at)),
      e.refusal_reason ? [h("dt", {}, "refused"), h("dd", {}, e.refusal_reason)] : "",
      group ? [h("dt", {}, "group"), h("dd", {}, group)] : "",
      e.degraded_seconds !== undefined ? [h("dt", {}, "time degraded"), h("dd", {}, fmtSeconds(e.degraded_seconds))] : "",
      e.acting_seconds !== undefined ? [h("dt", {}, "time acting"), h("dd", {}, fmtSeconds(e.acting_seconds))] : "",
      h("dt", {}, "detail"), h("dd", {}, e.detail || "—")),
    approvalSection(view, e),
    h("h2", {}, "Steps"),
    timeline(e.steps || []) || h("p", {class: "muted"}, "No step ran."),
    h("div", {id: "steps"}, steps),
    alertSection(e, alert),
    h("h2", {}, "History"),
    h("ol", {id: "transitions"}, (e.transitions || []).map((t) => h("li", {}, fmtTime(t.at), " ", stateSpan(t.state), t.detail ? " — " + t.detail : ""))),
    bundle);
}

// Browser tests of stopgap's web UI: headless Debian chromium driven by
// playwright-core, against a real `stopgap serve` seeded by webui_browser.sh.
// Each check is one named function; a check that needs a route this stopgap
// does not serve (404) is SKIPPED with its reason, never passed silently.
//   node webui_browser.js FACTS.json [testName...]
// FACTS: {url, token, perf_url, perf_token, screenshots, xss_execution,
//         stacks_execution, issue, storm_alert, approve_ids}
"use strict";
const fs = require("fs");
const path = require("path");
const {chromium} = require(path.join(process.env.PLAYWRIGHT_DIR, "node_modules", "playwright-core"));

const facts = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const only = process.argv.slice(3);
class Skip extends Error {}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function api(p, opts = {}, base = facts.url, tok = facts.token) {
  const r = await fetch(base + p, {...opts, headers: {Authorization: "Bearer " + tok,
                                                      "Content-Type": "application/json"}});
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch (_) { body = text; }
  return {status: r.status, body};
}

async function needRoute(p) {
  const r = await api(p);
  if (r.status === 404) throw new Skip(`GET ${p} answers 404: this stopgap does not serve it yet`);
  return r.body;
}

// A page with the token in sessionStorage, console errors and CSP violations
// recorded, and a marker that a reload would lose.
async function openPage(ctx, hash = "#/", base = facts.url, tok = facts.token) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  // A refused optional route (the events stream before the SSE branch, a 404
  // of an optional route) logs "Failed to load resource": expected; server
  // errors and JS exceptions are not.
  page.on("console", (m) => {
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) page.errors.push(m.text());
  });
  page.on("response", (r) => { if (r.status() >= 500) page.errors.push(`${r.status()} ${r.url()}`); });
  await page.addInitScript((t) => {
    if (t) sessionStorage.setItem("stopgap-token", t);
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
  }, tok);
  await page.goto(base + "/" + hash);
  return page;
}

async function shot(page, name) {
  await page.screenshot({path: path.join(facts.screenshots, name + ".png"), fullPage: false});
}

async function noErrors(page) {
  const csp = await page.evaluate(() => window.__csp);
  const errs = page.errors;
  check(csp.length === 0, "CSP violations: " + csp.join("; "));
  check(errs.length === 0, "page errors: " + errs.join("; "));
}

// ---- the checks ----------------------------------------------------------

async function testTokenPromptOn401(ctx) {
  const page = await openPage(ctx, "#/", facts.url, "");
  await page.waitForSelector("#auth:not([hidden])", {timeout: 5000});
  check(await page.locator("#workarounds tbody tr").count() === 0, "the dashboard showed rows without a token");
  await shot(page, "token-prompt");
  await page.fill("#token", facts.token);
  await page.click("#auth button[type=submit]");
  await page.waitForSelector("#workarounds tbody tr", {timeout: 5000});
  check(await page.isHidden("#auth"), "the token prompt stays after a good token");
  await page.close();
}

async function testDashboardNumbers(ctx) {
  const api_w = (await api("/api/v1/workarounds")).body.workarounds;
  const page = await openPage(ctx);
  await page.waitForSelector("#workarounds tbody tr");
  await page.waitForSelector(".spark-slot svg");
  const rows = await page.$$eval("#workarounds tbody tr", (trs) => trs.map((tr) => {
    const cell = (c) => tr.querySelector(`td[data-col="${c}"]`);
    return {id: tr.dataset.workaround, runs_24h: cell("runs_24h").textContent, runs_7d: cell("runs_7d").textContent,
            runs_total: cell("runs_total").textContent, refusals_total: cell("refusals_total").textContent,
            state: cell("state").textContent, ttl: cell("ttl").querySelector("span").className,
            issue: cell("issue").textContent, mode: cell("mode").textContent,
            diagnosed: cell("diagnosed").textContent, spark: !!cell("spark").querySelector("svg polyline")};
  }));
  check(rows.length === api_w.length, `${rows.length} rows for ${api_w.length} workarounds`);
  for (const w of api_w) {
    const r = rows.find((x) => x.id === w.id);
    check(r, "no row for " + w.id);
    for (const k of ["runs_24h", "runs_7d", "runs_total", "refusals_total"]) {
      check(r[k] === String(w[k]), `${w.id}.${k}: page ${r[k]}, API ${w[k]}`);
    }
    check(r.state === w.state, `${w.id}.state: page ${r.state}, API ${w.state}`);
    check(r.issue.startsWith(w.issue), `${w.id}.issue: page ${r.issue}, API ${w.issue}`);
    check(r.mode === (w.mode || "auto"), `${w.id}.mode: page ${r.mode}`);
    check(r.diagnosed.startsWith(w.diagnosed ? "diagnosed" : "undiagnosed"), `${w.id}.diagnosed: ${r.diagnosed}`);
    const want = w.days_left === null ? "" : w.days_left <= 0 ? "ttl-red" : w.days_left < 14 ? "ttl-amber" : "";
    if (w.days_left !== null) check(r.ttl === want, `${w.id} TTL ${w.days_left} d shown as '${r.ttl}', want '${want}'`);
    check(r.spark, `${w.id}: no sparkline`);
  }
  // Cost (when this stopgap serves it) lands after the first paint: a figure
  // for every workaround with time degraded.
  const cost = await api("/api/v1/cost");
  if (cost.status === 200) {
    const costly = cost.body.workarounds.filter((c) => c.degraded_seconds > 0).map((c) => c.id);
    await page.waitForFunction((ids) => ids.every((id) => {
      const td = document.querySelector(`tr[data-workaround="${id}"] td[data-col="cost"]`);
      return td && td.textContent !== "—";
    }), costly, {timeout: 5000});
    console.log(`    cost column filled for ${costly.length} workarounds with time degraded`);
  } else {
    check(/serves no \/api\/v1\/cost/.test(await page.textContent("#cost-note")), "no note that cost is not served");
  }
  // Sort by total runs, ascending then descending; filter.
  await page.click('th[data-sort="runs_total"]');
  const asc = await page.$$eval('#workarounds td[data-col="runs_total"]', (t) => t.map((x) => +x.textContent));
  check(asc.every((v, i) => i === 0 || asc[i - 1] <= v), "not sorted ascending: " + asc);
  await page.fill("#filter", api_w[0].id);
  const n = await page.locator("#workarounds tbody tr").count();
  check(n >= 1 && n < api_w.length || api_w.length === 1, `filter '${api_w[0].id}' left ${n} rows`);
  await page.fill("#filter", "");
  await page.click('th[data-sort="runs_total"]');
  await shot(page, "dashboard");
  await noErrors(page);
  await page.close();
  console.log(`    ${api_w.length} workarounds: runs 24h/7d/total, refusals, state, mode, TTL colour as the API`);
}

async function testScriptLabelIsText(ctx) {
  const id = facts.xss_execution;
  const e = (await api(`/api/v1/executions/${id}`)).body;
  const evil = e.labels.note;
  check(evil && evil.includes("<script>"), "seeded execution has no <script> label");
  const page = await openPage(ctx, `#/execution/${id}`);
  await page.waitForSelector("#alert-labels");
  const shown = await page.textContent("#alert-labels");
  check(shown.includes("note=" + evil), `label not shown as text: ${shown}`);
  const injected = await page.evaluate(() => document.querySelectorAll("main script, main img, main iframe").length);
  check(injected === 0, `${injected} elements injected from labels`);
  check(await page.evaluate(() => window.__xss === undefined), "a script from a label ran");
  await page.goto(facts.url + "/#/");
  await page.waitForSelector(`#recent tr[data-execution="${id}"]`);
  check((await page.textContent(`#recent tr[data-execution="${id}"]`)).includes(evil), "dashboard hides the label");
  check(await page.evaluate(() => window.__xss === undefined), "a script from a label ran on the dashboard");
  await page.goto(facts.url + "/#/alerts");
  await page.waitForSelector("#alerts tbody tr");
  check(await page.evaluate(() => window.__xss === undefined), "a script from a label ran on the alerts page");
  await noErrors(page);
  await page.close();
}

async function testIssuePage(ctx) {
  const issue = facts.issue;
  const ex = (await api(`/api/v1/executions?issue=${encodeURIComponent(issue)}&limit=1000`)).body.executions;
  const runs = ex.filter((x) => x.state !== "refused").length;
  const page = await openPage(ctx, "#/issue/" + encodeURIComponent(issue));
  await page.waitForSelector("#runs-chart rect", {state: "attached"});
  const sum = await page.$$eval("#runs-chart rect", (r) => r.reduce((a, x) => a + Number(x.dataset.value), 0));
  const bars = await page.locator("#runs-chart rect").count();
  check(bars === 90, `${bars} days in the runs chart, want 90`);
  check(sum === runs, `runs chart sums to ${sum}, the API lists ${runs} runs`);
  const rows = await page.locator("#issue-executions tbody tr").count();
  check(rows === Math.min(100, ex.length), `${rows} executions listed, API has ${ex.length}`);
  check(await page.locator("#issue-workarounds tbody tr").count() >= 1, "no workaround listed");
  await shot(page, "issue");
  await noErrors(page);
  await page.close();
  if (facts.perf_url) {  // the screenshot of an issue with 90 days of runs
    const busy = await openPage(ctx, "#/issue/" + encodeURIComponent("acme/svc2#002"), facts.perf_url, facts.perf_token);
    await busy.waitForSelector("#issue-executions tbody tr");
    await shot(busy, "issue-90-days");
    await busy.close();
  }
  console.log(`    issue ${issue}: 90-day chart sums to ${runs} runs; ${rows} executions`);
}

async function testExecutionBundleAndStacks(ctx) {
  const id = facts.stacks_execution;
  const e = (await api(`/api/v1/executions/${id}`)).body;
  const files = (await api(`/api/v1/executions/${id}/bundle`)).body.files;
  const page = await openPage(ctx, `#/execution/${id}`);
  await page.waitForSelector("#bundle .files li");
  check(await page.locator("#steps .step").count() === e.steps.length, "steps shown differ from the API");
  const codes = await page.$$eval("#steps .exit-code", (x) => x.map((c) => c.textContent));
  e.steps.forEach((st, i) => check(codes[i] === (st.exit_code === null ? "—" : String(st.exit_code)), `step ${i} exit code ${codes[i]}`));
  check(await page.locator("#timeline rect").count() === e.steps.filter((x) => x.started_at && x.finished_at).length, "timeline bars");
  check(await page.locator("#bundle .files li").count() === files.length, "bundle file list differs from the API");
  // Stacks: one thread per "Thread " line of stacks.txt.
  const stacksFile = files.find((f) => /stacks\.txt$/.test(f.path) && !/summary/.test(f.path));
  check(stacksFile, "no stacks.txt in the bundle");
  const raw = (await api(`/api/v1/executions/${id}/bundle/file?path=${encodeURIComponent(stacksFile.path)}`)).body;
  const threads = (raw.match(/^Thread \d+ /gm) || []).length;
  const heading = await page.textContent(`section.stacks[data-path="${stacksFile.path}"] h3`);
  check(heading.includes(`${threads} threads`), `stacks view says '${heading}', the file has ${threads} threads`);
  check(await page.locator(`section.stacks[data-path="${stacksFile.path}"] pre`).count() >= 1, "no stack frames shown");
  // The text viewer shows a file byte for byte.
  const out = files.find((f) => /diagnostics-\d+\.stdout$/.test(f.path));
  await page.click(`#bundle a[data-file="${out.path}"]`);
  await page.waitForSelector("#viewer-text");
  const want = (await api(`/api/v1/executions/${id}/bundle/file?path=${encodeURIComponent(out.path)}`)).body;
  check(await page.textContent("#viewer-text") === want, "viewer text differs from the file");
  // The download is the packed bundle (zstd magic 28 b5 2f fd).
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
  const bytes = fs.readFileSync(await dl.path());
  check(bytes.length > 100 && bytes.readUInt32LE(0) === 0xfd2fb528, `download is not a zstd file (${bytes.length} bytes)`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "execution");
  await noErrors(page);
  await page.close();
  console.log(`    execution ${id}: ${e.steps.length} steps, ${files.length} files, stacks of ${threads} threads, download ${bytes.length} bytes`);
}

async function testAlertsPage(ctx) {
  const alerts = (await api("/api/v1/alerts?limit=200")).body.alerts;
  const page = await openPage(ctx, "#/alerts");
  await page.waitForSelector("#alerts tbody tr");
  check(await page.locator("#alerts tbody tr").count() === alerts.length, "alert rows differ from the API");
  const first = await page.textContent(`#alerts tr[data-alert="${alerts[0].id}"] td[data-col="disposition"]`);
  const kind = typeof alerts[0].disposition === "object" ? alerts[0].disposition.kind : alerts[0].disposition;
  check(first.includes(kind), `disposition '${first}', API '${kind}'`);
  await shot(page, "alerts");
  await noErrors(page);
  await page.close();
}

async function testInvestPage(ctx) {
  const cost = await api("/api/v1/cost");
  const page = await openPage(ctx, "#/invest");
  await page.waitForSelector("main svg.chart, #invest-empty");
  await shot(page, "invest");
  await noErrors(page);
  await page.close();
  if (cost.status === 404) throw new Skip("GET /api/v1/cost answers 404: the page showed its run-count fallback; cost ranking not checked");
  const invest = cost.body.invest;
  const bars = await (async () => { const p = await openPage(ctx, "#/invest"); await p.waitForSelector("#invest, #invest-empty");
    const n = await p.locator("#invest tbody tr").count(); await p.close(); return n; })();
  check(bars === Math.min(40, invest.length), `${bars} ranked rows, API invest has ${invest.length}`);
}

async function liveUpdate(ctx, wantMode, waitMs) {
  const page = await openPage(ctx);
  await page.waitForSelector("#recent tbody tr");
  await page.waitForFunction(() => document.body.dataset.live, null, {timeout: 5000});
  const mode = await page.evaluate(() => document.body.dataset.live);
  if (wantMode === "sse" && mode !== "sse") throw new Skip(`GET /api/v1/events: the UI fell back to ${mode} (route missing)`);
  await page.evaluate(() => { window.__marker = 1; });
  const fp = "live-" + Date.now();
  const r = await api("/api/v1/alerts", {method: "POST", body: JSON.stringify(
    {name: facts.storm_alert, labels: {alertname: facts.storm_alert, host: fp}})});
  check(r.status === 202 && r.body.executions.length === 1, "alert not admitted: " + JSON.stringify(r.body));
  const id = r.body.executions[0];
  const t0 = Date.now();
  await page.waitForSelector(`#recent tr[data-execution="${id}"]`, {timeout: waitMs});
  check(await page.evaluate(() => window.__marker === 1), "the page reloaded");
  await page.close();
  console.log(`    execution ${id} appeared after ${Date.now() - t0} ms (${mode})`);
}

async function testLiveUpdatePolling(ctx) {
  const r = await api("/api/v1/events?probe=1", {signal: AbortSignal.timeout(1500)}).catch(() => ({status: 200}));
  if (r.status !== 404) throw new Skip("/api/v1/events is served: polling is the fallback only");
  await liveUpdate(ctx, "polling", 12000);
}

async function testLiveUpdateSse(ctx) {
  await liveUpdate(ctx, "sse", 4000);
}

async function testApproveDeny(ctx) {
  const pending = (await needRoute("/api/v1/approvals")).pending;
  check(pending.length >= 2, `want 2 pending approvals, have ${pending.length}`);
  const [a, d] = pending;
  const page = await openPage(ctx);
  await page.waitForSelector(`#approvals tr[data-execution="${a.id}"]`);
  await shot(page, "approvals");
  await page.fill(`#approvals input[data-comment="${a.id}"]`, "looks right");
  await page.click(`#approvals tr[data-execution="${a.id}"] button[data-action="approve"]`);
  await page.waitForSelector(`#approvals tr[data-execution="${a.id}"]`, {state: "detached"});
  await page.fill(`#approvals input[data-comment="${d.id}"]`, "not now");
  await page.click(`#approvals tr[data-execution="${d.id}"] button[data-action="deny"]`);
  await page.waitForFunction((id) => !document.querySelector(`#approvals tr[data-execution="${id}"]`), d.id);
  const ea = (await api(`/api/v1/executions/${a.id}`)).body;
  const ed = (await api(`/api/v1/executions/${d.id}`)).body;
  check(ea.approval && ea.approval.decision === "approved", "approved execution: " + JSON.stringify(ea.approval));
  check(ed.state === "denied" && ed.approval.decision === "denied", "denied execution: " + ed.state);
  await page.goto(`${facts.url}/#/execution/${a.id}`);
  await page.waitForSelector("#approval");
  check((await page.textContent("#approval")).includes("approved"), "execution page does not show the approval");
  await noErrors(page);
  await page.close();
}

async function testBreakerReset(ctx) {
  let b = await needRoute("/api/v1/breaker");
  for (let i = 0; i < 60 && !b.tripped; ++i) {
    await api("/api/v1/alerts", {method: "POST", body: JSON.stringify(
      {name: facts.storm_alert, labels: {alertname: facts.storm_alert, host: "storm-" + i}})});
    b = (await api("/api/v1/breaker")).body;
  }
  check(b.tripped, "the breaker did not trip after 60 alerts");
  const page = await openPage(ctx);
  await page.waitForSelector('#breaker [data-state="tripped"]');
  await shot(page, "breaker");
  await page.fill("#breaker-comment", "storm over, checked the hosts");
  await page.click("#breaker-reset");
  await page.waitForSelector('#breaker [data-state="closed"]', {timeout: 5000});
  b = (await api("/api/v1/breaker")).body;
  check(!b.tripped && b.last_reset && b.last_reset.comment === "storm over, checked the hosts", "reset not recorded: " + JSON.stringify(b));
  await noErrors(page);
  await page.close();
}

async function testFirstPaint(ctx) {
  if (!facts.perf_url) throw new Skip("no seeded perf ledger given");
  const w = (await api("/api/v1/workarounds", {}, facts.perf_url, facts.perf_token)).body.workarounds;
  const figures = [];
  const loads = Number(process.env.FIRST_PAINT_LOADS || 5);
  for (let i = 0; i < loads; ++i) {
    const page = await openPage(ctx, "#/", facts.perf_url, facts.perf_token);
    await page.waitForFunction(() => document.body.dataset.painted === "dashboard", null, {timeout: 10000});
    const t = await page.evaluate(() => ({
      painted: performance.getEntriesByName("stopgap-dashboard-painted")[0].startTime,
      data: performance.getEntriesByName("stopgap-dashboard-data")[0].startTime,
      script: (performance.getEntriesByType("navigation")[0] || {}).domInteractive || 0,
      fcp: (performance.getEntriesByName("first-contentful-paint")[0] || {}).startTime,
      rows: document.querySelectorAll("#workarounds tbody tr").length,
      slowest: performance.getEntriesByType("resource").sort((a, b) => b.duration - a.duration).slice(0, 4)
        .map((r) => new URL(r.name).pathname + " " + r.startTime.toFixed(0) + "+" + r.duration.toFixed(0) + " ms").join(", ")}));
    check(t.rows === w.length, `${t.rows} rows painted, ${w.length} workarounds`);
    if (i === 0) await shot(page, "dashboard-200");
    console.log(`    load ${i + 1}: DOM interactive ${t.script.toFixed(0)} ms, API data at ${t.data.toFixed(0)} ms, painted at ${t.painted.toFixed(0)} ms; slowest fetches: ${t.slowest}`);
    await page.close();
    figures.push(t);
  }
  const sorted = figures.map((f) => f.painted).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`    FIRST PAINT (200 workarounds, ${facts.perf_executions} executions): median ${median.toFixed(0)} ms ` +
              `(loads: ${figures.map((f) => f.painted.toFixed(0)).join(", ")} ms; first contentful paint ${figures.map((f) => (f.fcp || 0).toFixed(0)).join(", ")} ms)`);
  check(w.length === 200, `${w.length} workarounds seeded, want 200`);
  // The issue's bar, 300 ms, is judged on a quiet machine (the figure in
  // docs/benchmarks.md: FIRST_PAINT_BAR_MS=300 with this test alone). Inside
  // `make test` other tests share the 2 cores (ctest -j), and browser timings
  // then measure them: there the check is a regression guard (default
  // 1,000 ms: a page that fetched or rendered all 10,000 executions would take
  // seconds). On a saturated machine (load over 1.5x the cores) the check is
  // SKIPPED, saying why; the figure is printed either way.
  const bar = Number(process.env.FIRST_PAINT_BAR_MS || 1000);
  const load = Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  const cores = require("os").cpus().length;
  if (median > bar && load > 1.5 * cores) {
    throw new Skip(`first paint ${median.toFixed(0)} ms not judged: load average ${load} on ${cores} cores`);
  }
  check(median <= bar, `first paint ${median.toFixed(0)} ms > ${bar} ms (load average ${load} on ${cores} cores)`);
}

const tests = [testTokenPromptOn401, testDashboardNumbers, testScriptLabelIsText, testIssuePage,
               testExecutionBundleAndStacks, testAlertsPage, testInvestPage, testApproveDeny,
               testLiveUpdatePolling, testLiveUpdateSse, testBreakerReset, testFirstPaint];

(async () => {
  const browser = await chromium.launch({executablePath: "/usr/bin/chromium",
                                         args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]});
  let passed = 0, failed = 0, skipped = 0;
  const t0 = Date.now();
  for (const t of tests) {
    if (only.length && !only.includes(t.name)) continue;
    const ctx = await browser.newContext({viewport: {width: 1280, height: 760}, acceptDownloads: true});
    const start = Date.now();
    try {
      await t(ctx);
      ++passed;
      console.log(`PASS ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      if (err instanceof Skip) {
        ++skipped;
        console.log(`SKIP ${t.name}: ${err.message}`);
      } else {
        ++failed;
        console.log(`FAIL ${t.name}: ${err.stack || err}`);
      }
    } finally {
      await ctx.close();
    }
  }
  await browser.close();
  console.log(`browser tests took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed ? 1 : 0);
})().catch((err) => { console.error(err); process.exit(1); });

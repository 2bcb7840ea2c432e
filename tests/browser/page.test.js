/*
 * page.test.js - the toolbar's own page (<url_prefix>/) in a real browser (Debian's Chromium,
 * headless, driven by playwright-core), against the demo: requests made by a JSON-only client
 * (node's fetch, no browser) are listed, updated live and filtered; a bookmarked filter URL
 * reproduces its view; a request's panels open beside the list; two requests compared show the
 * query one added, and a panel's own compare view (the Cache panel's) where it has one; a
 * record downloads as JSON and a permalink opens it; call sites and profiler frames link to the
 * configured editor with the mapped path (on the page and in the injected toolbar); keyboard
 * use; all under the page's own strict CSP with no violation and no console error; a client
 * outside "hosts" gets the app's own 404.
 * Run by page-run.sh, which starts the demo (toolbar on, editor links configured) and a second
 * one whose "hosts" exclude this client, and passes their URLs.
 */
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const fs = require("fs");
const path = require("path");
const http = require("http");

const ON = process.env.DTB_URL_ON;
const OUTSIDE = process.env.DTB_URL_OUTSIDE;
const ART = process.env.DTB_ARTIFACTS;
const PAGE = ON + "/_debug_toolbar/";
let passed = 0, failed = 0;

/* allow404: the test loads something that is expected to be gone (Chromium logs a 404) */
async function test(name, fn, browser, allow404) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !(allow404 && /status of 404 \(Not Found\)$/.test(m.text()))) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  /* every CSP violation is a failure, whatever the test does */
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__violations.push(e.violatedDirective + " " + e.blockedURI);
    });
  });
  try {
    await fn(page, context);
    assert.deepStrictEqual(await page.evaluate(() => window.__violations || []), [], "CSP violations");
    assert.deepStrictEqual(errors, [], "console errors");
    passed++;
    console.log("ok - " + name);
  } catch (e) {
    failed++;
    console.log("not ok - " + name + "\n  " + String(e.stack || e).split("\n").join("\n  "));
    try { await page.screenshot({ path: path.join(ART, "FAILED-page-" + name.replace(/\W+/g, "_") + ".png") }); } catch (x) { /* ignore */ }
  }
  await context.close();
}

const pg = (sel) => "dtb-page >> " + sel;
const shot = (page, name) => page.screenshot({ path: path.join(ART, "page-" + name + ".png") });
/* The listed requests, as "METHOD /path", top to bottom */
const listed = (page) => page.evaluate(() => Array.from(
  document.getElementById("dtb-page").shadowRoot.querySelectorAll(".dtb-page-requests tbody .dtb-open-request"),
  (b) => b.textContent));
/* A JSON-only client: node's own fetch, no browser involved; returns the toolbar's id */
async function client(p, headers) {
  const r = await fetch(ON + p, { headers: Object.assign({ Accept: "application/json" }, headers || {}) });
  assert.strictEqual(r.status, 200, p);
  await r.arrayBuffer();
  const id = r.headers.get("x-debug-toolbar-id");
  assert.match(id || "", /^[0-9a-f]{16}$/, "id header on " + p);
  return id;
}
async function waitListed(page, text) {
  await page.locator(pg('.dtb-open-request:text-is("' + text + '")')).first().waitFor();
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

  /* the history these tests read: a JSON API used by a client that is no browser */
  const ids = {};
  for (const p of ["/api/dogs", "/api/cats", "/api/cats?page=2"]) ids[p] = await client(p);

  await test("the page: strict CSP, JSON-only requests listed, live updates, panels beside the list", async (page) => {
    const resp = await page.goto(PAGE);
    assert.strictEqual(resp.status(), 200);
    assert.match(resp.headers()["content-security-policy"], /^default-src 'self';/);
    assert.doesNotMatch(await resp.text(), /<style|style=|<script>/, "no inline style or script");
    await waitListed(page, "GET /api/cats");
    const rows = await listed(page);
    for (const t of ["GET /api/dogs", "GET /api/cats"]) assert.ok(rows.includes(t), t + " in " + rows);
    /* the toolbar's stylesheet loaded inside the shadow root: its variables and its table */
    const accent = await page.locator(pg(".dtb")).first().evaluate((e) => getComputedStyle(e).getPropertyValue("--accent").trim());
    assert.match(accent, /^#[0-9a-f]{6}$/i);
    assert.strictEqual(await page.locator(pg("table.dtb-table")).first().evaluate((e) => getComputedStyle(e).borderCollapse), "collapse");
    /* the header on one line: the name, the title and the buttons side by side, in view (the
     * sidebar's rules for its own header must not reach the page's) */
    const head = await page.evaluate(() => {
      const r = document.getElementById("dtb-page").shadowRoot;
      const box = (s) => r.querySelector(s).getBoundingClientRect();
      const brand = box(".dtb-page-head .dtb-brand"), title = box(".dtb-page-title"), pause = box(".dtb-page-pause");
      return { oneLine: Math.abs(brand.top - pause.top) < 12 && Math.abs(title.top - pause.top) < 12,
        inView: pause.right <= window.innerWidth && pause.bottom <= box(".dtb-page-head").bottom };
    });
    assert.deepStrictEqual(head, { oneLine: true, inView: true });
    /* live: a new request by the JSON client appears without a reload */
    const n = (await listed(page)).length;
    await client("/api/dogs?live=1");
    await page.waitForFunction((n) => document.getElementById("dtb-page").shadowRoot
      .querySelectorAll(".dtb-page-requests tbody tr").length > n, n, { timeout: 10000 });
    /* the port column: the demo's own port */
    const port = new URL(ON).port;
    assert.ok(await page.locator(pg('.dtb-page-requests td.dtb-num:text-is("' + port + '")')).count() > 0, "port column");
    /* a request's panels open beside the list */
    await page.click(pg('.dtb-open-request:text-is("GET /api/cats") >> nth=0'));
    await page.locator(pg(".dtb-page-detail .dtb-content-title")).waitFor();
    assert.match(await page.locator(pg(".dtb-page-detail .dtb-content-title")).textContent(), /^GET \/api\/cats/);
    await page.click(pg('.dtb-page-nav .dtb-panel-btn:has(.dtb-panel-title:text-is("SQL"))'));
    await page.locator(pg('.dtb-page-panel :text("FROM cat")')).first().waitFor();
    await page.locator(pg(".dtb-page-panel .dtb-warn:has-text('N+1')")).first().waitFor();
    /* a signed SQL action works from the page too */
    await page.click(pg('.dtb-sql-action[data-action="explain"] >> nth=0'));
    await page.locator(pg('.dtb-sql-result:has-text("cat")')).waitFor();
    /* the SQL panel's own stylesheet (sql.css, its nav's "style") applies, inside the Shadow
     * DOM only: once, and never in the page's document */
    await page.waitForFunction((host) => {
      const box = document.querySelector(host).shadowRoot.querySelector(".dtb-sql-result");
      return box && getComputedStyle(box).borderLeftWidth === "3px";
    }, "dtb-page");
    assert.deepStrictEqual(await page.evaluate((host) => [
      document.querySelector(host).shadowRoot.querySelectorAll('link[data-dtb-style="sql.css"]').length,
      document.querySelectorAll("link[data-dtb-style]").length], "dtb-page"), [1, 0]);
    const list = await page.locator(pg(".dtb-page-list")).boundingBox();
    const detail = await page.locator(pg(".dtb-page-detail")).boundingBox();
    assert.ok(detail.x >= list.x + list.width - 1, "the panels are beside the list");
    assert.match(page.url(), /#.*r=[0-9a-f]{16}.*panel=sql/);
    await shot(page, "01-list-and-panel");
  }, browser);

  await test("filters, kept in the URL: a bookmark reproduces the view", async (page, context) => {
    await page.goto(PAGE);
    await waitListed(page, "GET /api/dogs");
    await page.fill(pg('input[name="path"]'), "/api/cats");
    await page.check(pg('input[name="has-n1"]'));
    await page.fill(pg('input[name="type"]'), "json");
    await page.selectOption(pg('select[name="status"]'), "2xx");
    await page.selectOption(pg('select[name="method"]'), "GET");
    const rows = await listed(page);
    assert.ok(rows.length >= 2, "rows: " + rows);
    rows.forEach((r) => assert.strictEqual(r, "GET /api/cats"));
    const url = page.url();
    assert.match(url, /path=%2Fapi%2Fcats/);
    assert.match(url, /has=n1/);
    /* a filter that matches nothing, and one that excludes these */
    await page.selectOption(pg('select[name="status"]'), "5xx");
    assert.deepStrictEqual(await listed(page), []);
    await page.selectOption(pg('select[name="status"]'), "2xx");
    await page.fill(pg('input[name="min"]'), "100000");
    assert.deepStrictEqual(await listed(page), []);
    await page.fill(pg('input[name="min"]'), "");
    await page.check(pg('input[name="has-err"]'));
    assert.deepStrictEqual(await listed(page), []);
    await page.uncheck(pg('input[name="has-err"]'));
    /* log warnings: a failed login logs one */
    const login = await fetch(ON + "/login", { method: "POST", redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "user=eve&password=wrong" });
    await login.arrayBuffer();
    assert.match(login.headers.get("x-debug-toolbar-id") || "", /^[0-9a-f]{16}$/);
    const bookmark = url;
    await page.click(pg(".dtb-clear"));
    await page.check(pg('input[name="has-warn"]'));
    await waitListed(page, "POST /login");
    assert.deepStrictEqual(await listed(page), ["POST /login"]);
    await page.selectOption(pg('select[name="method"]'), "GET");
    assert.deepStrictEqual(await listed(page), []);
    /* the bookmark, opened anew */
    const again = await context.newPage();
    await again.goto(bookmark);
    await again.locator(pg(".dtb-open-request")).first().waitFor();
    assert.deepStrictEqual(await listed(again), rows);
    assert.strictEqual(await again.locator(pg('input[name="path"]')).inputValue(), "/api/cats");
    assert.strictEqual(await again.locator(pg('input[name="has-n1"]')).isChecked(), true);
    assert.strictEqual(await again.locator(pg('select[name="status"]')).inputValue(), "2xx");
    assert.match(await again.locator(pg(".dtb-page-count")).textContent(), /^\d+ of \d+ requests$/);
    await shot(again, "02-filtered");
    await again.close();
  }, browser);

  await test("compare two requests: the added query, counts, headers", async (page) => {
    await client("/cats/7", { "X-Trace": "one" }); /* 1 query: SELECT ... WHERE id = ? */
    await client("/cats", { "X-Trace": "two" });   /* 11: also SELECT count(*) FROM cat, and WHERE id = ? 10 times */
    await page.goto(PAGE);
    await waitListed(page, "GET /cats");
    await page.check(pg('tr:has(.dtb-open-request:text-is("GET /cats/7")) .dtb-cmp >> nth=0'));
    await page.check(pg('tr:has(.dtb-open-request:text-is("GET /cats")) .dtb-cmp >> nth=0'));
    await page.click(pg(".dtb-compare-btn"));
    const added = page.locator(pg('.dtb-cmp-sql tr[data-change="added"]'));
    await added.first().waitFor();
    assert.strictEqual(await added.count(), 1);
    assert.match(await added.textContent(), /SELECT count\(\*\) FROM cat/);
    const changed = page.locator(pg('.dtb-cmp-sql tr[data-change="count"]'));
    assert.strictEqual(await changed.count(), 1);
    assert.match(await changed.textContent(), /FROM cat WHERE id = \?\s*110/);
    assert.strictEqual(await page.locator(pg('.dtb-cmp-sql tr[data-change="removed"]')).count(), 0);
    assert.ok(await page.locator(pg(".dtb-cmp-timings tbody tr")).count() >= 2);
    /* each timing named as the Timer panel names it, in its unit as the panels show it (a
     * sub-millisecond time in \u00b5s or ns, never "0.0 ms"), counts as counts, the difference
     * signed; cpu_ms is not listed beside cpu_ns */
    const FIG = "(-?\\d+ ns|-?\\d+(\\.\\d)? \u00b5s|-?\\d+\\.\\d ms|-?\\d+\\.\\d\\d s|0 ms)";
    const cpu = await page.locator(pg('.dtb-cmp-timings tr:has([data-key="cpu_ns"])')).textContent();
    assert.match(cpu, new RegExp("^CPU of the app's handler" + FIG + FIG + "\\+?" + FIG + "$"));
    assert.match(await page.locator(pg('.dtb-cmp-timings tr:has([data-key="faults_minor"])')).textContent(), /^Page faults, minor\d+\d+[-+]?\d+$/);
    assert.strictEqual(await page.locator(pg('.dtb-cmp-timings [data-key="cpu_ms"]')).count(), 0);
    assert.doesNotMatch(await page.locator(pg(".dtb-compare")).textContent(), /\b0\.0 ms/);
    /* the list's times too */
    assert.match(await page.locator(pg(".dtb-page-requests tbody tr td:nth-child(5)")).first().textContent(), new RegExp("^" + FIG + "$"));
    /* the request header that differs, and one that does not */
    const hdr = page.locator(pg('.dtb-cmp-headers tr[data-change="changed"]:has-text("x-trace")'));
    assert.match(await hdr.textContent(), /x-traceonetwo/);
    assert.strictEqual(await page.locator(pg('.dtb-cmp-headers tr[data-change="same"]:has-text("accept")')).count() > 0, true);
    await page.locator(pg('.dtb-cmp-section summary:has-text("Logs")')).waitFor();
    assert.match(page.url(), /cmp=[0-9a-f]{16}%2C[0-9a-f]{16}|cmp=[0-9a-f]{16},[0-9a-f]{16}/);
    await shot(page, "03-compare");
    /* the comparison is bookmarkable too */
    await page.reload();
    await page.locator(pg('.dtb-cmp-sql tr[data-change="added"]')).waitFor();
  }, browser);

  await test("compare: a panel's own view (Cache), escaped; the text diff when it fails", async (page) => {
    /* the same search twice: the first misses the demo's page cache, the second hits it */
    const q = "<img src=x onerror=alert(1)>" + Date.now();
    const a = await client("/search?q=" + encodeURIComponent(q));
    const b = await client("/search?q=" + encodeURIComponent(q));
    await page.goto(PAGE + "#cmp=" + a + "," + b);
    const view = page.locator(pg('.dtb-cmp-panel[data-panel="cache"] .dtb-cmp-cache'));
    await view.waitFor();
    assert.match(await page.locator(pg('.dtb-cmp-section:has(.dtb-cmp-panel[data-panel="cache"]) > summary')).textContent(), /^Cache/);
    const get = view.locator('.dtb-cmp-keys tr[data-change="changed"]');
    assert.strictEqual(await get.count(), 1);
    const cells = await get.locator("td").allTextContents();
    assert.deepStrictEqual(cells.slice(1), ["get", "search:" + q, "miss", "hit"]);
    assert.match(await view.locator('.dtb-cmp-figures tr:has(th:text-is("hits"))').textContent(), /01\+1$/);
    assert.strictEqual(await page.locator(pg(".dtb-compare img")).count(), 0, "the key stays text");
    /* panels without a view keep the text diff of their JSON */
    await page.locator(pg('.dtb-cmp-section > summary:has-text("Panel templates (JSON)")')).waitFor();
    await shot(page, "05-compare-panel");
    /* a view that cannot be had (here: the server says so) falls back to the text diff */
    await page.route("**/api/compare/**", (route) => route.fulfill({ status: 404, contentType: "application/json", body: "{}" }));
    await page.reload();
    const box = page.locator(pg('.dtb-cmp-panel[data-panel="cache"] pre.dtb-diff'));
    await box.waitFor();
    assert.match(await box.textContent(), /"hits": 0[\s\S]*"hits": 1/);
  }, browser, true);

  await test("export: the record downloads as JSON; a permalink opens the request", async (page) => {
    const id = ids["/api/cats?page=2"];
    await page.goto(PAGE + "#r=" + id);
    await page.locator(pg(".dtb-page-detail .dtb-content-title")).waitFor();
    assert.match(await page.locator(pg(".dtb-page-detail .dtb-content-title")).textContent(), /^GET \/api\/cats/);
    const [dl] = await Promise.all([page.waitForEvent("download"), page.click(pg(".dtb-download"))]);
    assert.strictEqual(dl.suggestedFilename(), "request-" + id + ".json");
    const rec = JSON.parse(fs.readFileSync(await dl.path(), "utf8"));
    assert.strictEqual(rec.id, id);
    assert.ok(rec.panels && rec.panels.sql && rec.panels.sql.count === 10, "the whole record");
    /* the server's answer itself */
    const r = await fetch(ON + "/_debug_toolbar/api/requests/" + id + ".json");
    assert.match(r.headers.get("content-disposition"), /^attachment; filename="request-[0-9a-f]{16}\.json"$/);
    assert.strictEqual((await r.json()).id, id);
    const gone = await fetch(ON + "/_debug_toolbar/api/requests/0123456789abcdef.json");
    assert.strictEqual(gone.status, 404);
    /* the permalink: the page's own link, and the #/r/<id> form */
    const href = await page.locator(pg(".dtb-permalink")).getAttribute("href");
    assert.strictEqual(href, "/_debug_toolbar/#r=" + id);
    await page.goto(ON + "/_debug_toolbar/#/r/" + id);
    await page.locator(pg(".dtb-page-detail .dtb-content-title")).waitFor();
    await page.goto(PAGE + "#r=0123456789abcdef");
    await page.locator(pg('.dtb-page-detail .dtb-error:has-text("no longer in the history")')).waitFor();
    /* the prefix without its slash redirects to the page */
    const red = await fetch(ON + "/_debug_toolbar", { redirect: "manual" });
    assert.strictEqual(red.status, 301);
    assert.strictEqual(red.headers.get("location"), "/_debug_toolbar/");
  }, browser, true);

  await test("editor links carry the mapped path, on the page and in the injected toolbar", async (page) => {
    const id = await client("/dogs");
    await page.goto(PAGE + "#r=" + id + "&panel=sql");
    const link = page.locator(pg(".dtb-page-panel a.dtb-src-link")).first();
    await link.waitFor();
    const href = await link.getAttribute("href");
    assert.match(href, /^vscode:\/\/file\/\/home\/me\/src\/examples\/petshop\/db\.c:\d+$/, href);
    await page.click(pg('.dtb-page-nav .dtb-panel-btn:has(.dtb-panel-title:text-is("Logging"))'));
    const log = page.locator(pg(".dtb-page-panel a.dtb-src-link")).first();
    await log.waitFor({ state: "attached" });
    assert.match(await log.getAttribute("href"), /^vscode:\/\/file\/\/home\/me\/src\/examples\/petshop\/pages_demo\.c:\d+$/);
    /* the toolbar on an HTML page: the same link, and its link to this page */
    await page.goto(ON + "/dogs");
    await page.click("dtb-toolbar >> .dtb-handle");
    await page.click('dtb-toolbar >> .dtb-panel-btn:has(.dtb-panel-title:text-is("SQL"))');
    const tl = page.locator("dtb-toolbar >> .dtb-content-body a.dtb-src-link").first();
    await tl.waitFor();
    assert.match(await tl.getAttribute("href"), /^vscode:\/\/file\/\/home\/me\/src\/examples\/petshop\/db\.c:\d+$/);
    assert.strictEqual(await page.locator("dtb-toolbar >> a.dtb-page-link").getAttribute("href"), "/_debug_toolbar/");
    /* hostile file names stay inside the template: encoded, the scheme unchanged */
    await page.goto(PAGE);
    const u = await page.evaluate(() => window.debugToolbarPage.editorUrl(
      { template: "vscode://file/{file}:{line}", paths: [] }, "/x/\"><img src=x>#?.c", "12\"x"));
    assert.strictEqual(u, "vscode://file//x/%22%3E%3Cimg%20src%3Dx%3E%23%3F.c:1");
    assert.strictEqual(await page.evaluate(() => window.debugToolbarPage.editorUrl(
      { template: "javascript:alert(1)//{file}", paths: [] }, "/a.c", "1")), null);
    await shot(page, "04-page");
  }, browser);

  await test("profiler frames link to the editor with the mapped path: top functions, flame graph", async (page) => {
    /* the demo's /report page, profiled, until a profile holds the demo's own frames (a request
     * of a few ms gets a handful of samples; under load one may get none) */
    const MAPPED = /^vscode:\/\/file\/\/home\/me\/src\/examples\/petshop\/[a-z]+\.c:\d+$/;
    let id = null;
    for (let i = 0; i < 20 && !id; i++) {
      const r = await fetch(ON + "/report?dtb-profile=1");
      await r.arrayBuffer();
      const rid = r.headers.get("x-debug-toolbar-id");
      let rec = null;
      for (let k = 0; k < 50 && !rec; k++) {
        const j = await fetch(ON + "/_debug_toolbar/api/requests/" + rid);
        if (j.status === 200) rec = await j.json();
        else await new Promise((res) => setTimeout(res, 100));
      }
      const frames = ((rec && rec.panels.profile) || {}).frames || [];
      if (frames.some((f) => /examples\/petshop\//.test(f.file || ""))) id = rid;
    }
    assert.ok(id, "a profile with the demo's frames");
    await page.goto(PAGE + "#r=" + id + "&panel=profile");
    /* the top functions table */
    const top = page.locator(pg('.dtb-page-panel table a.dtb-src-link:has-text("examples/petshop/")')).first();
    await top.waitFor();
    assert.match(await top.getAttribute("href"), MAPPED);
    /* the flame graph (profile.js, loaded by the page): a frame's details */
    const frame = page.locator(pg('.dtb-flame-frame[title*="examples/petshop/"]')).first();
    await frame.hover();
    const flame = page.locator(pg(".dtb-flame-details a.dtb-src-link"));
    await flame.waitFor();
    assert.match(await flame.getAttribute("href"), MAPPED);
    assert.strictEqual(await flame.textContent(), await frame.getAttribute("title").then((t) => /\((.*?)\)/.exec(t)[1]));
    await shot(page, "06-profile-links");
    /* the injected toolbar: the same link in the flame graph's details */
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await page.goto(ON + "/report?dtb-profile=1");
      await page.waitForFunction(() => window.debugToolbar && window.debugToolbar.record(), null, { timeout: 10000 });
      found = await page.evaluate(() => ((window.debugToolbar.record().panels.profile || {}).frames || [])
        .some((f) => /examples\/petshop\//.test(f.file || "")));
    }
    assert.ok(found, "a profiled page with the demo's frames");
    await page.click("dtb-toolbar >> .dtb-handle");
    await page.click('dtb-toolbar >> .dtb-panel-btn:has(.dtb-panel-title:text-is("Profile"))');
    const tframe = page.locator('dtb-toolbar >> .dtb-flame-frame[title*="examples/petshop/"]').first();
    await tframe.hover();
    const tl = page.locator("dtb-toolbar >> .dtb-flame-details a.dtb-src-link");
    await tl.waitFor();
    assert.match(await tl.getAttribute("href"), MAPPED);
  }, browser);

  await test("keyboard: Tab through the filters to a request, Enter opens it, Escape closes", async (page) => {
    /* a request of its own: what the tests before it made may have left the history since */
    await client("/api/cats");
    await page.goto(PAGE);
    await waitListed(page, "GET /api/cats");
    const focused = () => page.evaluate(() => {
      const a = document.getElementById("dtb-page").shadowRoot.activeElement;
      return a ? a.className + "|" + (a.name || "") : null;
    });
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press("Tab");
      found = /dtb-open-request/.test(await focused() || "");
    }
    assert.ok(found, "Tab reached a request");
    const ring = await page.evaluate(() => {
      const r = document.getElementById("dtb-page").shadowRoot;
      const cs = getComputedStyle(r.activeElement);
      return cs.outlineStyle + " " + cs.outlineWidth;
    });
    assert.strictEqual(ring, "solid 2px", "a visible focus ring");
    await page.keyboard.press("Enter");
    await page.locator(pg(".dtb-page-detail .dtb-content-title")).waitFor();
    await page.keyboard.press("Escape");
    await page.locator(pg(".dtb-page-detail")).waitFor({ state: "hidden" });
  }, browser);

  await test("a client outside hosts gets the app's own 404 for the page", async (page) => {
    const resp = await page.goto(OUTSIDE + "/_debug_toolbar/");
    assert.strictEqual(resp.status(), 404);
    assert.strictEqual(await page.locator("dtb-page").count(), 0);
    assert.strictEqual(resp.headers()["content-security-policy"], undefined);
    const j = await fetch(OUTSIDE + "/_debug_toolbar/api/requests");
    assert.strictEqual(j.status, 404);
    assert.doesNotMatch(await j.text(), /"id"/);
  }, browser, true);

  await test("a foreign Host (a rebound DNS name) gets the app's own 404 for the page", async () => {
    /* a browser cannot be made to send another Host to 127.0.0.1 without a DNS server: ask as
     * it would after a rebinding, with node's http client, and compare with an unknown path */
    const get = (p, host) => new Promise((resolve, reject) => {
      const u = new URL(ON);
      const rq = http.get({ host: u.hostname, port: u.port, path: p, headers: { Host: host } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => { body += c; });
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      });
      rq.on("error", reject);
    });
    const own = await get("/_debug_toolbar/", new URL(ON).host);
    assert.strictEqual(own.status, 200, "the page answers its own host");
    for (const p of ["/_debug_toolbar/", "/_debug_toolbar/api/requests"]) {
      const r = await get(p, "attacker.example:" + new URL(ON).port);
      const app = await get("/no-such-page-" + p.length, "attacker.example:" + new URL(ON).port);
      assert.strictEqual(r.status, 404, p);
      assert.strictEqual(r.status, app.status, "the app's own answer");
      assert.strictEqual(r.headers["content-security-policy"], undefined);
      assert.doesNotMatch(r.body, /dtb-page|"id"/);
    }
  }, browser, true);

  await browser.close();
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });

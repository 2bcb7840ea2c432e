/*
 * profile.test.js - the Profile panel in a real browser (Debian's Chromium, headless, driven by
 * playwright-core), against the demo's /report page, whose CPU goes to named functions: with
 * ?dtb-profile=1 the panel's flame graph shows report_closest_names and report_name_distance
 * (one above the other), clicking a frame zooms into it; the panel's switch profiles the next
 * request of this browser (its cookie), and turned off again it does not; the collapsed-stack
 * download parses; the speedscope download validates against the file-format schema that the
 * speedscope npm package carries (ajv), and a broken copy of it does not. The Timer panel of
 * /visit (a page that waits on the disk) shows the waterfall's INSERT and the browser's own
 * navigation timing (TTFB, DOMContentLoaded, load) beside the server's figures; another
 * request's Timer panel, from the history, does not. No console error and no CSP violation.
 * Run by profile-run.sh, which starts the demo and passes its URL.
 */
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const fs = require("fs");
const path = require("path");

const ON = process.env.DTB_URL_ON;
const ART = process.env.DTB_ARTIFACTS;
const SCHEMA = process.env.SPEEDSCOPE_SCHEMA;
let passed = 0, failed = 0;

async function test(name, fn, browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript(() => {
    /* every load starts with the toolbar closed (it keeps its state in localStorage) */
    try { window.localStorage.clear(); } catch (e) { /* none */ }
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
    try { await page.screenshot({ path: path.join(ART, "FAILED-profile-" + name.replace(/\W+/g, "_") + ".png") }); } catch (x) { /* ignore */ }
  }
  await context.close();
}

const tb = (sel) => "dtb-toolbar >> " + sel;
const panelBtn = (title) => tb('.dtb-panel-btn:has(.dtb-panel-title:text-is("' + title + '"))');
const shot = (page, name) => page.screenshot({ path: path.join(ART, "profile-" + name + ".png") });

/* Opens the toolbar and its Profile panel on the page loaded. */
async function openProfile(page) {
  await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
  await page.click(tb(".dtb-handle"));
  await page.click(panelBtn("Profile"));
  await page.locator(tb(".dtb-content-body .dtb-profile")).waitFor();
}

/* The flame graph's frames: [{name, left, top, width}] in CSS pixels */
const frames = (page) => page.evaluate(() => Array.from(
  document.getElementById("dtb-root").shadowRoot.querySelectorAll(".dtb-flame .dtb-flame-frame"),
  (d) => { const r = d.getBoundingClientRect(); return { name: d.textContent, left: r.left, top: r.top, width: r.width }; }));
const named = (list, name) => list.filter((f) => f.name === name);

/* Loads /report until its profile has both of the report's functions (a sample can miss a
 * function of a few milliseconds on a busy machine: at most 5 tries). */
async function profiledReport(page, url) {
  let list = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(url);
    await openProfile(page);
    await page.locator(tb(".dtb-flame .dtb-flame-frame")).first().waitFor();
    list = await frames(page);
    if (named(list, "report_closest_names").length && named(list, "report_name_distance").length) return list;
  }
  throw new Error("the report's functions are not in the flame graph: " + list.map((f) => f.name).join(", "));
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

  await test("report: the flame graph shows the demo's functions, nested; a click zooms", async (page) => {
    const list = await profiledReport(page, ON + "/report?dtb-profile=1");
    await shot(page, "01-flame");
    const outer = named(list, "report_closest_names")[0], inner = named(list, "report_name_distance")[0];
    assert.ok(inner.top > outer.top, "report_name_distance is drawn below its caller");
    assert.ok(inner.left >= outer.left - 1 && inner.left + inner.width <= outer.left + outer.width + 1,
      "report_name_distance lies within report_closest_names");
    /* the top-functions table names them too */
    const cells = await page.locator(tb(".dtb-content-body table code")).allTextContents();
    assert.ok(cells.includes("report_name_distance"), "top functions: " + cells.join(", "));
    /* zoom into the caller: it spans the whole width */
    const full = await page.evaluate(() => document.getElementById("dtb-root").shadowRoot
      .querySelector(".dtb-flame").getBoundingClientRect().width);
    await page.click(tb('.dtb-flame .dtb-flame-frame:text-is("report_closest_names") >> nth=0'));
    const zoomed = named(await frames(page), "report_closest_names")[0];
    assert.ok(Math.abs(zoomed.width - full) < 2, "zoomed frame width " + zoomed.width + " of " + full);
    await shot(page, "02-zoomed");
    /* the collapsed stacks download: "a;b;c count" lines, the report's functions among them */
    const [dl] = await Promise.all([page.waitForEvent("download"),
      page.click(tb('.dtb-profile-dl[data-format="folded"]'))]);
    const text = fs.readFileSync(await dl.path(), "utf8");
    const lines = text.split("\n").filter((l) => l.length);
    assert.ok(lines.length > 0, "folded lines");
    lines.forEach((l) => assert.match(l, /^[^ ;][^;]*(;[^;]+)* [0-9]+$/, "folded line: " + l));
    assert.ok(lines.some((l) => /report_closest_names;report_name_distance/.test(l)), "folded stacks name the report");
    /* the speedscope download: valid by speedscope's own schema, with the report's frames */
    const [ss] = await Promise.all([page.waitForEvent("download"),
      page.click(tb('.dtb-profile-dl[data-format="speedscope"]'))]);
    assert.strictEqual(ss.suggestedFilename(), "profile.speedscope.json");
    const file = JSON.parse(fs.readFileSync(await ss.path(), "utf8"));
    const Ajv = require("ajv");
    const validate = new Ajv({ allErrors: true }).compile(JSON.parse(fs.readFileSync(SCHEMA, "utf8")));
    assert.ok(validate(file), "speedscope schema: " + JSON.stringify(validate.errors));
    const names = file.shared.frames.map((f) => f.name);
    assert.ok(names.includes("report_name_distance"), "speedscope frames: " + names.join(", "));
    const prof = file.profiles[0];
    assert.strictEqual(prof.samples.length, prof.weights.length);
    assert.ok(prof.samples.every((s) => s.every((i) => Number.isInteger(i) && i >= 0 && i < names.length)),
      "sample frame indices");
    /* the validator does fail: a frame without a name, a sample that is not a list */
    const broken = JSON.parse(JSON.stringify(file));
    delete broken.shared.frames[0].name;
    broken.profiles[0].samples[0] = "x";
    assert.ok(!validate(broken), "a broken file validates");
  }, browser);

  await test("switch: the next request of this browser is profiled, and not once turned off", async (page, context) => {
    await page.goto(ON + "/report");
    await openProfile(page);
    await page.locator(tb('.dtb-content-body :text("This request was not profiled")')).waitFor();
    assert.strictEqual(await page.locator(tb(".dtb-flame-frame")).count(), 0);
    await page.click(tb(".dtb-profile-switch"));
    assert.strictEqual(await page.locator(tb(".dtb-profile-switch")).getAttribute("aria-pressed"), "true");
    assert.ok((await context.cookies()).some((c) => c.name === "dtb_profile" && c.value === "1"), "cookie set");
    await profiledReport(page, ON + "/report");
    await shot(page, "03-switch");
    await page.click(tb(".dtb-profile-switch"));
    assert.ok(!(await context.cookies()).some((c) => c.name === "dtb_profile" && c.value === "1"), "cookie cleared");
    await page.goto(ON + "/report");
    await openProfile(page);
    await page.locator(tb('.dtb-content-body :text("This request was not profiled")')).waitFor();
  }, browser);

  await test("timer: the browser's navigation timing beside the server's figures", async (page) => {
    await page.goto(ON + "/visit");
    await page.waitForFunction(() => performance.getEntriesByType("navigation")[0].loadEventEnd > 0);
    await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
    await page.click(tb(".dtb-handle"));
    await page.click(panelBtn("Timer"));
    await page.locator(tb(".dtb-browser-timing")).waitFor();
    const rows = await page.evaluate(() => Array.from(
      document.getElementById("dtb-root").shadowRoot.querySelectorAll(".dtb-browser-timing tbody tr"),
      (tr) => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]));
    const byName = Object.fromEntries(rows.map((r) => [r[0], r]));
    for (const n of ["Time to first byte (TTFB)", "Download", "DOM interactive", "DOMContentLoaded", "Load"])
      assert.match(byName[n][2], /^[0-9.]+ (ms|\u00b5s)$/, n + ": " + byName[n]);
    assert.strictEqual(byName["Redirect"][2], "\u2014", "no redirect");
    /* the browser waited at least as long for the first byte as the server took for the page */
    const ttfb = await page.evaluate(() => performance.getEntriesByType("navigation")[0].responseStart);
    const server = await page.evaluate(() => fetch("/_debug_toolbar/api/requests/" + window.debugToolbar.requestId)
      .then((r) => r.json()).then((r) => r.panels.timer.handler_ms));
    assert.ok(ttfb >= server, "TTFB " + ttfb + " ms, the handler " + server + " ms");
    /* the waterfall holds the page's wait: its INSERT, committed to the disk */
    await page.locator(tb('.dtb-content-body code:has-text("INSERT INTO visit")')).waitFor();
    await shot(page, "04-browser-timing");
    /* another request's Timer panel (from the history) has no browser side */
    await page.evaluate(() => fetch("/api/cats").then((r) => r.text()));
    await page.click(tb(".dtb-history-btn"));
    await page.click(tb('.dtb-page-requests .dtb-link:text-is("GET /api/cats")'));
    await page.locator(tb('.dtb-summary .dtb-badge:text-is("not this page")')).waitFor();
    await page.click(panelBtn("Timer"));
    await page.locator(tb('.dtb-content-body h4:text-is("Waterfall")')).waitFor();
    assert.strictEqual(await page.locator(tb(".dtb-browser-timing")).count(), 0);
  }, browser);

  await browser.close();
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

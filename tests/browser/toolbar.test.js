/*
 * toolbar.test.js - the toolbar in a real browser (Debian's Chromium, headless, driven by
 * playwright-core), against the demo: opening it, every panel, the SQL actions, history,
 * state kept across reloads, keyboard use, a hostile stylesheet, pixel-identical page layout
 * with the toolbar closed versus absent, a strict CSP, no console errors; and Chromium as the
 * judge of where the injector put the toolbar in every case under tests/data/inject.
 * Run by run.sh, which starts the demo twice (toolbar on and off) and passes their URLs.
 */
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const fs = require("fs");
const path = require("path");

const ON = process.env.DTB_URL_ON;   /* toolbar enabled */
const OFF = process.env.DTB_URL_OFF; /* toolbar disabled */
const ART = process.env.DTB_ARTIFACTS;
const DATA = process.env.DTB_TEST_DATA;
let passed = 0, failed = 0;

async function test(name, fn, browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await fn(page, context);
    assert.deepStrictEqual(errors, [], "console errors");
    passed++;
    console.log("ok - " + name);
  } catch (e) {
    failed++;
    console.log("not ok - " + name + "\n  " + String(e.stack || e).split("\n").join("\n  "));
    try { await page.screenshot({ path: path.join(ART, "FAILED-" + name.replace(/\W+/g, "_") + ".png") }); } catch (x) { /* ignore */ }
  }
  await context.close();
}

const tb = (sel) => "dtb-toolbar >> " + sel;
const panelBtn = (title) => tb('.dtb-panel-btn:has(.dtb-panel-title:text-is("' + title + '"))');
const shot = (page, name) => page.screenshot({ path: path.join(ART, name + ".png") });

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

  await test("cats: handle, panels with subtitles, SQL actions, history", async (page) => {
    await page.goto(ON + "/cats");
    await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
    await shot(page, "01-closed");
    await page.click(tb(".dtb-handle"));
    const buttons = page.locator(tb(".dtb-panel-btn"));
    await buttons.first().waitFor();
    const titles = await page.locator(tb(".dtb-panel-title")).allTextContents();
    for (const t of ["Timer", "SQL", "Request", "Session", "Cache", "Templates", "Logging",
      "Routes", "Headers", "HTML check", "Config", "Versions", "History"])
      assert.ok(titles.includes(t), "panel " + t + " in " + titles);
    const subs = await page.locator(tb(".dtb-panel-sub")).allTextContents();
    assert.strictEqual(subs.length, titles.length);
    subs.forEach((s) => assert.ok(s.trim().length > 0, "empty subtitle"));
    await shot(page, "02-open");
    for (const t of titles) {
      await page.click(panelBtn(t));
      await page.locator(tb(".dtb-content-body table, .dtb-content-body details, .dtb-content-body p")).first().waitFor();
      await shot(page, "03-panel-" + t.toLowerCase());
    }
    await page.click(panelBtn("SQL"));
    const sub = await page.locator(panelBtn("SQL") + " >> .dtb-panel-sub").textContent();
    assert.match(sub, /^11 queries, 10 similar/);
    await page.locator(tb('.dtb-sql-action[data-action="explain"]')).first().waitFor();
    assert.strictEqual(await page.locator(tb('.dtb-sql-action[data-action="explain"]')).count(), 11);
    assert.ok(await page.locator(tb('.dtb-badge:has-text("similar 10")')).count() >= 10);
    await page.locator(tb(".dtb-warn:has-text('N+1')")).waitFor();
    await page.click(tb('.dtb-sql-action[data-action="explain"] >> nth=1'));
    await page.locator(tb('.dtb-sql-result:has-text("SEARCH cat")')).waitFor();
    await page.click(tb('.dtb-sql-action[data-action="select"] >> nth=2'));
    await page.locator(tb('.dtb-sql-result td:has-text("cat-2")')).waitFor();
    await shot(page, "04-sql-actions");
    await page.click(tb(".dtb-history-btn"));
    await page.locator(tb('.dtb-link:has-text("GET /cats")')).first().waitFor();
    await shot(page, "05-history");
  }, browser);

  await test("state panels: log in by the form; session, templates, logging filter, routes, HTML check", async (page) => {
    await page.goto(ON + "/login");
    await page.fill("#user", "Ada <b>Lovelace</b>");
    await page.fill("#password", "petshop");
    await Promise.all([page.waitForURL(ON + "/"), page.click("form.login button")]);
    assert.match(await page.locator("header").textContent(), /Signed in as Ada <b>Lovelace<\/b>/);
    await page.goto(ON + "/dogs");
    await page.click(tb(".dtb-handle"));
    await page.click(panelBtn("Session"));
    await page.locator(tb('.dtb-content-body .dtb-str:has-text("Ada <b>Lovelace</b>")')).first().waitFor();
    assert.strictEqual(await page.locator(tb(".dtb-content-body b")).count(), 0, "session data rendered as markup");
    await page.locator(tb('.dtb-content-body td:has-text("visits")')).waitFor();
    await shot(page, "10-session");
    await page.click(panelBtn("Templates"));
    await page.locator(tb('.dtb-content-body code:has-text("dogs.html")')).waitFor();
    await page.click(panelBtn("Logging"));
    const debugRow = page.locator(tb('.dtb-content-body tr[data-level="10"]'));
    await debugRow.first().waitFor({ state: "visible" });
    await page.selectOption(tb(".dtb-log-filter"), "20");
    await debugRow.first().waitFor({ state: "hidden" });
    await shot(page, "11-logging");
    await page.click(panelBtn("Routes"));
    await page.locator(tb('.dtb-content-body tr.dtb-current td:text-is("dogs")')).waitFor();
    await page.goto(ON + "/broken");
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" }); /* open state is kept */
    const sub = await page.locator(panelBtn("HTML check") + " >> .dtb-panel-sub").textContent();
    assert.match(sub, /^\d+ errors?, 6 lints$/);
    await page.click(panelBtn("HTML check"));
    await page.locator(tb('.dtb-content-body code:has-text("label-for")')).waitFor();
    await shot(page, "12-htmlcheck");
    /* the level filter is remembered */
    await page.goto(ON + "/dogs");
    await page.click(panelBtn("Logging"));
    assert.strictEqual(await page.locator(tb(".dtb-log-filter")).inputValue(), "20");
    await page.locator(tb('.dtb-content-body tr[data-level="10"]')).first().waitFor({ state: "hidden" });
  }, browser);

  await test("state survives reload; Escape; keyboard", async (page) => {
    await page.goto(ON + "/dogs");
    await page.click(tb(".dtb-handle"));
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" });
    await page.reload();
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" });
    await page.click(panelBtn("Timer"));
    await page.locator(tb(".dtb-content")).waitFor({ state: "visible" });
    await page.keyboard.press("Escape");
    await page.locator(tb(".dtb-content")).waitFor({ state: "hidden" });
    await page.keyboard.press("Escape");
    await page.locator(tb(".dtb-side")).waitFor({ state: "hidden" });
    await page.reload();
    await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
    assert.strictEqual(await page.locator(tb(".dtb-side")).isVisible(), false);
    /* keyboard alone: focus the handle, Enter opens, Tab reaches the panels, Enter opens one */
    await page.focus(tb(".dtb-handle"));
    await page.keyboard.press("Enter");
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" });
    await page.focus(panelBtn("Request"));
    const outline = await page.locator(panelBtn("Request")).evaluate(
      (e) => getComputedStyle(e).outlineStyle);
    assert.notStrictEqual(outline, "none", "visible focus");
    await page.keyboard.press("Enter");
    await page.locator(tb('.dtb-content-title:has-text("Request")')).waitFor();
    /* hide survives a reload */
    await page.click(tb(".dtb-side-head .dtb-btn:has-text('Hide')"));
    await page.reload();
    await page.waitForFunction(() => {
      const r = document.getElementById("dtb-root");
      return r && r.shadowRoot && r.shadowRoot.querySelector(".dtb.dtb-hidden");
    });
    await page.click(tb(".dtb-handle"));
    await page.waitForFunction(() => !document.getElementById("dtb-root").shadowRoot.querySelector(".dtb.dtb-hidden"));
  }, browser);

  await test("theme, side and handle position are chosen and remembered", async (page) => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(ON + "/dogs");
    await page.click(tb(".dtb-handle"));
    const sideBg = () => page.locator(tb(".dtb-content")).evaluate((e) => getComputedStyle(e).backgroundColor);
    await page.click(panelBtn("Timer"));
    const darkBg = await sideBg();
    await page.click(tb('.dtb-side-head button[aria-label^="Theme"]')); /* auto -> light */
    const lightBg = await sideBg();
    assert.notStrictEqual(darkBg, lightBg, "the theme switch changes colours");
    await shot(page, "08-light-in-dark-system");
    await page.click(tb('.dtb-side-head button[aria-label^="Move"]'));
    await page.reload();
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" });
    const box = await page.locator(tb(".dtb-side")).boundingBox();
    assert.strictEqual(Math.round(box.x), 0, "the toolbar moved to the left and stayed there");
    assert.strictEqual(await sideBg(), lightBg, "the light theme stayed");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    const h = page.locator(tb(".dtb-handle"));
    const b0 = await h.boundingBox();
    await page.mouse.move(b0.x + 10, b0.y + 10);
    await page.mouse.down();
    await page.mouse.move(b0.x + 10, 700, { steps: 5 });
    await page.mouse.up();
    await page.reload();
    const b1 = await page.locator(tb(".dtb-handle")).boundingBox();
    assert.ok(b1.y > b0.y + 200, "the dragged handle position is remembered");
    assert.strictEqual(Math.round(b1.x), 0);
    await shot(page, "09-left-dark");
  }, browser);

  await test("hostile page CSS cannot break the toolbar", async (page) => {
    await page.goto(ON + "/chaos");
    const handle = page.locator(tb(".dtb-handle"));
    await handle.waitFor({ state: "visible" });
    const fs = await handle.evaluate((e) => getComputedStyle(e).fontSize);
    assert.strictEqual(fs, "14px");
    await handle.click();
    const box = await page.locator(tb(".dtb-side")).boundingBox();
    assert.strictEqual(Math.round(box.width), 240);
    assert.strictEqual(Math.round(box.x + box.width), 1280);
    await shot(page, "06-chaos");
  }, browser);

  await test("page layout is pixel-identical with the toolbar closed and absent", async (page) => {
    for (const p of ["/", "/cats", "/chaos"]) {
      await page.goto(OFF + p);
      await page.waitForLoadState("load");
      const absent = await page.screenshot({ clip: { x: 0, y: 0, width: 1200, height: 800 } });
      await page.goto(ON + p);
      await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
      const closed = await page.screenshot({ clip: { x: 0, y: 0, width: 1200, height: 800 } });
      assert.ok(absent.equals(closed), "layout differs on " + p);
    }
  }, browser);

  await test("strict CSP with a nonce: the toolbar works, no violations", async (page) => {
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__violations.push(e.violatedDirective + " " + e.blockedURI);
      });
    });
    await page.goto(ON + "/csp");
    await page.click(tb(".dtb-handle"));
    await page.click(panelBtn("Timer"));
    await page.locator(tb(".dtb-content-body table")).first().waitFor();
    const bg = await page.locator(tb(".dtb-side")).evaluate((e) => getComputedStyle(e).position);
    assert.strictEqual(bg, "fixed", "the stylesheet loaded inside the shadow root");
    assert.deepStrictEqual(await page.evaluate(() => window.__violations), []);
    assert.match(await page.locator("#check").textContent(), /own script ran/);
    await shot(page, "07-csp");
  }, browser);

  await test("Chromium places the toolbar as the injector says, in every injection case", async (page) => {
    let n = 0, html = "";
    /* the case's page itself; anything else it asks for (a favicon) is empty */
    await page.route("http://case.test/**", (route) =>
      route.request().url() === "http://case.test/"
        ? route.fulfill({ status: 200, contentType: "text/html", body: html })
        : route.fulfill({ status: 204, body: "" }));
    for (const c of fs.readdirSync(path.join(DATA, "inject")).sort()) {
      const dir = path.join(DATA, "inject", c);
      if (fs.existsSync(path.join(dir, "content-type"))) continue;
      html = fs.readFileSync(path.join(dir, "expected.html"));
      await page.goto("http://case.test/");
      const r = await page.evaluate(() => {
        const all = document.querySelectorAll("dtb-toolbar");
        return { count: all.length, inBody: all.length === 1 && !!all[0].closest("body") };
      });
      assert.strictEqual(r.count, 1, c + ": " + r.count + " toolbar elements");
      assert.ok(r.inBody, c + ": not inside body");
      n++;
    }
    assert.ok(n >= 25, "cases checked: " + n);
  }, browser);

  await browser.close();
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });

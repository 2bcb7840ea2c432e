/*
 * toolbar.test.js - the toolbar in a real browser (Debian's Chromium, headless, driven by
 * playwright-core), against the demo: opening it, every panel, the SQL actions, history and
 * switching to another request, the page's own fetch/XHR calls (/live), state kept across
 * reloads, keyboard use (Tab from the page's start, focus ring, arrow keys moving the handle),
 * a hostile stylesheet, elements that claim to be the toolbar's, pixel-identical page layout
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
const summaryPath = (p) => tb('.dtb-summary .dtb-path:text-is("' + p + '")');

/* Waits until the open panel TITLE shows its content (not "Loading…"), and fails if it shows an
 * error (a panel that failed to load or to render, or a failed history) instead. */
async function panelLoaded(page, title) {
  const h = await page.waitForFunction((title) => {
    const r = document.getElementById("dtb-root").shadowRoot;
    if (r.querySelector(".dtb-content-title").textContent !== title) return null;
    const body = r.querySelector(".dtb-content-body");
    const err = body.querySelector(".dtb-error");
    if (err) return { error: err.textContent };
    return body.querySelector("table, details, pre, ul, h4, p") ? { ok: true } : null;
  }, title);
  const v = await h.jsonValue();
  assert.deepStrictEqual(v, { ok: true }, "the " + title + " panel");
}

/* The History panel's rows of the page's own fetch/XHR calls, newest first: "GET /path 200". */
const pageRequestRows = (page) => page.evaluate(() => Array.from(
  document.getElementById("dtb-root").shadowRoot.querySelectorAll(".dtb-page-requests tbody tr"),
  (tr) => tr.querySelector(".dtb-link").textContent + " " + tr.cells[1].textContent));
/* ... and their request ids, which must all differ */
const pageRequestIds = (page) => page.evaluate(() => Array.from(
  document.getElementById("dtb-root").shadowRoot.querySelectorAll(".dtb-page-requests tbody tr"),
  (tr) => tr.getAttribute("data-id")));
async function assertDistinctIds(page, n) {
  const ids = await pageRequestIds(page);
  const own = await page.evaluate(() => window.debugToolbar.requestId);
  assert.strictEqual(new Set(ids.concat([own])).size, n + 1, "distinct request ids: " + ids);
}

/* The element focused inside the toolbar, described as the tests need it; null outside it. */
const toolbarFocus = (page) => page.evaluate(() => {
  const a = document.activeElement;
  const f = a && a.id === "dtb-root" ? a.shadowRoot.activeElement : null;
  if (!f) return null;
  const t = f.querySelector(".dtb-panel-title");
  return { cls: f.className, panel: t ? t.textContent : null };
});

/* Presses Tab (at most MAX times) until the toolbar's focused element has class CLS (and is the
 * button of panel PANEL, if given); returns how many presses it took. */
async function tabTo(page, cls, panel, max) {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press("Tab");
    const f = await toolbarFocus(page);
    if (f && f.cls.split(" ").includes(cls) && (!panel || f.panel === panel)) return i;
  }
  throw new Error("Tab did not reach ." + cls + (panel ? " " + panel : "") + " in " + max + " presses");
}

/* The focused toolbar element's outline, and the toolbar's accent colour as rgb() */
const focusRing = (page) => page.evaluate(() => {
  const r = document.getElementById("dtb-root").shadowRoot;
  const cs = getComputedStyle(r.activeElement);
  const hex = getComputedStyle(r.querySelector(".dtb")).getPropertyValue("--accent").trim();
  const n = parseInt(hex.slice(1), 16);
  return {
    ring: cs.outlineStyle + " " + cs.outlineWidth + " " + cs.outlineColor,
    accent: "solid 2px rgb(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ")",
  };
});

/* The demo's /cats page as Chromium shows it, however it was sent (resp): one toolbar, in the
 * body, the page's 11 table rows, and its bytes those of plain (/cats) but for the markup. */
async function assertCatsWithToolbar(page, resp, plain) {
  await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
  const r = await page.evaluate(() => ({
    n: document.querySelectorAll("dtb-toolbar").length,
    inBody: !!document.querySelector("dtb-toolbar").closest("body"),
    rows: document.querySelectorAll("table tr").length,
  }));
  assert.deepStrictEqual(r, { n: 1, inBody: true, rows: 11 });
  const strip = (s) => s.replace(/<dtb-toolbar[^]*?<\/script>/, "");
  assert.strictEqual(strip(await resp.text()), strip(plain));
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

  await test("cats: handle, panels with subtitles, SQL actions, history", async (page) => {
    await page.goto(ON + "/dogs"); /* an older request, for the history */
    await page.locator(tb(".dtb-handle")).waitFor({ state: "visible" });
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
    /* every header button inside the sidebar (the close button was once cut off at its edge),
     * and the header still in view when the panel list is scrolled to its end */
    const fit = await page.evaluate(() => {
      const r = document.getElementById("dtb-root").shadowRoot;
      const side = r.querySelector(".dtb-side"), box = side.getBoundingClientRect();
      const out = Array.from(r.querySelectorAll(".dtb-side-head .dtb-btn")).filter((b) => {
        const e = b.getBoundingClientRect();
        return e.left < box.left || e.right > box.right || e.width === 0;
      }).map((b) => b.getAttribute("aria-label") || b.title);
      side.scrollTop = side.scrollHeight;
      const head = r.querySelector(".dtb-side-head").getBoundingClientRect();
      return { out: out, headTop: Math.round(head.top - box.top), scrolled: side.scrollTop > 0 };
    });
    assert.deepStrictEqual(fit, { out: [], headTop: 0, scrolled: true });
    for (const t of titles) {
      await page.click(panelBtn(t));
      await panelLoaded(page, t);
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
    /* the SQL panel's own stylesheet (sql.css, its nav's "style") applies, inside the Shadow
     * DOM only: once, and never in the page's document */
    await page.waitForFunction((host) => {
      const box = document.querySelector(host).shadowRoot.querySelector(".dtb-sql-result");
      return box && getComputedStyle(box).borderLeftWidth === "3px";
    }, "dtb-toolbar");
    assert.deepStrictEqual(await page.evaluate((host) => [
      document.querySelector(host).shadowRoot.querySelectorAll('link[data-dtb-style="sql.css"]').length,
      document.querySelectorAll("link[data-dtb-style]").length], "dtb-toolbar"), [1, 0]);
    await shot(page, "04-sql-actions");
    await page.click(tb(".dtb-history-btn"));
    await page.locator(tb('.dtb-link:has-text("GET /cats")')).first().waitFor();
    await shot(page, "05-history");
    /* an older request in the history: the whole toolbar shows it, then back to this page's */
    await page.click(tb('.dtb-history-requests .dtb-link:text-is("GET /dogs") >> nth=0'));
    await page.locator(summaryPath("/dogs")).waitFor();
    await page.locator(tb('.dtb-summary .dtb-badge:text-is("not this page")')).waitFor();
    assert.match(await page.locator(panelBtn("SQL") + " >> .dtb-panel-sub").textContent(), /^1 query\b/);
    await page.click(panelBtn("Request"));
    await panelLoaded(page, "Request");
    await page.locator(tb('.dtb-content-body tr:has(td:text-is("Path")) code:text-is("/dogs")')).first().waitFor();
    await shot(page, "05-history-switched");
    await page.click(tb(".dtb-history-btn"));
    await page.click(tb(".dtb-back"));
    await page.locator(summaryPath("/cats")).waitFor();
    assert.strictEqual(await page.locator(tb(".dtb-summary .dtb-badge")).count(), 0);
    assert.match(await page.locator(panelBtn("SQL") + " >> .dtb-panel-sub").textContent(), /^11 queries/);
  }, browser);

  await test("live: the page's fetch and XHR calls are listed as they happen, each can be shown", async (page) => {
    await page.goto(ON + "/live");
    await page.locator(tb(".dtb-history-btn")).waitFor({ state: "attached" }); /* record loaded */
    await page.click("#load-cats"); /* fetch */
    await page.locator(tb('.dtb-history-sub:text-is("1 from this page")')).waitFor({ state: "attached" });
    await page.click("#load-dogs"); /* XMLHttpRequest */
    await page.locator(tb('.dtb-history-sub:text-is("2 from this page")')).waitFor({ state: "attached" });
    assert.ok(await page.locator("#animals li").count() > 0, "the page showed the animals");
    await page.click(tb(".dtb-handle"));
    await page.click(tb(".dtb-history-btn"));
    await panelLoaded(page, "History");
    assert.deepStrictEqual(await pageRequestRows(page), ["GET /api/dogs 200", "GET /api/cats 200"]);
    /* listed live, while the History panel is open */
    const n = await page.evaluate(() => fetch("/api/cats?live=1").then((r) => r.json()).then((a) => a.length));
    assert.ok(n > 0);
    await page.waitForFunction(() => document.getElementById("dtb-root").shadowRoot
      .querySelectorAll(".dtb-page-requests tbody tr").length === 3);
    assert.deepStrictEqual(await pageRequestRows(page),
      ["GET /api/cats?live=1 200", "GET /api/dogs 200", "GET /api/cats 200"]);
    await assertDistinctIds(page, 3);
    await shot(page, "13-live-history");
    /* the XHR call: the whole toolbar switches to its panels */
    await page.click(tb('.dtb-page-requests .dtb-link:text-is("GET /api/dogs")'));
    await page.locator(summaryPath("/api/dogs")).waitFor();
    await page.locator(tb('.dtb-summary .dtb-badge:text-is("not this page")')).waitFor();
    await page.click(panelBtn("Request"));
    await panelLoaded(page, "Request");
    await page.locator(tb('.dtb-content-body tr:has(td:text-is("Path")) code:text-is("/api/dogs")')).first().waitFor();
    await page.click(panelBtn("SQL"));
    await panelLoaded(page, "SQL");
    await page.locator(tb('.dtb-content-body :text("FROM dog")')).first().waitFor();
    await shot(page, "14-live-switched");
    /* the fetch call too; the list of the page's calls stays */
    await page.click(tb(".dtb-history-btn"));
    await panelLoaded(page, "History");
    await page.click(tb('.dtb-page-requests .dtb-link:text-is("GET /api/cats?live=1")'));
    await page.locator(summaryPath("/api/cats")).waitFor();
    await page.click(panelBtn("Request"));
    await panelLoaded(page, "Request");
    await page.locator(tb('.dtb-content-body tr:has(td:text-is("Path")) code:text-is("/api/cats")')).first().waitFor();
    await page.click(tb(".dtb-history-btn"));
    await panelLoaded(page, "History");
    assert.strictEqual((await pageRequestRows(page)).length, 3);
    await page.click(tb(".dtb-back"));
    await page.locator(summaryPath("/live")).waitFor();
  }, browser);

  await test("one XMLHttpRequest reused for 3 requests is listed 3 times, each as itself", async (page) => {
    const open = async () => {
      await page.click(tb(".dtb-handle"));
      await page.click(tb(".dtb-history-btn"));
      await panelLoaded(page, "History");
    };
    await page.goto(ON + "/live");
    await page.locator(tb(".dtb-history-btn")).waitFor({ state: "attached" });
    /* one request after the other, each opened once the previous one's load event is over */
    await page.evaluate(async () => {
      const x = new XMLHttpRequest();
      for (const u of ["/api/cats?n=1", "/api/dogs?n=2", "/api/cats?n=3"]) {
        await new Promise((resolve, reject) => {
          x.onload = () => setTimeout(resolve, 0);
          x.onerror = reject;
          x.open("GET", u);
          x.send();
        });
      }
    });
    await open();
    assert.deepStrictEqual(await pageRequestRows(page),
      ["GET /api/cats?n=3 200", "GET /api/dogs?n=2 200", "GET /api/cats?n=1 200"]);
    await assertDistinctIds(page, 3);
    assert.strictEqual(await page.locator(tb(".dtb-history-sub")).textContent(), "3 from this page");
    /* the next request opened from the page's own load handler, which runs before the toolbar's */
    await page.reload();
    await page.locator(tb(".dtb-history-btn")).waitFor({ state: "attached" });
    await page.evaluate(() => new Promise((resolve, reject) => {
      const urls = ["/api/dogs?m=1", "/api/cats?m=2", "/api/dogs?m=3"];
      const x = new XMLHttpRequest();
      let i = 0;
      x.onerror = reject;
      x.onload = () => {
        if (++i === urls.length) {
          resolve();
          return;
        }
        x.open("GET", urls[i]);
        x.send();
      };
      x.open("GET", urls[0]);
      x.send();
    }));
    await page.locator(tb('.dtb-history-sub:text-is("3 from this page")')).waitFor({ state: "attached" });
    if (!(await page.locator(tb(".dtb-side")).isVisible())) await page.click(tb(".dtb-handle"));
    if (!(await page.locator(tb(".dtb-content")).isVisible())) await page.click(tb(".dtb-history-btn"));
    await panelLoaded(page, "History");
    assert.deepStrictEqual(await pageRequestRows(page),
      ["GET /api/dogs?m=3 200", "GET /api/cats?m=2 200", "GET /api/dogs?m=1 200"]);
    await assertDistinctIds(page, 3);
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
    /* keyboard alone, from the page's start: Tab reaches the handle after the page's own links,
     * with the toolbar's focus ring (not the browser's default one); Enter opens the toolbar and
     * moves the focus into it; Tab reaches the panels; Enter opens one, Escape closes it and then
     * the toolbar, and the focus is back on the handle */
    await page.locator(tb(".dtb-panel-btn")).first().waitFor({ state: "attached" }); /* loaded */
    assert.strictEqual(await toolbarFocus(page), null);
    const presses = await tabTo(page, "dtb-handle", null, 60);
    assert.ok(presses > 1, "the page's links come first: " + presses);
    let ring = await focusRing(page);
    assert.strictEqual(ring.ring, ring.accent, "the handle's visible focus");
    await page.keyboard.press("Enter");
    await page.locator(tb(".dtb-side")).waitFor({ state: "visible" });
    assert.strictEqual((await toolbarFocus(page)).panel, "Timer", "the focus moved into the toolbar");
    await tabTo(page, "dtb-panel-btn", "Request", 20);
    ring = await focusRing(page);
    assert.strictEqual(ring.ring, ring.accent, "the panel button's visible focus");
    await page.keyboard.press("Enter");
    await panelLoaded(page, "Request");
    await shot(page, "15-keyboard-panel");
    await page.keyboard.press("Escape");
    await page.locator(tb(".dtb-content")).waitFor({ state: "hidden" });
    assert.strictEqual((await toolbarFocus(page)).panel, "Request");
    await page.keyboard.press("Escape");
    await page.locator(tb(".dtb-side")).waitFor({ state: "hidden" });
    assert.match((await toolbarFocus(page)).cls, /\bdtb-handle\b/);
    /* the arrow keys move the focused handle (5% of the height a press), and it is remembered */
    const handle = page.locator(tb(".dtb-handle"));
    assert.match(await handle.getAttribute("title"), /Up and Down arrow keys/);
    assert.match(await handle.getAttribute("aria-label"), /Up and Down arrow keys/);
    const y0 = (await handle.boundingBox()).y;
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    const y1 = (await handle.boundingBox()).y;
    assert.strictEqual(Math.round(y1 - y0), 80, "moved down by 2 x 5% of 800 px");
    assert.strictEqual(await page.evaluate(() => window.scrollY), 0, "the page did not scroll");
    await page.reload();
    await handle.waitFor({ state: "visible" });
    assert.strictEqual((await handle.boundingBox()).y, y1, "the moved handle is remembered");
    /* clamped to the viewport */
    await handle.focus();
    for (let i = 0; i < 25; i++) await page.keyboard.press("ArrowUp");
    assert.strictEqual((await handle.boundingBox()).y, 0, "clamped at the top");
    for (let i = 0; i < 25; i++) await page.keyboard.press("ArrowDown");
    const b = await handle.boundingBox();
    assert.ok(b.y > 600 && b.y + b.height <= 800, "clamped at the bottom: " + JSON.stringify(b));
    /* hide survives a reload */
    await page.click(tb(".dtb-handle"));
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
    /* the modules loaded when first shown carry the nonce too: the Timer's browser side, History */
    await page.locator(tb(".dtb-browser-timing")).waitFor();
    await page.click(tb(".dtb-history-btn"));
    await panelLoaded(page, "History");
    const bg = await page.locator(tb(".dtb-side")).evaluate((e) => getComputedStyle(e).position);
    assert.strictEqual(bg, "fixed", "the stylesheet loaded inside the shadow root");
    assert.deepStrictEqual(await page.evaluate(() => window.__violations), []);
    assert.match(await page.locator("#check").textContent(), /own script ran/);
    await shot(page, "07-csp");
  }, browser);

  await test("elements that claim to be the toolbar's do not steer it (DOM clobbering)", async (page) => {
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    const resp = await page.goto(ON + "/clobber");
    const id = resp.headers()["x-debug-toolbar-id"];
    assert.match(id || "", /^[0-9a-f]{16}$/);
    await page.click(tb(".dtb-handle"));
    await page.click(panelBtn("Timer"));
    await page.locator(tb(".dtb-content-body table")).first().waitFor();
    const hosts = await page.evaluate(() => Array.from(document.querySelectorAll("#dtb-root"),
      (e) => ({ tag: e.localName, shadow: !!e.shadowRoot, id: e.getAttribute("data-id"),
                nextIsScript: !!e.nextElementSibling && e.nextElementSibling.localName === "script" })));
    assert.deepStrictEqual(hosts, [
      { tag: "div", shadow: false, id: "0000000000000000", nextIsScript: false },
      { tag: "dtb-toolbar", shadow: false, id: null, nextIsScript: false },
      { tag: "dtb-toolbar", shadow: true, id: id, nextIsScript: true }]);
    assert.strictEqual(await page.evaluate(() => window.debugToolbar.requestId), id);
    const origin = new URL(ON).origin;
    const elsewhere = requests.filter((u) => new URL(u).origin !== origin);
    assert.deepStrictEqual(elsewhere, [], "fetched from another origin");
    const toolbar = requests.filter((u) => new URL(u).pathname.indexOf("/_debug_toolbar/") === 0);
    assert.ok(toolbar.some((u) => u.indexOf("/_debug_toolbar/api/requests/" + id) >= 0),
      "the toolbar loaded its request from its own prefix: " + toolbar.join(" "));
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
      if (fs.existsSync(path.join(dir, "skip-reason"))) continue; /* not injected, by design */
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

  await test("a page the app gzips gets the toolbar in Chromium, and its bytes arrive intact", async (page) => {
    const plain = await (await page.request.get(ON + "/cats", { headers: { "Accept-Encoding": "identity" } })).text();
    const resp = await page.goto(ON + "/gz/cats"); /* Chromium sends Accept-Encoding: gzip, br */
    const h = resp.headers();
    assert.ok(!h["content-encoding"], "sent decoded (the browser accepts identity): " + h["content-encoding"]);
    assert.ok(/accept-encoding/i.test(h["vary"] || ""), "Vary kept: " + h["vary"]);
    await assertCatsWithToolbar(page, resp, plain);
    /* when the browser refuses identity, the page goes out gzipped again, with the toolbar */
    const re = await page.request.get(ON + "/gz/cats", { headers: { "Accept-Encoding": "gzip, identity;q=0" } });
    assert.strictEqual(re.headers()["content-encoding"], "gzip");
    assert.strictEqual((await re.text()).split("<dtb-toolbar").length, 2, "one toolbar in the re-encoded page");
  }, browser);

  await test("a page the app streams in chunks gets the toolbar in Chromium as it streams by", async (page) => {
    const plain = await (await page.request.get(ON + "/cats")).text();
    const resp = await page.goto(ON + "/chunked/cats");
    assert.ok(!resp.headers()["content-length"], "sent chunked");
    await assertCatsWithToolbar(page, resp, plain);
    /* its record says it was injected */
    const id = resp.headers()["x-debug-toolbar-id"];
    const rec = await (await page.request.get(ON + "/_debug_toolbar/api/requests/" + id)).json();
    assert.strictEqual(rec.injected, true, "record: " + rec.skip_reason);
  }, browser);

  await browser.close();
  console.log(passed + " passed, " + failed + " failed");
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });

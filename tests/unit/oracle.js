/*
 * oracle.js - the injector's cases held to a WHATWG-conformant HTML5 parser (npm parse5): for
 * every case under tests/data/inject that gets the toolbar, expected.html must parse with
 * exactly one <dtb-toolbar>, an HTML-namespace element inside <body> and outside any template
 * content, and the tree without it must equal input.html's tree. A case that browsers are known
 * to reconstruct around the toolbar (formatting elements still open) is named in a
 * `reconstruction` file and checked for the first two only.
 *
 * Then every saved fuzz input of the injector's fuzz targets and a generated family of pages
 * (prefixes, bodies ending in every construct the scanner tracks, and endings, alone and in
 * pairs) go through the injector itself (inject_decide, built with the tests): a page it
 * injects must parse the same way (the markup spliced at its offset), where an open formatting
 * element the parser clones around the toolbar is counted as a reconstruction; a page it skips
 * must carry a reason. None may be "injected" where the browser would not show the toolbar.
 * Run by oracle.sh.
 */
"use strict";
const parse5 = require("parse5");
const fs = require("fs");
const path = require("path");

const os = require("os");
const { execFileSync } = require("child_process");

const HTML_NS = "http://www.w3.org/1999/xhtml";
const root = path.join(process.env.TOP_SRCDIR, "tests", "data", "inject");
let checked = 0, failed = 0;

function find(node, out) {
  if (node.tagName === "dtb-toolbar") out.push(node);
  for (const c of node.childNodes || []) find(c, out);
  if (node.content) find(node.content, out); /* template contents */
  return out;
}

function inTemplate(node) {
  for (let n = node; n; n = n.parentNode) if (n.nodeName === "#document-fragment") return true;
  return false;
}

function inBody(node) {
  for (let n = node.parentNode; n; n = n.parentNode) if (n.tagName === "body") return true;
  return false;
}

for (const c of fs.readdirSync(root).sort()) {
  const dir = path.join(root, c);
  const has = (f) => fs.existsSync(path.join(dir, f));
  if (has("content-type") || has("skip-reason")) continue;
  const input = fs.readFileSync(path.join(dir, "input.html"), "utf8");
  const expected = fs.readFileSync(path.join(dir, "expected.html"), "utf8");
  const doc = parse5.parse(expected);
  const all = find(doc, []);
  const errs = [];
  if (all.length !== 1) errs.push(all.length + " toolbar elements");
  else {
    const t = all[0];
    if (t.namespaceURI !== HTML_NS) errs.push("the toolbar is in " + t.namespaceURI);
    if (!inBody(t)) errs.push("the toolbar is not inside body");
    if (inTemplate(t)) errs.push("the toolbar is inside template content");
    if (!has("reconstruction")) {
      const p = t.parentNode;
      p.childNodes.splice(p.childNodes.indexOf(t), 1);
      /* adjacent text nodes the toolbar split are one text in the original */
      for (let i = 0; i + 1 < p.childNodes.length; i++) {
        const a = p.childNodes[i], b = p.childNodes[i + 1];
        if (a.nodeName === "#text" && b.nodeName === "#text") {
          a.value += b.value;
          p.childNodes.splice(i + 1, 1);
          i--;
        }
      }
      if (parse5.serialize(doc) !== parse5.serialize(parse5.parse(input)))
        errs.push("the page's tree without the toolbar differs from the original's");
    }
  }
  checked++;
  if (errs.length) {
    failed++;
    console.log("not ok - " + c + ": " + errs.join("; "));
  } else {
    console.log("ok - " + c);
  }
}
console.log(checked + " cases checked, " + failed + " failed");
const casesOk = failed === 0 && checked >= 30;

/* ---- the fuzz corpus and a generated family, through the injector itself -------------------- */

const MARKUP = '<dtb-toolbar id="dtb-root" data-id="0123456789abcdef"></dtb-toolbar>' +
  '<script src="/_debug_toolbar/static/toolbar.js" data-id="0123456789abcdef" async="async">' +
  "</script>";
const FORMATTING = new Set(["a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small",
  "strike", "strong", "tt", "u"]);

/* Removes node from its parent, merging the text nodes it separated. */
function unlink(node) {
  const p = node.parentNode;
  p.childNodes.splice(p.childNodes.indexOf(node), 1);
  mergeText(p);
}

/* Adjacent text nodes of p become one, as they are in a tree parsed without the toolbar. */
function mergeText(p) {
  for (let i = 0; i + 1 < p.childNodes.length; i++) {
    const a = p.childNodes[i], b = p.childNodes[i + 1];
    if (a.nodeName === "#text" && b.nodeName === "#text") {
      a.value += b.value;
      p.childNodes.splice(i + 1, 1);
      i--;
    }
  }
}

function findScripts(node, out) {
  if (node.tagName === "script" && node.attrs &&
      node.attrs.some((a) => a.name === "data-id" && a.value === "0123456789abcdef")) out.push(node);
  for (const c of node.childNodes || []) findScripts(c, out);
  if (node.content) findScripts(node.content, out);
  return out;
}

/* "ok", "reconstruction", or what is wrong, for a page and the injector's offset. */
function judge(page, at) {
  const spliced = Buffer.concat([page.subarray(0, at), Buffer.from(MARKUP), page.subarray(at)]);
  const doc = parse5.parse(spliced.toString("latin1"));
  const hosts = find(doc, []);
  const own = hosts.filter((h) => h.attrs.some((a) => a.name === "data-id" &&
    a.value === "0123456789abcdef"));
  if (own.length !== 1) return own.length + " toolbar elements";
  const t = own[0];
  if (t.namespaceURI !== HTML_NS) return "the toolbar is in " + t.namespaceURI;
  if (!inBody(t)) return "the toolbar is not inside body";
  if (inTemplate(t)) return "the toolbar is inside template content";
  const scripts = findScripts(doc, []);
  if (scripts.length !== 1 || scripts[0].namespaceURI !== HTML_NS)
    return "the toolbar's script is not one HTML script";
  const want = parse5.serialize(parse5.parse(page.toString("latin1")));
  const before = parse5.serialize(doc); /* with the toolbar, to cut at it */
  const parent = t.parentNode;
  unlink(scripts[0]);
  unlink(t);
  if (parse5.serialize(doc) === want) return "ok";
  /* the parser reconstructs open formatting elements around the toolbar: a clone that holds
   * the toolbar (and what followed it in the same reconstruction) */
  if (FORMATTING.has(parent.tagName)) {
    const gp = parent.parentNode;
    const kids = parent.childNodes;
    kids.forEach((k) => { k.parentNode = gp; });
    gp.childNodes.splice(gp.childNodes.indexOf(parent), 1, ...kids);
    mergeText(gp);
    if (parse5.serialize(doc) === want) return "reconstruction";
    /* what followed in the page may have gone into the clone too: then the page up to the
     * toolbar (less the clone's start tag) must be the original's */
    const upto = before.slice(0, before.indexOf("<dtb-toolbar"));
    const open = "<" + parent.tagName + ">";
    if (upto.endsWith(open) && want.startsWith(upto.slice(0, -open.length)))
      return "reconstruction";
  }
  return "the page's tree without the toolbar differs from the original's";
}

function generated() {
  const prefixes = ["", "<!DOCTYPE html>", "<!DOCTYPE html><html><head><title>t</title></head>"];
  const bodies = ["<body>", ""];
  const middles = ["<p>text</p>", "<b>bold", "<u><i>both", "<table><tr><td>cell",
    "<select><option>a", "<template><p>t", "<svg><circle/>", "<svg><foreignObject><p>x",
    "<math><mi>x", "<noscript>ns", "<textarea>ta", "<title>tt", "<style>s{}",
    "<script>var a = '</body>';</script>", "<script><!--<script>", "<!-- open comment",
    "<div title='a", "<plaintext>pt", "<iframe>if", "<xmp>x", "text & < more"];
  const enders = ["", "</body>", "</body></html>", "</body></html>\n<!-- after -->",
    "</html>", "\n"];
  const out = [];
  for (const p of prefixes)
    for (const b of bodies)
      for (const m of middles)
        for (const e of enders) out.push(p + b + m + e);
  for (const m1 of middles)
    for (const m2 of middles) out.push("<!DOCTYPE html><body>" + m1 + m2 + "</body></html>");
  return out;
}

const helper = path.join(process.env.TOP_BUILDDIR, "tests", "unit", "inject_decide");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "oracle-"));
const files = [];
for (const t of ["fuzz_inject", "fuzz_inject_gumbo"]) {
  const d = path.join(process.env.TOP_SRCDIR, "tests", "data", "fuzz", t);
  if (fs.existsSync(d)) for (const f of fs.readdirSync(d).sort()) files.push(path.join(d, f));
}
generated().forEach((page, i) => {
  const f = path.join(tmp, "gen-" + String(i).padStart(4, "0") + ".html");
  fs.writeFileSync(f, page);
  files.push(f);
});
const decisions = execFileSync(helper, files, { maxBuffer: 64 << 20 }).toString().trim()
  .split("\n").map((l) => JSON.parse(l));
const tally = { injected: 0, reconstruction: 0, skipped: 0 };
let bad = 0;
for (const d of decisions) {
  const name = d.file.startsWith(tmp) ? "generated " + path.basename(d.file) : d.file;
  if (d.at < 0) {
    if (typeof d.why !== "string" || d.why === "") {
      bad++;
      console.log("not ok - " + name + ": skipped without a reason");
    } else {
      tally.skipped++;
    }
    continue;
  }
  const page = fs.readFileSync(d.file);
  const v = judge(page, d.at);
  if (v === "ok") tally.injected++;
  else if (v === "reconstruction") tally.reconstruction++;
  else {
    bad++;
    console.log("not ok - " + name + " (offset " + d.at + "): " + v + "\n  " +
      JSON.stringify(page.toString("latin1").slice(0, 300)));
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
console.log(decisions.length + " more pages through the injector (" + tally.injected +
  " injected, " + tally.reconstruction + " with formatting reconstructed around the toolbar, " +
  tally.skipped + " skipped with a reason), " + bad + " wrong");
process.exit(casesOk && bad === 0 && decisions.length === files.length &&
  decisions.length > 500 ? 0 : 1);

/*
 * oracle.js - the injector's cases held to a WHATWG-conformant HTML5 parser (npm parse5): for
 * every case under tests/data/inject that gets the toolbar, expected.html must parse with
 * exactly one <dtb-toolbar>, an HTML-namespace element inside <body> and outside any template
 * content, and the tree without it must equal input.html's tree. A case that browsers are known
 * to reconstruct around the toolbar (formatting elements still open) is named in a
 * `reconstruction` file and checked for the first two only. Run by oracle.sh.
 */
"use strict";
const parse5 = require("parse5");
const fs = require("fs");
const path = require("path");

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
process.exit(failed === 0 && checked >= 30 ? 0 : 1);

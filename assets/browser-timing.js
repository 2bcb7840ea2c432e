/*
 * browser-timing.js - the Timer panel's browser side, in the injected toolbar only: the page's
 * own PerformanceNavigationTiming (redirect, DNS, connect, TTFB, download, DOM interactive,
 * DOMContentLoaded, load) in a table after the server's figures. A phase that has not happened
 * yet (the load event, while the page still loads) shows a dash.
 *
 * toolbar.js loads it like a panel's module (common.js's loadModule: the page's CSP nonce,
 * toolbar.js's version) when it shows the Timer panel of the page's own request, and runs it on
 * the panel's first table (so a panel closed meanwhile gets nothing). Never on the toolbar's
 * page: the requests shown there are not that page's navigation. Like sql.js it registers
 * itself in window.debugToolbarModules and takes el from common.js, loaded before it; recorded
 * figures reach the DOM through textContent.
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};
  var common = modules["common.js"]; /* a function, as the hosts check */
  var ui = typeof common === "function" ? common() : null;
  var el = ui ? ui.el : null;

  /* first: the Timer panel's first table, shown in the toolbar */
  function browserTiming(first) {
    var t = window.performance && performance.getEntriesByType ?
      performance.getEntriesByType("navigation")[0] : null;
    if (!t || !first) {
      return;
    }
    var fmt = ui.fmtMs;
    var rows = [["Redirect", t.redirectStart, t.redirectEnd],
      ["DNS lookup", t.domainLookupStart, t.domainLookupEnd],
      ["Connect (TCP, TLS)", t.connectStart, t.connectEnd],
      ["Time to first byte (TTFB)", 0, t.responseStart],
      ["of which request sent to first byte", t.requestStart, t.responseStart],
      ["Download", t.responseStart, t.responseEnd],
      ["DOM interactive", 0, t.domInteractive],
      ["DOMContentLoaded", 0, t.domContentLoadedEventEnd],
      ["Load", 0, t.loadEventEnd]];
    var table = el("table", "dtb-table dtb-browser-timing");
    var head = table.appendChild(el("thead")).appendChild(el("tr"));
    head.appendChild(el("th", "", "Browser (this page's navigation)"));
    head.appendChild(el("th", "dtb-num", "Start"));
    head.appendChild(el("th", "dtb-num", "Duration"));
    var body = table.appendChild(el("tbody"));
    rows.forEach(function (r) {
      var tr = body.appendChild(el("tr"));
      var done = r[2] > 0 && r[2] >= r[1];
      tr.appendChild(el("td", "", r[0]));
      tr.appendChild(el("td", "dtb-num", done ? fmt(r[1]) : "\u2014"));
      tr.appendChild(el("td", "dtb-num", done ? fmt(r[2] - r[1]) : "\u2014"));
    });
    first.parentNode.insertBefore(table, first.nextSibling);
    first.parentNode.insertBefore(el("h4", "dtb-h", "In the browser"), table);
  }

  modules["browser-timing.js"] = function (node) {
    if (el) {
      browserTiming(node);
    }
  };
}());

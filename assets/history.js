/*
 * history.js - the injected toolbar's History panel: the fetch/XHR calls this page made that
 * the toolbar recorded, then the whole history, newest first; a request's line (its store,
 * why a page got no toolbar, the panels' marks, the serving daemon when there are several)
 * switches the toolbar to that request, and a button goes back to the page's own.
 *
 * toolbar.js loads it like a panel's module (common.js's loadModule: the page's CSP nonce,
 * toolbar.js's version) when the panel first opens, and runs it on the panel's body each time
 * the panel is drawn, with host.context = {pageId, pageRequests (the page's calls, oldest
 * first), shown() (the History panel still open?), switchTo(id)}. Like sql.js it registers
 * itself in window.debugToolbarModules and takes its helpers from common.js, loaded before it.
 * Recorded strings reach the DOM through textContent.
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};
  var common = modules["common.js"]; /* a function, as the hosts check */
  var ui = typeof common === "function" ? common() : null;
  var el = ui ? ui.el : null, button = ui ? ui.button : null;
  var switchTo = null; /* the toolbar's, set on each run */

  function requestRow(r, current, daemons) {
    var tr = el("tr", r.id === current ? "dtb-current" : null);
    tr.setAttribute("data-id", r.id);
    var b = button("dtb-link", r.method + " " + r.path, "Show this request's panels");
    b.addEventListener("click", function () {
      switchTo(r.id);
    });
    var td = el("td");
    td.appendChild(b);
    if (r.store) {
      td.appendChild(el("span", "dtb-badge dtb-warn", r.store));
    }
    if (r.why_not) {
      /* an HTML page to a navigation that got no toolbar: why (also in X-Debug-Toolbar-Skip) */
      td.appendChild(el("span", "dtb-badge dtb-warn dtb-why-not", "no toolbar: " + r.why_not));
    }
    ui.marks(r).forEach(function (m) {
      var badge = el("span", "dtb-badge dtb-mark " + m[1], m[0]);
      badge.title = m[2];
      td.appendChild(badge);
    });
    tr.appendChild(td);
    if (daemons) {
      tr.appendChild(el("td", "dtb-muted dtb-daemon", r.daemon || ""));
    }
    tr.appendChild(el("td", "dtb-num", r.status));
    tr.appendChild(el("td", "dtb-muted", r.content_type || ""));
    tr.appendChild(el("td", "dtb-num", ui.fmtMs(r.time_ms)));
    tr.appendChild(el("td", "dtb-num", r.queries === undefined ? "" : r.queries));
    tr.appendChild(el("td", "dtb-muted", r.started_at || ""));
    return tr;
  }

  function requestTable(rows, current, cls) {
    var table = el("table", "dtb-table " + cls);
    var head = el("tr");
    /* the serving daemon's address, when more than one daemon recorded these requests */
    var seen = {};
    rows.forEach(function (r) {
      if (r.daemon) {
        seen[r.daemon] = true;
      }
    });
    var daemons = Object.keys(seen).length > 1;
    (daemons ? ["Request", "Daemon", "Status", "Type", "Time", "Queries", "Started"]
      : ["Request", "Status", "Type", "Time", "Queries", "Started"]).forEach(function (h) {
      head.appendChild(el("th", null, h));
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el("tbody");
    rows.forEach(function (r) {
      tbody.appendChild(requestRow(r, current, daemons));
    });
    table.appendChild(tbody);
    return table;
  }

  /* contentBody: the toolbar's panel body; host: loadModule's, with the toolbar's context */
  modules["history.js"] = function (contentBody, host) {
    if (!ui) {
      return;
    }
    var prefix = host.prefix, requestId = host.requestId();
    var pageId = host.context.pageId, pageRequests = host.context.pageRequests;
    switchTo = host.context.switchTo;
    ui.getJSON(prefix + "/api/requests").then(function (rows) {
      if (!host.context.shown()) {
        return;
      }
      contentBody.textContent = "";
      if (requestId !== pageId) {
        var back = button("dtb-btn dtb-back", "Back to this page's request");
        back.addEventListener("click", function () {
          switchTo(pageId);
        });
        contentBody.appendChild(back);
      }
      contentBody.appendChild(el("h4", "dtb-h", "Requests made by this page (fetch/XHR)"));
      if (pageRequests.length) {
        contentBody.appendChild(requestTable(pageRequests.slice().reverse(), requestId,
          "dtb-page-requests"));
      } else {
        contentBody.appendChild(el("p", "dtb-muted", "None yet."));
      }
      contentBody.appendChild(el("h4", "dtb-h", "History, newest first"));
      contentBody.appendChild(requestTable(rows, requestId, "dtb-history-requests"));
    }).catch(function (e) {
      contentBody.textContent = "";
      contentBody.appendChild(el("p", "dtb-error", "The history could not be loaded (" +
        e.message + ")."));
    });
  };
}());

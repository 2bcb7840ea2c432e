/*
 * sql.js - the SQL panel's script: its signed actions (EXPLAIN, EXPLAIN ANALYZE, re-run of a
 * read-only SELECT). The panel declares it (its ops' script), and the toolbar (toolbar.js) and
 * the toolbar's page (page.js) load it from the embedded assets when the panel first opens,
 * then run it on each fragment of the panel they show: a click on an action button POSTs
 * {"request", "query", "sig"} to <prefix>/panels/sql/<action> and the answer (a query plan or
 * rows, or an error) is shown under the button. Same rules as its hosts: recorded strings reach
 * the DOM through textContent only; no inline style (CSP-safe).
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};
  /* the hosts' shared DOM helper (common.js, which both hosts load before any panel script;
   * a function, as they check, never an element standing in for one) */
  var common = modules["common.js"];
  var el = typeof common === "function" ? common().el : null;

  /* An action's answer into box: the plan as a tree, the rows as a table, or the error. */
  function renderActionResult(box, data) {
    box.textContent = "";
    if (data.error) {
      box.appendChild(el("p", "dtb-error", data.error));
      return;
    }
    if (data.plan) {
      var byParent = {};
      data.plan.forEach(function (row) {
        (byParent[row.parent] = byParent[row.parent] || []).push(row);
      });
      var build = function (parent) {
        var ul = el("ul", "dtb-plan");
        (byParent[parent] || []).forEach(function (row) {
          var li = el("li", null, row.detail);
          if (byParent[row.id]) {
            li.appendChild(build(row.id));
          }
          ul.appendChild(li);
        });
        return ul;
      };
      box.appendChild(el("h4", "dtb-h", "Query plan"));
      box.appendChild(build(0));
      return;
    }
    var table = el("table", "dtb-table");
    var thead = el("thead");
    var tr = el("tr");
    (data.columns || []).forEach(function (c) {
      tr.appendChild(el("th", null, c));
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = el("tbody");
    (data.rows || []).forEach(function (row) {
      var r = el("tr");
      row.forEach(function (v) {
        r.appendChild(el("td", null, v === null ? "NULL" :
          (typeof v === "object" ? JSON.stringify(v) : v)));
      });
      tbody.appendChild(r);
    });
    table.appendChild(tbody);
    box.appendChild(el("h4", "dtb-h", "Result" + (data.truncated ? " (first 100 rows)" : "")));
    box.appendChild(table);
  }

  /* A click in the panel: when on an action button, runs it for requestId and shows the
   * result under the button. */
  function actionClick(ev, prefix, requestId) {
    var b = ev.target.closest ? ev.target.closest(".dtb-sql-action") : null;
    if (!b || !requestId) {
      return;
    }
    var cell = b.parentNode;
    var box = cell.querySelector(".dtb-sql-result");
    if (!box) {
      box = el("div", "dtb-sql-result");
      cell.appendChild(box);
    }
    box.textContent = "Running\u2026";
    fetch(prefix + "/panels/sql/" + encodeURIComponent(b.getAttribute("data-action")), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        request: requestId,
        query: parseInt(b.getAttribute("data-query"), 10),
        sig: b.getAttribute("data-sig")
      })
    }).then(function (r) {
      return r.json();
    }).then(function (data) {
      renderActionResult(box, data);
    }).catch(function (e) {
      box.textContent = "";
      box.appendChild(el("p", "dtb-error", "The action failed (" + e.message + ")."));
    });
  }

  /* Run on each shown fragment: node holds it (and is kept by the host across fragments, so
   * the listener is added once); host.prefix is the toolbar's URL prefix, host.requestId() the
   * shown request's id at the time of the click. */
  modules["sql.js"] = function (node, host) {
    if (node.dtbSqlActions) {
      return;
    }
    node.dtbSqlActions = true;
    node.addEventListener("click", function (ev) {
      actionClick(ev, host.prefix, host.requestId());
    });
  };
}());

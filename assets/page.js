/*
 * page.js - the toolbar's own page (<url_prefix>/): the request history with filters, any
 * request's panels beside the list, two requests compared side by side, a record's download
 * and permalink, and file:line links that open the configured editor. For programs that serve
 * no HTML (JSON APIs, daemons) it is the whole UI.
 *
 * Served by toolbar/page.c as a shell <dtb-page id="dtb-page" data-prefix data-css
 * data-page-css>, after common.js (what it shares with toolbar.js), filters.js (the filters
 * and the view in the hash) and compare.js (the comparison); everything lives in a Shadow DOM
 * on that element with toolbar.css (the toolbar's variables, themes and panel styles) and
 * page.css loaded inside it. Same rules as toolbar.js: recorded strings reach the DOM through
 * textContent, panel fragments (escaped by the server) are parsed by DOMParser and imported,
 * no inline script or style (the page is served under "default-src 'self'"). The view
 * (filters, open request, panel, comparison) lives in the URL's hash, so a bookmark
 * reproduces it.
 */
(function () {
  "use strict";
  var host = document.getElementById("dtb-page");
  var modules = window.debugToolbarModules || {}; /* all three listed before this script */
  var common = modules["common.js"];
  var filtersPart = modules["filters.js"];
  var comparePart = modules["compare.js"];
  if (!host || host.shadowRoot || typeof common !== "function" ||
      typeof filtersPart !== "function" || typeof comparePart !== "function") {
    return;
  }
  var prefix = host.getAttribute("data-prefix") || "/_debug_toolbar";
  var POLL_MS = 2000;
  var root = host.attachShadow({ mode: "open" });
  ["data-css", "data-page-css"].forEach(function (a) {
    var href = host.getAttribute(a);
    if (href) {
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = href;
      root.appendChild(link);
    }
  });

  var ui = common();
  var el = ui.el, button = ui.button;
  var getJSON = ui.getJSON, fmtMs = ui.fmtMs;
  var filterForm = filtersPart(ui, {
    view: function () { return view; },
    changed: function () {
      saveView();
      renderList();
    }
  });
  var compare = comparePart(ui, { prefix: prefix, showFragment: showFragment });

  function recordUrl(id) {
    return prefix + "/api/requests/" + encodeURIComponent(id);
  }

  /* ---- the view in the URL's hash (filters.js reads and writes it) -------------------------- */

  var view = filterForm.readView();

  function saveView() {
    var h = filterForm.viewHash(view);
    if (h !== window.location.hash && !(h === "" && window.location.hash === "#")) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search + h);
    }
  }

  /* ---- layout ----------------------------------------------------------------------------- */

  var wrap = el("div", "dtb dtb-page");
  var head = el("header", "dtb-page-head");
  head.appendChild(el("span", "dtb-brand", "Debug toolbar"));
  head.appendChild(el("h1", "dtb-page-title", "Requests"));
  var live = el("span", "dtb-page-live dtb-muted", "");
  live.setAttribute("aria-live", "polite");
  head.appendChild(live);
  var pauseBtn = button("dtb-btn dtb-page-pause", "Pause", "Pause live updates");
  var themeBtn = button("dtb-btn dtb-icon", "\u25d0", "Theme: follow the system, light, dark");
  head.appendChild(pauseBtn);
  head.appendChild(themeBtn);

  var filters = filterForm.node;

  var main = el("div", "dtb-page-main");
  var listPane = el("section", "dtb-page-list");
  listPane.setAttribute("aria-label", "Request history");
  var listBar = el("div", "dtb-page-listbar");
  var count = el("span", "dtb-page-count dtb-muted", "Loading\u2026");
  var compareBtn = button("dtb-btn dtb-compare-btn", "Compare", "Compare the two checked requests");
  compareBtn.disabled = true;
  ui.append(listBar, [count, compareBtn]);
  var thead = el("thead");
  var tbody = el("tbody");
  var table = ui.append(el("table", "dtb-table dtb-page-requests"), [thead, tbody]);
  ui.append(listPane, [listBar, table]);
  var detail = el("section", "dtb-page-detail");
  detail.setAttribute("aria-live", "polite");
  detail.setAttribute("aria-label", "Request details");
  ui.append(main, [listPane, detail]);
  root.appendChild(ui.append(wrap, [head, filters, main]));

  ui.themeSwitch(wrap, themeBtn, function (t) {
    document.documentElement.className = t === "auto" ? "" : "dtb-theme-" + t;
  });

  /* ---- the list ----------------------------------------------------------------------------- */

  var rows = [];
  var lastListText = "";
  var checked = []; /* ids chosen for comparison, in the order chosen (at most two) */

  function flags(r) {
    var out = [];
    if (r.n_plus_one > 0) {
      out.push(["N+1", "dtb-warn"]);
    }
    if (r.slow_queries > 0) {
      out.push(["slow", "dtb-warn"]);
    }
    if (r.log_errors > 0 || r.sql_errors > 0 || r.status >= 500) {
      out.push(["error", "dtb-error"]);
    } else if (r.log_warnings > 0) {
      out.push(["warning", "dtb-warn"]);
    }
    return out.concat(ui.marks(r)); /* the panels' own marks (e.g. a route that leaks) */
  }

  function renderList() {
    var hasPort = rows.some(function (r) { return r.port; });
    var cols = ["", "Request", "Status", "Type", "Time", "SQL", "Flags"];
    if (hasPort) {
      cols.push("Port");
    }
    cols.push("Started");
    thead.textContent = "";
    var tr = el("tr");
    cols.forEach(function (c, i) {
      var th = el("th", null, c);
      if (i === 0) {
        th.appendChild(el("span", "dtb-sr", "Compare"));
      }
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    /* keep the keyboard focus on the same row across a refresh */
    var focused = root.activeElement;
    var focusId = focused && tbody.contains(focused) ?
      focused.closest("tr").getAttribute("data-id") : null;
    var focusCls = focused && focusId ? focused.className : "";
    tbody.textContent = "";
    var shown = rows.filter(filterForm.matches);
    shown.forEach(function (r) {
      var row = el("tr", r.id === view.r ? "dtb-current" : null);
      row.setAttribute("data-id", r.id);
      var td = el("td");
      var c = el("input", "dtb-cmp");
      c.type = "checkbox";
      c.checked = checked.indexOf(r.id) >= 0;
      c.setAttribute("aria-label", "Compare " + r.method + " " + r.path);
      c.addEventListener("change", function () {
        var i = checked.indexOf(r.id);
        if (c.checked && i < 0) {
          checked.push(r.id);
          if (checked.length > 2) {
            checked.shift();
          }
        } else if (!c.checked && i >= 0) {
          checked.splice(i, 1);
        }
        Array.prototype.forEach.call(tbody.querySelectorAll("tr"), function (t) {
          t.querySelector(".dtb-cmp").checked = checked.indexOf(t.getAttribute("data-id")) >= 0;
        });
        compareBtn.disabled = checked.length !== 2;
      });
      td.appendChild(c);
      row.appendChild(td);
      td = el("td");
      var b = button("dtb-link dtb-open-request", r.method + " " + r.path);
      b.setAttribute("aria-label", "Show the panels of " + r.method + " " + r.path);
      b.addEventListener("click", function () {
        openRequest(r.id, "");
      });
      td.appendChild(b);
      if (r.store) {
        td.appendChild(el("span", "dtb-badge dtb-warn", r.store));
      }
      row.appendChild(td);
      row.appendChild(el("td", "dtb-num", r.status));
      /* the media type without its parameters, "text/" or "application/" (html, json, css),
       * on one line; and the start's time of day (both whole in the title) */
      var type = el("td", "dtb-muted dtb-nowrap",
        String(r.content_type || "").split(";")[0].trim().replace(/^(text|application)\//i, ""));
      type.title = r.content_type || "";
      row.appendChild(type);
      row.appendChild(el("td", "dtb-num", fmtMs(r.time_ms)));
      row.appendChild(el("td", "dtb-num", r.queries === undefined ? "" : r.queries));
      td = el("td", "dtb-flags");
      flags(r).forEach(function (f) {
        var badge = el("span", "dtb-badge " + f[1], f[0]);
        if (f[2]) {
          badge.title = f[2];
        }
        td.appendChild(badge);
      });
      row.appendChild(td);
      if (hasPort) {
        row.appendChild(el("td", "dtb-num", r.port || ""));
      }
      var started = el("td", "dtb-muted dtb-nowrap",
        String(r.started_at || "").replace(/^.*T(\d\d:\d\d:\d\d).*$/, "$1"));
      started.title = r.started_at || "";
      row.appendChild(started);
      tbody.appendChild(row);
    });
    if (focusId) {
      var again = tbody.querySelector("tr[data-id='" + focusId + "'] ." +
        focusCls.split(" ")[0]);
      if (again) {
        again.focus();
      }
    }
    count.textContent = shown.length === rows.length ? rows.length + " requests" :
      shown.length + " of " + rows.length + " requests";
    compareBtn.disabled = checked.length !== 2;
  }

  var paused = false;
  var timer = null;

  function poll() {
    window.clearTimeout(timer);
    timer = null;
    if (paused || document.hidden) {
      live.textContent = paused ? "paused" : "";
      return; /* visibilitychange and the pause button start it again */
    }
    getJSON(prefix + "/api/requests").then(function (list) {
      var text = JSON.stringify(list);
      if (text !== lastListText) {
        lastListText = text;
        rows = Array.isArray(list) ? list : [];
        filterForm.ports(rows);
        renderList();
      }
      live.textContent = "live, updated " + new Date().toLocaleTimeString();
    }).catch(function (e) {
      live.textContent = "the history could not be loaded (" + e.message + ")";
    }).then(function () {
      if (!paused && !timer) {
        timer = window.setTimeout(poll, POLL_MS);
      }
    });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      poll();
    }
  });
  pauseBtn.addEventListener("click", function () {
    paused = !paused;
    pauseBtn.textContent = paused ? "Resume" : "Pause";
    pauseBtn.setAttribute("aria-label", paused ? "Resume live updates" : "Pause live updates");
    poll();
  });

  var editor = null; /* {"template", "paths": [{"from", "to"}], "source_root"} from the record */

  /* ---- one request's panels ------------------------------------------------------------------ */

  var current = null; /* the record shown */
  var openPanelId = "";

  /* version: this script's, for the assets it loads (a panel's module) */
  var version = "";
  try {
    version = new URL(document.currentScript.src).searchParams.get("v") || "";
  } catch (e) { /* no version: the asset's URL without it */ }
  var fragmentOpts = {
    prefix: prefix,
    version: version,
    editor: function () { return editor; },
    alive: function (node) { return detail.contains(node); },
    requestId: function () { return current ? current.id : ""; }
  };

  function showFragment(body, html, script, style) {
    ui.showFragment(body, html, fragmentOpts, script, style);
  }

  function closeDetail() {
    view.r = "";
    view.panel = "";
    view.cmp = [];
    current = null;
    detail.textContent = "";
    wrap.classList.remove("dtb-page-has-detail");
    saveView();
    renderList();
  }

  function detailHead(titleText, actions) {
    var h = el("div", "dtb-content-head dtb-page-detail-head");
    var t = el("h2", "dtb-content-title", titleText);
    h.appendChild(t);
    actions.forEach(function (a) {
      h.appendChild(a);
    });
    var close = button("dtb-btn dtb-close", "\u00d7", "Close");
    close.addEventListener("click", function () {
      var back = tbody.querySelector("tr[data-id='" + (view.r || "").replace(/[^0-9a-f]/g, "") +
        "'] .dtb-open-request");
      closeDetail();
      (back || filterForm.path).focus();
    });
    h.appendChild(close);
    return h;
  }

  function openRequest(id, panel, attempt) {
    view.r = id;
    view.panel = panel || "";
    view.cmp = [];
    saveView();
    renderList();
    wrap.classList.add("dtb-page-has-detail");
    if (!attempt) {
      detail.textContent = "";
      detail.appendChild(el("p", "dtb-muted", "Loading\u2026"));
    }
    getJSON(recordUrl(id)).then(function (rec) {
      if (view.r !== id) {
        return;
      }
      if (rec.pending && (attempt || 0) < 40) {
        window.setTimeout(function () {
          openRequest(id, panel, (attempt || 0) + 1);
        }, 100);
        return;
      }
      renderRequest(rec, panel);
    }).catch(function (e) {
      if (view.r !== id) {
        return;
      }
      detail.textContent = "";
      detail.appendChild(detailHead("Request " + id, []));
      detail.appendChild(el("p", "dtb-error", e.status === 404 ?
        "This request is no longer in the history (it keeps the last requests only)." :
        "The request could not be loaded (" + e.message + ")."));
    });
  }

  function renderRequest(rec, panel) {
    current = rec;
    editor = rec.editor || null;
    detail.textContent = "";
    var dl = el("a", "dtb-btn dtb-download", "Download JSON");
    dl.href = recordUrl(rec.id) + ".json";
    dl.setAttribute("download", "request-" + rec.id + ".json");
    var perma = el("a", "dtb-btn dtb-permalink", "Permalink");
    perma.href = window.location.pathname + "#r=" + encodeURIComponent(rec.id);
    perma.title = "A link to this request, valid while it is in the history";
    detail.appendChild(detailHead(rec.method + " " + rec.path + " \u2014 " + rec.status,
      [perma, dl]));
    var meta = el("p", "dtb-muted dtb-page-meta", [rec.content_type || "", fmtMs(rec.time_ms),
      rec.started_at || "", rec.id].filter(function (x) { return x; }).join(" \u00b7 "));
    detail.appendChild(meta);
    var nav = el("ul", "dtb-page-nav");
    nav.setAttribute("aria-label", "Panels");
    var body = el("div", "dtb-content-body dtb-page-panel");
    var buttons = [];
    (rec.nav || []).forEach(function (n) {
      var li = el("li");
      var b = button("dtb-panel-btn");
      b.setAttribute("aria-pressed", "false");
      b.setAttribute("data-panel", n.id);
      b.appendChild(el("span", "dtb-panel-title", n.title));
      if (n.subtitle) {
        b.appendChild(el("span", "dtb-panel-sub", n.subtitle));
      }
      b.addEventListener("click", function () {
        showPanel(rec, n, b, buttons, body);
      });
      buttons.push(b);
      li.appendChild(b);
      nav.appendChild(li);
    });
    detail.appendChild(nav);
    detail.appendChild(body);
    var first = (rec.nav || []).filter(function (n) { return n.id === panel; })[0] ||
      (rec.nav || [])[0];
    if (first) {
      showPanel(rec, first, buttons[(rec.nav || []).indexOf(first)], buttons, body);
    }
  }

  function showPanel(rec, nav, btn, buttons, body) {
    buttons.forEach(function (b) {
      b.classList.toggle("dtb-active", b === btn);
      b.setAttribute("aria-pressed", b === btn ? "true" : "false");
    });
    openPanelId = nav.id;
    view.panel = nav.id;
    saveView();
    body.textContent = "Loading\u2026";
    ui.getText(recordUrl(rec.id) + "/panels/" + encodeURIComponent(nav.id)).then(function (html) {
      if (current === rec && openPanelId === nav.id) {
        showFragment(body, html, nav.script, nav.style);
      }
    }).catch(function (e) {
      body.textContent = "";
      body.appendChild(el("p", "dtb-error", "This panel could not be loaded (" + e.message +
        ")."));
    });
  }

  /* ---- compare two requests ------------------------------------------------------------------- */

  /* the view itself is compare.js's: page.js keeps what it shows and where */
  function renderCompare(a, b) {
    current = null;
    editor = a.editor || b.editor || null;
    detail.textContent = "";
    detail.appendChild(detailHead("Compare", []));
    detail.appendChild(compare.view(a, b));
  }

  function openCompare(ids) {
    view.cmp = ids.slice(0, 2);
    view.r = "";
    view.panel = "";
    saveView();
    renderList();
    wrap.classList.add("dtb-page-has-detail");
    detail.textContent = "";
    detail.appendChild(el("p", "dtb-muted", "Loading\u2026"));
    Promise.all(view.cmp.map(function (id) { return getJSON(recordUrl(id)); })).then(function (recs) {
      if (recs[0].pending || recs[1].pending) {
        throw new Error("a record is not stored yet; try again");
      }
      /* older one first, so that "added" means added by the later request */
      if (String(recs[0].started_at) > String(recs[1].started_at)) {
        recs.reverse();
      }
      renderCompare(recs[0], recs[1]);
    }).catch(function (e) {
      detail.textContent = "";
      detail.appendChild(detailHead("Compare", []));
      detail.appendChild(el("p", "dtb-error", e.status === 404 ?
        "One of the two requests is no longer in the history." :
        "The requests could not be compared (" + e.message + ")."));
    });
  }
  compareBtn.addEventListener("click", function () {
    if (checked.length === 2) {
      openCompare(checked);
    }
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && (view.r || view.cmp.length) && !ev.defaultPrevented) {
      closeDetail();
      filterForm.path.focus();
    }
  });

  function applyView() {
    view = filterForm.readView();
    filterForm.show();
    checked = view.cmp.slice();
    renderList();
    if (view.cmp.length === 2) {
      openCompare(view.cmp);
    } else if (/^[0-9a-f]{16}$/.test(view.r)) {
      openRequest(view.r, view.panel);
    } else {
      detail.textContent = "";
      wrap.classList.remove("dtb-page-has-detail");
    }
  }
  window.addEventListener("hashchange", applyView);
  applyView();
  poll();
  window.debugToolbarPage = {
    view: function () { return JSON.parse(JSON.stringify(view)); },
    editorUrl: ui.editorUrl
  };
}());

/*
 * page.js - the toolbar's own page (<url_prefix>/): the request history with filters, any
 * request's panels beside the list, two requests compared side by side, a record's download
 * and permalink, and file:line links that open the configured editor. For programs that serve
 * no HTML (JSON APIs, daemons) it is the whole UI.
 *
 * Served by toolbar/page.c as a shell <dtb-page id="dtb-page" data-prefix data-css
 * data-page-css>, after common.js (what it shares with toolbar.js); everything lives in a Shadow DOM on that element with toolbar.css (the
 * toolbar's variables, themes and panel styles) and page.css loaded inside it. Same rules as
 * toolbar.js: recorded strings reach the DOM through textContent, panel fragments (escaped by
 * the server) are parsed by DOMParser and imported, no inline script or style (the page is
 * served under "default-src 'self'"). The view (filters, open request, panel, comparison)
 * lives in the URL's hash, so a bookmark reproduces it.
 */
(function () {
  "use strict";
  var host = document.getElementById("dtb-page");
  var common = (window.debugToolbarModules || {})["common.js"]; /* listed before this script */
  if (!host || host.shadowRoot || typeof common !== "function") {
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
  var store = ui.store, el = ui.el, button = ui.button;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 202) {
        return { pending: true };
      }
      if (!r.ok) {
        var e = new Error("HTTP " + r.status);
        e.status = r.status;
        throw e;
      }
      return r.json();
    });
  }

  function recordUrl(id) {
    return prefix + "/api/requests/" + encodeURIComponent(id);
  }

  function fmtMs(v) {
    return typeof v === "number" ? v.toFixed(1) + " ms" : "";
  }

  /* ---- the view in the URL's hash: #method=GET&status=2xx&path=cats&min=5&has=sql,n1
   *      &type=json&port=8080&r=<id>&panel=sql&cmp=<id>,<id> ---------------------------- */

  var HAS = [["sql", "SQL"], ["n1", "N+1"], ["slow", "slow query"], ["warn", "log warnings"],
    ["err", "errors"]];

  function readView() {
    var h = window.location.hash.replace(/^#\/?/, "");
    var m = /^r\/([0-9a-f]{16})$/.exec(h); /* #/r/<id> */
    var p = new URLSearchParams(m ? "r=" + m[1] : h);
    var q = new URLSearchParams(window.location.search);
    if (!p.get("r") && q.get("r")) {
      p.set("r", q.get("r"));
    }
    return {
      method: p.get("method") || "",
      status: p.get("status") || "",
      path: p.get("path") || "",
      min: p.get("min") || "",
      has: (p.get("has") || "").split(",").filter(function (x) { return x; }),
      type: p.get("type") || "",
      port: p.get("port") || "",
      r: p.get("r") || "",
      panel: p.get("panel") || "",
      cmp: (p.get("cmp") || "").split(",").filter(function (x) { return x; }).slice(0, 2)
    };
  }

  function viewHash(v) {
    var p = new URLSearchParams();
    ["method", "status", "path", "min", "type", "port", "r", "panel"].forEach(function (k) {
      if (v[k]) {
        p.set(k, v[k]);
      }
    });
    if (v.has.length) {
      p.set("has", v.has.join(","));
    }
    if (v.cmp.length === 2) {
      p.set("cmp", v.cmp.join(","));
    }
    var s = p.toString();
    return s ? "#" + s : "";
  }

  var view = readView();

  function saveView() {
    var h = viewHash(view);
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

  var filters = el("form", "dtb-filters");
  filters.setAttribute("role", "search");
  filters.setAttribute("aria-label", "Filter requests");
  function field(label, input) {
    var l = el("label", "dtb-field");
    l.appendChild(el("span", "dtb-field-label", label));
    l.appendChild(input);
    filters.appendChild(l);
    return input;
  }
  function select(name, options) {
    var s = el("select", "dtb-input");
    s.name = name;
    options.forEach(function (o) {
      var opt = el("option", null, o[1]);
      opt.value = o[0];
      s.appendChild(opt);
    });
    return s;
  }
  function input(name, type, placeholder) {
    var i = el("input", "dtb-input");
    i.name = name;
    i.type = type;
    i.placeholder = placeholder;
    i.autocomplete = "off";
    return i;
  }
  var fMethod = field("Method", select("method", [["", "any"], ["GET", "GET"], ["POST", "POST"],
    ["PUT", "PUT"], ["PATCH", "PATCH"], ["DELETE", "DELETE"], ["HEAD", "HEAD"],
    ["OPTIONS", "OPTIONS"]]));
  var fStatus = field("Status", select("status", [["", "any"], ["1xx", "1xx"], ["2xx", "2xx"],
    ["3xx", "3xx"], ["4xx", "4xx"], ["5xx", "5xx"]]));
  var fPath = field("Path", input("path", "search", "contains\u2026"));
  var fMin = field("Min. time (ms)", input("min", "number", "0"));
  fMin.min = "0";
  fMin.step = "any";
  var fType = field("Content type", input("type", "search", "e.g. json"));
  var fPort = field("Port", select("port", [["", "any"]]));
  var hasBox = el("fieldset", "dtb-has");
  hasBox.appendChild(el("legend", "dtb-field-label", "Has"));
  var fHas = {};
  HAS.forEach(function (h) {
    var l = el("label", "dtb-check");
    var c = el("input");
    c.type = "checkbox";
    c.name = "has-" + h[0];
    c.value = h[0];
    fHas[h[0]] = c;
    l.appendChild(c);
    l.appendChild(document.createTextNode(" " + h[1]));
    hasBox.appendChild(l);
  });
  filters.appendChild(hasBox);
  var clearBtn = button("dtb-btn dtb-clear", "Clear filters");
  filters.appendChild(clearBtn);

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

  /* ---- filters ------------------------------------------------------------------------------- */

  function showFilters() {
    fMethod.value = view.method;
    fStatus.value = view.status;
    fPath.value = view.path;
    fMin.value = view.min;
    fType.value = view.type;
    if (view.port && !fPort.querySelector("option[value='" + view.port.replace(/\D/g, "") + "']")) {
      var o = el("option", null, view.port);
      o.value = view.port;
      fPort.appendChild(o);
    }
    fPort.value = view.port;
    HAS.forEach(function (h) {
      fHas[h[0]].checked = view.has.indexOf(h[0]) >= 0;
    });
  }

  function readFilters() {
    view.method = fMethod.value;
    view.status = fStatus.value;
    view.path = fPath.value;
    view.min = fMin.value;
    view.type = fType.value;
    view.port = fPort.value;
    view.has = HAS.map(function (h) { return h[0]; }).filter(function (k) {
      return fHas[k].checked;
    });
    saveView();
    renderList();
  }
  filters.addEventListener("input", readFilters);
  filters.addEventListener("change", readFilters);
  filters.addEventListener("submit", function (ev) {
    ev.preventDefault();
  });
  clearBtn.addEventListener("click", function () {
    view.method = view.status = view.path = view.min = view.type = view.port = "";
    view.has = [];
    showFilters();
    saveView();
    renderList();
  });

  function matches(r) {
    var n = function (v) { return typeof v === "number" ? v : 0; };
    if (view.method && r.method !== view.method) {
      return false;
    }
    if (view.status && String(Math.floor(n(r.status) / 100)) + "xx" !== view.status) {
      return false;
    }
    if (view.path && String(r.path || "").toLowerCase().indexOf(view.path.toLowerCase()) < 0) {
      return false;
    }
    var min = parseFloat(view.min);
    if (!isNaN(min) && n(r.time_ms) < min) {
      return false;
    }
    if (view.type &&
        String(r.content_type || "").toLowerCase().indexOf(view.type.toLowerCase()) < 0) {
      return false;
    }
    if (view.port && String(r.port || "") !== view.port) {
      return false;
    }
    var has = {
      sql: n(r.queries) > 0,
      n1: n(r.n_plus_one) > 0,
      slow: n(r.slow_queries) > 0,
      warn: n(r.log_warnings) + n(r.log_errors) > 0,
      err: n(r.status) >= 500 || n(r.log_errors) > 0 || n(r.sql_errors) > 0
    };
    return view.has.every(function (k) { return has[k]; });
  }

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
    var shown = rows.filter(matches);
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
      /* the media type without its parameters, and the start's time of day (whole in title) */
      var type = el("td", "dtb-muted", String(r.content_type || "").split(";")[0]);
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

  function updatePorts() {
    var ports = {};
    rows.forEach(function (r) {
      if (r.port) {
        ports[r.port] = true;
      }
    });
    Object.keys(ports).forEach(function (p) {
      if (!fPort.querySelector("option[value='" + p.replace(/\D/g, "") + "']")) {
        var o = el("option", null, p);
        o.value = p;
        fPort.appendChild(o);
      }
    });
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
        updatePorts();
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
      (back || fPath).focus();
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

  /* A line diff (longest common subsequence): [["=", line] | ["-", line] | ["+", line]] */
  function lineDiff(a, b) {
    var n = a.length, m = b.length, out = [];
    if (n * m > 4000000) { /* too big to align: everything removed, then added */
      a.forEach(function (l) { out.push(["-", l]); });
      b.forEach(function (l) { out.push(["+", l]); });
      return out;
    }
    var lcs = [];
    for (var i = 0; i <= n; i++) {
      lcs.push(new Uint32Array(m + 1));
    }
    for (i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    i = 0;
    j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) {
        out.push(["=", a[i]]);
        i++;
        j++;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        out.push(["-", a[i++]]);
      } else {
        out.push(["+", b[j++]]);
      }
    }
    while (i < n) {
      out.push(["-", a[i++]]);
    }
    while (j < m) {
      out.push(["+", b[j++]]);
    }
    return out;
  }

  function diffBlock(a, b) {
    var pre = el("pre", "dtb-diff");
    var d = lineDiff(a, b);
    d.forEach(function (x) {
      var line = el("span", x[0] === "+" ? "dtb-diff-add" : (x[0] === "-" ? "dtb-diff-del" :
        "dtb-diff-same"), (x[0] === "=" ? "  " : x[0] + " ") + x[1] + "\n");
      pre.appendChild(line);
    });
    return { node: pre, changed: d.some(function (x) { return x[0] !== "="; }) };
  }

  function jsonLines(v) {
    return v === undefined ? [] : JSON.stringify(v, null, 2).split("\n");
  }

  function normSql(s) {
    return String(s || "").replace(/\s+/g, " ").trim();
  }

  function sqlGroups(rec) {
    var g = {};
    var qs = (((rec.panels || {}).sql || {}).queries) || [];
    qs.forEach(function (q) {
      var k = normSql(q.sql);
      var e = g[k] || (g[k] = { count: 0, ns: 0 });
      e.count++;
      e.ns += typeof q.duration_ns === "number" ? q.duration_ns : 0;
    });
    return g;
  }

  function kvTable(cls, headers, rowsData) {
    var t = el("table", "dtb-table " + cls);
    var th = el("thead");
    var tr = el("tr");
    headers.forEach(function (h) {
      tr.appendChild(el("th", null, h));
    });
    th.appendChild(tr);
    t.appendChild(th);
    var tb = el("tbody");
    rowsData.forEach(function (r) {
      var row = el("tr", r.cls || null);
      if (r.change) {
        row.setAttribute("data-change", r.change);
      }
      r.cells.forEach(function (c, i) {
        var td = el("td", i > 0 && typeof c === "number" ? "dtb-num" : null);
        if (c && c.nodeType) {
          td.appendChild(c);
        } else {
          td.textContent = c === undefined || c === null ? "" : String(c);
        }
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    return t;
  }

  function badge(change) {
    var cls = change === "added" ? "dtb-badge dtb-diff-add" : (change === "removed" ?
      "dtb-badge dtb-diff-del" : "dtb-badge dtb-warn");
    return el("span", cls, change);
  }

  function section(body, title, node, changed) {
    var d = el("details", "dtb-cmp-section");
    d.open = changed !== false;
    var s = el("summary", null, title + (changed === false ? " (no difference)" : ""));
    d.appendChild(s);
    d.appendChild(node);
    body.appendChild(d);
  }

  function compareSql(a, b) {
    var ga = sqlGroups(a), gb = sqlGroups(b), keys = {};
    Object.keys(ga).concat(Object.keys(gb)).forEach(function (k) { keys[k] = true; });
    var out = [];
    Object.keys(keys).forEach(function (k) {
      var x = ga[k] || { count: 0, ns: 0 }, y = gb[k] || { count: 0, ns: 0 };
      var change = !x.count ? "added" : (!y.count ? "removed" :
        (x.count !== y.count ? "count" : (Math.abs(y.ns - x.ns) > 1e6 &&
          (y.ns > 1.5 * x.ns || x.ns > 1.5 * y.ns) ? "time" : "")));
      var code = el("code", "dtb-sql", k);
      out.push({
        change: change || "same",
        cls: change ? "dtb-cmp-" + (change === "count" || change === "time" ? "changed" : change) : null,
        cells: [change ? badge(change === "count" ? "count changed" : (change === "time" ?
          "time changed" : change)) : "", code, x.count, y.count, (x.ns / 1e6).toFixed(2),
        (y.ns / 1e6).toFixed(2), ((y.ns - x.ns) / 1e6).toFixed(2)]
      });
    });
    var order = { added: 0, removed: 1, count: 2, time: 3, same: 4 };
    out.sort(function (p, q) { return order[p.change] - order[q.change]; });
    return out;
  }

  function pairsMap(pairs) {
    var m = {};
    (pairs || []).forEach(function (p) {
      if (Array.isArray(p)) {
        var k = String(p[0]).toLowerCase();
        m[k] = m[k] === undefined ? String(p[1]) : m[k] + ", " + String(p[1]);
      }
    });
    return m;
  }

  function compareMaps(x, y) {
    var keys = {};
    Object.keys(x).concat(Object.keys(y)).forEach(function (k) { keys[k] = true; });
    return Object.keys(keys).sort().map(function (k) {
      var change = x[k] === undefined ? "added" : (y[k] === undefined ? "removed" :
        (x[k] !== y[k] ? "changed" : ""));
      return {
        change: change || "same",
        cls: change ? "dtb-cmp-" + change : null,
        cells: [change ? badge(change) : "", k, x[k], y[k]]
      };
    });
  }

  function logLines(rec) {
    return ((((rec.panels || {}).logging || {}).records) || []).map(function (r) {
      return (r.level_name || "") + ": " + (r.message || "");
    });
  }

  var COMPARED = { timer: 1, sql: 1, headers: 1, session: 1, logging: 1 };

  function renderCompare(a, b) {
    current = null;
    editor = a.editor || b.editor || null;
    detail.textContent = "";
    detail.appendChild(detailHead("Compare", []));
    var body = el("div", "dtb-content-body dtb-page-panel dtb-compare");
    var label = function (r) {
      return r.method + " " + r.path + " (" + r.status + ", " + fmtMs(r.time_ms) + ")";
    };
    body.appendChild(kvTable("dtb-cmp-which", ["", "Request"], [
      { cells: ["A", label(a)] }, { cells: ["B", label(b)] }]));
    /* timings: the summary's and the Timer panel's numbers */
    var ta = (a.panels || {}).timer || {}, tb = (b.panels || {}).timer || {};
    var trows = typeof ta.total_ms === "number" || typeof tb.total_ms === "number" ? [] :
      [{ cells: ["total", fmtMs(a.time_ms), fmtMs(b.time_ms),
        typeof a.time_ms === "number" && typeof b.time_ms === "number" ?
          (b.time_ms - a.time_ms).toFixed(1) + " ms" : ""] }];
    Object.keys(ta).concat(Object.keys(tb)).filter(function (k, i, all) {
      return all.indexOf(k) === i && (typeof ta[k] === "number" || typeof tb[k] === "number");
    }).forEach(function (k) {
      /* each figure in its own unit: *_ms and *_ns are times, the rest are counts */
      var show = function (v) {
        if (typeof v !== "number") {
          return "";
        }
        return /_ms$/.test(k) ? v.toFixed(1) + " ms" : (/_ns$/.test(k) ?
          (v / 1e6).toFixed(3) + " ms" : String(v));
      };
      trows.push({ cells: [k, show(ta[k]), show(tb[k]), typeof ta[k] === "number" &&
        typeof tb[k] === "number" ? show(tb[k] - ta[k]) : ""] });
    });
    section(body, "Timings", kvTable("dtb-cmp-timings", ["", "A", "B", "B \u2212 A"], trows));
    var sql = compareSql(a, b);
    var sqlChanged = sql.some(function (r) { return r.change !== "same"; });
    section(body, "SQL (" + ((((a.panels || {}).sql || {}).count) || 0) + " \u2192 " +
      ((((b.panels || {}).sql || {}).count) || 0) + " queries)",
    kvTable("dtb-cmp-sql", ["", "Query", "A", "B", "A ms", "B ms", "\u0394 ms"], sql), sqlChanged);
    var ha = (a.panels || {}).headers || {}, hb = (b.panels || {}).headers || {};
    var hreq = compareMaps(pairsMap(ha.request), pairsMap(hb.request));
    var hresp = compareMaps(pairsMap(ha.response), pairsMap(hb.response));
    var hbox = el("div");
    hbox.appendChild(el("h4", "dtb-h", "Request headers"));
    hbox.appendChild(kvTable("dtb-cmp-headers", ["", "Header", "A", "B"], hreq));
    hbox.appendChild(el("h4", "dtb-h", "Response headers"));
    hbox.appendChild(kvTable("dtb-cmp-headers", ["", "Header", "A", "B"], hresp));
    section(body, "Headers", hbox, hreq.concat(hresp).some(function (r) {
      return r.change !== "same";
    }));
    var sa = (a.panels || {}).session, sb = (b.panels || {}).session;
    if (sa || sb) {
      var sbox = el("div", "dtb-cmp-session");
      var any = false;
      [["before", "Session before"], ["after", "Session after"]].forEach(function (w) {
        var x = sa && sa[w[0]] ? sa[w[0]].data : undefined;
        var y = sb && sb[w[0]] ? sb[w[0]].data : undefined;
        var d = diffBlock(jsonLines(x), jsonLines(y));
        any = any || d.changed;
        sbox.appendChild(el("h4", "dtb-h", w[1] + " (A \u2192 B)"));
        sbox.appendChild(d.node);
      });
      section(body, "Session", sbox, any);
    }
    var ld = diffBlock(logLines(a), logLines(b));
    section(body, "Logs", ld.node, ld.changed);
    var ids = {};
    Object.keys(a.panels || {}).concat(Object.keys(b.panels || {})).forEach(function (k) {
      ids[k] = true;
    });
    /* a panel's own compare view when it has one (the server renders it from both records),
     * else a line diff of its JSON */
    var navs = {};
    (a.nav || []).concat(b.nav || []).forEach(function (n) {
      if (n && n.id && (!navs[n.id] || n.compare)) {
        navs[n.id] = n;
      }
    });
    Object.keys(ids).filter(function (k) { return !COMPARED[k]; }).sort().forEach(function (k) {
      var d = diffBlock(jsonLines((a.panels || {})[k]), jsonLines((b.panels || {})[k]));
      if (!navs[k] || !navs[k].compare) {
        section(body, "Panel " + k + " (JSON)", d.node, d.changed);
        return;
      }
      var box = el("div", "dtb-cmp-panel", "Loading\u2026");
      box.setAttribute("data-panel", k);
      section(body, navs[k].title || k, box);
      ui.getText(prefix + "/api/compare/" + encodeURIComponent(a.id) + "/" +
        encodeURIComponent(b.id) + "/panels/" + encodeURIComponent(k)).then(function (html) {
        showFragment(box, html, undefined, navs[k].style);
      }).catch(function () { /* the view failed: the plain text diff instead */
        box.textContent = "";
        box.appendChild(d.node);
      });
    });
    detail.appendChild(body);
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
      fPath.focus();
    }
  });

  function applyView() {
    view = readView();
    showFilters();
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

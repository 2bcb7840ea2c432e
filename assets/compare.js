/*
 * compare.js - the toolbar's page's comparison of two requests (page.js opens it): the two
 * records' timings, their SQL grouped by statement (added, removed, count or time changed),
 * request and response headers, the session before and after, the logs as a line diff, and
 * every other panel in its own compare view when it has one (rendered by the server from both
 * records), else as a line diff of its JSON.
 *
 * Served by toolbar/page.c's shell after common.js and before page.js, all deferred (so they
 * run in that order). Like common.js it registers itself in window.debugToolbarModules: a
 * function ("compare.js") that page.js calls once with common.js's helpers and its own
 * {prefix, showFragment(node, html, script, style)}, and that returns {view(a, b)}. Same
 * rules as page.js: recorded strings reach the DOM through textContent, a panel's compare
 * view through showFragment (DOMParser, never run), no inline script or style.
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};
  var ui, el, fmtMs, prefix, showFragment; /* set when page.js asks for the view (below) */

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
          "time changed" : change)) : "", code, x.count, y.count, fmtMs(x.ns / 1e6),
        fmtMs(y.ns / 1e6), (y.ns > x.ns ? "+" : "") + fmtMs((y.ns - x.ns) / 1e6)]
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

  /* The Timer panel's figures, named as the panel names them (others by their key) */
  var TIMINGS = {
    total_ms: "Total time", handler_ms: "App handler", cpu_ns: "CPU of the app's handler",
    cpu_ms: "CPU of the app's handler", cpu_user_ms: "of which user (approximate)",
    cpu_sys_ms: "of which system (approximate)",
    toolbar_cpu_ns: "CPU of the toolbar inside the handler",
    toolbar_ms: "Toolbar overhead", inject_ms: "of which injection",
    ctx_voluntary: "Context switches, voluntary", ctx_involuntary: "Context switches, involuntary",
    faults_minor: "Page faults, minor", faults_major: "Page faults, major"
  };

  /* A row of the timings: key k's figures in a and b and their difference, each in its own
   * unit (*_ms and *_ns are times, shown as the panels show them; the rest are counts). The
   * row's first cell carries the key, for tests and for the curious, in data-key. */
  function timingRow(k, x, y) {
    var show = function (v, sign) {
      if (typeof v !== "number") {
        return "";
      }
      var t = /_ms$/.test(k) ? fmtMs(v) : (/_ns$/.test(k) ? fmtMs(v / 1e6) : String(v));
      return sign && v > 0 ? "+" + t : t;
    };
    var name = el("span", null, TIMINGS[k] || k);
    name.setAttribute("data-key", k);
    name.title = k;
    return { cells: [name, show(x), show(y), typeof x === "number" && typeof y === "number" ?
      show(y - x, true) : ""] };
  }

  /* The comparison of records a and b (a the older one): a <div> with a section for each part,
   * those with no difference closed. */
  function compareView(a, b) {
    var body = el("div", "dtb-content-body dtb-page-panel dtb-compare");
    var label = function (r) {
      return r.method + " " + r.path + " (" + r.status + ", " + fmtMs(r.time_ms) + ")";
    };
    body.appendChild(kvTable("dtb-cmp-which", ["", "Request"], [
      { cells: ["A", label(a)] }, { cells: ["B", label(b)] }]));
    /* timings: the summary's and the Timer panel's numbers */
    var ta = (a.panels || {}).timer || {}, tb = (b.panels || {}).timer || {};
    var trows = typeof ta.total_ms === "number" || typeof tb.total_ms === "number" ? [] :
      [timingRow("total_ms", a.time_ms, b.time_ms)];
    Object.keys(ta).concat(Object.keys(tb)).filter(function (k, i, all) {
      return all.indexOf(k) === i && (typeof ta[k] === "number" || typeof tb[k] === "number") &&
        !(k === "cpu_ms" && (typeof ta.cpu_ns === "number" || typeof tb.cpu_ns === "number"));
    }).forEach(function (k) {
      trows.push(timingRow(k, ta[k], tb[k]));
    });
    section(body, "Timings", kvTable("dtb-cmp-timings", ["", "A", "B", "B \u2212 A"], trows));
    var sql = compareSql(a, b);
    var sqlChanged = sql.some(function (r) { return r.change !== "same"; });
    section(body, "SQL (" + ((((a.panels || {}).sql || {}).count) || 0) + " \u2192 " +
      ((((b.panels || {}).sql || {}).count) || 0) + " queries)",
    kvTable("dtb-cmp-sql", ["", "Query", "A", "B", "A time", "B time", "\u0394 time"], sql), sqlChanged);
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
    return body;
  }

  modules["compare.js"] = function (common, page) {
    ui = common;
    el = ui.el;
    fmtMs = ui.fmtMs;
    prefix = page.prefix;
    showFragment = page.showFragment;
    return { view: compareView };
  };
}());

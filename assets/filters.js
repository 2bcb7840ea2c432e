/*
 * filters.js - the toolbar's page's filters (page.js builds them): the view in the URL's hash
 * (filters, open request and panel, comparison), read and written, and the filter form
 * (method, status, path, minimum time, content type, port, has SQL/N+1/slow/warnings/errors)
 * with the test a history line passes.
 *
 * Served by toolbar/page.c's shell after common.js and before page.js, all deferred (so they
 * run in that order). Like common.js it registers itself in window.debugToolbarModules: a
 * function ("filters.js") that page.js calls once with common.js's helpers and {view() (the
 * page's view now), changed() (the form changed the view: saved, the list drawn again)}, and
 * that returns {readView(), viewHash(v), node (the form), show() (the view into the form),
 * matches(r), ports(rows) (the port filter's options), path (the path field)}. Recorded
 * strings reach the DOM through textContent.
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};

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

  /* The filter form, its fields kept in the view that page.view() returns. */
  modules["filters.js"] = function (ui, page) {
    var el = ui.el, button = ui.button;

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

    /* ---- the form's fields and the view ------------------------------------------------------ */

    function showFilters() {
      var view = page.view();
      fMethod.value = view.method;
      fStatus.value = view.status;
      fPath.value = view.path;
      fMin.value = view.min;
      fType.value = view.type;
      if (view.port &&
          !fPort.querySelector("option[value='" + view.port.replace(/\D/g, "") + "']")) {
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
      var view = page.view();
      view.method = fMethod.value;
      view.status = fStatus.value;
      view.path = fPath.value;
      view.min = fMin.value;
      view.type = fType.value;
      view.port = fPort.value;
      view.has = HAS.map(function (h) { return h[0]; }).filter(function (k) {
        return fHas[k].checked;
      });
      page.changed();
    }
    filters.addEventListener("input", readFilters);
    filters.addEventListener("change", readFilters);
    filters.addEventListener("submit", function (ev) {
      ev.preventDefault();
    });
    clearBtn.addEventListener("click", function () {
      var view = page.view();
      view.method = view.status = view.path = view.min = view.type = view.port = "";
      view.has = [];
      showFilters();
      page.changed();
    });

    function matches(r) {
      var view = page.view();
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

    function updatePorts(rows) {
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

    return {
      readView: readView,
      viewHash: viewHash,
      node: filters,
      show: showFilters,
      matches: matches,
      ports: updatePorts,
      path: fPath
    };
  };
}());

/*
 * common.js - what the injected toolbar (toolbar.js) and the toolbar's own page (page.js)
 * share, in one place: remembered settings, DOM helpers, JSON GETs and times in ms, a panel
 * fragment shown (imported, bars laid out, file:line made editor links, the log filter, the
 * panel's own module), the editor link builder and the theme switch. A panel's own script (the
 * SQL panel's actions, assets/panels/sql.js) is loaded like a fragment's module, when the panel
 * first opens; so is the Timer panel's browser side in the toolbar (browser-timing.js).
 *
 * toolbar.js loads it (with the page's CSP nonce) before it starts; the page's shell lists it
 * before filters.js, compare.js and page.js (the page's parts, registered the same way). It
 * registers window.debugToolbarModules["common.js"], a function that returns the helpers: a
 * function, because no element of the page can stand in for one (an element with that id or
 * name is an element, never a function), and its callers check for that.
 * Same rules as its callers: recorded strings reach the DOM through textContent, fragments
 * (escaped by the server) through DOMParser, which never runs scripts; no inline style.
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};

  /* localStorage under "dtb.", or nothing (private mode) */
  var store = {
    get: function (k, d) {
      try {
        var v = window.localStorage.getItem("dtb." + k);
        return v === null ? d : v;
      } catch (e) {
        return d;
      }
    },
    set: function (k, v) {
      try {
        window.localStorage.setItem("dtb." + k, v);
      } catch (e) { /* private mode: not kept */ }
    }
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function button(cls, text, label) {
    var b = el("button", cls, text);
    b.type = "button";
    if (label) {
      b.setAttribute("aria-label", label);
      b.title = label;
    }
    return b;
  }

  /* Appends each of kids to parent, in order; returns parent. */
  function append(parent, kids) {
    kids.forEach(function (k) {
      parent.appendChild(k);
    });
    return parent;
  }

  /* GETs url (same origin) as text; rejects with "HTTP <status>" unless it is 2xx. */
  function getText(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.text();
    });
  }

  /* GETs url (same origin) as JSON: {pending: true} for a 202 (a record not stored yet);
   * rejects with "HTTP <status>" (and e.status) unless it is 2xx. */
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

  /* A time in milliseconds as "12.3 ms", or "" when v is not a number. */
  /* A duration given in ms, in the unit that reads best, as the panels' figures are (the C
   * side's dtbi_fmt_ms): "0 ms", "750 ns", "41.5 \u00b5s", "531 \u00b5s", "12.3 ms", "1.25 s".
   * Never "0.0 ms" for a sub-millisecond figure. */
  function fmtMs(v) {
    if (typeof v !== "number" || !isFinite(v)) {
      return "";
    }
    var a = Math.abs(v);
    return a === 0 ? "0 ms" : a < 0.001 ? (v * 1e6).toFixed(0) + " ns" :
      a < 0.0995 ? (v * 1e3).toFixed(1) + " \u00b5s" : a < 0.9995 ? (v * 1e3).toFixed(0) + " \u00b5s" :
        a < 999.95 ? v.toFixed(1) + " ms" : (v / 1e3).toFixed(2) + " s";
  }

  /* Timer bars: their place and width come as data attributes, set through the CSSOM. */
  function layoutBars(node) {
    Array.prototype.forEach.call(node.querySelectorAll(".dtb-bar"), function (bar) {
      var left = parseFloat(bar.getAttribute("data-left")) || 0;
      var width = parseFloat(bar.getAttribute("data-width")) || 0;
      bar.style.marginLeft = Math.max(0, Math.min(100, left)) + "%";
      bar.style.width = Math.max(0.5, Math.min(100, width)) + "%";
    });
  }

  /* ---- editor links: <span class="dtb-src" data-file data-line> become <a href> ---------- */

  function normalizePath(p) {
    var abs = p.charAt(0) === "/";
    var out = [];
    p.split("/").forEach(function (s) {
      if (s === "" || s === ".") {
        return;
      }
      if (s === "..") {
        if (out.length && out[out.length - 1] !== "..") {
          out.pop();
        } else if (!abs) {
          out.push(s);
        }
        return;
      }
      out.push(s);
    });
    return (abs ? "/" : "") + out.join("/");
  }

  /* The editor URL for file:line, or null. ed is the record's "editor": {"template", "paths":
   * [{"from", "to"}], "source_root"}. The file is resolved against source_root, mapped by the
   * first "from" that is a whole-directory prefix, and percent-encoded (slashes kept); the line
   * is digits only; only the configured template's own scheme is accepted. */
  function editorUrl(ed, file, line) {
    if (!ed || typeof ed.template !== "string" || !file) {
      return null;
    }
    var path = file;
    if (path.charAt(0) !== "/" && ed.source_root) {
      path = ed.source_root + "/" + path;
    }
    path = normalizePath(path);
    (ed.paths || []).some(function (m) {
      var from = normalizePath(String(m.from || ""));
      if (from && (path === from || path.indexOf(from === "/" ? "/" : from + "/") === 0)) {
        path = String(m.to || "") + path.slice(from === "/" ? 0 : from.length);
        return true;
      }
      return false;
    });
    var enc = path.split("/").map(encodeURIComponent).join("/");
    var ln = /^\d{1,9}$/.test(String(line)) ? String(line) : "1";
    var url = ed.template.replace(/\{file\}/g, enc).replace(/\{line\}/g, ln);
    var scheme = /^([a-z][a-z0-9+.\-]*):/i.exec(ed.template);
    if (!scheme || url.slice(0, scheme[0].length).toLowerCase() !== scheme[0].toLowerCase() ||
        /^(javascript|data|vbscript|blob):$/i.test(scheme[0])) {
      return null;
    }
    return url;
  }

  function linkSources(node, ed) {
    Array.prototype.forEach.call(node.querySelectorAll(".dtb-src"), function (s) {
      var url = editorUrl(ed, s.getAttribute("data-file"), s.getAttribute("data-line"));
      if (!url || s.parentNode.tagName === "A") {
        return;
      }
      var a = el("a", "dtb-src-link");
      a.href = url;
      a.title = "Open in the editor";
      s.parentNode.insertBefore(a, s);
      a.appendChild(s);
    });
  }

  /* ---- a panel's fragment ------------------------------------------------------------------ */

  /* Loads a panel's own script (an embedded asset: the one the fragment names, e.g.
   * profile.js, or the one the panel declares, e.g. sql.js) once, then runs it on node with
   * {linkSources(node), prefix, requestId(), context}. opts: {prefix, version, nonce, editor()
   * (the editor settings now), alive(node) (still shown?), requestId() (the shown request's),
   * context (what the caller gives its own module, e.g. the toolbar's History; may be absent)}. */
  function loadModule(node, name, opts) {
    if (!node || !name || !/^[a-z0-9-]+\.js$/.test(name)) {
      return;
    }
    var run = function () {
      var mods = window.debugToolbarModules || {};
      if (typeof mods[name] === "function" && opts.alive(node)) {
        mods[name](node, {
          linkSources: function (n) { linkSources(n, opts.editor()); },
          prefix: opts.prefix,
          requestId: function () { return opts.requestId ? opts.requestId() : ""; },
          context: opts.context
        });
      }
    };
    if (typeof (window.debugToolbarModules || {})[name] === "function") {
      run();
      return;
    }
    var s = document.createElement("script");
    s.src = opts.prefix + "/static/" + name + (opts.version ? "?v=" + opts.version : "");
    if (opts.nonce) {
      s.nonce = opts.nonce;
    }
    s.addEventListener("load", run);
    document.head.appendChild(s);
  }

  /* Adds a panel's own stylesheet (an embedded asset, e.g. sql.css, or an app panel's
   * panel-<id>.css) once to the Shadow DOM node is shown in (never to the page's document),
   * with the nonce. opts as for loadModule. */
  function loadStyle(node, name, opts) {
    if (!node || !name || !/^[a-z0-9-]+\.css$/.test(name)) {
      return;
    }
    var root = node.getRootNode ? node.getRootNode() : null;
    if (!root || root === document || root.querySelector("link[data-dtb-style=\"" + name + "\"]")) {
      return;
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.setAttribute("data-dtb-style", name);
    link.href = opts.prefix + "/static/" + name + (opts.version ? "?v=" + opts.version : "");
    if (opts.nonce) {
      link.nonce = opts.nonce;
    }
    root.appendChild(link);
  }

  /* Logging panel: show messages at or above the chosen level (remembered). */
  function applyLogFilter(body, select) {
    var min = parseInt(select.value, 10) || 0;
    Array.prototype.forEach.call(body.querySelectorAll("tr[data-level]"), function (tr) {
      tr.hidden = (parseInt(tr.getAttribute("data-level"), 10) || 0) < min;
    });
  }

  /* Shows a panel's HTML fragment in body: imported (never run), bars laid out, file:line
   * linked, the log filter set up, the fragment's module and the panel's script (its nav's
   * "script", may be absent) run, the panel's stylesheet (its nav's "style") added. opts as
   * for loadModule. */
  function showFragment(body, html, opts, script, style) {
    loadStyle(body, style, opts);
    var doc = new DOMParser().parseFromString(html, "text/html");
    body.textContent = "";
    Array.prototype.forEach.call(doc.body.childNodes, function (n) {
      body.appendChild(document.importNode(n, true));
    });
    layoutBars(body);
    linkSources(body, opts.editor());
    var mod = body.querySelector("[data-dtb-module]");
    loadModule(mod, mod ? mod.getAttribute("data-dtb-module") : "", opts);
    loadModule(body, script, opts);
    var filter = body.querySelector(".dtb-log-filter");
    if (filter) {
      filter.value = store.get("logLevel", "10") || "10";
      applyLogFilter(body, filter);
      filter.addEventListener("change", function () {
        store.set("logLevel", filter.value);
        applyLogFilter(body, filter);
      });
    }
  }

  /* ---- the theme: the system's (prefers-color-scheme), light or dark, remembered ---------- */

  var THEMES = ["auto", "light", "dark"];

  /* Applies the remembered theme to wrap and cycles it on btn's clicks; also(t) runs after. */
  function themeSwitch(wrap, btn, also) {
    var apply = function (t) {
      wrap.classList.remove("dtb-theme-light", "dtb-theme-dark");
      if (t !== "auto") {
        wrap.classList.add("dtb-theme-" + t);
      }
      btn.title = "Theme: " + t + " (click to change)";
      if (also) {
        also(t);
      }
    };
    btn.addEventListener("click", function () {
      var t = THEMES[(THEMES.indexOf(store.get("theme", "auto")) + 1) % THEMES.length];
      store.set("theme", t);
      apply(t);
    });
    apply(store.get("theme", "auto"));
  }

  /* A History line's marks from its panels (summary "marks"): [text, badge class, title], in
   * the order the panels gave them; a level other than warn or error shows as info. */
  function marks(r) {
    return (Array.isArray(r.marks) ? r.marks : []).filter(function (m) {
      return m && typeof m.text === "string";
    }).map(function (m) {
      var level = m.level === "error" ? "dtb-error" : (m.level === "warn" ? "dtb-warn" : "dtb-info");
      return [m.text, level, (m.panel ? m.panel + ": " : "") + String(m.title || m.text)];
    });
  }

  var api = {
    store: store,
    marks: marks,
    el: el,
    button: button,
    append: append,
    getText: getText,
    getJSON: getJSON,
    fmtMs: fmtMs,
    loadModule: loadModule,
    editorUrl: editorUrl,
    linkSources: linkSources,
    showFragment: showFragment,
    themeSwitch: themeSwitch
  };
  modules["common.js"] = function () {
    return api;
  };
}());

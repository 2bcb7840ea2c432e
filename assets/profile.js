/*
 * profile.js - the Profile panel's flame graph and downloads, loaded by toolbar.js when the
 * panel's fragment names it (data-dtb-module="profile.js"). Reads the stored profile from the
 * fragment's JSON data block (never executed: type application/json), draws an icicle graph
 * (root on top; click a frame to zoom into it, click the root to zoom out) with DOM elements
 * positioned through the CSSOM (no inline style attributes, no outside library: CSP-safe),
 * offers the collapsed stacks and the speedscope file as downloads (Blob URLs), and has the
 * switch that profiles the next requests of this browser (the dtb_profile cookie). Under the
 * graph, the frame pointed at, focused or zoomed into is detailed: its file:line is a
 * <span class="dtb-src"> that the host UI turns into an editor link (host.linkSources, the same
 * link builder as the panels' call sites).
 */
(function () {
  "use strict";
  var modules = window.debugToolbarModules = window.debugToolbarModules || {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text !== undefined) {
      e.textContent = String(text);
    }
    return e;
  }

  /* The call tree of the stored stacks: {name, value, children: {}} */
  function buildTree(data) {
    var root = { name: "all", value: 0, children: {}, frame: -1 };
    (data.stacks || []).forEach(function (s) {
      var node = root;
      root.value += s.n;
      (s.f || []).forEach(function (id) {
        var f = (data.frames || [])[id] || { name: "?" };
        var key = String(id);
        if (!node.children[key]) {
          node.children[key] = { name: f.name, file: f.file, line: f.line, module: f.module,
            value: 0, children: {}, parent: node };
        }
        node = node.children[key];
        node.value += s.n;
      });
    });
    return root;
  }

  function hue(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) {
      h = (h * 31 + name.charCodeAt(i)) % 360;
    }
    return h;
  }

  var ROW = 18;

  /* The frame's details: name, file:line (linkable), samples and share of the profile. */
  function detail(info, root, node, link) {
    info.textContent = "";
    info.appendChild(el("code", null, node.name));
    if (node.file) {
      info.appendChild(document.createTextNode(" "));
      var src = el("span", "dtb-src", node.file + (node.line ? ":" + node.line : ""));
      src.setAttribute("data-file", node.file);
      src.setAttribute("data-line", String(node.line || ""));
      info.appendChild(src);
    }
    if (node.module) {
      info.appendChild(el("span", "dtb-muted", " " + node.module));
    }
    info.appendChild(document.createTextNode(" \u2014 " + node.value + " samples, " +
      (100 * node.value / (root.value || 1)).toFixed(1) + "%"));
    link(info);
  }

  function draw(box, root, focus, info, link) {
    box.textContent = "";
    var rows = 0;
    var total = focus.value || 1;
    /* the chain from the root to the focus, full width */
    var chain = [];
    for (var n = focus; n; n = n.parent) {
      chain.unshift(n);
    }
    function cell(node, depth, left, width) {
      var d = el("div", "dtb-flame-frame", node.name);
      d.title = node.name + (node.file ? " (" + node.file + ":" + node.line + ")" : "") +
        " \u2014 " + node.value + " samples, " + (100 * node.value / root.value).toFixed(1) + "%";
      d.setAttribute("role", "button");
      d.tabIndex = 0;
      d.style.position = "absolute";
      d.style.left = left + "%";
      d.style.width = width + "%";
      d.style.top = depth * ROW + "px";
      d.style.height = (ROW - 1) + "px";
      d.style.overflow = "hidden";
      d.style.whiteSpace = "nowrap";
      d.style.textOverflow = "ellipsis";
      d.style.fontSize = "11px";
      d.style.lineHeight = (ROW - 1) + "px";
      d.style.padding = "0 3px";
      d.style.boxSizing = "border-box";
      d.style.cursor = "pointer";
      d.style.color = "#111";
      d.style.background = node === root ? "#ccc" : "hsl(" + hue(node.name) + ",70%,72%)";
      d.style.borderRight = "1px solid #fff";
      var target = node === focus && node.parent ? node.parent : node;
      var go = function () {
        draw(box, root, target, info, link);
        detail(info, root, target, link);
      };
      var show = function () {
        detail(info, root, node, link);
      };
      d.addEventListener("click", go);
      d.addEventListener("mouseenter", show);
      d.addEventListener("focus", show);
      d.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          go();
        }
      });
      box.appendChild(d);
      rows = Math.max(rows, depth + 1);
    }
    chain.forEach(function (node, depth) {
      cell(node, depth, 0, 100);
    });
    function walk(node, depth, left) {
      Object.keys(node.children).map(function (k) {
        return node.children[k];
      }).sort(function (a, b) {
        return b.value - a.value;
      }).forEach(function (c) {
        var w = 100 * c.value / total;
        if (w >= 0.2) {
          cell(c, depth, left, w);
          walk(c, depth + 1, left);
        }
        left += w;
      });
    }
    walk(focus, chain.length, 0);
    box.style.position = "relative";
    box.style.height = rows * ROW + "px";
  }

  function download(link, text, type) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = el("a");
    a.href = url;
    a.download = link.getAttribute("download") || "profile";
    document.body.appendChild(a);
    a.click();
    a.remove();
    window.setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  }

  function cookieOn() {
    return document.cookie.split(/;\s*/).indexOf("dtb_profile=1") >= 0;
  }

  /* host: what the UI that loaded this module offers ({linkSources(node)}), may be absent */
  modules["profile.js"] = function (node, host) {
    var link = host && typeof host.linkSources === "function" ? host.linkSources :
      function () { /* no editor links */ };
    var sw = node.querySelector(".dtb-profile-switch");
    if (sw) {
      var label = function () {
        sw.textContent = cookieOn() ? "Profiling this browser's requests: on (turn off)"
          : "Profile this browser's next requests";
        sw.setAttribute("aria-pressed", cookieOn() ? "true" : "false");
      };
      label();
      sw.addEventListener("click", function () {
        document.cookie = cookieOn() ? "dtb_profile=; path=/; max-age=0; samesite=strict"
          : "dtb_profile=1; path=/; max-age=3600; samesite=strict";
        label();
      });
    }
    var block = node.querySelector("script.dtb-profile-data");
    var box = node.querySelector(".dtb-flame");
    if (!block || !box) {
      return;
    }
    var data;
    try {
      data = JSON.parse(block.textContent);
    } catch (e) {
      box.textContent = "The profile could not be read.";
      return;
    }
    var root = buildTree(data);
    var info = el("p", "dtb-flame-details");
    info.setAttribute("aria-live", "polite");
    box.parentNode.insertBefore(info, box.nextSibling);
    draw(box, root, root, info, link);
    detail(info, root, root, link);
    Array.prototype.forEach.call(node.querySelectorAll(".dtb-profile-dl"), function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        if (a.getAttribute("data-format") === "folded") {
          var pre = node.querySelector(".dtb-profile-folded");
          download(a, pre ? pre.textContent : "", "text/plain");
        } else {
          var ss = node.querySelector("script.dtb-profile-speedscope");
          download(a, ss ? ss.textContent : "{}", "application/json");
        }
      });
    });
  };
}());

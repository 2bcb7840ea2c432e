/*
 * toolbar.js - the debug toolbar's UI. No framework, no globals but window.debugToolbar.
 *
 * The server injects <dtb-toolbar id="dtb-root" data-id=ID> and this script (src under the
 * toolbar's prefix, data-id=ID); the script trusts only itself (see below). Everything lives
 * in a Shadow DOM on that element, with the stylesheet loaded inside it, so the page's CSS
 * never reaches the toolbar and the toolbar's never reaches the page. Recorded
 * strings reach the DOM through textContent; panel fragments (escaped by the server) are
 * parsed with DOMParser, which never runs scripts, and imported. No inline styles or scripts:
 * works under a strict Content-Security-Policy (the script's nonce is copied to the stylesheet
 * and to the scripts it loads).
 *
 * Two parts: the first runs at once (it finds itself, claims window.debugToolbar, wraps fetch
 * and XMLHttpRequest so that no call of the page is missed) and loads common.js, what the
 * toolbar shares with the toolbar's page (page.js); the second, passed to the first as main,
 * builds the toolbar with those helpers once common.js has run. The History panel (history.js)
 * and the Timer panel's browser side (browser-timing.js) are loaded like a panel's module
 * (common.js's loadModule) when first shown.
 */
(function (main) {
  "use strict";
  /* The toolbar finds itself, never the page's elements (a page that lets users write ids and
   * data-* attributes must not be able to point it elsewhere): its own <script> element,
   * captured now (currentScript is only set while this runs synchronously), gives the prefix
   * (its src, which must be a same-origin path ending in /static/toolbar.js) and the request
   * id (its data-id). The host is the <dtb-toolbar> the server put right before it, when that
   * is one for the same request and still unused; otherwise the toolbar makes its own. */
  var script = null;
  try { /* Document.prototype's getter: <img name="currentScript"> cannot stand in for it */
    script = Object.getOwnPropertyDescriptor(Document.prototype, "currentScript").get.call(document);
  } catch (e) { /* an old browser: no toolbar */ }
  var prior = window.debugToolbar; /* an element with id="debugToolbar" is not a toolbar */
  if (!(script instanceof HTMLScriptElement) || (prior && typeof prior.record === "function")) {
    return;
  }
  var self = null;
  try {
    self = new URL(script.src);
  } catch (e) { /* no usable src: refused below */ }
  var suffix = "/static/toolbar.js";
  var path = self ? self.pathname : "";
  var prefix = path.slice(0, path.length - suffix.length);
  if (!self || self.origin !== window.location.origin ||
      path.slice(path.length - suffix.length) !== suffix ||
      !/^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*$/.test(prefix)) {
    return; /* not a same-origin path: the toolbar does not start */
  }
  var requestId = script.getAttribute("data-id") || "";
  var nonce = script.nonce || script.getAttribute("nonce") || "";
  var version = self.searchParams.get("v") || "";
  var host = script.previousElementSibling;
  if (!host || host.localName !== "dtb-toolbar" || host.shadowRoot ||
      host.getAttribute("data-id") !== requestId) {
    host = document.createElement("dtb-toolbar");
    host.setAttribute("data-id", requestId);
    if (script.parentNode) {
      script.parentNode.insertBefore(host, script);
    } else {
      (document.body || document.documentElement).appendChild(host);
    }
  }
  /* The page's own fetch and XMLHttpRequest calls carry X-Debug-Toolbar-Id when the toolbar
   * recorded them; the wrappers only read that header and change nothing else. Installed at
   * once; what they see before the toolbar is built waits for it (main's attach). */
  var pending = [];
  var sink = function () {
    pending.push(arguments);
  };
  if (window.fetch) {
    var origFetch = window.fetch;
    window.fetch = function (input, init) {
      var p = origFetch.apply(this, arguments);
      p.then(function (r) {
        var method = (init && init.method) || (input && input.method) || "GET";
        sink(r.headers.get("X-Debug-Toolbar-Id"), method, r.url, r.status);
      }, function () { /* the page handles its own errors */ });
      return p;
    };
  }
  /* One "load" listener per XMLHttpRequest object, however often the page reuses it: it
   * reports the method and URL of the object's current open(). A page that calls open() again
   * from its own load handler (which runs before ours) resets the response, so the finished
   * request is reported by that open() first; each request is reported once. */
  if (window.XMLHttpRequest && window.WeakMap) {
    var xhrOpen = window.XMLHttpRequest.prototype.open;
    var xhrCalls = new window.WeakMap();
    var noteXhr = function (xhr, call) {
      if (call.noted || xhr.readyState !== 4 || !xhr.status) {
        return;
      }
      call.noted = true;
      sink(xhr.getResponseHeader("X-Debug-Toolbar-Id"), call.method,
        xhr.responseURL || call.url, xhr.status);
    };
    window.XMLHttpRequest.prototype.open = function (method, url) {
      var xhr = this;
      var call = xhrCalls.get(xhr);
      if (!call) {
        call = { noted: true };
        xhrCalls.set(xhr, call);
        xhr.addEventListener("load", function () {
          noteXhr(xhr, call);
        });
      } else {
        noteXhr(xhr, call);
      }
      var r = xhrOpen.apply(this, arguments); /* may throw: then nothing changed */
      call.method = method;
      call.url = String(url);
      call.noted = false;
      return r;
    };
  }
  window.debugToolbar = { /* until the toolbar is built */
    requestId: requestId,
    open: function () {},
    close: function () {},
    record: function () { return null; }
  };
  /* common.js first (with the nonce, as the page's CSP may ask), then the toolbar */
  var shared = document.createElement("script");
  shared.src = prefix + "/static/common.js" + (version ? "?v=" + version : "");
  if (nonce) {
    shared.nonce = nonce;
  }
  shared.addEventListener("load", function () {
    var common = (window.debugToolbarModules || {})["common.js"];
    if (typeof common === "function") { /* a function: no element can stand in for it */
      main(common(), {
        prefix: prefix,
        requestId: requestId,
        nonce: nonce,
        version: version,
        host: host,
        attach: function (fn) { /* the page's calls go to fn, those seen so far first */
          sink = fn;
          pending.forEach(function (a) {
            fn.apply(null, a);
          });
          pending = [];
        }
      });
    }
  });
  (document.head || document.documentElement).appendChild(shared);
}(function (ui, boot) {
  "use strict";
  var prefix = boot.prefix;
  var requestId = boot.requestId;
  var nonce = boot.nonce;
  var version = boot.version;
  var host = boot.host;
  var store = ui.store, el = ui.el, button = ui.button;

  var root = host.attachShadow({ mode: "open" });
  var link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = prefix + "/static/toolbar.css" + (version ? "?v=" + version : "");
  if (nonce) {
    link.nonce = nonce;
  }
  root.appendChild(link);

  var wrap = el("div", "dtb");
  var handle = button("dtb-handle", "DT",
    "Open the debug toolbar (drag it, or press the Up and Down arrow keys, to move it)");
  var side = el("aside", "dtb-side");
  side.setAttribute("aria-label", "Debug toolbar");
  var head = el("div", "dtb-side-head");
  var brand = el("span", "dtb-brand", "Debug toolbar");
  var themeBtn = button("dtb-btn dtb-icon", "\u25d0", "Theme: follow the system, light, dark");
  var sideBtn = button("dtb-btn dtb-icon", "\u21c6", "Move the toolbar to the other side");
  var hideBtn = button("dtb-btn", "Hide", "Hide the toolbar");
  var closeBtn = button("dtb-btn dtb-close", "\u00d7", "Close the toolbar");
  head.appendChild(brand);
  /* the toolbar's own page: every request, with filters and compare */
  var pageLink = el("a", "dtb-btn dtb-icon dtb-page-link", "\u2197");
  pageLink.href = prefix + "/";
  pageLink.title = "All requests, on the toolbar's page";
  pageLink.setAttribute("aria-label", pageLink.title);
  ui.append(head, [pageLink, themeBtn, sideBtn, hideBtn, closeBtn]);
  var summary = el("div", "dtb-summary", "");
  var list = el("ul", "dtb-panels");
  var status = el("div", "dtb-status", "Loading\u2026");
  ui.append(side, [head, summary, list, status]);

  var content = el("section", "dtb-content");
  content.setAttribute("aria-live", "polite");
  var contentHead = el("div", "dtb-content-head");
  var contentTitle = el("h3", "dtb-content-title", "");
  var contentClose = button("dtb-btn dtb-close", "\u00d7", "Close the panel");
  contentHead.appendChild(contentTitle);
  contentHead.appendChild(contentClose);
  var contentBody = el("div", "dtb-content-body");
  content.appendChild(contentHead);
  content.appendChild(contentBody);

  wrap.appendChild(handle);
  wrap.appendChild(side);
  wrap.appendChild(content);
  root.appendChild(wrap);

  var record = null;
  var openPanel = null;

  function setOpen(open) {
    wrap.classList.toggle("dtb-open", open);
    store.set("open", open ? "1" : "0");
    if (!open) {
      closePanel();
    }
  }

  function setHidden(hidden) {
    wrap.classList.toggle("dtb-hidden", hidden);
    store.set("hidden", hidden ? "1" : "0");
  }

  function closePanel() {
    wrap.classList.remove("dtb-panel-open");
    openPanel = null;
    store.set("panel", "");
    Array.prototype.forEach.call(list.querySelectorAll("button"), function (b) {
      b.classList.remove("dtb-active");
      b.setAttribute("aria-pressed", "false");
    });
  }

  /* Closes the open panel; when the focus was inside it (which is now hidden), it goes back to
   * the panel's button in the sidebar, so keyboard users are not sent to the page's start. */
  function closePanelKeepFocus() {
    var active = list.querySelector(".dtb-active");
    var inside = root.activeElement && content.contains(root.activeElement);
    closePanel();
    if (inside && active) {
      active.focus();
    }
  }

  /* The first button of the sidebar's panel list (the close button until they are loaded). */
  function focusSide() {
    (list.querySelector("button") || closeBtn).focus();
  }

  var fragmentOpts = {
    prefix: prefix,
    version: version,
    nonce: nonce,
    editor: function () { return record && record.editor; },
    alive: function (node) { return contentBody.contains(node); },
    requestId: function () { return requestId; }
  };

  function showFragment(html, script, style) {
    ui.showFragment(contentBody, html, fragmentOpts, script, style);
    if (openPanel === "timer" && requestId === pageId) {
      /* the browser's side of this page's own request (browser-timing.js), after its table */
      ui.loadModule(contentBody.querySelector("table"), "browser-timing.js", fragmentOpts);
    }
  }

  function showPanel(nav, btn) {
    if (openPanel === nav.id) {
      closePanel();
      return;
    }
    closePanel();
    openPanel = nav.id;
    store.set("panel", nav.id);
    btn.classList.add("dtb-active");
    btn.setAttribute("aria-pressed", "true");
    contentTitle.textContent = nav.title;
    contentBody.textContent = "Loading\u2026";
    wrap.classList.add("dtb-panel-open");
    if (nav.id === HISTORY) {
      showHistory();
      return;
    }
    var url = prefix + "/api/requests/" + encodeURIComponent(requestId) + "/panels/" +
      encodeURIComponent(nav.id);
    ui.getText(url).then(function (html) {
      if (openPanel === nav.id) {
        showFragment(html, nav.script, nav.style);
      }
    }).catch(function (e) {
      contentBody.textContent = "";
      contentBody.appendChild(el("p", "dtb-error", "This panel could not be loaded (" +
        e.message + ")."));
    });
  }

  var HISTORY = "__history";
  var pageRequests = []; /* fetch/XHR calls made by this page that the toolbar recorded */
  var pageId = requestId;

  /* The History panel, drawn by history.js (loaded when it first opens) in the panel's body */
  var historyOpts = Object.assign({}, fragmentOpts, {
    context: {
      pageId: pageId,
      pageRequests: pageRequests,
      shown: function () { return openPanel === HISTORY; },
      switchTo: switchTo
    }
  });

  function showHistory() {
    ui.loadModule(contentBody, "history.js", historyOpts);
  }

  var focusAfterRender = false;

  function switchTo(id) {
    /* a History row clicked by keyboard: the panel closes, so focus the new panel list */
    focusAfterRender = !!(root.activeElement && content.contains(root.activeElement));
    requestId = id;
    store.set("panel", "");
    closePanel();
    status.textContent = "Loading\u2026";
    load(0);
  }

  function notePageRequest(id, method, url, statusCode) {
    if (!id || id === pageId) {
      return;
    }
    var path = url;
    try {
      var u = new URL(url, window.location.href);
      if (u.pathname.indexOf(prefix + "/") === 0) {
        return; /* the toolbar's own calls */
      }
      path = u.pathname + u.search;
    } catch (e) { /* keep the raw URL */ }
    pageRequests.push({ id: id, method: method || "GET", path: path, status: statusCode });
    if (pageRequests.length > 50) {
      pageRequests.shift();
    }
    var sub = root.querySelector(".dtb-history-sub");
    if (sub) {
      sub.textContent = pageRequests.length + " from this page";
    }
    if (openPanel === HISTORY) {
      showHistory();
    }
  }

  function render(rec) {
    record = rec;
    list.textContent = "";
    summary.textContent = "";
    summary.appendChild(el("span", "dtb-method", rec.method));
    summary.appendChild(el("span", "dtb-path", rec.path));
    summary.appendChild(el("span", "dtb-status-code", rec.status));
    (rec.nav || []).forEach(function (nav) {
      var li = el("li");
      var b = button("dtb-panel-btn");
      b.setAttribute("aria-pressed", "false");
      b.appendChild(el("span", "dtb-panel-title", nav.title));
      if (nav.subtitle) {
        b.appendChild(el("span", "dtb-panel-sub", nav.subtitle));
      }
      b.addEventListener("click", function () {
        showPanel(nav, b);
      });
      li.appendChild(b);
      list.appendChild(li);
      if (store.get("panel", "") === nav.id && wrap.classList.contains("dtb-open")) {
        showPanel(nav, b);
      }
    });
    var hli = el("li");
    var hb = button("dtb-panel-btn dtb-history-btn");
    hb.setAttribute("aria-pressed", "false");
    hb.appendChild(el("span", "dtb-panel-title", "History"));
    hb.appendChild(el("span", "dtb-panel-sub dtb-history-sub",
      pageRequests.length ? pageRequests.length + " from this page" : "all recent requests"));
    hb.addEventListener("click", function () {
      showPanel({ id: HISTORY, title: "History" }, hb);
    });
    hli.appendChild(hb);
    list.appendChild(hli);
    if (rec.id !== pageId) {
      summary.appendChild(el("span", "dtb-badge", "not this page"));
    }
    status.textContent = "";
    var t = ui.fmtMs(rec.time_ms);
    handle.textContent = "DT";
    if (t) {
      handle.appendChild(el("span", "dtb-handle-time", t));
    }
    if (focusAfterRender) {
      focusAfterRender = false;
      focusSide();
    }
  }

  function load(attempt) {
    fetch(prefix + "/api/requests/" + encodeURIComponent(requestId), {
      credentials: "same-origin"
    }).then(function (r) {
      /* 202: the page was sent but its record is stored a moment later, at completion */
      if ((r.status === 202 || r.status === 404) && attempt < 40) {
        window.setTimeout(function () {
          load(attempt + 1);
        }, 100);
        return null;
      }
      if (!r.ok) {
        throw new Error("HTTP " + r.status);
      }
      return r.json();
    }).then(function (rec) {
      if (rec) {
        render(rec);
      }
    }).catch(function (e) {
      status.textContent = "Request record not found (" + e.message + ").";
    });
  }

  handle.addEventListener("click", function (ev) {
    if (handle.dataset.dragged) {
      delete handle.dataset.dragged;
      return;
    }
    if (wrap.classList.contains("dtb-hidden")) {
      setHidden(false);
      return;
    }
    setOpen(!wrap.classList.contains("dtb-open"));
    if (ev.detail === 0 && wrap.classList.contains("dtb-open")) {
      focusSide(); /* opened by keyboard (Enter or Space): the handle is gone, go on inside */
    }
  });
  closeBtn.addEventListener("click", function () {
    setOpen(false);
    handle.focus();
  });
  hideBtn.addEventListener("click", function () {
    setOpen(false);
    setHidden(true);
    handle.focus();
  });
  contentClose.addEventListener("click", closePanelKeepFocus);
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") {
      return;
    }
    if (openPanel) {
      closePanelKeepFocus();
    } else if (wrap.classList.contains("dtb-open")) {
      setOpen(false);
      handle.focus();
    }
  });

  /* theme: system (prefers-color-scheme), light or dark; side: right or left; the handle's
   * vertical position is dragged (or moved with the arrow keys) and remembered */
  ui.themeSwitch(wrap, themeBtn);
  function applySide(side) {
    wrap.classList.toggle("dtb-left", side === "left");
  }
  sideBtn.addEventListener("click", function () {
    var side = store.get("side", "right") === "right" ? "left" : "right";
    store.set("side", side);
    applySide(side);
  });
  applySide(store.get("side", "right"));
  /* The handle's top, in % of the viewport's height: 0 to 90; when the user moves it (and it is
   * saved), also no lower than keeps it whole in the viewport. */
  var handleTop = 30;
  function placeHandle(pct, save) {
    var h = save ? handle.offsetHeight : 0; /* no layout forced while the page loads */
    var max = 90;
    if (h && window.innerHeight > h) {
      max = Math.min(max, 100 * (window.innerHeight - h) / window.innerHeight);
    }
    handleTop = Math.max(0, Math.min(max, isNaN(pct) ? 30 : pct));
    handle.style.top = handleTop + "%";
    if (save) {
      store.set("top", String(handleTop));
    }
  }
  placeHandle(parseFloat(store.get("top", "30")), false);
  /* ArrowUp and ArrowDown move the focused handle by 5% of the viewport's height */
  handle.addEventListener("keydown", function (ev) {
    var step = ev.key === "ArrowUp" ? -5 : (ev.key === "ArrowDown" ? 5 : 0);
    if (!step || ev.altKey || ev.ctrlKey || ev.metaKey) {
      return;
    }
    ev.preventDefault(); /* and the page does not scroll */
    placeHandle(handleTop + step, true);
  });
  var drag = null;
  handle.addEventListener("pointerdown", function (ev) {
    drag = { y: ev.clientY, moved: false };
    handle.setPointerCapture(ev.pointerId);
  });
  handle.addEventListener("pointermove", function (ev) {
    if (!drag || (!drag.moved && Math.abs(ev.clientY - drag.y) < 5)) {
      return;
    }
    drag.moved = true;
    placeHandle(100 * ev.clientY / window.innerHeight, true);
  });
  handle.addEventListener("pointerup", function () {
    if (drag && drag.moved) {
      handle.dataset.dragged = "1"; /* the click that follows a drag does nothing */
    }
    drag = null;
  });

  setHidden(store.get("hidden", "0") === "1");
  if (store.get("open", "0") === "1") {
    wrap.classList.add("dtb-open");
  }
  window.debugToolbar = {
    requestId: requestId,
    open: function () { setOpen(true); },
    close: function () { setOpen(false); },
    record: function () { return record; }
  };
  boot.attach(notePageRequest);
  load(0);
}));

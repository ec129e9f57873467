// Live updates for topic and board pages. Progressive enhancement only: without this file
// (or without WebSocket) the pages are complete, and reloading shows what is new.
//
// A small Socket.IO client (protocol v5 over Engine.IO v4, WebSocket transport only):
// it joins the page's room, inserts the server-rendered fragments it receives, shows how
// many people are reading, and after a lost connection fetches what it missed over HTTP
// (every post changed since the topic's change number it is current to), then goes on.
(function () {
  "use strict";

  var box = document.getElementById("live");
  if (!box || !window.WebSocket || !window.fetch || !window.JSON || !document.createElement("template").content) { return; }
  var d = box.dataset;
  var kind = d.kind;
  var viewer = d.viewer || "";
  var since = d.at || "";
  var last = parseInt(d.last, 10) || 0;
  // The topic's change number this page is current to. Live events move it on only when
  // they follow it without a gap: events from several processes may arrive out of order,
  // and a gap (a change this reader was not sent, or one still on its way) must be
  // fetched by the next catch-up rather than skipped.
  var seq = d.seq === undefined || d.seq === "" ? null : (parseInt(d.seq, 10) || 0);
  var textEl = box.querySelector(".live-text");
  var noticeEl = box.querySelector(".live-notice");
  var announceEl = box.querySelector(".live-announce");
  var ws = null, timer = null, retry = 0, ackId = 0, acks = {};
  var everJoined = false, stopped = false, readerCount = null, timeout = 45000;

  // -- words and times, from the page (already in the reader's language) ------------------
  var plural = null, clock = null;
  try { plural = new Intl.PluralRules(d.locale); } catch (e) { plural = null; }
  try {
    clock = new Intl.DateTimeFormat(d.locale, { dateStyle: "short", timeStyle: "short", timeZone: d.tz });
  } catch (e) { clock = null; }

  function readersText(n) {
    var one = plural ? plural.select(n) === "one" : n === 1;
    return (one ? d.readersOne : d.readersOther).replace("{n}", String(n));
  }

  function showReaders(n) {
    if (typeof n === "number") { readerCount = n; }
    box.hidden = false;
    box.classList.remove("paused");
    textEl.textContent = readerCount === null ? "" : readersText(readerCount);
  }

  function notice(message, link) {
    noticeEl.textContent = "";
    var a = document.createElement("a");
    if (link) {
      a.href = link;
      a.textContent = message;
    } else {
      noticeEl.appendChild(document.createTextNode(message + " "));
      a.href = window.location.href;
      a.textContent = d.reload;
    }
    noticeEl.appendChild(a);
    box.hidden = false;
  }

  function announce(message) {
    if (announceEl) { announceEl.textContent = message; }
  }

  // -- the protocol --------------------------------------------------------------------------
  function connect() {
    if (stopped) { return; }
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
      "/socket.io/?EIO=4&transport=websocket";
    try { ws = new WebSocket(url); } catch (e) { later(); return; }
    ws.onmessage = function (m) { receive(String(m.data)); };
    ws.onclose = function () {
      ws = null;
      clearTimeout(timer);
      acks = {};
      if (stopped) { return; }
      if (everJoined) {
        box.classList.add("paused");
        textEl.textContent = d.paused;
      }
      later();
    };
  }

  function later() {
    if (stopped) { return; }
    retry = Math.min(retry + 1, 7);
    window.setTimeout(connect, 1000 * Math.pow(2, retry - 1) * (0.5 + Math.random()));
  }

  function send(s) { if (ws && ws.readyState === 1) { ws.send(s); } }

  function emit(name, data, answer) {
    var id = "";
    if (answer) { id = String(++ackId); acks[id] = answer; }
    send("42" + id + JSON.stringify([name, data]));
  }

  function alive() {  // the server pings; silence longer than it promised means a dead link
    clearTimeout(timer);
    timer = window.setTimeout(function () { if (ws) { ws.close(); } }, timeout);
  }

  function receive(s) {
    var type = s.charAt(0);
    if (type === "0") {
      var open = JSON.parse(s.slice(1));
      timeout = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
      alive();
      send("40");
    } else if (type === "2") {
      alive();
      send("3");
    } else if (type === "4") {
      packet(s.slice(1));
    } else if (type === "1" && ws) {
      ws.close();
    }
  }

  function packet(s) {
    var type = s.charAt(0);
    if (type === "0") { join(); return; }
    if (type === "4" || type === "1") { if (ws) { ws.close(); } return; }
    var m = /^(\d*)(\[[\s\S]*)$/.exec(s.slice(1));
    if (!m) { return; }
    var args = JSON.parse(m[2]);
    if (type === "3") {
      var answer = acks[m[1]];
      delete acks[m[1]];
      if (answer) { answer(args[0]); }
    } else if (type === "2") {
      handle(args[0], args[1] || {});
    }
  }

  function join() {
    var what = kind === "topic" ? { topic: parseInt(d.topic, 10) } : { board: d.board };
    emit("join", what, function (answer) {
      if (!answer || !answer.ok) {
        stopped = true;
        if (ws) { ws.close(); }
        if (everJoined) { notice(d.revoked); }
        return;
      }
      var first = !everJoined;
      everJoined = true;
      retry = 0;
      showReaders(answer.readers);
      if (kind === "topic" && (!first || (answer.last || 0) > last ||
          (seq !== null && (answer.seq || 0) > seq))) { catchUp(); }
      if (kind === "board" && !first) { refreshRows(); }
    });
  }

  function handle(name, data) {
    if (name === "readers") { showReaders(data.count); }
    else if (name === "post") {
      since = data.at || since;
      if (seq !== null && data.seq === seq + 1) { seq = data.seq; }
      placePost(data, true);
    }
    else if (name === "topic_row") { placeRow(data, true); }
    else if (name === "topic") { topicChanged(data); }
    else if (name === "revoked") {
      stopped = true;
      if (ws) { ws.close(); }
      notice(d.revoked);
    }
  }

  // -- fragments -------------------------------------------------------------------------------
  // Fragments sent to a room are rendered once per language for any reader: drop what this
  // reader cannot use, and show times in the reader's zone.
  function build(html, shared) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    var el = tpl.content.firstElementChild;
    if (!el || !shared) { return el; }
    el.querySelectorAll("[data-needs]").forEach(function (node) {
      var need = node.getAttribute("data-needs");
      if (need === "reply" && d.reply === "1") { return; }
      if (need === "member" && viewer) { return; }
      if (node.classList.contains("author")) {
        var span = document.createElement("span");
        span.className = "author";
        span.textContent = node.textContent;
        node.replaceWith(span);
      } else {
        node.remove();
      }
    });
    el.querySelectorAll("[data-not-author]").forEach(function (node) {
      if (node.getAttribute("data-not-author") === viewer) { node.remove(); }
    });
    if (clock) {
      el.querySelectorAll("time[datetime]").forEach(function (t) {
        var when = new Date(t.getAttribute("datetime"));
        if (!isNaN(when.getTime())) { t.textContent = clock.format(when); }
      });
    }
    var lastAuthor = el.getAttribute("data-live-unread");
    if (lastAuthor !== null) {
      if (viewer && lastAuthor !== viewer) { el.classList.add("unread"); }
      el.removeAttribute("data-live-unread");
    }
    return el;
  }

  // -- topic pages -----------------------------------------------------------------------------
  var posts = document.getElementById("posts");
  var threaded = d.view === "threaded";
  var pageNo = parseInt(d.page, 10) || 1;
  var size = parseInt(d.size, 10) || 20;
  var readForm = document.getElementById("read-form");
  var beacon = null, newestSeen = 0;

  function articles() { return posts ? posts.querySelectorAll("article.post") : []; }

  // Where a new post goes on this page: the article to insert it before, null for the end,
  // or false when it belongs to another page.
  function slot(item) {
    var list = articles(), i;
    if (!threaded) {
      if (item.position <= (pageNo - 1) * size) { return false; }
      if (item.position > pageNo * size) { return "later"; }
      for (i = 0; i < list.length; i++) {
        if (parseInt(list[i].getAttribute("data-position"), 10) > item.position) { return list[i]; }
      }
      return null;
    }
    var key = item.thread_key;
    if (list.length && d.hasPrev === "1" && key < list[0].getAttribute("data-key")) { return false; }
    for (i = 0; i < list.length; i++) {
      if (list[i].getAttribute("data-key") > key) { return list[i]; }
    }
    return d.hasNext === "1" ? "later" : null;
  }

  // The header's "N posts" follows the posts that arrive (the page's own words for 1 and
  // for many, the number put in).
  function countPost() {
    var c = document.querySelector(".topic-head .post-count");
    if (!c) { return; }
    var n = (parseInt(c.getAttribute("data-count"), 10) || 0) + 1;
    c.setAttribute("data-count", String(n));
    var one = plural ? plural.select(n) === "one" : n === 1;
    c.textContent = c.getAttribute(one ? "data-one" : "data-many").replace(/\d+/, String(n));
  }

  function placePost(item, shared) {
    if (!posts || (item.topic_id && String(item.topic_id) !== d.topic)) { return; }
    if (item.position > last) { last = item.position; }
    var el = build(item.html, shared);
    if (!el) { return; }
    if (shared && threaded) {
      el.classList.remove("depth-0");
      el.classList.add("depth-" + item.depth);
      if (item.depth < 5) { el.querySelectorAll(".in-reply").forEach(function (n) { n.remove(); }); }
    }
    if (item.title) {
      var h1 = document.querySelector(".topic-head h1");
      if (h1) { h1.textContent = item.title; }
    }
    var existing = document.getElementById("p" + item.id);
    if (existing) { existing.replaceWith(el); return; }
    if (item.change !== "new") { return; }
    countPost();
    var at = slot(item);
    if (at === false) { return; }
    if (at === "later") {
      var link = el.querySelector("a.when");
      notice(d.later, link ? link.getAttribute("href") : null);
      return;
    }
    var empty = posts.querySelector("p.muted");
    if (empty && !articles().length) { empty.remove(); }
    el.classList.add("live-new");
    posts.insertBefore(el, at);
    var author = el.querySelector(".author");
    announce(d.newPost.replace("{name}", author ? author.textContent : ""));
    seen(item.id, item.author_id);
  }

  // Posts that arrive while the reader looks at the page count as read (the same beacon
  // forums.js sends for the posts that were there).
  function seen(id, authorId) {
    if (!readForm || !viewer || String(authorId) === viewer) { return; }
    newestSeen = Math.max(newestSeen, id);
    window.clearTimeout(beacon);
    beacon = window.setTimeout(function () {
      if (document.visibilityState !== "visible") { return; }
      var data = new FormData();
      data.append("csrf_token", readForm.elements.csrf_token.value);
      data.append("up_to", String(newestSeen));
      data.append("beacon", "1");
      fetch(readForm.action, { method: "POST", body: data, credentials: "same-origin" });
    }, 2000);
  }

  function catchUp() {
    var url = d.catchUp + "?after=" + last + "&view=" + (threaded ? "threaded" : "flat") +
      (since ? "&since=" + encodeURIComponent(since) : "") +
      (seq !== null ? "&seq=" + seq : "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        data.items.forEach(function (item) { placePost(item, false); });
        if (data.more) { notice(d.later, window.location.href); }
        since = data.at || since;
        if (seq !== null && typeof data.seq === "number" && data.seq > seq) { seq = data.seq; }
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  function topicChanged(data) {
    if (data.action === "rename") {
      var h1 = document.querySelector(".topic-head h1");
      if (h1) { h1.textContent = data.title; }
      return;
    }
    if (data.action === "pin" || data.action === "unpin") { return; }
    notice(d.changed);
  }

  // -- board pages -----------------------------------------------------------------------------
  var table = document.getElementById("topics");
  var tbody = table ? table.querySelector("tbody") : null;
  var rowLimit = Math.max(tbody ? tbody.rows.length : 0, 30);

  function placeRow(item, shared) {
    if (!tbody || d.firstPage !== "1") { return; }
    var existing = tbody.querySelector('tr[data-topic="' + item.topic_id + '"]');
    if (existing) { existing.remove(); }
    if (item.change === "remove") { return; }
    var row = build(item.html, shared);
    if (!row) { return; }
    var before = null;
    if (!item.pinned) {
      for (var i = 0; i < tbody.rows.length; i++) {
        if (!tbody.rows[i].classList.contains("pinned")) { before = tbody.rows[i]; break; }
      }
    } else {
      before = tbody.rows[0] || null;
    }
    tbody.insertBefore(row, before);
    if (shared) { row.classList.add("live-new"); }
    table.hidden = false;
    var empty = document.getElementById("no-topics");
    if (empty) { empty.remove(); }
    var plain = tbody.querySelectorAll("tr:not(.pinned)");
    if (plain.length > rowLimit) { plain[plain.length - 1].remove(); }
  }

  function refreshRows() {
    if (!tbody || d.firstPage !== "1") { return; }
    fetch(d.catchUp, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
        data.items.forEach(function (item) {
          var row = build(item.html, false);
          if (row) { tbody.appendChild(row); }
        });
        table.hidden = !data.items.length;
      })
      .catch(function () { /* the next reconnect tries again */ });
  }

  connect();
})();

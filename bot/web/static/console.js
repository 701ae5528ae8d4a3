// The librarian desk: queue (all, or my department's), my chats, transcript, reply,
// canned replies, notes, transfer (to a colleague or a department queue), close. Every text from patrons (and colleagues) goes in as textContent.
(function () {
  "use strict";
  var root = document.getElementById("desk");
  var T = JSON.parse(root.getAttribute("data-words"));
  var LANG = document.body.getAttribute("data-lang");
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;
  var $ = function (id) { return document.getElementById(id); };
  var current = null, ws = null, retry = 0, typingOn = false, typingTimer = null, canned = [];
  var myDepartment = null;
  function sameDepartment(a, b) {
    var fold = function (s) { return String(s).toLowerCase().split(/\s+/).filter(Boolean).join(" "); };
    return !!(a && b) && fold(a) === fold(b);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function api(method, path, body) {
    var opts = { method: method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch("/console/api" + path, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { j._status = r.status; return j; });
    });
  }
  function notice(text) { $("notice").textContent = text || ""; }
  function mins(s) { return Math.max(0, Math.round(s / 60)) + " " + T.minutes_short; }

  function renderQueue(q) {
    var ul = $("queue"); ul.textContent = "";
    $("queue-count").textContent = q.chats.length;
    $("queue-empty").hidden = q.chats.length > 0;
    q.chats.forEach(function (c) {
      // The server lists my department's chats first; they are highlighted here.
      var ours = sameDepartment(c.department, myDepartment);
      var li = el("li", "queued" + (ours ? " for-my-department" : ""));
      li.setAttribute("data-chat", c.id);
      li.appendChild(el("span", "pos", "#" + c.position));
      li.appendChild(el("span", "meta", " " + c.channel + " " + (c.language || "") + " · " + T.waiting + " " +
        mins(c.waited_seconds) + " · " + T.estimate + " " + c.estimate_minutes + " " + T.minutes_short +
        (c.requeued ? " · " + T.requeued : "") + (c.transferred ? " · " + T.transferred : "")));
      if (c.department) {
        li.appendChild(el("span", "dept", " · " + T.for_department + " " + c.department));
        if (c.reserved) li.appendChild(el("span", "reserved", " (" + T.reserved + ")"));
      }
      var b = el("button", "claim", T.claim); b.type = "button";
      b.onclick = function () { claim(c.id); };
      li.appendChild(b);
      ul.appendChild(li);
    });
  }
  function renderMine(list) {
    var ul = $("mine"); ul.textContent = "";
    list.forEach(function (c) {
      var li = el("li", "mine" + (current === c.id ? " current" : ""));
      var a = el("a", null, "#" + c.id + " " + c.channel + " " + (c.language || ""));
      a.href = "#"; a.setAttribute("data-chat", c.id);
      a.onclick = function (ev) { ev.preventDefault(); open(c.id); };
      li.appendChild(a); ul.appendChild(li);
    });
  }
  function refresh() {
    return api("GET", "/queue?department=" + $("queue-filter").value).then(function (q) {
      if (q._status !== 200) return;
      myDepartment = q.my_department;
      $("queue-filter-label").hidden = !myDepartment;
      renderQueue(q); renderMine(q.mine);
      $("status").value = q.status;
    });
  }
  $("queue-filter").onchange = refresh;
  function claim(id) {
    api("POST", "/chats/" + id + "/claim").then(function (r) {
      if (r.ok) { notice(""); refresh(); open(id); }
      else { notice(r.message || T.taken); refresh(); }
    });
  }
  function lineEl(l) {
    var li = el("li", "line " + l.speaker);
    li.appendChild(el("span", "who", l.name || T["speaker_" + l.speaker] || l.speaker));
    li.appendChild(el("span", "text", l.text));
    if (l.intent) li.appendChild(el("span", "intent", l.intent + (l.confidence != null ? " " + l.confidence.toFixed(2) : "")));
    return li;
  }
  function open(id) {
    api("GET", "/chats/" + id).then(function (c) {
      if (c._status !== 200) { notice(c.detail || ""); return; }
      current = id;
      $("no-chat").hidden = true; $("chat-panel").hidden = false; $("side").hidden = false;
      $("chat-title").textContent = "#" + c.id + " (" + c.status + (c.owner ? ", " + c.owner : "") + ")";
      var ol = $("lines"); ol.textContent = "";
      c.lines.forEach(function (l) { ol.appendChild(lineEl(l)); });
      ol.scrollTop = ol.scrollHeight;
      $("feedback").textContent = c.rating ? T.rated + ": " + c.rating + "/5" + (c.comment ? " — " + c.comment : "") : "";
      var notes = $("notes"); notes.textContent = "";
      c.notes.forEach(function (n) { notes.appendChild(el("li", "note", n.by + ": " + n.text)); });
      var tk = $("tickets"); tk.textContent = "";
      if (!c.tickets.length) tk.appendChild(el("li", null, T.no_tickets));
      c.tickets.forEach(function (t) {
        // Each ticket opens its delivery page (rota, trail and the actions allowed now).
        var li = el("li", "ticket"), a = el("a", null, t.ticket);
        a.href = "/console/delivery/" + encodeURIComponent(t.ticket);
        li.appendChild(a);
        li.appendChild(document.createTextNode(" · " + t.status + " · " + t.title));
        tk.appendChild(li);
      });
      var subs = $("subscriptions"); subs.textContent = "";
      if (!c.subscriptions.length) subs.appendChild(el("li", null, T.no_subscriptions));
      c.subscriptions.forEach(function (s) {
        subs.appendChild(el("li", "subscription", s.topic + " · " + s.frequency));
      });
      var active = c.status === "active" && c.mine;
      $("reply-form").hidden = !active; $("transfer-form").hidden = !active;
      if (active) loadDepartments();
      refresh();
    });
  }
  function setTyping(on) {
    if (!current || on === typingOn) return;
    typingOn = on;
    api("POST", "/chats/" + current + "/typing", { on: on });
  }
  $("reply").addEventListener("input", function () {
    setTyping(true);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { setTyping(false); }, 4000);
  });
  $("reply-form").onsubmit = function (ev) {
    ev.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !current) return;
    $("reply").value = ""; clearTimeout(typingTimer); typingOn = false;
    api("POST", "/chats/" + current + "/reply", { text: text }).then(function (r) {
      // Refused (e.g. the database is briefly away): the text comes back to the box.
      if (!r.ok) { notice(r.message || r.detail || ""); if (!$("reply").value) $("reply").value = text; }
    });
  };
  $("reply").onkeydown = function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("reply-form").requestSubmit(); }
  };
  $("close-chat").onclick = function () {
    if (!current) return;
    api("POST", "/chats/" + current + "/close").then(function (r) {
      if (r.ok) { open(current); } else notice(r.message || "");
    });
  };
  $("transfer-form").onsubmit = function (ev) {
    ev.preventDefault();
    var opt = $("transfer-to").selectedOptions[0];
    if (!opt || !current) return;
    var body = opt.getAttribute("data-department") !== null ?
      { department: opt.getAttribute("data-department") } : { to: opt.value };
    api("POST", "/chats/" + current + "/transfer", body).then(function (r) {
      if (r.ok) { open(current); } else notice(r.message || "");
    });
  };
  $("note-form").onsubmit = function (ev) {
    ev.preventDefault();
    var text = $("note").value.trim();
    if (!text || !current) return;
    $("note").value = "";
    api("POST", "/chats/" + current + "/notes", { text: text }).then(function (r) {
      if (r.ok) $("notes").appendChild(el("li", "note", r.note.by + ": " + r.note.text));
    });
  };
  $("status").onchange = function () { api("POST", "/status", { status: $("status").value }); };
  $("canned").onchange = function () {
    var c = canned[Number($("canned").value)];
    if (c) { var box = $("reply"); box.value = (box.value ? box.value + " " : "") + (LANG === "zh" ? c.zh : c.en); box.focus(); }
    $("canned").value = "";
  };
  function loadSide() {
    api("GET", "/canned").then(function (list) {
      canned = Array.isArray(list) ? list : [];
      canned.forEach(function (c, i) { var o = el("option", null, c.title); o.value = String(i); $("canned").appendChild(o); });
    });
    api("GET", "/colleagues").then(function (list) {
      (Array.isArray(list) ? list : []).forEach(function (c) {
        var o = el("option", null, c.name + " (" + c.username + ", " + (T[c.status] || c.status) + ")");
        o.value = c.username; $("transfer-colleagues").appendChild(o);
      });
    });
  }
  // Fresh counts each time a chat is opened: who is online changes during a shift.
  function loadDepartments() {
    api("GET", "/departments").then(function (list) {
      var group = $("transfer-departments"); group.textContent = "";
      (Array.isArray(list) ? list : []).forEach(function (d) {
        var o = el("option", null, d.name + " (" +
          T.online_of.replace("{online}", d.online).replace("{members}", d.members) + ")");
        o.value = "department:" + d.name; o.setAttribute("data-department", d.name);
        o.disabled = d.online === 0;  // nobody there to take it: the server refuses too
        group.appendChild(o);
      });
    });
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/console/ws");
    ws.onopen = function () { retry = 0; root.setAttribute("data-connected", "1"); };
    ws.onmessage = function (ev) {
      var m; try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "queue") refresh();  // my view of it: filtered, my department first
      else if (m.type === "line" && m.chat === current) { var ol = $("lines"); ol.appendChild(lineEl(m)); ol.scrollTop = ol.scrollHeight; }
      else if (m.type === "assigned" || m.type === "released") { refresh(); if (m.chat === current) open(current); }
    };
    ws.onclose = function () {
      root.removeAttribute("data-connected");
      retry = Math.min(retry + 1, 5);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }
  setInterval(function () { if (ws && ws.readyState === 1) ws.send('{"type":"ping"}'); }, 20000);
  loadSide(); refresh(); connect();
})();

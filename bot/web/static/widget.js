/* refdesk web chat widget.
 * Embed on any page:  <script src="https://DESK/widget.js" async></script>
 * Options (data- attributes on the script tag):
 *   data-mode="floating" (default, a chat bubble) | "inline" (fills data-target)
 *   data-target="element-id"   container for inline mode
 *   data-lang="zh" | "en"      interface language (default: the browser's)
 * Everything renders inside a shadow root so the host page's CSS can't break it,
 * and every text is inserted as text (never HTML).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src, location.href);
  var mode = script.getAttribute("data-mode") || "floating";
  var lang = script.getAttribute("data-lang") ||
    ((navigator.language || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en");
  var L = {
    zh: { title: "图书馆咨询台", placeholder: "输入您的问题…", send: "发送", open: "咨询", close: "关闭",
          connecting: "正在连接…", reconnecting: "连接中断，正在重连…", typing: "正在输入…", you: "我",
          bot: "助手", librarian: "馆员", system: "系统", draft: "继续链接中的文献传递申请",
          privacy: "隐私", privacyTitle: "查看或更改我的隐私授权、导出或删除我的数据" },
    en: { title: "Library reference desk", placeholder: "Type your question…", send: "Send", open: "Ask us",
          close: "Close", connecting: "Connecting…", reconnecting: "Connection lost, reconnecting…",
          typing: "typing…", you: "You", bot: "Assistant", librarian: "Librarian", system: "System",
          draft: "Continue my request from the link",
          privacy: "Privacy", privacyTitle: "See or change my consents, export or erase my data" }
  }[lang];
  var STORE = "refdesk-session:" + origin.host;
  var wsUrl = (origin.protocol === "https:" ? "wss://" : "ws://") + origin.host + "/ws/chat";

  var css = [
    ":host{all:initial}",
    ".rd{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;font-size:15px;color:#111;",
    " display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;",
    " box-shadow:0 4px 24px rgba(0,0,0,.15);height:100%;box-sizing:border-box}",
    ".rd.floating{position:fixed;right:20px;bottom:84px;width:min(380px,calc(100vw - 40px));height:min(560px,calc(100vh - 120px));z-index:2147483000}",
    ".rd.hidden{display:none}",
    ".bar{background:#8b1e2d;color:#fff;padding:10px 14px;display:flex;justify-content:space-between;align-items:center}",
    ".bar b{font-size:15px}.bar button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}",
    ".bar .privacy{font-size:13px;border:1px solid rgba(255,255,255,.6);border-radius:12px;padding:2px 10px;margin-left:auto;margin-right:6px}",
    ".status{font-size:12px;color:#8b1e2d;padding:4px 12px;min-height:16px}",
    ".log{flex:1;overflow-y:auto;padding:10px 12px;background:#fafafa}",
    ".msg{margin:6px 0;display:flex;flex-direction:column;max-width:85%}",
    ".msg .who{font-size:11px;color:#777;margin-bottom:2px}",
    ".msg .text{white-space:pre-wrap;word-wrap:break-word;padding:8px 11px;border-radius:10px;line-height:1.45}",
    ".patron{margin-left:auto;align-items:flex-end}.patron .text{background:#8b1e2d;color:#fff}",
    ".bot .text,.librarian .text{background:#fff;border:1px solid #e3e3e3}",
    ".librarian .text{border-color:#2b6cb0}",
    ".system .text,.notice .text{background:#fff7e6;border:1px solid #f0c36d;font-size:13px}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".buttons button{border:1px solid #8b1e2d;color:#8b1e2d;background:#fff;border-radius:14px;padding:5px 11px;cursor:pointer;font-size:13px}",
    ".buttons button:hover{background:#8b1e2d;color:#fff}",
    "form{display:flex;gap:6px;padding:8px;border-top:1px solid #eee;background:#fff}",
    "textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #ccc;border-radius:8px;height:40px}",
    "form button{background:#8b1e2d;color:#fff;border:0;border-radius:8px;padding:0 14px;cursor:pointer;font:inherit}",
    ".bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#8b1e2d;color:#fff;border:0;",
    " border-radius:28px;padding:14px 20px;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25)}"
  ].join("\n");

  var host = document.createElement("div");
  host.className = "refdesk-widget";
  if (mode === "inline") {
    var target = document.getElementById(script.getAttribute("data-target") || "") || document.body;
    host.style.height = "100%";
    target.appendChild(host);
  } else {
    document.body.appendChild(host);
  }
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = css;
  root.appendChild(style);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var panel = el("section", "rd" + (mode === "inline" ? "" : " floating hidden"));
  panel.setAttribute("aria-label", L.title);
  var bar = el("div", "bar");
  bar.appendChild(el("b", null, L.title));
  // Privacy: the patron's own page (consents, export, erasure), opened with a one-time
  // link the server gives this session over the socket (no cookie to forge from another site).
  var privacyBtn = el("button", "privacy", L.privacy);
  privacyBtn.type = "button";
  privacyBtn.title = L.privacyTitle;
  bar.appendChild(privacyBtn);
  var status = el("div", "status");
  status.setAttribute("role", "status");
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("textarea");
  input.placeholder = L.placeholder;
  input.setAttribute("aria-label", L.placeholder);
  var sendBtn = el("button", "send", L.send);
  sendBtn.type = "submit";
  form.appendChild(input);
  form.appendChild(sendBtn);
  panel.appendChild(bar);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(form);
  root.appendChild(panel);

  if (mode !== "inline") {
    var closeBtn = el("button", null, "×");
    closeBtn.title = L.close;
    bar.appendChild(closeBtn);
    var bubble = el("button", "bubble", L.open);
    root.appendChild(bubble);
    bubble.onclick = function () { panel.classList.toggle("hidden"); connect(); input.focus(); };
    closeBtn.onclick = function () { panel.classList.add("hidden"); };
  }

  var ws = null, retry = 0, queue = [], ownIds = {}, typingTimer = null, secret = false;
  var privacyWindow = null;
  privacyBtn.onclick = function () {
    // Opened now, while the click counts as the patron's (popup blockers), filled in below.
    privacyWindow = window.open("about:blank", "_blank");
    transmit(JSON.stringify({ type: "privacy" }));
  };
  // The last frames sent, by id: one the server could not store yet is sent again.
  var recent = {}, recentIds = [];
  // Opened from an OpenURL page (/chat?draft=TOKEN): start the delivery request from the
  // draft once, then drop the token from the address so a reload does not resend it.
  var draft = new URLSearchParams(location.search).get("draft");

  // The assistant asked for a PIN: mask what is typed and never show it in the log.
  function expectSecret(on) {
    secret = on;
    input.style.webkitTextSecurity = on ? "disc" : "";
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function render(m) {
    var speaker = m.speaker || (m.type === "notice" || m.type === "error" ? "system" : "bot");
    var box = el("div", "msg " + speaker + (m.type === "notice" || m.type === "error" ? " notice" : ""));
    if (m.code) box.setAttribute("data-code", m.code);
    if (m.code === "queue") {  // a newer place in the queue replaces the older one
      Array.prototype.forEach.call(log.querySelectorAll('[data-code="queue"]'), function (old) { old.remove(); });
    }
    box.appendChild(el("span", "who", m.name ? (L[speaker] || speaker) + " " + m.name : (L[speaker] || speaker)));
    box.appendChild(el("div", "text", m.text || ""));
    var link = m.custom && m.custom.link;
    // Only our own t.me deep link (linking on Telegram) becomes a clickable link.
    if (link && /^https:\/\/t\.me\/[A-Za-z0-9_]+\?start=link\d{6}$/.test(link.url)) {
      var a = el("a", "deep-link", link.title || link.url);
      a.href = link.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      box.appendChild(a);
    }
    if (m.buttons && m.buttons.length) {
      var row = el("div", "buttons");
      m.buttons.forEach(function (b) {
        var btn = el("button", null, b.title);
        btn.type = "button";
        btn.onclick = function () { sendFrame({ type: "button", title: b.title, payload: b.payload }); };
        row.appendChild(btn);
      });
      box.appendChild(row);
    }
    log.appendChild(box);
    scroll();
  }

  function setStatus(text) { status.textContent = text || ""; }

  function sendFrame(frame) {
    frame.id = Math.random().toString(36).slice(2);
    if (frame.type !== "ping") {
      ownIds[frame.id] = true;
      var shown = frame.type === "message" ? frame.text : frame.title;
      if (secret && frame.type === "message") shown = "••••••";
      expectSecret(false);
      render({ speaker: "patron", text: shown });
    }
    var data = JSON.stringify(frame);
    recent[frame.id] = data; recentIds.push(frame.id);
    if (recentIds.length > 20) delete recent[recentIds.shift()];
    transmit(data);
  }

  function transmit(data) {
    if (ws && ws.readyState === 1) ws.send(data); else { queue.push(data); connect(); }
  }

  function connect() {
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    var session = localStorage.getItem(STORE);
    setStatus(retry ? L.reconnecting : L.connecting);
    ws = new WebSocket(wsUrl + (session ? "?session=" + encodeURIComponent(session) : ""));
    ws.onopen = function () { retry = 0; };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === "session") {
        var fresh = localStorage.getItem(STORE) !== m.session;
        localStorage.setItem(STORE, m.session);
        if (fresh || !m.resumed) log.textContent = "";
        setStatus("");
        while (queue.length && ws.readyState === 1) ws.send(queue.shift());
        if (draft) {
          var params = new URLSearchParams(location.search);
          params.delete("draft");
          history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : "") + location.hash);
          sendFrame({ type: "draft", token: draft, title: L.draft });
          draft = null;
        }
      } else if (m.type === "privacy") {
        var url = new URL(m.url, origin);
        // Only our own privacy page, on the desk's own address.
        if (url.origin !== origin.origin || url.pathname.indexOf("/privacy/me/") !== 0) return;
        if (privacyWindow && !privacyWindow.closed) privacyWindow.location.href = url.href;
        else window.open(url.href, "_blank", "noopener");
        privacyWindow = null;
      } else if (m.type === "history") {
        log.textContent = "";
        m.messages.forEach(render);
      } else if (m.type === "typing") {
        clearTimeout(typingTimer);
        setStatus(m.on ? L.typing : "");
        if (m.on) typingTimer = setTimeout(function () { setStatus(""); }, 30000);
      } else if (m.type === "message" && m.speaker === "patron") {
        if (m.id && ownIds[m.id]) { delete ownIds[m.id]; return; }
        render(m);  // said in another tab of the same conversation
      } else if (m.type === "message" || m.type === "notice" || m.type === "error") {
        if (m.type === "message") expectSecret(!!(m.custom && m.custom.secret_input));
        if (m.type === "error") { clearTimeout(typingTimer); setStatus(""); }  // ends the turn
        render(m);
        if (m.code === "storage_unavailable" && m.id && recent[m.id]) {
          // Not stored yet (database briefly away): the widget sends it again by itself.
          var again = recent[m.id];
          setTimeout(function () { transmit(again); }, (m.retry_after || 5) * 1000);
        } else if (m.unsent && !input.value) {
          // A message refused for sending too fast comes back to the input box.
          input.value = m.unsent;
        }
      }
    };
    ws.onclose = function () {
      retry = Math.min(retry + 1, 6);
      setStatus(L.reconnecting);
      setTimeout(connect, Math.min(500 * Math.pow(2, retry - 1), 8000));
    };
  }

  form.onsubmit = function (ev) {
    ev.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendFrame({ type: "message", text: text });
  };
  input.onkeydown = function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  };
  if (mode === "inline") connect();
})();

// Live preview of an announcement on the console's alerts page: as the librarian types,
// ask the server (the same preview the API gives) for the audience and both texts.
(function () {
  "use strict";
  const form = document.getElementById("compose");
  if (!form) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const out = {
    audience: document.getElementById("audience"),
    labels: document.getElementById("labels"),
    zh: document.getElementById("preview-zh"),
    en: document.getElementById("preview-en"),
    problem: document.getElementById("preview-problem"),
  };
  const lang = document.body.dataset.lang;
  let timer = null;
  let asked = 0;

  async function refresh() {
    const mine = ++asked;
    const body = {};
    for (const [k, v] of new FormData(form).entries()) {
      if (k !== "csrf" && k !== "action") body[k] = v;
    }
    let reply;
    try {
      reply = await fetch("/console/api/alerts/preview", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (e) {
      return;
    }
    if (mine !== asked) return; // an older answer arriving late
    const data = await reply.json();
    if (!reply.ok) {
      out.problem.textContent = data.message || "";
      out.audience.textContent = "–";
      return;
    }
    out.problem.textContent = "";
    out.audience.textContent = String(data.audience);
    out.labels.textContent = (data.labels[lang] || []).join(", ");
    out.zh.textContent = data.preview.zh;
    out.en.textContent = data.preview.en;
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();

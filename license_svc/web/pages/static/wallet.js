/* 我的证照: the holder's licences, the 亮证 QR (a new EP2 every refresh interval — 30 s unless
 * the server says otherwise — only while shown and the tab is visible; each code lives 60 s),
 * and the access log ("who looked at my licences"). */
"use strict";

(() => {
  const { $, el, show, api, download, time, validity, statusBadge, labels } = LS;
  const app = $("app");
  const refreshSeconds = Math.max(1, parseInt(app.dataset.refreshSeconds, 10) || 30);
  let licences = new Map();
  let shown = null;        // the licence being presented
  let timer = null;        // countdown tick
  let dueAt = 0;           // when the shown code is to be replaced (ms)
  let fetching = false;
  let lastLog = [];

  function licenceCard(l) {
    const active = l.status === "active";
    return el("article", { class: "licence", dataset: { identifier: l.identifier } },
      el("div", { class: `licence-head${active ? "" : " inactive"}` },
        el("span", { class: "licence-type" }, l.type_name || l.type_code),
        statusBadge(l.status, l.status_zh)),
      el("div", { class: "licence-body" },
        el("dl", { class: "kv" },
          el("dt", {}, "证照编号"), el("dd", {}, l.number || "—"),
          el("dt", {}, "持证主体"), el("dd", {}, l.holder_name || "—"),
          el("dt", {}, "发证机关"), el("dd", {}, (l.issuer && l.issuer.name) || "—"),
          el("dt", {}, "有效期"), el("dd", {}, validity(l.valid_from, l.valid_until)),
          el("dt", {}, "签名算法"), el("dd", {}, (l.algorithm || "").toUpperCase()))),
      el("div", { class: "licence-actions" },
        el("button", { type: "button", class: "btn primary present-btn", disabled: !active,
                       title: active ? null : "只有有效的证照可以亮证",
                       onclick: () => startPresenting(l.identifier) }, "亮证"),
        el("button", { type: "button", class: "btn",
                       onclick: () => download(`/api/v1/licences/${encodeURIComponent(l.identifier)}/pdf`,
                                               `${l.type_name || "licence"}-${l.number || ""}.pdf`)
                         .catch((e) => show("licences-error", e.message)) }, "下载 PDF"),
        el("button", { type: "button", class: "btn",
                       onclick: () => download(`/api/v1/licences/${encodeURIComponent(l.identifier)}/ofd`,
                                               `${l.type_name || "licence"}-${l.number || ""}.ofd`)
                         .catch((e) => show("licences-error", e.message)) }, "下载 OFD")));
  }

  async function loadLicences() {
    show("licences-error");
    try {
      const data = await api("/api/v1/holders/me/licences");
      licences = new Map(data.licences.map((l) => [l.identifier, l]));
      $("licences").replaceChildren(...data.licences.map(licenceCard));
      $("licences-empty").hidden = data.licences.length > 0;
    } catch (e) {
      show("licences-error", e.message);
    }
  }

  function stopPresenting() {
    shown = null;
    clearInterval(timer);
    timer = null;
    $("present").hidden = true;
    $("qr").removeAttribute("src");
  }

  function secondsLeft() { return Math.max(0, Math.ceil((dueAt - Date.now()) / 1000)); }

  async function fetchPresentation() {
    if (!shown || fetching) return;
    const identifier = shown;
    fetching = true;
    dueAt = Date.now() + refreshSeconds * 1000;
    try {
      const p = await api(`/api/v1/licences/${encodeURIComponent(identifier)}/presentations`,
                          { method: "POST" });
      if (shown !== identifier) return;
      show("present-error");
      $("qr").src = `data:image/png;base64,${p.png}`;
      $("qr").dataset.cti = p.cti;
      $("present-issued").textContent = time(p.issued_at);
      $("present-expires").textContent = time(p.expires_at);
      const interval = Math.min(refreshSeconds, p.refresh_after || refreshSeconds);
      dueAt = Date.now() + interval * 1000;
      $("refresh-interval").textContent = interval;
      $("code-lifetime").textContent = Math.round((Date.parse(p.expires_at) - Date.parse(p.issued_at)) / 1000);
    } catch (e) {
      show("present-error", e.message);
    } finally {
      fetching = false;
      $("countdown").textContent = secondsLeft();
    }
  }

  function tick() {
    if (document.hidden) return;   // nobody is looking: no new codes, no audit entries
    if (secondsLeft() <= 0) fetchPresentation();
    $("countdown").textContent = secondsLeft();
  }

  function startPresenting(identifier) {
    const l = licences.get(identifier);
    if (!l) return;
    stopPresenting();
    shown = identifier;
    $("present-type").textContent = l.type_name || l.type_code;
    $("present-number").textContent = l.number || "—";
    $("present-holder").textContent = l.holder_name || "—";
    $("present-issuer").textContent = (l.issuer && l.issuer.name) || "—";
    $("present").hidden = false;
    $("present").scrollIntoView({ behavior: "smooth", block: "start" });
    fetchPresentation();
    timer = setInterval(tick, 1000);
  }

  function licenceLabel(id) {
    if (!id) return "—";
    const l = licences.get(id);
    // the tail of the number is enough to tell two licences apart (a driving licence's
    // number is its holder's ID number: not repeated on every line of the log)
    if (l) return `${l.type_name}（尾号 ${String(l.number || "").slice(-4)}）`;
    return id.length > 28 ? `…${id.slice(-24)}` : id;
  }

  /** A name for an actor the log names only by code: the issuer of one of my licences, or
   * (org "citizen") a holder acting for themselves. */
  function orgName(code) {
    if (code === "citizen") return "持证人本人";
    for (const l of licences.values()) if (l.issuer && l.issuer.code === code) return l.issuer.name;
    return code;
  }

  function logRow(e, myId) {
    const own = e.department.client_id === myId;
    const dept = own ? "本人" : (e.department.name || orgName(e.department.org_code));
    const who = el("td", { class: "dept" }, dept,
      !own && e.department.org_code && e.department.org_code !== "citizen"
        ? el("div", { class: "muted small" }, e.department.org_code) : null,
      e.department.operator ? el("div", { class: "small" }, `经办人：${e.department.operator}`) : null);
    const basis = e.grant_id ? `授权 ${e.grant_id}` : (e.legal_basis || "—");
    const proof = e.inclusion_proof ? `已存证 #${e.index}` : `待存证 #${e.index}`;
    const ok = e.outcome === "success";
    return el("tr", { class: own ? "own" : null },
      el("td", { class: "nowrap" }, time(e.time)), who,
      el("td", { class: "action" }, labels.action[e.action] || e.action),
      el("td", {}, licenceLabel(e.licence_id)),
      el("td", {}, e.matter_code || "—"),
      el("td", {}, basis),
      el("td", { class: ok ? "mark-ok" : "mark-bad" }, labels.outcome[e.outcome] || e.outcome),
      el("td", { class: "nowrap small" }, proof));
  }

  function renderLog() {
    const myId = LS.me() && LS.me().client_id;
    const showOwn = $("show-own").checked;
    const rows = lastLog.filter((e) => showOwn || e.department.client_id !== myId);
    $("access-log").tBodies[0].replaceChildren(...rows.map((e) => logRow(e, myId)));
    $("log-empty").hidden = rows.length > 0;
  }

  async function loadLog() {
    show("log-error");
    try {
      const data = await api("/api/v1/holders/me/access-log?limit=200");
      lastLog = data.entries;
      renderLog();
    } catch (e) {
      show("log-error", e.message);
    }
  }

  // -- grants: which department may retrieve which licence, for which matter -----------------
  const REGION_ZH = { sh: "上海", js: "江苏", zj: "浙江", ah: "安徽" };
  let matters = [];

  function fillMatters() {
    const chosen = licences.get($("grant-licence").value);
    const region = $("grant-region").value;
    const fit = matters.filter((m) => chosen && m.licence_types.includes(chosen.type_code)
                                      && m.regions.includes(region));
    $("grant-matter").replaceChildren(...fit.map((m) =>
      el("option", { value: m.matter_code }, `${m.name}（${m.matter_code}）`)));
    $("grant-submit").disabled = fit.length === 0;
  }

  function fillGrantLicences() {
    const active = [...licences.values()].filter((l) => l.status === "active");
    $("grant-licence").replaceChildren(...active.map((l) =>
      el("option", { value: l.identifier }, `${l.type_name || l.type_code} ${l.number || ""}`)));
    fillMatters();
  }

  function grantRow(g) {
    const matter = matters.find((m) => m.matter_code === g.matter_code);
    const revoke = g.status === "active"
      ? el("button", { type: "button", class: "btn small", onclick: () => revokeGrant(g.id) }, "撤回")
      : "";
    return el("tr", {},
      el("td", {}, matter ? matter.name : g.matter_code),
      el("td", {}, g.grantee_org),
      el("td", {}, REGION_ZH[g.grantee_region] || g.grantee_region),
      el("td", {}, time(g.valid_until)),
      el("td", {}, String(g.uses_left)),
      el("td", {}, g.status_zh || g.status),
      el("td", {}, revoke));
  }

  async function loadGrants() {
    show("grant-error");
    try {
      const data = await api("/api/v1/grants?limit=100");
      const rows = data.grants || [];
      $("grants").tBodies[0].replaceChildren(...rows.map(grantRow));
      $("grants-empty").hidden = rows.length > 0;
    } catch (e) {
      show("grant-error", e.message);
    }
  }

  async function revokeGrant(id) {
    try {
      await api(`/api/v1/grants/${encodeURIComponent(id)}`, { method: "DELETE" });
      loadGrants();
    } catch (e) {
      show("grant-error", e.message);
    }
  }

  $("grant-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    show("grant-error");
    const days = parseInt($("grant-days").value, 10);
    const until = new Date(Date.now() + days * 86400000).toISOString().replace(/\.\d{3}Z$/, "Z");
    try {
      await api("/api/v1/grants", { method: "POST", json: {
        licence_id: $("grant-licence").value, grantee_org: $("grant-org").value.trim(),
        grantee_region: $("grant-region").value, matter_code: $("grant-matter").value,
        valid_until: until, max_uses: parseInt($("grant-uses").value, 10) } });
      $("grant-org").value = "";
      loadGrants();
    } catch (e) {
      show("grant-error", e.message);
    }
  });
  $("grant-licence").addEventListener("change", fillMatters);
  $("grant-region").addEventListener("change", fillMatters);

  async function loadMatters() {
    try {
      matters = (await api("/api/v1/scenarios")).map((m) => m);
    } catch (e) {
      matters = [];
      show("grant-error", "暂时无法取得长三角应用场景清单，请稍后再试");
    }
  }

  $("present-stop").addEventListener("click", stopPresenting);
  $("present-refresh").addEventListener("click", fetchPresentation);
  document.addEventListener("visibilitychange", () => { if (shown && !document.hidden) tick(); });
  $("show-own").addEventListener("change", renderLog);
  $("log-reload").addEventListener("click", loadLog);
  document.addEventListener("ls:logout", stopPresenting);
  LS.onReady(async () => {
    await Promise.all([loadLicences(), loadMatters()]);
    fillGrantLicences();
    loadLog();
    loadGrants();
  });
})();

/* Shared by every page: sign-in, JSON API calls, problem+json messages in Chinese, and a DOM
 * builder that only ever sets text (never innerHTML), because what the API returns may quote
 * attacker-made input (names in a licence, text in a QR code).
 * Sign-in: through the identity provider (/auth/login; the server keeps the session, the browser
 * an HttpOnly cookie that the API accepts only with the X-License-Svc-Session header sent here),
 * or — the demo — an API key pasted into the form and kept in sessionStorage only. */
"use strict";

const LS = (() => {
  const page = document.body.dataset.page;
  const roles = (document.body.dataset.roles || "").split(" ").filter(Boolean);
  const storeKey = `license-svc.api-key.${page}`;
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const readyHandlers = [];
  let me = null;

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function show(id, text) {
    const node = $(id);
    if (!node) return;
    if (text === undefined || text === null || text === "") { node.hidden = true; node.textContent = ""; }
    else { node.textContent = text; node.hidden = false; }
  }

  /** "标题：说明" from an RFC 9457 problem, Chinese first. */
  function problemText(status, data) {
    if (data && typeof data === "object" && (data.title_zh || data.title)) {
      const detail = data.detail_zh || data.detail || "";
      let text = data.title_zh || data.title;
      if (detail) text += `：${detail}`;
      if (Array.isArray(data.errors) && data.errors.length) {
        text += "\n" + data.errors.map((e) => `· ${(e.loc || []).join(".")}：${e.msg}`).join("\n");
      }
      if (data.request_id) text += `\n（请求编号 ${data.request_id}）`;
      return text;
    }
    if (status === 0) return "无法连接服务，请检查网络后重试。";
    return `请求失败（HTTP ${status}）`;
  }

  class ApiError extends Error {
    constructor(status, data) { super(problemText(status, data)); this.status = status; this.data = data; }
  }

  function key() { return sessionStorage.getItem(storeKey); }
  const SESSION_HEADER = "X-License-Svc-Session";
  const SESSION_ENDED = "登录已过期或已退出，请重新登录。";
  let expiryTimer = null;

  /** Call the JSON API with the demo key if one is stored, else with the page session (the
   *  cookie goes with the session header).  opts: {method, json, body, accept, blob, headers}. */
  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    const k = key();
    if (k) headers.Authorization = `Bearer ${k}`;
    else headers[SESSION_HEADER] = "1";
    let body = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    headers.Accept = opts.accept || "application/json";
    let resp;
    try {
      resp = await fetch(path, { method: opts.method || "GET", headers, body,
                                 credentials: k ? "omit" : "same-origin",
                                 cache: "no-store", referrerPolicy: "no-referrer" });
    } catch (e) {
      throw new ApiError(0, null);
    }
    if (resp.status === 401 && me) { signedOut(SESSION_ENDED); }
    if (!resp.ok) {
      let data = null;
      try { data = await resp.json(); } catch (e) { /* not JSON */ }
      throw new ApiError(resp.status, data);
    }
    if (opts.blob) return { blob: await resp.blob(), headers: resp.headers };
    return resp.status === 204 ? null : resp.json();
  }

  /** Fetch a file with the key and hand it to the browser as a download. */
  async function download(path, filename) {
    const { blob } = await api(path, { blob: true, accept: "*/*" });
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  const TZ = { timeZone: "Asia/Shanghai", hour12: false };
  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleString("zh-CN", Object.assign({ year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit" }, TZ));
  }
  function validity(from, until) { return `${from || "—"} 至 ${until || "长期"}`; }
  function statusBadge(status, zh) {
    return el("span", { class: `status ${status}` }, zh || labels.licence_status[status] || status);
  }

  function renderIdentity() {
    $("login").hidden = true;
    $("identity").hidden = false;
    // A clerk signed in through the identity provider: the person, then the department.
    $("me-name").textContent = me.operator ? `${me.operator}（${me.name}）` : me.name;
    const box = $("me-roles");
    box.replaceChildren(...me.roles.map((r) => el("span", { class: "tag" }, labels.role[r] || r)));
    const extra = [];
    if (me.org_code) extra.push(`机构代码 ${me.org_code}`);
    if (me.holder_code_masked) extra.push(`证件号 ${me.holder_code_masked}`);
    extra.push(`${labels.region[me.region] || me.region}`);
    if (key()) extra.push("演示登录");
    else if (me.session_expires_at) extra.push(`登录有效至 ${time(me.session_expires_at)}`);
    $("me-extra").textContent = extra.join(" · ");
    $("app").hidden = false;
  }

  /** Back to the sign-in form, with `message` (why) if given. */
  function signedOut(message) {
    sessionStorage.removeItem(storeKey);
    me = null;
    clearTimeout(expiryTimer);
    if ($("login")) {
      $("login").hidden = false;
      $("identity").hidden = true;
      $("app").hidden = true;
      show("login-error", message);
    }
    document.dispatchEvent(new CustomEvent("ls:logout"));
  }

  /** 退出: a demo key is forgotten; a page session ends on the server and then at the identity
   *  provider (RP-initiated logout), which sends the browser back to the home page. */
  async function logout() {
    if (key()) { signedOut(); return; }
    let next = null;
    try {
      const resp = await fetch("/auth/logout", { method: "POST", credentials: "same-origin",
        headers: { [SESSION_HEADER]: "1", Accept: "application/json" }, cache: "no-store" });
      if (resp.ok) next = (await resp.json()).logout_url;
    } catch (e) { /* signed out here anyway */ }
    signedOut();
    if (next) window.location.assign(next);
  }

  /** {signed_in, ended} of this browser's page session (200 either way: no 401 in the console
   *  for a visitor who has not signed in); null when the service cannot be reached. */
  async function probe() {
    try {
      const resp = await fetch("/auth/session", { credentials: "same-origin", cache: "no-store",
                                                  headers: { Accept: "application/json" } });
      return resp.ok ? await resp.json() : null;
    } catch (e) {
      return null;
    }
  }

  async function signIn(silent) {
    show("login-error");
    const viaKey = Boolean(key());
    if (silent) {  // back from the identity provider, or a reload: only ask /me with a session
      const state = await probe();
      if (!state) { show("login-error", problemText(0, null)); return; }
      if (!state.signed_in) { if (state.ended) show("login-error", SESSION_ENDED); return; }
    }
    try {
      const who = await api("/api/v1/me");
      if (roles.length && !who.roles.some((r) => roles.includes(r))) {
        sessionStorage.removeItem(storeKey);
        const how = viaKey ? "该密钥" : "当前登录账号";
        show("login-error", `${how}的身份（${who.roles.map((r) => labels.role[r] || r).join("、")}）不能使用本页面。`);
        return;
      }
      me = who;
      renderIdentity();
      if (me.session_expires_at) {
        // At the session's end ask the server; an ended session brings the sign-in form back.
        const ms = new Date(me.session_expires_at).getTime() - Date.now() + 1000;
        clearTimeout(expiryTimer);
        expiryTimer = setTimeout(async () => {
          const state = await probe();
          if (state && !state.signed_in) signedOut(SESSION_ENDED);
        }, Math.max(ms, 1000));
      }
      readyHandlers.forEach((fn) => fn(me));
    } catch (e) {
      sessionStorage.removeItem(storeKey);
      if (viaKey) show("login-error", e.status === 401 ? "API 密钥无效或已停用，请重新输入。" : e.message);
      else if (e.status === 401) {
        // No session (nothing to say), or one that ended (say so).
        const ended = e.data && typeof e.data.type === "string" && e.data.type.endsWith(":session-expired");
        if (ended || !silent) show("login-error", SESSION_ENDED);
      } else show("login-error", e.message);
    }
  }

  function onReady(fn) { readyHandlers.push(fn); if (me) fn(me); }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("login")) return;
    const form = $("login-form");
    if (form) {
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const value = $("api-key").value.trim();
        $("api-key").value = "";
        if (!value) return;
        sessionStorage.setItem(storeKey, value);
        signIn();
      });
    }
    $("logout").addEventListener("click", logout);
    if (key()) signIn();
    else if ($("login").dataset.oidc) signIn(true);  // back from the identity provider?
  });

  return { $, el, show, api, download, time, validity, statusBadge, labels, onReady, problemText,
           me: () => me };
})();

/* Shared by every page: the API key (sessionStorage only), JSON API calls, problem+json
 * messages in Chinese, and a DOM builder that only ever sets text (never innerHTML), because
 * what the API returns may quote attacker-made input (names in a licence, text in a QR code). */
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

  /** Call the JSON API with the stored key.  opts: {method, json, body, accept, blob, headers}. */
  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    const k = key();
    if (k) headers.Authorization = `Bearer ${k}`;
    let body = opts.body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    headers.Accept = opts.accept || "application/json";
    let resp;
    try {
      resp = await fetch(path, { method: opts.method || "GET", headers, body, credentials: "omit",
                                 cache: "no-store", referrerPolicy: "no-referrer" });
    } catch (e) {
      throw new ApiError(0, null);
    }
    if (resp.status === 401 && k) { logout(); }
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
    $("me-name").textContent = me.name;
    const box = $("me-roles");
    box.replaceChildren(...me.roles.map((r) => el("span", { class: "tag" }, labels.role[r] || r)));
    const extra = [];
    if (me.org_code) extra.push(`机构代码 ${me.org_code}`);
    if (me.holder_code_masked) extra.push(`证件号 ${me.holder_code_masked}`);
    extra.push(`${labels.region[me.region] || me.region}`);
    $("me-extra").textContent = extra.join(" · ");
    $("app").hidden = false;
  }

  function logout() {
    sessionStorage.removeItem(storeKey);
    me = null;
    if ($("login")) {
      $("login").hidden = false;
      $("identity").hidden = true;
      $("app").hidden = true;
    }
    document.dispatchEvent(new CustomEvent("ls:logout"));
  }

  async function signIn() {
    show("login-error");
    try {
      const who = await api("/api/v1/me");
      if (roles.length && !who.roles.some((r) => roles.includes(r))) {
        sessionStorage.removeItem(storeKey);
        show("login-error", `该密钥的身份（${who.roles.map((r) => labels.role[r] || r).join("、")}）不能使用本页面。`);
        return;
      }
      me = who;
      renderIdentity();
      readyHandlers.forEach((fn) => fn(me));
    } catch (e) {
      sessionStorage.removeItem(storeKey);
      show("login-error", e.status === 401 ? "API 密钥无效或已停用，请重新输入。" : e.message);
    }
  }

  function onReady(fn) { readyHandlers.push(fn); if (me) fn(me); }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("login-form");
    if (!form) return;
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = $("api-key").value.trim();
      $("api-key").value = "";
      if (!value) return;
      sessionStorage.setItem(storeKey, value);
      signIn();
    });
    $("logout").addEventListener("click", logout);
    if (key()) signIn();
  });

  return { $, el, show, api, download, time, validity, statusBadge, labels, onReady, problemText,
           me: () => me };
})();

/* 发证管理: issue a licence from a template's example, list the organisation's recent licences,
 * suspend / reinstate / revoke them.  Every action is the JSON API with the operator's key. */
"use strict";

(() => {
  const { $, el, show, api, download, time, validity, statusBadge } = LS;
  let templates = [];
  let idempotencyKey = null;   // one per edited request: a double click issues once
  let lastIssued = null;
  let pending = null;          // {identifier, action} awaiting the dialog

  const ACTIONS = {
    suspend: { label: "暂停", title: "暂停证照", reasonRequired: false },
    reinstate: { label: "恢复", title: "恢复证照", reasonRequired: false },
    revoke: { label: "撤销", title: "撤销证照（不可恢复）", reasonRequired: true },
  };

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    idempotencyKey = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function fillExample() {
    const t = templates.find((x) => x.type === $("template").value);
    if (!t) return;
    const body = Object.assign({}, t.example, { algorithm: $("algorithm").value });
    $("issue-json").value = JSON.stringify(body, null, 2);
    newKey();
  }

  async function loadTemplates() {
    try {
      templates = (await api("/api/v1/issuers/me/templates")).templates;
    } catch (e) {
      templates = [];
      show("issue-error", e.message);
    }
    $("template").replaceChildren(...templates.map((t) =>
      el("option", { value: t.type }, `${t.name}（${t.type_code}）`)));
    const canIssue = templates.length > 0 && LS.me().roles.includes("issuer");
    $("issue-form").hidden = !canIssue;
    $("no-templates").hidden = canIssue;
    if (canIssue) fillExample();
  }

  async function issue(ev) {
    ev.preventDefault();
    show("issue-error");
    $("issue-result").hidden = true;
    let body;
    try {
      body = JSON.parse($("issue-json").value);
    } catch (e) {
      show("issue-error", `签发数据不是合法的 JSON：${e.message}`);
      return;
    }
    body.algorithm = $("algorithm").value;
    $("issue-submit").disabled = true;
    try {
      const view = await api("/api/v1/licences", { method: "POST", json: body,
                                                   headers: { "Idempotency-Key": idempotencyKey } });
      lastIssued = view.identifier;
      $("issued-id").textContent = view.identifier;
      $("issue-result").hidden = false;
      loadRecent();
    } catch (e) {
      show("issue-error", e.message);
    } finally {
      $("issue-submit").disabled = false;
    }
  }

  function actionButtons(l, canChange) {
    const buttons = [];
    if (canChange && l.status === "active") buttons.push("suspend", "revoke");
    if (canChange && l.status === "suspended") buttons.push("reinstate", "revoke");
    if (canChange && l.status === "expired") buttons.push("revoke");
    const out = buttons.map((a) => el("button", {
      type: "button", class: `btn small${a === "revoke" ? " danger" : ""}`, dataset: { action: a },
      onclick: () => openDialog(l, a) }, ACTIONS[a].label));
    out.push(el("button", { type: "button", class: "btn small", dataset: { action: "pdf" },
      onclick: () => download(`/api/v1/licences/${encodeURIComponent(l.identifier)}/pdf`, `${l.number || "licence"}.pdf`)
        .catch((e) => show("list-error", e.message)) }, "PDF"));
    return out;
  }

  async function loadRecent() {
    show("list-error");
    try {
      const data = await api("/api/v1/issuers/me/licences?limit=30");
      const canChange = LS.me().roles.includes("issuer");
      $("recent").tBodies[0].replaceChildren(...data.licences.map((l) =>
        el("tr", { dataset: { identifier: l.identifier } },
          el("td", { class: "nowrap" }, time(l.issued_at)),
          el("td", {}, l.type_name || l.type_code),
          el("td", {}, l.number || "—", el("div", { class: "muted small" }, `第 ${l.version} 版`)),
          el("td", {}, l.holder_name || "—"),
          el("td", { class: "nowrap" }, validity(l.valid_from, l.valid_until)),
          el("td", {}, (l.algorithm || "").toUpperCase()),
          el("td", {}, statusBadge(l.status, l.status_zh)),
          el("td", { class: "ops" }, actionButtons(l, canChange)))));
      $("recent-empty").hidden = data.licences.length > 0;
    } catch (e) {
      show("list-error", e.message);
    }
  }

  function openDialog(l, action) {
    pending = { identifier: l.identifier, action };
    $("change-title").textContent = ACTIONS[action].title;
    $("change-target").textContent = `${l.type_name} ${l.number}（${l.holder_name}）`;
    $("change-reason").value = "";
    $("change-reason").setAttribute("aria-required", String(ACTIONS[action].reasonRequired));
    $("change-reason").placeholder = ACTIONS[action].reasonRequired ? "必填，如：依法吊销" : "选填";
    show("change-error");
    $("change-dialog").showModal();
  }

  async function confirmChange(ev) {
    ev.preventDefault();
    if (!pending) return;
    const reason = $("change-reason").value.trim();
    if (ACTIONS[pending.action].reasonRequired && !reason) {
      show("change-error", "请填写原因。");
      return;
    }
    $("change-confirm").disabled = true;
    try {
      await api(`/api/v1/licences/${encodeURIComponent(pending.identifier)}/${pending.action}`,
                { method: "POST", json: reason ? { reason } : {} });
      $("change-dialog").close();
      pending = null;
      loadRecent();
    } catch (e) {
      show("change-error", e.message);
    } finally {
      $("change-confirm").disabled = false;
    }
  }

  // -- 异议处理 (disputes): list open / overdue / resolved; resolve corrected or rejected.
  const DISPUTE_STATE = { "pending-delivery": "待送达", open: "待处理", resolved: "已处理", refused: "被拒收" };

  function resolveButtons(d) {
    if (!d.resolvable) return [];
    const go = async (outcome) => {
      const body = { outcome };
      if (outcome === "corrected") {
        const id = window.prompt("更正后（变更后）新版本的证照标识：", "");
        if (!id) return;
        body.new_identifier = id.trim();
      } else {
        const reason = window.prompt("驳回理由（必填）：", "");
        if (!reason || !reason.trim()) return;
        body.reason = reason.trim();
      }
      try {
        await api(`/api/v1/disputes/${encodeURIComponent(d.id)}/resolve`, { method: "POST", json: body });
        loadDisputes();
        loadRecent();
      } catch (e) {
        show("disputes-error", e.message);
      }
    };
    return [
      el("button", { type: "button", class: "btn small", dataset: { action: "corrected" },
                     onclick: () => go("corrected") }, "已更正"),
      el("button", { type: "button", class: "btn small danger", dataset: { action: "rejected" },
                     onclick: () => go("rejected") }, "驳回"),
    ];
  }

  async function loadDisputes() {
    show("disputes-error");
    try {
      const data = await api(`/api/v1/disputes?state=${encodeURIComponent($("disputes-state").value)}`);
      $("disputes").tBodies[0].replaceChildren(...data.disputes.map((d) =>
        el("tr", { dataset: { dispute: d.id } },
          el("td", { class: "nowrap" }, time(d.filed_at)),
          el("td", { class: "nowrap" }, time(d.due_at), d.overdue ? el("div", { class: "error small" }, "已逾期") : ""),
          el("td", { class: "small" }, d.licence_id),
          el("td", {}, d.category_zh),
          el("td", {}, d.text, d.evidence ? el("div", { class: "muted small" }, `附证据 ${d.evidence.content_type}`) : ""),
          el("td", {}, `${d.filed_region} / ${d.filer_org}`),
          el("td", {}, DISPUTE_STATE[d.state] || d.state,
             d.outcome ? el("div", { class: "muted small" }, d.outcome === "corrected" ? `已更正：${d.new_identifier}` : `驳回：${d.reason}`) : ""),
          el("td", { class: "ops" }, resolveButtons(d)))));
      $("disputes-empty").hidden = data.disputes.length > 0;
    } catch (e) {
      show("disputes-error", e.message);
    }
  }

  $("disputes-state").addEventListener("change", loadDisputes);
  $("disputes-reload").addEventListener("click", loadDisputes);
  $("template").addEventListener("change", fillExample);
  $("algorithm").addEventListener("change", () => {
    try {
      const body = JSON.parse($("issue-json").value);
      body.algorithm = $("algorithm").value;
      $("issue-json").value = JSON.stringify(body, null, 2);
    } catch (e) { /* leave the operator's text alone */ }
    newKey();
  });
  $("issue-json").addEventListener("input", newKey);
  $("reset-example").addEventListener("click", fillExample);
  $("issue-form").addEventListener("submit", issue);
  $("issued-pdf").addEventListener("click", () => lastIssued &&
    download(`/api/v1/licences/${encodeURIComponent(lastIssued)}/pdf`, "licence.pdf")
      .catch((e) => show("issue-error", e.message)));
  $("change-form").addEventListener("submit", confirmChange);
  $("change-cancel").addEventListener("click", () => { pending = null; $("change-dialog").close(); });
  LS.onReady(() => { loadTemplates(); loadRecent(); loadDisputes(); });
})();

/* 发证管理: issue a licence from a form drawn from its type's template (GET
 * /api/v1/issuers/me/templates gives each type's form description, license_svc/web/pages/forms.py),
 * amend it with the same form, suspend / reinstate / revoke it with a reason, and read its
 * history, audit trail and disputes.  Messages name the field in Chinese: the page's own checks
 * before sending, and the server's (a problem's `pointer` says which input it is about). */
"use strict";

(() => {
  const { $, el, show, api, download, time, validity, statusBadge, labels } = LS;
  let templates = [];
  let current = null;          // the chosen template {type, name, example, form}
  let amending = null;         // {identifier, view, record} while the form amends a licence
  let idempotencyKey = null;   // one per edited request: a double click issues once
  let lastIssued = null;
  let pending = null;          // {identifier, action} awaiting the dialog
  let detailId = null;         // the licence the detail card shows
  const images = {};           // pointer → base64 of a photo input (kept out of the DOM)

  const ACTIONS = {
    suspend: { label: "暂停", title: "暂停证照" },
    reinstate: { label: "恢复", title: "恢复证照" },
    revoke: { label: "撤销", title: "撤销证照（不可恢复）" },
  };
  const isEmpty = (v) => v === undefined || v === null || (typeof v === "string" && v.trim() === "")
    || (Array.isArray(v) && v.length === 0);

  function newKey() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    idempotencyKey = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // -- JSON pointers (RFC 6901) into the request --------------------------------------------
  const parts = (pointer) => pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  function getAt(obj, pointer) {
    return parts(pointer).reduce((o, p) => (o === undefined || o === null ? undefined : o[p]), obj);
  }
  function setAt(obj, pointer, value) {
    const ps = parts(pointer);
    let o = obj;
    ps.slice(0, -1).forEach((p, i) => {
      if (o[p] === undefined || o[p] === null) o[p] = /^\d+$/.test(ps[i + 1]) ? [] : {};
      o = o[p];
    });
    o[ps[ps.length - 1]] = value;
  }
  const inputId = (pointer) => "fld" + pointer.replace(/[^A-Za-z0-9]/g, "-");

  function controls() { return current ? current.form.sections.flatMap((s) => s.controls) : []; }

  // -- drawing the form -------------------------------------------------------------------------
  function input(c) {
    const id = inputId(c.pointer);
    const common = { id, dataset: { pointer: c.pointer }, "aria-describedby": `${id}-error`,
                     "aria-required": c.required ? "true" : null };
    switch (c.input) {
      case "select":
        return el("select", common, el("option", { value: "" }, "请选择"),
                  c.options.map((o) => el("option", { value: o }, o)));
      case "textarea":
        return el("textarea", Object.assign({ rows: 3, maxlength: c.max_length }, common));
      case "lines":
        return el("textarea", Object.assign({ rows: 4 }, common));
      case "date":
        return el("input", Object.assign({ type: "date" }, common));
      case "number":
        return el("input", Object.assign({ type: "number", step: c.integer ? 1 : "any",
                                           min: c.minimum, max: c.maximum }, common));
      case "image":
        return el("input", Object.assign({ type: "file", accept: "image/jpeg,image/png" }, common));
      case "open-end":
        return el("output", common, "长期");
      default:
        return el("input", Object.assign({ type: "text", maxlength: c.max_length, autocomplete: "off",
                                           spellcheck: "false" }, common));
    }
  }

  function field(c) {
    const id = inputId(c.pointer);
    const extra = [];
    if (c.open_end) {
      extra.push(el("label", { class: "open-end" },
        el("input", { type: "checkbox", id: `${id}-open`, dataset: { openEnd: c.pointer },
                      onchange: () => { $(id).disabled = $(`${id}-open`).checked; edited(c.pointer); } }),
        " 长期有效"));
    }
    if (c.input === "image") {
      extra.push(el("span", { class: "muted small", id: `${id}-state` }),
                 el("button", { type: "button", class: "btn small", id: `${id}-remove`,
                                onclick: () => { delete images[c.pointer]; $(id).value = ""; showImage(c); edited(c.pointer); } },
                    "移除照片"));
    }
    return el("div", { class: `field field-${c.input}`, dataset: { field: c.pointer } },
      el("label", { for: id }, c.label, c.required ? el("span", { class: "req-mark", title: "必填" }, " *") : ""),
      input(c), extra,
      c.hint ? el("div", { class: "muted small" }, c.hint) : "",
      el("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true }));
  }

  function renderForm() {
    $("form-sections").replaceChildren(...current.form.sections.map((s) =>
      el("fieldset", { class: "form-section" }, el("legend", {}, s.title),
         el("div", { class: "form-fields" }, s.controls.map(field)))));
    for (const c of controls()) {
      const node = $(inputId(c.pointer));
      node.addEventListener(c.input === "select" || c.input === "image" || c.input === "date" ? "change" : "input",
                            () => edited(c.pointer));
      if (c.input === "image") node.addEventListener("change", () => readImage(c, node));
    }
  }

  function showImage(c) {
    const b64 = images[c.pointer];
    $(`${inputId(c.pointer)}-state`).textContent = b64 ? `已有照片（约 ${Math.round(b64.length * 3 / 4 / 1024)} KB）` : "未选择照片";
    $(`${inputId(c.pointer)}-remove`).hidden = !b64;
  }

  function readImage(c, node) {
    const file = node.files && node.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      images[c.pointer] = String(reader.result).replace(/^data:[^,]*,/, "");
      showImage(c);
      edited(c.pointer);
    };
    reader.readAsDataURL(file);
  }

  function setValues(request) {
    for (const c of controls()) {
      const node = $(inputId(c.pointer));
      const value = getAt(request, c.pointer);
      if (c.input === "image") {
        if (isEmpty(value)) delete images[c.pointer]; else images[c.pointer] = value;
        node.value = "";
        showImage(c);
      } else if (c.input === "lines") {
        node.value = Array.isArray(value) ? value.join("\n") : "";
      } else if (c.input !== "open-end") {
        node.value = isEmpty(value) ? "" : String(value);
      }
      if (c.open_end) {
        const open = request.valid_until === null;
        $(`${inputId(c.pointer)}-open`).checked = open;
        node.disabled = open;
      }
    }
    clearErrors();
  }

  /** The request the form describes (without algorithm); optional inputs left empty are left out. */
  function readRequest() {
    const base = amending ? amending.record : current.example;
    const req = { type: current.type, issuer_code: amending ? base.issuer.code : base.issuer_code,
                  holders: [], fields: {} };
    for (const c of controls()) {
      const value = readValue(c);
      if (c.pointer === "/valid_until") { setAt(req, c.pointer, isEmpty(value) ? null : value); continue; }
      if (!isEmpty(value)) setAt(req, c.pointer, value);
    }
    req.holders = req.holders.filter((h) => h && !(isEmpty(h.name) && isEmpty(h.code)))
      .map((h) => ({ name: h.name || "", code: h.code || "", code_type: current.form.holder_code_type }));
    return req;
  }

  function readValue(c) {
    const node = $(inputId(c.pointer));
    if (c.open_end && $(`${inputId(c.pointer)}-open`).checked) return null;
    switch (c.input) {
      case "image": return images[c.pointer];
      case "open-end": return null;
      case "lines": return node.value.split("\n").map((x) => x.trim()).filter(Boolean);
      case "number": return node.value === "" ? undefined : Number(node.value);
      default: return c.uppercase ? node.value.trim().toUpperCase() : node.value.trim();
    }
  }

  // -- checks before sending, and messages by the inputs ----------------------------------------
  function problemOf(c, value) {
    const name = `“${c.title}”`;
    if (c.open_end && value === null) return null;
    if (isEmpty(value) && c.open_end) return `${name}为必填项（长期有效请勾选“长期有效”）`;
    if (isEmpty(value)) return c.required ? `${name}为必填项` : null;
    const texts = c.input === "lines" ? value : [value];
    if (c.input === "lines") {
      if (c.min_items && value.length < c.min_items) return `${name}至少 ${c.min_items} 项`;
      if (c.max_items && value.length > c.max_items) return `${name}最多 ${c.max_items} 项`;
      if (c.unique && new Set(value).size !== value.length) return `${name}不能有重复项`;
    }
    if (c.input === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${name}必须为 YYYY-MM-DD 格式的日期`;
    if (c.input === "number") {
      if (Number.isNaN(value) || (c.integer && !Number.isInteger(value))) return `${name}应为${c.integer ? "整数" : "数字"}`;
      return null;
    }
    for (const t of texts) {
      if (typeof t !== "string") continue;
      if (c.min_length && [...t].length < c.min_length) return `${name}至少 ${c.min_length} 个字符`;
      if (c.max_length && c.input !== "image" && [...t].length > c.max_length) return `${name}最多 ${c.max_length} 个字符`;
      if (c.pattern) {
        let re = null;
        try { re = new RegExp(c.pattern, "u"); } catch (e) { /* a pattern JS cannot read: the server checks */ }
        if (re && !re.test(t)) return `${name}格式不正确`;
      }
    }
    return null;
  }

  function fieldError(pointer, text) {
    const node = $(inputId(pointer));
    if (!node) return false;
    show(`${inputId(pointer)}-error`, text);
    if (text) node.setAttribute("aria-invalid", "true"); else node.removeAttribute("aria-invalid");
    return true;
  }

  function clearErrors() {
    for (const c of controls()) fieldError(c.pointer, "");
    show("amend-reason-error");
    show("issue-error");
  }

  function checkForm() {
    clearErrors();
    const bad = [];
    for (const c of controls()) {
      const text = problemOf(c, readValue(c));
      if (text) { fieldError(c.pointer, text); bad.push(c.pointer); }
    }
    if (amending && !$("amend-reason").value.trim()) {
      show("amend-reason-error", "“变更原因”为必填项");
      bad.push("reason");
    }
    if (bad.length) {
      show("issue-error", `有 ${bad.length} 处需要修正，请查看标红的栏目。`);
      const first = bad[0] === "reason" ? $("amend-reason") : $(inputId(bad[0]));
      first.focus();
    }
    return bad.length === 0;
  }

  /** A problem from the server: by its input when it names one (`pointer`), and at the top. */
  function showServerError(e) {
    const data = e.data || {};
    const text = data.detail_zh || data.title_zh;
    if (data.pointer && text && fieldError(data.pointer, text)) {
      $(inputId(data.pointer)).focus();
    }
    show("issue-error", e.message);
  }

  // -- the JSON view: the same request, for pasting an approval system's data --------------------
  function syncJson() {
    $("issue-json").value = JSON.stringify(Object.assign(readRequest(), { algorithm: $("algorithm").value }), null, 2);
  }

  function fromJson() {
    let body;
    try { body = JSON.parse($("issue-json").value); } catch (e) { return; }  // still being typed
    if (!body || typeof body !== "object") return;
    if (!amending && body.type && body.type !== current.type && templates.some((t) => t.type === body.type)) {
      $("template").value = body.type;
      chooseTemplate();
    }
    if (body.algorithm === "sm2" || body.algorithm === "rsa") $("algorithm").value = body.algorithm;
    setValues(body);
    newKey();
  }

  function edited(pointer) {
    if (pointer) fieldError(pointer, "");
    syncJson();
    newKey();
  }

  // -- issuing and amending ---------------------------------------------------------------------
  function chooseTemplate() {
    current = templates.find((x) => x.type === $("template").value) || null;
    if (!current) return;
    renderForm();
    fillExample();
  }

  function fillExample() {
    if (!current) return;
    setValues(amending ? amendSource() : current.example);
    syncJson();
    newKey();
  }

  function clearForm() {
    setValues({ valid_until: amending ? amending.record.valid_until : current.example.valid_until });
    syncJson();
    newKey();
  }

  async function loadTemplates() {
    try {
      templates = (await api("/api/v1/issuers/me/templates")).templates;
    } catch (e) {
      templates = [];
      show("issue-error", e.message);
    }
    $("template").replaceChildren(...templates.map((t) => el("option", { value: t.type }, t.name)));
    const canIssue = templates.length > 0 && LS.me().roles.includes("issuer");
    $("issue-form").hidden = !canIssue;
    $("editor-hint").hidden = !canIssue;
    $("no-templates").hidden = canIssue;
    if (canIssue) chooseTemplate();
  }

  async function submit(ev) {
    ev.preventDefault();
    $("issue-result").hidden = true;
    if (!checkForm()) return;
    const request = readRequest();
    const amended = amending !== null;
    $("issue-submit").disabled = true;
    try {
      let view;
      if (amended) {
        view = await api(`/api/v1/licences/${encodeURIComponent(amending.identifier)}/amend`, {
          method: "POST", json: { changes: amendChanges(request), reason: $("amend-reason").value.trim() } });
        $("issue-result-text").textContent = "变更成功，已签发新版本。";
        endAmend();
      } else {
        view = await api("/api/v1/licences", { method: "POST",
          json: Object.assign(request, { algorithm: $("algorithm").value }),
          headers: { "Idempotency-Key": idempotencyKey } });
        $("issue-result-text").textContent = "签发成功。";
      }
      lastIssued = view.identifier;
      $("issued-id").textContent = view.identifier;
      $("issue-result").hidden = false;
      loadRecent();
      if (amended) openDetail(view.identifier);
    } catch (e) {
      showServerError(e);
    } finally {
      $("issue-submit").disabled = false;
    }
  }

  /** What an amendment sends: holders, validity and fields as the form has them; an optional
   * field the officer emptied is sent as null, which removes it (licences/amend.py). */
  function amendChanges(request) {
    const fields = Object.assign({}, request.fields);
    for (const key of Object.keys(amending.record.fields || {})) {
      if (!(key in fields)) fields[key] = null;
    }
    return { holders: request.holders, valid_from: request.valid_from, valid_until: request.valid_until,
             fields, algorithm: $("algorithm").value };
  }

  function amendSource() {
    const r = amending.record;
    return { holders: r.holders, valid_from: r.valid_from, valid_until: r.valid_until, fields: r.fields };
  }

  async function startAmend(identifier) {
    show("issue-error");
    $("issue-result").hidden = true;
    try {
      const view = await api(`/api/v1/licences/${encodeURIComponent(identifier)}`);
      const record = view.signed_record.payload;
      const t = templates.find((x) => x.type_code === record.type_code);
      if (!t) { show("list-error", `当前身份不能签发${record.type_name}，也不能变更它。`); return; }
      amending = { identifier, view, record };
      $("template").value = t.type;
      current = t;
      renderForm();
      $("template").disabled = true;
      $("algorithm").value = view.algorithm;
      $("editor-title").textContent = `变更证照：${record.type_name} ${record.number}`;
      $("editor-hint").textContent = "修改需要变更的栏目并填写变更原因。提交后签发新版本（证照编号不变），原版本标记为已被新版本取代。";
      $("amend-reason").value = "";
      $("amend-reason-box").hidden = false;
      $("amend-cancel").hidden = false;
      $("issue-submit").textContent = "提交变更";
      $("submit-note").hidden = true;
      fillExample();
      $("issue-card").scrollIntoView({ block: "start" });
    } catch (e) {
      show("list-error", e.message);
    }
  }

  function endAmend() {
    amending = null;
    $("template").disabled = false;
    $("editor-title").textContent = "签发证照";
    $("editor-hint").textContent = "选择证照类型后按表单填写，带 * 的为必填项。表单已填入该类型模板的示例数据（以本机构名义），可点“清空”后重新填写。";
    $("amend-reason-box").hidden = true;
    $("amend-cancel").hidden = true;
    $("issue-submit").textContent = "签发";
    $("submit-note").hidden = false;
    chooseTemplate();
  }

  // -- the list, and what can be done to a licence ----------------------------------------------
  function canChange() { return LS.me().roles.includes("issuer"); }

  function actionButtons(l, where) {
    const out = [el("button", { type: "button", class: "btn small", dataset: { action: "detail" },
                                onclick: () => openDetail(l.identifier) }, "详情")];
    const can = canChange() && templates.some((t) => t.type_code === l.type_code);
    if (can && (l.status === "active" || l.status === "suspended")) {
      out.push(el("button", { type: "button", class: "btn small", dataset: { action: "amend" },
                              onclick: () => startAmend(l.identifier) }, "变更"));
    }
    const changes = [];
    if (canChange() && l.status === "active") changes.push("suspend", "revoke");
    if (canChange() && l.status === "suspended") changes.push("reinstate", "revoke");
    if (canChange() && l.status === "expired") changes.push("revoke");
    out.push(...changes.map((a) => el("button", {
      type: "button", class: `btn small${a === "revoke" ? " danger" : ""}`, dataset: { action: a },
      onclick: () => openDialog(l, a) }, ACTIONS[a].label)));
    out.push(el("button", { type: "button", class: "btn small", dataset: { action: "pdf" },
      onclick: () => download(`/api/v1/licences/${encodeURIComponent(l.identifier)}/pdf`, `${l.number || "licence"}.pdf`)
        .catch((e) => show(where, e.message)) }, "PDF"));
    return out;
  }

  /** A table row whose cells carry their column's name, for tables stacked as cards on a phone. */
  function row(table, attrs, ...cells) {
    const heads = Array.from($(table).tHead.rows[0].cells, (th) => th.textContent);
    cells.forEach((td, i) => { td.dataset.label = heads[i] || ""; });
    return el("tr", attrs, cells);
  }

  async function loadRecent() {
    show("list-error");
    try {
      const data = await api("/api/v1/issuers/me/licences?limit=30");
      $("recent").tBodies[0].replaceChildren(...data.licences.map((l) =>
        row("recent", { dataset: { identifier: l.identifier } },
          el("td", { class: "nowrap" }, time(l.issued_at)),
          el("td", {}, l.type_name || l.type_code),
          el("td", {}, l.number || "—", el("div", { class: "muted small" }, `第 ${l.version} 版`)),
          el("td", {}, l.holder_name || "—"),
          el("td", { class: "nowrap" }, validity(l.valid_from, l.valid_until)),
          el("td", {}, (l.algorithm || "").toUpperCase()),
          el("td", {}, statusBadge(l.status, l.status_zh)),
          el("td", { class: "ops" }, actionButtons(l, "list-error")))));
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
    $("change-reason").placeholder = action === "revoke" ? "必填，如：依法吊销" : "必填，如：年报核查";
    show("change-error");
    $("change-dialog").showModal();
  }

  async function confirmChange(ev) {
    ev.preventDefault();
    if (!pending) return;
    const reason = $("change-reason").value.trim();
    if (!reason) {
      show("change-error", "请填写原因。");
      return;
    }
    $("change-confirm").disabled = true;
    try {
      await api(`/api/v1/licences/${encodeURIComponent(pending.identifier)}/${pending.action}`,
                { method: "POST", json: { reason } });
      $("change-dialog").close();
      const changed = pending.identifier;
      pending = null;
      loadRecent();
      if (detailId === changed) openDetail(changed);
    } catch (e) {
      show("change-error", e.message);
    } finally {
      $("change-confirm").disabled = false;
    }
  }

  // -- one licence: summary, signed history, audit trail, disputes ------------------------------
  const summaryOf = (view) => {
    const r = view.signed_record.payload;
    return { identifier: view.identifier, type_code: r.type_code, type_name: r.type_name, number: r.number,
             holder_name: (r.holders || []).map((h) => h.name).join("、"), status: view.status,
             valid_from: r.valid_from, valid_until: r.valid_until, version: view.version };
  };

  async function versionsOf(view) {
    // the versions before this one, by the record's `supersedes`: each is a read of licence data
    const chain = [view];
    let prev = view.signed_record.payload.supersedes;
    while (prev && chain.length < 20) {
      const older = await api(`/api/v1/licences/${encodeURIComponent(prev)}`);
      chain.unshift(older);
      prev = older.signed_record.payload.supersedes;
    }
    return chain;
  }

  async function openDetail(identifier) {
    detailId = identifier;
    $("detail").hidden = false;
    show("detail-error");
    try {
      const view = await api(`/api/v1/licences/${encodeURIComponent(identifier)}`);
      const r = view.signed_record.payload;
      const s = summaryOf(view);
      const rows = [
        ["证照类型", r.type_name], ["证照编号", r.number], ["持证主体", s.holder_name],
        ["颁发机构", r.issuer && r.issuer.name], ["有效期", validity(r.valid_from, r.valid_until)],
        ["状态", statusBadge(view.status)], ["版本", `第 ${view.version} 版`], ["证照标识", el("code", {}, view.identifier)],
      ];
      $("detail-summary").tBodies[0].replaceChildren(...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
      const ops = actionButtons(s, "detail-error").filter((b) => b.dataset.action !== "detail");
      if (view.superseded_by) {
        ops.unshift(el("button", { type: "button", class: "btn small", onclick: () => openDetail(view.superseded_by) }, "查看新版本"));
      }
      $("detail-ops").replaceChildren(...ops);
      const chain = await versionsOf(view);
      const events = chain.flatMap((v) => v.events.map((e) => Object.assign({ version: v.version }, e.event)));
      events.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.version - a.version));
      $("history").tBodies[0].replaceChildren(...events.map((e) =>
        row("history", {}, el("td", { class: "nowrap" }, time(e.at)), el("td", {}, `第 ${e.version} 版`),
            el("td", {}, labels.licence_event[e.action] || e.action),
            el("td", {}, statusBadge(e.status)), el("td", {}, e.reason || "—"), el("td", {}, e.actor))));
      $("detail").scrollIntoView({ block: "start" });
      loadTrail(identifier);
      loadLicenceDisputes(chain.map((v) => v.identifier));
    } catch (e) {
      show("detail-error", e.message);
    }
  }

  async function loadTrail(identifier) {
    show("trail-error");
    try {
      const data = await api(`/api/v1/licences/${encodeURIComponent(identifier)}/audit`);
      $("trail").tBodies[0].replaceChildren(...data.entries.map((e) =>
        row("trail", { dataset: { index: e.index } },
          el("td", { class: "nowrap" }, time(e.time)), el("td", {}, `第 ${e.version} 版`),
          el("td", {}, labels.action[e.action] || e.action, e.reason ? el("div", { class: "muted small" }, `原因：${e.reason}`) : ""),
          el("td", {}, labels.outcome[e.outcome] || e.outcome),
          el("td", {}, e.actor.name || e.actor.org_code,
             e.actor.name ? el("div", { class: "muted small" }, e.actor.org_code) : ""),
          el("td", {}, e.actor.operator || "—"),
          el("td", {}, e.purpose || "", e.legal_basis ? el("div", { class: "muted small" }, e.legal_basis) : ""))));
      $("trail-empty").hidden = data.entries.length > 0;
    } catch (e) {
      show("trail-error", e.message);
    }
  }

  async function loadLicenceDisputes(identifiers) {
    try {
      const data = await api("/api/v1/disputes?limit=100");
      const mine = data.disputes.filter((d) => identifiers.includes(d.licence_id));
      $("detail-disputes").tBodies[0].replaceChildren(...mine.map((d) =>
        row("detail-disputes", {}, el("td", { class: "nowrap" }, time(d.filed_at)), el("td", {}, d.category_zh),
            el("td", {}, d.text), el("td", {}, DISPUTE_STATE[d.state] || d.state))));
      $("detail-disputes-empty").hidden = mine.length > 0;
    } catch (e) {
      show("detail-error", e.message);
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
        row("disputes", { dataset: { dispute: d.id } },
          el("td", { class: "nowrap" }, time(d.filed_at)),
          el("td", { class: "nowrap" }, time(d.due_at), d.overdue ? el("div", { class: "error small" }, "已逾期") : ""),
          el("td", { class: "small" }, el("button", { type: "button", class: "btn small link",
                                                       onclick: () => openDetail(d.licence_id) }, d.licence_id)),
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
  $("list-reload").addEventListener("click", loadRecent);
  $("template").addEventListener("change", chooseTemplate);
  $("algorithm").addEventListener("change", () => edited());
  $("issue-json").addEventListener("input", fromJson);
  $("reset-example").addEventListener("click", fillExample);
  $("clear-form").addEventListener("click", clearForm);
  $("amend-cancel").addEventListener("click", endAmend);
  $("amend-reason").addEventListener("input", () => show("amend-reason-error"));
  $("issue-form").addEventListener("submit", submit);
  $("issued-pdf").addEventListener("click", () => lastIssued &&
    download(`/api/v1/licences/${encodeURIComponent(lastIssued)}/pdf`, "licence.pdf")
      .catch((e) => show("issue-error", e.message)));
  $("issued-detail").addEventListener("click", () => lastIssued && openDetail(lastIssued));
  $("detail-close").addEventListener("click", () => { detailId = null; $("detail").hidden = true; });
  $("change-form").addEventListener("submit", confirmChange);
  $("change-cancel").addEventListener("click", () => { pending = null; $("change-dialog").close(); });
  LS.onReady(() => { loadTemplates(); loadRecent(); loadDisputes(); });
})();

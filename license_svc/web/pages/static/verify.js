/* 证照核验: send a file or QR text to POST /api/v1/verify and show the report in plain Chinese,
 * with the same words as the HTML report (verification/html.py): first the verdict sentence
 * and who and what (`about`), then the ETSI indication, reasons and checks. */
"use strict";

(() => {
  const { $, el, show, api, time, labels } = LS;
  const L = labels;
  let chosen = null;

  function mark(check, indication) {
    if (check.passed) return el("span", { class: "mark-ok" }, "✔ 通过");
    // The JSON report does not say which failed check was "cannot tell"; in an INDETERMINATE
    // report every failed check is one (a hard failure would have made it TOTAL_FAILED).
    if (indication === "INDETERMINATE") return el("span", { class: "mark-unk" }, "？ 无法确定");
    return el("span", { class: "mark-bad" }, "✘ 未通过");
  }

  function checkName(c) {
    return c.title_zh ? [c.title_zh, el("div", { class: "muted small" }, c.name)] : [c.name];
  }

  // The same rules as verification.html.display(): no raw enumeration value, boolean or
  // object notation reaches the clerk.
  function valueText(k, v) {
    if (v === null || v === undefined || v === "") return "—";
    if (typeof v === "boolean") return v ? "是" : "否";
    if (k === "picture_mm" && Array.isArray(v) && v.length === 2) return `${v[0]} × ${v[1]} 毫米`;
    if (k === "trust_lists" && Array.isArray(v)) {
      return v.map((t) => `${L.region[t.region] || t.region}信任列表第 ${t.sequence} 版`).join("；");
    }
    if (Array.isArray(v)) return v.map((x) => valueText(k, x)).join("、");
    if (typeof v === "object") {
      return Object.entries(v).map(([kk, x]) => `${L.field[kk] || kk}：${valueText(kk, x)}`).join("；");
    }
    if (L.dn.keys.includes(k) && typeof v === "string") {
      return L.dn.names.reduce((text, [en, zh]) => text.split(`${en}: `).join(`${zh}：`), v);
    }
    const words = L.value[k] || {};
    return words[String(v)] || String(v);
  }

  function fieldTable(title, data) {
    if (!data || !Object.keys(data).length) return null;
    const rows = Object.entries(data).map(([k, v]) =>
      el("tr", {}, el("th", {}, L.field[k] || k), el("td", {}, valueText(k, v))));
    return el("div", {}, el("h3", {}, title),
      el("table", { class: "data fields" }, el("tbody", {}, rows)));
  }

  function aboutRows(about) {
    const rows = [];
    for (const [key, label] of L.about) {
      let v = (about || {})[key];
      if (v === null || v === undefined || v === "") continue;
      if (key === "version") v = `第 ${v} 版`;
      if (key === "status_since") v = time(v);
      rows.push(el("dt", {}, label), el("dd", { "data-key": key }, String(v)));
    }
    return rows;
  }

  function render(report, inputName) {
    const ind = report.indication;
    const sub = report.sub_indication;
    const box = $("verdict");
    box.className = `verdict ${{ valid: "passed", invalid: "failed", revoked: "failed", expired: "failed" }[report.verdict] || "indeterminate"}`;
    box.dataset.verdict = report.verdict;
    // The verdict's name large, then the sentence (which starts with the name: not repeated).
    const name = L.verdict[report.verdict] || report.verdict;
    $("verdict-text").textContent = name;
    $("verdict-sub").textContent = report.verdict_text.startsWith(`${name}。`)
      ? report.verdict_text.slice(name.length + 1) : report.verdict_text;
    $("verdict-etsi").textContent = `ETSI 结论：${L.indication[ind] || ind}` +
      (sub ? `，原因：${L.sub_indication[sub] || sub}（${ind} / ${sub}）` : `（${ind}）`);
    const about = aboutRows(report.about);
    $("about").replaceChildren(...about);
    $("about-box").hidden = about.length === 0;
    $("report-subject").textContent = L.subject[report.subject] || report.subject || "输入";
    $("report-input").textContent = inputName;
    $("report-time").textContent = time(new Date().toISOString());

    const failed = report.checks.filter((c) => !c.passed);
    $("reasons").replaceChildren(...failed.map((c) =>
      el("li", {}, el("b", {}, c.title_zh || c.name), c.detail ? `：${c.detail}` : "")));
    $("reasons-box").hidden = failed.length === 0;

    $("checks").tBodies[0].replaceChildren(...report.checks.map((c) =>
      el("tr", {}, el("td", {}, mark(c, ind)), el("td", {}, checkName(c)), el("td", {}, c.detail || ""))));

    $("sections").replaceChildren(...[fieldTable("证照信息", report.licence),
      fieldTable("签名者", report.signer), fieldTable("印章", report.seal)].filter(Boolean));
    $("notes").replaceChildren(...(report.notes || []).map((n) => el("li", {}, n)));
    $("notes-box").hidden = !(report.notes || []).length;
    $("report").hidden = false;
    $("report").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  async function run(request, inputName) {
    show("verify-error");
    $("report").hidden = true;
    $("busy").hidden = false;
    try {
      render(await api("/api/v1/verify", Object.assign({ method: "POST" }, request)), inputName);
    } catch (e) {
      show("verify-error", e.status === 422 ? `无法识别的输入：${e.message}` : e.message);
    } finally {
      $("busy").hidden = true;
    }
  }

  function choose(file) {
    chosen = file || null;
    $("file-name").textContent = chosen ? `已选择：${chosen.name}（${Math.ceil(chosen.size / 1024)} KB）`
                                        : "点击选择文件，或将文件拖到此处";
  }

  $("file").addEventListener("change", () => choose($("file").files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer.files.length) choose(ev.dataTransfer.files[0]);
  });

  $("file-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!chosen) { show("verify-error", "请先选择要核验的文件。"); return; }
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    run({ body: form }, chosen.name);
  });
  $("qr-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("qr-text").value.trim();
    if (!text) { show("verify-error", "请粘贴二维码内容。"); return; }
    run({ json: { qr: text } }, "二维码文本");
  });
  $("print").addEventListener("click", () => window.print());
})();

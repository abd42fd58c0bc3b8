/* 证照核验: send a file or QR text to POST /api/v1/verify and show the report in plain Chinese,
 * with the same words as the HTML report (verification/html.py): verdict, reasons, checks. */
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

  function valueText(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "object") {
      return Object.entries(v).map(([k, x]) => `${L.field[k] || k}: ${typeof x === "object" && x !== null ? JSON.stringify(x) : x}`).join("；");
    }
    if (typeof v === "boolean") return v ? "是" : "否";
    return String(v);
  }

  function fieldTable(title, data) {
    if (!data || !Object.keys(data).length) return null;
    const rows = Object.entries(data).map(([k, v]) => {
      let shownValue = valueText(v);
      if (k === "status" && L.licence_status[v]) shownValue = `${L.licence_status[v]}（${v}）`;
      if (k === "region" && L.region[v]) shownValue = `${L.region[v]}（${v}）`;
      return el("tr", {}, el("th", {}, L.field[k] || k), el("td", {}, shownValue));
    });
    return el("div", {}, el("h3", {}, title),
      el("table", { class: "data fields" }, el("tbody", {}, rows)));
  }

  function render(report, inputName) {
    const ind = report.indication;
    const sub = report.sub_indication;
    const box = $("verdict");
    box.className = `verdict ${{ TOTAL_PASSED: "passed", TOTAL_FAILED: "failed" }[ind] || "indeterminate"}`;
    $("verdict-text").textContent = L.indication[ind] || ind;
    $("verdict-sub").textContent = sub
      ? `原因：${L.sub_indication[sub] || sub}（${ind} / ${sub}）` : `（${ind}）`;
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

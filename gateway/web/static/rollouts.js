// The models page (admins): upload a model pair (the gateway signs it), start a staged
// roll-out (canary cameras first), promote it to the rest once the canaries switched,
// or roll it back; each camera's outcome as its node reported it. Refreshes every 5 s.
import { ago, api, clockTime, el, fail, ready, shell, t } from "/static/app.js";
import { gatewayFetch } from "/static/connection.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
const OUTCOME = { switched: "good", rejected: "bad", reverted: "", null: "warn" };
const STAGE = { canary: "warn", complete: "good", rolled_back: "" };

/** The API's names for outcomes, stages, waves and check pictures, in words. */
const WORD = {
  switched: t("rollouts.outcome_switched"),
  rejected: t("rollouts.outcome_rejected"),
  reverted: t("rollouts.outcome_reverted"),
  announced: t("rollouts.outcome_announced"),
  canary: t("rollouts.canary"),
  complete: t("rollouts.stage_complete"),
  rolled_back: t("rollouts.stage_rolled_back"),
  rest: t("rollouts.wave_rest"),
  reference_image: t("rollouts.reference_image"),
  last_frame: t("rollouts.last_frame"),
};
const word = (name) => WORD[name] || name.replace(/_/g, " ");

function banner(text, kind = "error") {
  $("alerts").replaceChildren(el("div", { class: "banner", role: kind === "error" ? "alert" : "status", dataset: { note: kind } }, text));
}

async function loadModels() {
  const models = await api("/api/models");
  const select = $("start-version");
  const chosen = select.value;
  select.replaceChildren(...models.map((m) => el("option", { value: m.version, selected: m.version === chosen }, m.version)));
  if (!models.length) { $("models").replaceChildren(el("p", { class: "empty-note" }, t("rollouts.no_models"))); return; }
  const head = [t("rollouts.col_version"), t("rollouts.col_files"), t("rollouts.col_key"), t("rollouts.col_uploaded")];
  $("models").replaceChildren(el("table", { id: "models-table" },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
    el("tbody", {}, models.map((m) => el("tr", { dataset: { model: m.version } },
      el("td", {}, el("strong", {}, m.version)),
      el("td", {}, m.files.map((f) => el("div", {}, t("rollouts.file", { variant: f.variant, name: f.name, mb: f.size / 1e6 }), " · ", el("code", { title: f.sha256 }, f.sha256.slice(0, 16) + "…")))),
      el("td", {}, el("code", {}, m.key_id)),
      el("td", {}, ago(m.uploaded_at), m.uploaded_by ? el("div", { class: "muted" }, m.uploaded_by) : null))))));
}

async function loadCameras() {
  const cameras = await api("/api/cameras");
  const ticked = new Set([...document.querySelectorAll("#canaries input:checked")].map((i) => i.value));
  $("canaries").replaceChildren(...cameras.map((c) => {
    const name = `${c.store}/${c.camera}`;
    return el("label", {}, el("input", { type: "checkbox", value: name, checked: ticked.has(name), dataset: { canary: name } }), name);
  }));
}

function outcomeBadge(c) {
  if (!c.announced_at) return el("span", { class: "badge" }, t("rollouts.waiting"));
  const outcome = c.outcome ?? "announced";
  return el("span", { class: `badge ${OUTCOME[c.outcome] ?? "warn"}`, dataset: { outcome } }, word(outcome));
}

function checkText(check) {
  if (!check) return null;
  return el("div", { class: "muted" }, t("rollouts.check", {
    reference: word(check.reference),
    boxes_before: check.current_detections, boxes_after: check.candidate_detections,
    ms_before: check.current_ms, ms_after: check.candidate_ms,
  }));
}

async function act(path, body) {
  try {
    await api(path, { method: "POST", body: body ? JSON.stringify(body) : undefined });
    $("alerts").replaceChildren();
  } catch (error) { banner(error.message); }
  await loadRollouts();
}

function rolloutCard(r) {
  const canaries = r.cameras.filter((c) => c.wave === "canary");
  const canariesOk = canaries.every((c) => c.outcome === "switched");
  const buttons = [];
  if (r.stage === "canary") {
    buttons.push(el("button", { class: "btn primary", type: "button", disabled: !canariesOk, title: canariesOk ? null : t("rollouts.canaries_first"), dataset: { action: "promote" }, onclick: () => act(`/api/rollouts/${r.id}/promote`) }, t("rollouts.promote")));
  }
  if (r.stage !== "rolled_back") {
    buttons.push(el("button", { class: "btn danger", type: "button", dataset: { action: "rollback" }, onclick: () => { if (confirm(t("rollouts.rollback_confirm", { version: r.version }))) act(`/api/rollouts/${r.id}/rollback`); } }, t("rollouts.rollback")));
  }
  const head = [t("rollouts.col_camera"), t("rollouts.col_wave"), t("rollouts.col_outcome"), t("rollouts.col_runs"), t("rollouts.col_why")];
  return el("div", { class: "stack", dataset: { rollout: String(r.id), stage: r.stage } },
    el("div", { class: "filters" },
      el("h3", {}, `#${r.id} · ${r.version}`),
      el("span", { class: `badge ${STAGE[r.stage]}` }, word(r.stage)),
      el("span", { class: "muted" }, started(r)),
      ...buttons),
    el("div", { class: "table-wrap" }, el("table", {},
      el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
      el("tbody", {}, r.cameras.map((c) => el("tr", { dataset: { camera: `${c.store}/${c.camera}` } },
        el("td", {}, el("strong", {}, c.camera), el("div", { class: "muted" }, c.store)),
        el("td", {}, word(c.wave)),
        el("td", {}, outcomeBadge(c), c.reported_at ? el("div", { class: "muted" }, ago(c.reported_at)) : null),
        el("td", {}, c.running_version || (c.outcome ? t("rollouts.configured") : "–")),
        el("td", {}, c.reason ? el("div", { class: "error-note" }, c.reason) : null, checkText(c.check))))))));
}

/** When and by whom a roll-out started, and whether it promotes by itself. */
function started(r) {
  const when = r.created_by ? t("rollouts.started_by", { ago: ago(r.created_at), user: r.created_by }) : t("rollouts.started", { ago: ago(r.created_at) });
  return r.auto_promote ? t("rollouts.with_auto_promote", { started: when }) : when;
}

async function loadRollouts() {
  const rollouts = await api("/api/rollouts");
  $("rollouts").replaceChildren(...(rollouts.length ? rollouts.map(rolloutCard) : [el("p", { class: "empty-note" }, t("rollouts.no_rollouts"))]));
  $("refreshed").textContent = t("rollouts.updated_at", { time: clockTime() });
}

async function upload(event) {
  event.preventDefault();
  const button = $("upload-submit");
  button.disabled = true;
  $("upload-note").textContent = t("rollouts.uploading");
  try {
    const response = await gatewayFetch("/api/models", { method: "POST", body: new FormData($("upload")) });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(typeof body.detail === "string" ? body.detail : response.statusText);
    $("upload-note").textContent = t("rollouts.stored", { version: body.version, key: body.key_id });
    $("upload").reset();
    await loadModels();
    $("start-version").value = body.version;
  } catch (error) {
    $("upload-note").textContent = "";
    banner(t("rollouts.upload_refused", { error: error.message }));
  } finally { button.disabled = false; }
}

async function start(event) {
  event.preventDefault();
  const canaries = [...document.querySelectorAll("#canaries input:checked")].map((i) => i.value);
  const body = { version: $("start-version").value, auto_promote: $("auto-promote").checked };
  if (canaries.length) body.canaries = canaries;
  else body.canary_share = Math.min(1, Math.max(0.01, Number($("canary-share").value) / 100));
  await act("/api/rollouts", body);
}

async function main() {
  await shell("rollouts");
  $("upload").addEventListener("submit", upload);
  $("start").addEventListener("submit", start);
  try { await loadModels(); } catch (error) { fail($("models"), error); }
  try { await loadCameras(); } catch (error) { fail($("canaries"), error); }
  try { await loadRollouts(); } catch (error) { fail($("rollouts"), error); }
  setInterval(() => { loadRollouts().catch((error) => fail($("rollouts"), error)); }, REFRESH_MS);
  ready();
}

main();

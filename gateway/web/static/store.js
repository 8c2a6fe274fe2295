// The store page: each camera's shelf with slots coloured by state, the open advice
// with acknowledge / dismiss, today's score; live updates move slots and advice.
import {
  STATUS, STATUS_TAG, agoText, api, ago, el, fail, isOnline, isoLocal, live, minutes, onConnection, pct,
  phrase, place, ready, sayAgo, scoreClass, shell, t,
} from "/static/app.js";

// Suggested reasons, in the user's language (what is stored is what the user picked or typed).
const DISMISS_REASONS = [t("store.reason_done"), t("store.reason_delisted"), t("store.reason_camera_wrong"), t("store.reason_not_now")];
/** A camera's status, an advice's level and status in words (the codes stay in data-*). */
const CAMERA_WORD = { online: t("store.cam_online"), stale: t("store.cam_stale"), offline: t("store.cam_offline"), unknown: t("store.cam_unknown") };
const LEVEL_WORD = { high: t("store.level_high"), medium: t("store.level_medium"), low: t("store.level_low") };
const ADVICE_STATUS_WORD = { acknowledged: t("store.status_acknowledged") };
const state = { user: null, store: null, cameras: [], advice: new Map(), slots: new Map(), layouts: new Map() };
const CAMERAS_POLL_MS = 10000;
const STALE_INTERVALS = 5; // a state older than this many capture intervals is stale
const STALE_FLOOR_S = 15;
const STALE_UNKNOWN_INTERVAL_S = 300; // a node that never said its frame rate

/** How a camera stands now: online, stale (its last state is old), offline (it said
 * so, or its Last Will did), or unknown (the gateway cannot be asked). */
function cameraStatus(cam) {
  if (!isOnline()) return { status: "unknown", why: t("store.why_unreachable") };
  if (!cam.online) return { status: "offline", why: t("store.why_offline", { ago: ago(cam.availability_at || cam.last_seen) }) };
  const stamp = cam.state?.updated_at;
  if (!stamp) return { status: "stale", why: t("store.why_no_state") };
  const fps = cam.health?.fps;
  const limit = fps ? Math.max(STALE_INTERVALS / fps, STALE_FLOOR_S) : STALE_UNKNOWN_INTERVAL_S;
  const age = (Date.now() - new Date(stamp).getTime()) / 1000;
  return age > limit
    ? { status: "stale", why: t("store.why_stale", { age: minutes(age / 60), every: fps ? minutes(1 / fps / 60) : "?" }) }
    : { status: "online", why: t("store.why_online", { ago: ago(stamp) }) };
}

const BADGE = { online: "good", stale: "stale", offline: "bad", unknown: "" };

function cameraBadge(cam) {
  const { status, why } = cameraStatus(cam);
  return el("span", { class: `badge ${BADGE[status]}`, title: why, dataset: { cameraStatus: status } },
    el("i", { class: "dot" }), CAMERA_WORD[status]);
}

/** Re-say each camera's status and the "Cameras online" figure (no redraw of shelves). */
function drawCameraStatus() {
  for (const cam of state.cameras) {
    const old = document.querySelector(`[data-camera='${cam.camera}'] [data-camera-status]`);
    if (old) old.replaceWith(cameraBadge(cam));
    const card = document.querySelector(`article[data-camera='${cam.camera}']`);
    if (card) card.dataset.state = cameraStatus(cam).status;
    const foot = document.querySelector(`[data-camera='${cam.camera}'] [data-ago]`);
    if (foot) { foot.dataset.ago = cam.state?.updated_at || cam.last_seen || ""; sayAgo(foot); }
  }
  const total = state.cameras.length;
  const counts = { online: 0, stale: 0, offline: 0, unknown: 0 };
  for (const cam of state.cameras) counts[cameraStatus(cam).status] += 1;
  const hint = document.getElementById("cams-hint");
  if (!isOnline()) {
    document.getElementById("cams-online").textContent = t("store.cams_of", { online: "?", total });
    hint.textContent = t("store.cams_unknown");
    return;
  }
  document.getElementById("cams-online").textContent = t("store.cams_of", { online: counts.online, total });
  const trouble = [
    counts.stale && t("store.cams_stale", { count: counts.stale }),
    counts.offline && t("store.cams_offline", { count: counts.offline }),
  ].filter(Boolean);
  hint.textContent = trouble.length ? t("store.cams_trouble", { trouble: trouble.join(t("store.list_separator")) }) : t("store.cams_all_reporting");
}

/** Fresh availability and state times (the stream sends only changes). */
async function pollCameras() {
  const fresh = new Map((await api("/api/cameras")).filter((c) => c.store === state.store).map((c) => [c.camera, c]));
  if ([...fresh.keys()].sort().join() !== state.cameras.map((c) => c.camera).sort().join()) return refresh();
  for (const cam of state.cameras) {
    const now = fresh.get(cam.camera);
    Object.assign(cam, { online: now.online, last_seen: now.last_seen, availability_at: now.availability_at, state: now.state, health: now.health });
  }
  drawCameraStatus();
}

function canAct(user) { return user.kind === "admin" || user.kind === "staff"; }

function legend() {
  const box = document.getElementById("legend");
  box.replaceChildren(...Object.entries(STATUS).filter(([k]) => k !== "unknown").map(([key, label]) =>
    el("span", {}, el("i", { class: `swatch st-${key}`, "aria-hidden": "true" }), label)));
}

async function loadStores() {
  const cameras = await api("/api/cameras");
  const stores = [...new Set(cameras.map((c) => c.store))].sort();
  const wanted = new URLSearchParams(location.search).get("store");
  state.store = state.user.store || (stores.includes(wanted) ? wanted : stores[0]) || null;
  const pick = document.getElementById("store");
  if (stores.length > 1 && !state.user.store) {
    pick.replaceChildren(...stores.map((s) => el("option", { value: s, selected: s === state.store }, s)));
    document.getElementById("store-pick").hidden = false;
    pick.onchange = () => { history.replaceState(null, "", `?store=${pick.value}`); state.store = pick.value; refresh(); };
  }
  return cameras;
}

async function refresh() {
  const cameras = (await api("/api/cameras")).filter((c) => c.store === state.store);
  await Promise.all(cameras.map(fillScore));
  state.cameras = cameras;
  document.getElementById("title").textContent = state.store ? t("store.title_of", { store: state.store }) : t("store.title");
  await drawCameras(cameras); // first: the advice names places with the layouts' names
  await Promise.all([loadAdvice(), loadScore(cameras)]);
}

/** A node that sends no score of its own: the gateway's, from the stored slot states. */
async function fillScore(cam) {
  if (cam.score !== null && cam.score !== undefined) return;
  try { cam.score = (await api(`/api/cameras/${cam.store}/${cam.camera}/compliance`)).score; } catch { /* no layout */ }
}

async function loadScore(cameras) {
  drawCameraStatus();
  const scores = cameras.map((c) => c.score).filter((s) => s !== null && s !== undefined);
  setKpi("kpi-now", "now-score", scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null);
  if (!state.store) return;
  const midnight = new Date(); midnight.setHours(0, 0, 0, 0);
  const report = await api(`/api/reports/compliance?store=${encodeURIComponent(state.store)}&granularity=total&since=${encodeURIComponent(isoLocal(midnight))}`);
  const series = report.series.find((s) => s.level === "store");
  setKpi("kpi-score", "today-score", series ? series.scores[0] : null);
}

function setKpi(boxId, valueId, value) {
  const box = document.getElementById(boxId);
  box.classList.remove("good", "warn", "bad");
  if (scoreClass(value)) box.classList.add(scoreClass(value));
  document.getElementById(valueId).textContent = pct(value);
}

async function drawCameras(cameras) {
  const box = document.getElementById("cameras");
  if (!cameras.length) { box.replaceChildren(el("p", { class: "empty-note" }, t("store.no_cameras"))); return; }
  const cards = await Promise.all(cameras.map(cameraCard));
  box.replaceChildren(...cards);
  drawCameraStatus();
}

async function cameraCard(cam) {
  let layout = null;
  try { layout = (await api(`/api/layouts/${cam.store}/${cam.camera}`)).layout; } catch { /* no layout yet */ }
  state.layouts.set(cam.camera, layout);
  let photo = null;
  if (state.user.kind === "admin" || state.user.kind === "installer") {
    try { photo = await api(`/api/cameras/${cam.store}/${cam.camera}/snapshot`); } catch { /* none kept */ }
  }
  const readings = new Map((cam.state?.slots || []).map((s) => [`${s.row}-${s.slot}`, s]));
  const shelf = el("div", { class: "shelf", role: "img", "aria-label": t("store.shelf_of", { camera: cam.camera }) });
  if (photo?.image_url) {
    shelf.classList.add("has-photo");
    shelf.append(el("img", { src: photo.image_url, alt: "" }));
  }
  for (const row of layout?.rows || []) {
    shelf.append(el("div", { class: "board", style: `top:${row.y1 * 100}%` }));
    for (const slot of row.slots) {
      const key = `${row.index}-${slot.index}`;
      const reading = readings.get(key);
      const node = el("div", {
        class: "slot",
        style: `left:${slot.x0 * 100}%;width:${(slot.x1 - slot.x0) * 100}%;top:${row.y0 * 100}%;height:${(row.y1 - row.y0) * 100}%`,
        dataset: { slot: `${cam.camera}:${key}` },
      }, el("span", { class: "tag" }), el("span", { class: "pname" }, slot.name || slot.sku || ""));
      node.dataset.label = t("store.slot_label", { product: slot.name || slot.sku || t("store.no_product"), place: place({ row: row.index, slot: slot.index }, layout) });
      setSlot(node, reading?.status || "unknown");
      state.slots.set(`${cam.camera}:${key}`, node);
      shelf.append(node);
    }
  }
  if (!layout) shelf.append(el("p", { class: "empty-note", style: "color:#cbd2dc;position:absolute;inset:40% 0 0" }, t("store.no_layout")));
  const where = place({ camera: cam.camera }, layout);
  return el("article", { class: "camera", dataset: { camera: cam.camera } },
    el("header", { style: "display:flex;justify-content:space-between;align-items:center;margin-bottom:0.5rem" },
      el("h3", {}, where), cameraBadge(cam)),
    shelf,
    el("div", { class: "cam-foot" },
      el("span", {}, t("store.score_now"), " ", el("span", { class: "score-pill", dataset: { score: cam.camera } }, pct(cam.score))),
      agoText(cam.state?.updated_at || cam.last_seen)));
}

function setSlot(node, status) {
  const old = [...node.classList].find((c) => c.startsWith("st-"));
  if (old) node.classList.remove(old);
  node.classList.add(`st-${status}`);
  node.dataset.status = status;
  node.querySelector(".tag").textContent = STATUS_TAG[status] || status;
  node.title = `${node.dataset.label} · ${STATUS[status] || status}`;
}

// ---- advice ----------------------------------------------------------------------

async function loadAdvice() {
  const list = await api(`/api/advice?store=${encodeURIComponent(state.store)}`);
  state.advice = new Map(list.map((a) => [a.id, a]));
  drawAdvice();
}

function drawAdvice() {
  const box = document.getElementById("advice");
  const items = [...state.advice.values()]
    .filter((a) => a.store === state.store && (a.status === "open" || a.status === "acknowledged"))
    .sort((a, b) => b.urgency - a.urgency || a.id - b.id);
  const open = items.filter((a) => a.status === "open").length;
  document.getElementById("advice-count").textContent = open;
  document.getElementById("advice-hint").textContent = t("store.acknowledged_count", { count: items.length - open });
  if (!items.length) {
    state.cards = new Map();
    box.replaceChildren(el("p", { class: "empty-note" }, t("store.nothing_to_do")));
    return;
  }
  // Re-use the card of an advice whose status and action did not change (the reason's
  // figures are updated in place), so a button does not move or vanish under a finger
  // while the engine refreshes the evidence.
  const cards = new Map();
  for (const a of items) {
    const key = [a.status, a.level, a.action].join("|");
    const old = state.cards?.get(a.id);
    if (old && old.key === key) {
      old.node.querySelector(".why").textContent = phrase(a.reason_phrase, a.reason);
      cards.set(a.id, old);
    } else {
      cards.set(a.id, { key, node: adviceCard(a) });
    }
  }
  state.cards = cards;
  const wanted = items.map((a) => cards.get(a.id).node);
  if (wanted.length !== box.children.length || wanted.some((node, i) => box.children[i] !== node)) {
    box.replaceChildren(...wanted);
  }
}

function adviceCard(a) {
  const where = place(a, state.layouts.get(a.camera));
  const actions = el("div", { class: "actions" });
  if (canAct(state.user)) {
    if (a.status === "open") actions.append(el("button", { class: "btn primary", type: "button", "data-ack": a.id, onclick: () => acknowledge(a.id) }, t("store.acknowledge")));
    actions.append(el("button", { class: "btn danger", type: "button", "data-dismiss": a.id, onclick: () => dismiss(a) }, t("store.dismiss")));
  }
  const status = a.status === "acknowledged"
    ? el("span", { class: "badge info", "data-status": a.status }, ADVICE_STATUS_WORD.acknowledged)
    : el("span", { class: `badge ${a.level === "urgent" ? "bad" : a.level === "high" ? "warn" : ""}`, "data-status": a.status, "data-level": a.level }, LEVEL_WORD[a.level] || a.level);
  return el("article", { class: `advice level-${a.level} ${a.status}`, dataset: { advice: a.id } },
    el("div", { class: "what" }, phrase(a.action_phrase, a.action)),
    el("div", { class: "why" }, phrase(a.reason_phrase, a.reason)),
    el("div", { class: "row" },
      el("span", { class: "muted", style: "font-size:0.82rem" }, status, " ", where, " · ", agoText(a.created_at, "common.ago")),
      actions));
}

async function acknowledge(id) {
  try {
    const record = await api(`/api/advice/${id}/acknowledge`, { method: "POST" });
    upsertAdvice(record);
  } catch (error) { alert(t("store.could_not_acknowledge", { error: error.message })); }
}

function dismiss(advice) {
  const dialog = document.getElementById("dismiss-dialog");
  const reason = document.getElementById("dismiss-reason");
  document.getElementById("dismiss-what").textContent = phrase(advice.action_phrase, advice.action);
  reason.value = "";
  document.getElementById("dismiss-choices").replaceChildren(...DISMISS_REASONS.map((r) =>
    el("button", { class: "btn", type: "button", onclick: () => { reason.value = r; reason.focus(); } }, r)));
  document.getElementById("dismiss-cancel").onclick = () => dialog.close("cancel");
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok" || !reason.value.trim()) return;
    try {
      const record = await api(`/api/advice/${advice.id}/dismiss`, { method: "POST", body: JSON.stringify({ reason: reason.value.trim() }) });
      upsertAdvice(record);
    } catch (error) { alert(t("store.could_not_dismiss", { error: error.message })); }
  };
  dialog.showModal();
}

function upsertAdvice(record, flash = false) {
  state.advice.set(record.id, record);
  drawAdvice();
  if (flash) document.querySelector(`[data-advice="${record.id}"]`)?.classList.add("changed");
}

// ---- live --------------------------------------------------------------------------

function onSlots(update) {
  if (update.store !== state.store) return;
  const cam = state.cameras.find((c) => c.camera === update.camera);
  if (cam?.state) { cam.state.updated_at = new Date().toISOString(); drawCameraStatus(); }
  for (const s of update.slots) {
    const node = state.slots.get(`${update.camera}:${s.row}-${s.slot}`);
    if (!node || node.dataset.status === s.status) continue;
    setSlot(node, s.status);
    node.classList.remove("flash"); void node.offsetWidth; node.classList.add("flash");
  }
  if (update.score !== undefined && update.score !== null) {
    const pill = document.querySelector(`[data-score="${update.camera}"]`);
    if (pill) pill.textContent = pct(update.score);
  }
}

async function main() {
  state.user = await shell("store");
  legend();
  try {
    await loadStores();
    await refresh();
  } catch (error) { fail(document.getElementById("cameras"), error); }
  live({
    slots: onSlots,
    advice: (record) => { if (record.store === state.store) upsertAdvice(record, true); },
    resync: () => refresh(),
  });
  setInterval(() => loadScore(state.cameras).catch(() => {}), 60000);
  setInterval(() => { if (isOnline()) pollCameras().catch(() => {}); }, CAMERAS_POLL_MS);
  // Gateway gone: cameras unknown at once; back: everything reloaded (updates were missed).
  onConnection((online) => { drawCameraStatus(); if (online) refresh().catch(() => {}); });
  ready();
}

main();

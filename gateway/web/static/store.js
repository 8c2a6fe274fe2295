// The store page: each camera's shelf with slots coloured by state, the open advice
// with acknowledge / dismiss, today's score; live updates move slots and advice.
import {
  STATUS, STATUS_TAG, api, ago, el, fail, isoLocal, live, pct, ready, scoreClass, shell,
} from "/static/app.js";

const DISMISS_REASONS = ["Already done", "Product delisted", "Camera is wrong", "Not worth it now"];
const state = { user: null, store: null, cameras: [], advice: new Map(), slots: new Map() };

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
  document.getElementById("title").textContent = state.store ? `Store ${state.store}` : "Store";
  await Promise.all([drawCameras(cameras), loadAdvice(), loadScore(cameras)]);
}

/** A node that sends no score of its own: the gateway's, from the stored slot states. */
async function fillScore(cam) {
  if (cam.score !== null && cam.score !== undefined) return;
  try { cam.score = (await api(`/api/cameras/${cam.store}/${cam.camera}/compliance`)).score; } catch { /* no layout */ }
}

async function loadScore(cameras) {
  const online = cameras.filter((c) => c.online).length;
  document.getElementById("cams-online").textContent = `${online} / ${cameras.length}`;
  document.getElementById("cams-hint").textContent = online < cameras.length ? "check the Devices page" : "all reporting";
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
  if (!cameras.length) { box.replaceChildren(el("p", { class: "empty-note" }, "No cameras in this store yet.")); return; }
  const cards = await Promise.all(cameras.map(cameraCard));
  box.replaceChildren(...cards);
}

async function cameraCard(cam) {
  let layout = null;
  try { layout = (await api(`/api/layouts/${cam.store}/${cam.camera}`)).layout; } catch { /* no layout yet */ }
  let photo = null;
  if (state.user.kind === "admin" || state.user.kind === "installer") {
    try { photo = await api(`/api/cameras/${cam.store}/${cam.camera}/snapshot`); } catch { /* none kept */ }
  }
  const readings = new Map((cam.state?.slots || []).map((s) => [`${s.row}-${s.slot}`, s]));
  const shelf = el("div", { class: "shelf", role: "img", "aria-label": `Shelf of ${cam.camera}` });
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
      node.title = `${slot.name || "slot"} (row ${row.index}, slot ${slot.index})`;
      setSlot(node, reading?.status || "unknown");
      state.slots.set(`${cam.camera}:${key}`, node);
      shelf.append(node);
    }
  }
  if (!layout) shelf.append(el("p", { class: "empty-note", style: "color:#cbd2dc;position:absolute;inset:40% 0 0" }, "No layout yet: calibrate this camera."));
  const online = cam.online
    ? el("span", { class: "badge good" }, el("i", { class: "dot" }), "online")
    : el("span", { class: "badge bad" }, el("i", { class: "dot" }), "offline");
  return el("article", { class: "camera", dataset: { camera: cam.camera } },
    el("header", { style: "display:flex;justify-content:space-between;align-items:center;margin-bottom:0.5rem" },
      el("h3", {}, cam.camera), online),
    shelf,
    el("div", { class: "cam-foot" },
      el("span", {}, "Score now ", el("span", { class: "score-pill", dataset: { score: cam.camera } }, pct(cam.score))),
      el("span", {}, `updated ${ago(cam.state?.updated_at || cam.last_seen)}`)));
}

function setSlot(node, status) {
  const old = [...node.classList].find((c) => c.startsWith("st-"));
  if (old) node.classList.remove(old);
  node.classList.add(`st-${status}`);
  node.dataset.status = status;
  node.querySelector(".tag").textContent = STATUS_TAG[status] || status;
  const label = node.title.replace(/ · .*$/, "");
  node.title = `${label} · ${STATUS[status] || status}`;
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
  document.getElementById("advice-hint").textContent = `${items.length - open} acknowledged`;
  if (!items.length) {
    state.cards = new Map();
    box.replaceChildren(el("p", { class: "empty-note" }, "Nothing to do. The shelves look right."));
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
      old.node.querySelector(".why").textContent = a.reason;
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
  const where = [a.camera, a.row !== null ? `row ${a.row}` : null, a.slot !== null ? `slot ${a.slot}` : null].filter(Boolean).join(" · ");
  const actions = el("div", { class: "actions" });
  if (canAct(state.user)) {
    if (a.status === "open") actions.append(el("button", { class: "btn primary", type: "button", "data-ack": a.id, onclick: () => acknowledge(a.id) }, "Acknowledge"));
    actions.append(el("button", { class: "btn danger", type: "button", "data-dismiss": a.id, onclick: () => dismiss(a) }, "Dismiss"));
  }
  const status = a.status === "acknowledged"
    ? el("span", { class: "badge info", "data-status": a.status }, "acknowledged")
    : el("span", { class: `badge ${a.level === "urgent" ? "bad" : a.level === "high" ? "warn" : ""}`, "data-status": a.status }, a.level);
  return el("article", { class: `advice level-${a.level} ${a.status}`, dataset: { advice: a.id } },
    el("div", { class: "what" }, a.action),
    el("div", { class: "why" }, a.reason),
    el("div", { class: "row" },
      el("span", { class: "muted", style: "font-size:0.82rem" }, status, " ", where, " · ", ago(a.created_at)),
      actions));
}

async function acknowledge(id) {
  try {
    const record = await api(`/api/advice/${id}/acknowledge`, { method: "POST" });
    upsertAdvice(record);
  } catch (error) { alert(`Could not acknowledge: ${error.message}`); }
}

function dismiss(advice) {
  const dialog = document.getElementById("dismiss-dialog");
  const reason = document.getElementById("dismiss-reason");
  document.getElementById("dismiss-what").textContent = advice.action;
  reason.value = "";
  document.getElementById("dismiss-choices").replaceChildren(...DISMISS_REASONS.map((r) =>
    el("button", { class: "btn", type: "button", onclick: () => { reason.value = r; reason.focus(); } }, r)));
  document.getElementById("dismiss-cancel").onclick = () => dialog.close("cancel");
  dialog.onclose = async () => {
    if (dialog.returnValue !== "ok" || !reason.value.trim()) return;
    try {
      const record = await api(`/api/advice/${advice.id}/dismiss`, { method: "POST", body: JSON.stringify({ reason: reason.value.trim() }) });
      upsertAdvice(record);
    } catch (error) { alert(`Could not dismiss: ${error.message}`); }
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
  ready();
}

main();

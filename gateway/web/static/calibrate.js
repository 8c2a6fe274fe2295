// shelfsense calibration page: drag shelf rows and slot edges over the camera's
// snapshot, assign products from the catalogue, save the layout through the API.
// Coordinates are fractions of the picture (0..1), as in edge/layout.py; the SVG
// overlay works in thousandths (viewBox 0 0 1000 1000). Replacing a layout (the camera's
// proposal, a planogram) says what changes and asks first; so does leaving unsaved edits.
import { num, onConnection, place, shell, t } from "/static/app.js";
import { gatewayFetch } from "/static/connection.js";

const MIN_SIZE = 0.01;
const $ = (id) => document.getElementById(id);

const state = {
  store: null,
  camera: null,
  layout: { rows: [] },
  saved: null, // the layout as stored at the gateway
  proposal: null, // the camera's proposal from the latest snapshot
  previous: null, // the layout saved before a planogram import (for undo)
  selected: null, // [rowPosition, slotPosition]
  catalogue: new Map(), // gtin -> {gtin, name, brand}
};
window.calibration = state; // the page's state, for a look from the console (and the browser tests)

// ---- helpers ----------------------------------------------------------------------

function status(text, kind = "") {
  const el = $("status");
  el.textContent = text;
  el.className = kind;
}

async function api(method, path, body, contentType = "application/json") {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  const response = await gatewayFetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const detail = data && data.detail;
    const text = Array.isArray(detail)
      ? detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("\n")
      : (detail || response.statusText);
    const error = new Error(text);
    error.status = response.status;
    throw error;
  }
  return data;
}

const cameraName = () => `${state.store}/${state.camera}`;
const cameraPath = () => `/api/cameras/${encodeURIComponent(state.store)}/${encodeURIComponent(state.camera)}`;
const layoutPath = () => `/api/layouts/${encodeURIComponent(state.store)}/${encodeURIComponent(state.camera)}`;
const clone = (value) => JSON.parse(JSON.stringify(value));
const round = (v) => Math.round(v * 10000) / 10000;

function svg(tag, attrs, parent) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

// ---- drawing ----------------------------------------------------------------------

function draw() {
  const overlay = $("overlay");
  overlay.replaceChildren();
  const labels = $("labels");
  labels.replaceChildren();
  state.layout.rows.forEach((row, r) => {
    row.slots.forEach((slot, s) => {
      const selected = state.selected && state.selected[0] === r && state.selected[1] === s;
      const rect = svg("rect", {
        x: slot.x0 * 1000, y: row.y0 * 1000,
        width: (slot.x1 - slot.x0) * 1000, height: (row.y1 - row.y0) * 1000,
        class: `slot-rect${slot.sku ? "" : " unassigned"}${selected ? " selected" : ""}`,
        "data-slot": `${r}-${s}`,
      }, overlay);
      rect.addEventListener("click", () => select(r, s));
      // Labels are HTML over the picture: SVG text would stretch with the picture.
      const label = document.createElement("span");
      label.className = `slot-label${slot.sku ? "" : " unassigned"}${selected ? " selected" : ""}`;
      label.style.left = `${slot.x0 * 100}%`;
      label.style.top = `${row.y0 * 100}%`;
      label.style.width = `${(slot.x1 - slot.x0) * 100}%`;
      label.textContent = slotLabel(slot);
      label.title = slotLabel(slot);
      labels.appendChild(label);
    });
    svg("rect", {
      x: 0, y: row.y0 * 1000, width: 1000, height: (row.y1 - row.y0) * 1000, class: "row-band",
    }, overlay);
  });
  // Slot edges first, row edges last: where they cross, the row edge is on top.
  state.layout.rows.forEach((row, r) => {
    row.slots.forEach((slot, s) => {
      const y1 = row.y0 * 1000, y2 = row.y1 * 1000;
      if (s === 0) {
        handle(overlay, "slot", `slot-${r}-${s}-x0`, { x1: slot.x0 * 1000, x2: slot.x0 * 1000, y1, y2 },
          (point) => moveSlotEdge(r, s, "x0", point.x));
      }
      handle(overlay, "slot", `slot-${r}-${s}-x1`, { x1: slot.x1 * 1000, x2: slot.x1 * 1000, y1, y2 },
        (point) => moveSlotEdge(r, s, "x1", point.x));
    });
  });
  state.layout.rows.forEach((row, r) => {
    for (const edge of ["y0", "y1"]) {
      handle(overlay, "row", `row-${r}-${edge}`,
        { x1: 0, x2: 1000, y1: row[edge] * 1000, y2: row[edge] * 1000 },
        (point) => moveRowEdge(r, edge, point.y));
    }
  });
  drawPanel();
}

function slotLabel(slot) {
  if (!slot.sku) return `${num(slot.facings)}× ?`;
  const product = state.catalogue.get(slot.sku);
  const name = slot.name || (product && product.name) || slot.sku;
  return `${num(slot.facings)}× ${name}`;
}

function handle(parent, kind, name, line, onDrag) {
  const hit = svg("line", { ...line, class: `handle-hit ${kind}`, "data-handle": name }, parent);
  svg("line", { ...line, class: kind === "row" ? "handle-row" : "handle-slot" }, parent);
  hit.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    // Listen on the window: every redraw replaces the element under the pointer.
    const move = (e) => { onDrag(toLayout(e)); draw(); };
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
      window.removeEventListener("pointercancel", up);
      status(t("calibrate.moved"));
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
    window.addEventListener("pointercancel", up);
  });
}

function toLayout(event) {
  const box = $("overlay").getBoundingClientRect();
  return {
    x: Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)),
    y: Math.min(1, Math.max(0, (event.clientY - box.top) / box.height)),
  };
}

// ---- editing ----------------------------------------------------------------------

function moveRowEdge(r, edge, y) {
  const row = state.layout.rows[r];
  if (edge === "y0") row.y0 = round(Math.min(y, row.y1 - MIN_SIZE));
  else row.y1 = round(Math.max(y, row.y0 + MIN_SIZE));
}

function moveSlotEdge(r, s, edge, x) {
  const slots = state.layout.rows[r].slots;
  const slot = slots[s];
  if (edge === "x0") {
    slot.x0 = round(Math.min(x, slot.x1 - MIN_SIZE));
    return;
  }
  const next = slots[s + 1];
  const touching = next && Math.abs(next.x0 - slot.x1) < 0.004;
  const limit = next ? next.x1 - MIN_SIZE : 1;
  slot.x1 = round(Math.min(Math.max(x, slot.x0 + MIN_SIZE), limit));
  // An edge two slots share moves both; a slot never overlaps the next one.
  if (next && (touching || next.x0 < slot.x1)) next.x0 = slot.x1;
}

function reindex() {
  state.layout.rows.sort((a, b) => a.y0 - b.y0);
  state.layout.rows.forEach((row, r) => {
    row.index = r;
    row.slots.sort((a, b) => a.x0 - b.x0);
    row.slots.forEach((slot, s) => { slot.index = s; });
  });
}

function select(r, s) {
  state.selected = [r, s];
  draw();
}

function selectedSlot() {
  if (!state.selected) return null;
  const row = state.layout.rows[state.selected[0]];
  return row ? row.slots[state.selected[1]] || null : null;
}

/** The layout's own names (aisle, bay, the selected row's label): every page shows them
 * in place of camera ids and row numbers. */
function drawNames() {
  const row = state.selected ? state.layout.rows[state.selected[0]] : null;
  $("row-label").disabled = !row;
  const values = { aisle: state.layout.aisle, bay: state.layout.bay, "row-label": row ? row.label : "" };
  for (const [id, value] of Object.entries(values)) {
    if (document.activeElement !== $(id)) $(id).value = value || "";
  }
}

function setName(id, text) {
  const value = text.trim() || null;
  if (id === "row-label") {
    const row = state.selected ? state.layout.rows[state.selected[0]] : null;
    if (row) row.label = value;
  } else {
    state.layout[id] = value;
  }
  draw();
}

function drawPanel() {
  drawNames();
  const slot = selectedSlot();
  const fields = ["sku-input", "facings", "depth", "clear-sku", "split-slot", "delete-slot", "delete-row"];
  for (const id of fields) $(id).disabled = !slot;
  if (!slot) {
    $("slot-title").textContent = t("calibrate.no_slot");
    $("product-line").textContent = t("calibrate.tap_a_slot");
    return;
  }
  const [r, s] = state.selected;
  const where = place({ row: state.layout.rows[r].index ?? r, slot: slot.index ?? s }, state.layout);
  $("slot-title").textContent = where.charAt(0).toUpperCase() + where.slice(1);
  if (document.activeElement !== $("sku-input")) $("sku-input").value = slot.sku || "";
  if (document.activeElement !== $("facings")) $("facings").value = slot.facings;
  if (document.activeElement !== $("depth")) $("depth").value = slot.depth;
  $("product-line").textContent = slot.sku
    ? `${slot.name || t("calibrate.no_name")} · ${slot.brand || t("calibrate.no_brand")} · ${slot.sku}`
    : t("calibrate.no_product_assigned");
}

function assignProduct(text) {
  const slot = selectedSlot();
  if (!slot) return;
  const gtin = (text.match(/\d{8,14}/) || [text.trim()])[0];
  const product = state.catalogue.get(gtin);
  if (!product) {
    status(t("calibrate.not_in_catalogue", { gtin: gtin || t("calibrate.empty_input") }), "error");
    return;
  }
  slot.sku = product.gtin;
  slot.name = product.name;
  slot.brand = product.brand;
  status(t("calibrate.slot_holds", { product: product.name || product.gtin }));
  draw();
}

async function searchCatalogue(query) {
  const products = await api("GET", `/api/catalogue?limit=50${query ? `&q=${encodeURIComponent(query)}` : ""}`);
  const list = $("catalogue");
  list.replaceChildren();
  for (const p of products) {
    state.catalogue.set(p.gtin, p);
    const option = document.createElement("option");
    option.value = p.gtin;
    option.label = `${p.name || ""} · ${p.brand || ""}`;
    option.textContent = `${p.name || ""} · ${p.brand || ""}`;
    list.appendChild(option);
  }
}

function addRow() {
  const rows = state.layout.rows;
  const last = rows[rows.length - 1];
  const y0 = last ? Math.min(last.y1 + 0.02, 0.9) : 0.05;
  const y1 = Math.min(1, y0 + 0.2);
  rows.push({ index: rows.length, y0: round(y0), y1: round(y1),
    slots: [{ index: 0, x0: 0.02, x1: 0.98, sku: null, name: null, brand: null, facings: 1, depth: 1 }] });
  reindex();
  state.selected = [rows.length - 1, 0];
  draw();
}

function deleteRow() {
  if (!state.selected) return;
  state.layout.rows.splice(state.selected[0], 1);
  state.selected = null;
  reindex();
  draw();
}

function splitSlot() {
  const slot = selectedSlot();
  if (!slot) return;
  const [r, s] = state.selected;
  const middle = round((slot.x0 + slot.x1) / 2);
  const right = { ...clone(slot), x0: middle, sku: null, name: null, brand: null, facings: 1 };
  slot.x1 = middle;
  state.layout.rows[r].slots.splice(s + 1, 0, right);
  reindex();
  draw();
}

function deleteSlot() {
  if (!state.selected) return;
  const [r, s] = state.selected;
  const slots = state.layout.rows[r].slots;
  const gone = slots.splice(s, 1)[0];
  if (slots.length && s > 0) slots[s - 1].x1 = gone.x1; // the left neighbour takes the space
  else if (slots.length) slots[0].x0 = gone.x0;
  state.selected = null;
  reindex();
  draw();
}

// ---- talking to the gateway --------------------------------------------------------

async function loadCameras() {
  const params = new URLSearchParams(location.search);
  const cameras = await api("GET", "/api/cameras");
  const select = $("camera");
  select.replaceChildren();
  const keys = cameras.map((c) => `${c.store}/${c.camera}`);
  const wanted = params.get("store") && params.get("camera") ? `${params.get("store")}/${params.get("camera")}` : keys[0];
  if (wanted && !keys.includes(wanted)) keys.unshift(wanted);
  for (const key of keys) {
    const option = document.createElement("option");
    option.value = option.textContent = key;
    select.appendChild(option);
  }
  if (!wanted) {
    status(t("calibrate.no_camera"), "error");
    return false;
  }
  select.value = wanted;
  [state.store, state.camera] = wanted.split("/");
  return true;
}

async function loadLayout() {
  try {
    const record = await api("GET", layoutPath());
    state.saved = record.layout;
    showVersion(record.version);
  } catch (error) {
    if (error.status !== 404) throw error;
    state.saved = { rows: [] };
    $("version").textContent = t("calibrate.version_none");
  }
  state.layout = clone(state.saved);
  state.selected = null;
}

function showVersion(version) {
  $("version").textContent = t("calibrate.version", { version });
}

async function loadSnapshotSetting() {
  const setting = await api("GET", `${cameraPath()}/snapshots`);
  $("snapshots-enabled").checked = setting.snapshots_enabled;
}

function showSnapshot(snap) {
  if (snap.error) {
    status(t("calibrate.camera_refused", { error: snap.error }), "error");
    return;
  }
  const img = $("shot");
  img.onload = () => {
    $("stage").style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
    img.hidden = false;
    $("placeholder").hidden = true;
  };
  img.src = snap.image_url;
  state.proposal = snap.proposal;
  $("use-proposal").disabled = !snap.proposal || !snap.proposal.rows.length;
}

async function loadLastSnapshot() {
  try {
    showSnapshot(await api("GET", `${cameraPath()}/snapshot`));
  } catch (error) {
    if (error.status !== 404) throw error;
  }
}

async function takeSnapshot() {
  status(t("calibrate.asking_snapshot"));
  try {
    const snap = await api("POST", `${cameraPath()}/snapshot`);
    showSnapshot(snap);
    if (!snap.error) {
      const taken = snap.people_blurred
        ? t("calibrate.snapshot_taken_blurred", { count: snap.people_blurred })
        : t("calibrate.snapshot_taken");
      status(state.layout.rows.length ? taken : t("calibrate.then", { first: taken, second: t("calibrate.start_from_proposal") }), "ok");
      if (!state.layout.rows.length && snap.proposal) useProposal();
    }
  } catch (error) {
    status(t("calibrate.no_snapshot", { error: error.message }), "error");
  }
}

async function useProposal() {
  if (!state.proposal) return;
  if (state.layout.rows.length) {
    const ok = await confirmReplace(t("calibrate.proposal_title"),
      t("calibrate.proposal_lead", { camera: cameraName() }),
      changes(state.layout, state.proposal));
    if (!ok) { status(t("calibrate.kept_layout")); return; }
  }
  state.layout = clone(state.proposal);
  state.selected = null;
  reindex();
  draw();
  status(t("calibrate.proposal_loaded"));
}

async function save() {
  reindex();
  try {
    const record = await api("PUT", layoutPath(), state.layout);
    state.saved = record.layout;
    state.layout = clone(record.layout);
    showVersion(record.version);
    status(t("calibrate.saved", { version: record.version }), "ok");
    draw();
  } catch (error) {
    status(t("calibrate.not_saved", { error: error.message }), "error");
  }
}

async function importPlanogram(file) {
  const text = await file.text();
  const type = file.name.toLowerCase().endsWith(".json") ? "application/json" : "text/csv";
  const before = clone(state.saved || { rows: [] });
  if (before.rows.length || dirty()) {
    const lines = [
      t("calibrate.saved_now", { summary: summary(before) }),
      t("calibrate.file_lines", { file: file.name, count: text.split(/\r?\n/).filter((l) => l.trim()).length }),
    ];
    if (dirty()) lines.push(t("calibrate.unsaved_lost"));
    const ok = await confirmReplace(t("calibrate.import_title", { file: file.name, camera: cameraName() }),
      t("calibrate.import_lead"), lines);
    if (!ok) { status(t("calibrate.import_cancelled")); return; }
  }
  try {
    const record = await api("POST", `${layoutPath()}/planogram`, text, type);
    state.previous = before.rows.length ? before : null;
    state.saved = record.layout;
    state.layout = clone(record.layout);
    state.selected = null;
    showVersion(record.version);
    await searchCatalogue("");
    const changed = changes(before, record.layout);
    status([t("calibrate.imported", { version: record.version }), ...changed].join("\n"), "ok");
    $("undo").hidden = !state.previous;
    draw();
  } catch (error) {
    status(t("calibrate.import_failed", { error: error.message }), "error");
  }
}

async function setSnapshots(enabled) {
  try {
    await api("PUT", `${cameraPath()}/snapshots`, { enabled });
    status(enabled ? t("calibrate.snapshots_on") : t("calibrate.snapshots_off"), "ok");
  } catch (error) {
    status(error.message, "error");
  }
}

async function undoImport() {
  if (!state.previous) return;
  const ok = await confirmReplace(t("calibrate.undo_title"), t("calibrate.undo_lead", { camera: cameraName() }),
    changes(state.saved, state.previous), t("calibrate.put_back"));
  if (!ok) return;
  try {
    const record = await api("PUT", layoutPath(), state.previous);
    state.saved = record.layout;
    state.layout = clone(record.layout);
    state.previous = null;
    $("undo").hidden = true;
    showVersion(record.version);
    status(t("calibrate.undone", { version: record.version }), "ok");
    draw();
  } catch (error) {
    status(t("calibrate.undo_failed", { error: error.message }), "error");
  }
}

// ---- what a replacement changes -----------------------------------------------------

/** The layout as the API stores it, for comparing (indexes in picture order). */
function normal(layout) {
  const copy = clone(layout || { rows: [] });
  copy.rows.sort((a, b) => a.y0 - b.y0);
  copy.rows.forEach((row, r) => { row.index = r; row.slots.sort((a, b) => a.x0 - b.x0); row.slots.forEach((slot, s) => { slot.index = s; }); });
  return copy;
}

/** Whether the page holds edits that are not saved. */
function dirty() {
  return JSON.stringify(normal(state.layout)) !== JSON.stringify(normal(state.saved || { rows: [] }));
}

function summary(layout) {
  const slots = layout.rows.flatMap((r) => r.slots);
  return t("calibrate.summary", {
    rows: t("calibrate.rows", { count: layout.rows.length }),
    slots: t("calibrate.slots", { count: slots.length }),
    filled: t("calibrate.with_product", { count: slots.filter((s) => s.sku).length }),
  });
}

const productName = (slot) => (slot && slot.sku ? slot.name || state.catalogue.get(slot.sku)?.name || slot.sku : null);

/** What replacing `from` by `to` changes, in sentences a person checks; `editsLost`
 * heads the two summaries "Saved" and "Your edits" (leaving unsaved edits). */
function changes(from, to, editsLost = false) {
  const a = normal(from), b = normal(to);
  const lines = editsLost
    ? [t("calibrate.saved_summary", { summary: summary(a) }), t("calibrate.edits_summary", { summary: summary(b) })]
    : [t("calibrate.now_summary", { summary: summary(a) }), t("calibrate.after_summary", { summary: summary(b) })];
  const at = (layout) => new Map(layout.rows.flatMap((r) => r.slots.map((s) => [`${r.index}-${s.index}`, s])));
  const old = at(a), neu = at(b);
  const keys = [...new Set([...old.keys(), ...neu.keys()])].sort((x, y) => {
    const [xr, xs] = x.split("-").map(Number), [yr, ys] = y.split("-").map(Number);
    return xr - yr || xs - ys;
  });
  const moves = [];
  for (const key of keys) {
    const [row, slot] = key.split("-").map(Number);
    const where = place({ row, slot }, b.rows.length ? b : a);
    const was = productName(old.get(key)), will = productName(neu.get(key));
    const none = t("calibrate.no_product");
    if (!old.has(key)) moves.push(will ? t("calibrate.new_slot_for", { where, product: will }) : t("calibrate.new_slot", { where }));
    else if (!neu.has(key)) moves.push(was ? t("calibrate.removed_held", { where, product: was }) : t("calibrate.removed", { where }));
    else if (was !== will) moves.push(t("calibrate.product_change", { where, was: was || none, will: will || none }));
  }
  const gone = [...new Set([...old.values()].map(productName).filter(Boolean))]
    .filter((name) => ![...neu.values()].some((s) => productName(s) === name));
  if (gone.length) lines.push(t("calibrate.no_longer_here", { products: gone.join(t("calibrate.list_separator")) }));
  return lines.concat(moves.slice(0, 12), moves.length > 12 ? [t("calibrate.more_changes", { count: moves.length - 12 })] : []);
}

/** A yes/no dialog listing what changes; resolves true on "Replace" (or `okText`). */
function confirmReplace(title, lead, lines, okText = t("calibrate.replace")) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-lead").textContent = lead;
  $("confirm-ok").textContent = okText;
  $("confirm-changes").replaceChildren(...lines.map((line) => {
    const item = document.createElement("li");
    item.textContent = line;
    return item;
  }));
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function openCamera() {
  await loadLayout();
  await loadSnapshotSetting();
  $("shot").hidden = true;
  $("placeholder").hidden = false;
  state.proposal = null;
  $("use-proposal").disabled = true;
  await loadLastSnapshot();
  draw();
}

// ---- wiring -----------------------------------------------------------------------

function wire() {
  $("snapshot").addEventListener("click", takeSnapshot);
  $("use-proposal").addEventListener("click", useProposal);
  $("reset").addEventListener("click", () => {
    state.layout = clone(state.saved || { rows: [] });
    state.selected = null;
    draw();
    status(t("calibrate.reset_done"));
  });
  $("snapshots-enabled").addEventListener("change", (e) => setSnapshots(e.target.checked));
  $("add-row").addEventListener("click", addRow);
  $("delete-row").addEventListener("click", deleteRow);
  $("split-slot").addEventListener("click", splitSlot);
  $("delete-slot").addEventListener("click", deleteSlot);
  $("save").addEventListener("click", save);
  $("planogram").addEventListener("change", (e) => {
    if (e.target.files.length) importPlanogram(e.target.files[0]);
    e.target.value = "";
  });
  $("sku-input").addEventListener("input", (e) => searchCatalogue(e.target.value).catch(() => {}));
  $("sku-input").addEventListener("change", (e) => assignProduct(e.target.value));
  $("slot-form").addEventListener("submit", (e) => { e.preventDefault(); assignProduct($("sku-input").value); });
  $("clear-sku").addEventListener("click", () => {
    const slot = selectedSlot();
    if (!slot) return;
    slot.sku = slot.name = slot.brand = null;
    draw();
  });
  for (const id of ["facings", "depth"]) {
    $(id).addEventListener("change", (e) => {
      const slot = selectedSlot();
      const value = parseInt(e.target.value, 10);
      if (slot && value >= 1) { slot[id] = value; draw(); }
    });
  }
  for (const id of ["aisle", "bay", "row-label"]) {
    $(id).addEventListener("change", (e) => setName(id, e.target.value));
  }
  $("names-form").addEventListener("submit", (e) => e.preventDefault());
  $("undo").addEventListener("click", undoImport);
  window.addEventListener("beforeunload", (e) => { if (dirty()) e.preventDefault(); });
  $("camera").addEventListener("change", async (e) => {
    if (dirty()) {
      const ok = await confirmReplace(t("calibrate.leave_title", { camera: cameraName() }),
        t("calibrate.leave_lead"), changes(state.saved, state.layout, true), t("calibrate.leave_ok"));
      if (!ok) { e.target.value = `${state.store}/${state.camera}`; return; }
    }
    state.previous = null;
    $("undo").hidden = true;
    [state.store, state.camera] = e.target.value.split("/");
    history.replaceState(null, "", `?store=${encodeURIComponent(state.store)}&camera=${encodeURIComponent(state.camera)}`);
    await openCamera();
  });
}

async function main() {
  await shell("calibrate");
  wire();
  // Back from an outage: the buttons' own rules (a selected slot, a proposal) apply again.
  onConnection((online) => { if (online) { draw(); $("use-proposal").disabled = !state.proposal?.rows?.length; } });
  try {
    await searchCatalogue("");
    if (await loadCameras()) await openCamera();
    document.body.dataset.ready = "1";
  } catch (error) {
    status(t("calibrate.cannot_load", { error: error.message }), "error");
  }
}

main();

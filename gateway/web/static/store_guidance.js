// The store page's head-office guidance: each SKU's price beside the median of the
// stores nearby ("12 % above the area median, 14 stores"), and what to stock: SKUs that
// sell in similar stores (add) and slow ones taking facings (delist), each accepted or
// dismissed with a reason; accepted ones show how they did since, from this store's
// own till. The figures are the last pull from the head office, kept by the gateway,
// so they show while the head office is out of reach (the header says how old).
import { agoText, api, el, me, num } from "/static/app.js";

const prices = document.getElementById("prices");
const items = document.getElementById("assortment");
const state = { store: null, canDecide: false };
const VERDICT = {
  selling: ["good", "selling"], below: ["bad", "below expectation"], waiting: ["", "waiting for sales"],
  "selling off": ["", "selling off"], "sold out": ["good", "sold out"],
};

/** "12 % above the area median, 14 stores" (or "at the median"). */
export function priceSentence(ref) {
  const pct = Math.round(Math.abs(ref.diff_pct));
  const where = ref.basis === "region" ? "region" : "area";
  const side = pct === 0 ? `at the ${where} median` : `${pct} % ${ref.diff_pct > 0 ? "above" : "below"} the ${where} median`;
  return `yours ${side}, ${ref.stores} stores`;
}

function priceRow(ref) {
  const cls = ref.diff_pct > 5 ? "above" : ref.diff_pct < -5 ? "below" : "";
  const area = ref.basis === "region" ? "in the region" : `within ${ref.radius_km} km`;
  return el("tr", { dataset: { sku: ref.sku } },
    el("td", {}, el("div", {}, ref.name || ref.sku), el("div", { class: "muted small" }, priceSentence(ref))),
    el("td", { class: `num own ${cls}` }, ref.price.toFixed(2)),
    el("td", { class: "num" }, ref.median.toFixed(2)),
    el("td", { class: "num muted" }, `${ref.low.toFixed(2)}–${ref.high.toFixed(2)}`),
    el("td", { class: "muted small" }, area),
  );
}

function drawPrices(body) {
  if (!body.prices.length) {
    prices.replaceChildren(el("p", { class: "empty-note" },
      body.pulled_at ? "No SKU sold in at least 5 other stores nearby yet." : "Nothing from the head office yet."));
    return;
  }
  prices.replaceChildren(el("table", { class: "price-refs" },
    el("thead", {}, el("tr", {}, el("th", {}, "Product"), el("th", { class: "num" }, "Yours"),
      el("th", { class: "num" }, "Median"), el("th", { class: "num" }, "Range"), el("th", {}, "Compared with"))),
    el("tbody", {}, ...body.prices.map(priceRow))));
}

function followUpText(item) {
  const f = item.follow_up;
  if (!f) return null;
  const [tone, word] = VERDICT[f.verdict] || ["", f.verdict];
  const since = f.days < 1 ? "since today" : `in ${num(f.days, 0)} days`;
  let text = `${num(f.units)} sold ${since}`;
  if (f.days >= 7) text += ` (${num(f.per_week, 1)} a week)`;
  if (item.kind === "add") text += `, expected ${num(f.expected_per_week, 1)} a week`;
  if (item.kind === "delist" && f.give_to_per_week !== null && f.give_to_per_week !== undefined) {
    text += ` · ${item.detail.give_to_name || item.detail.give_to_sku}: ${num(f.give_to_per_week, 1)} a week since`;
  }
  return el("div", { class: "follow-up" }, el("span", { class: `badge ${tone}` }, word), " ", text);
}

function itemCard(item) {
  const title = item.kind === "add"
    ? `Stock ${item.name || item.sku}`
    : `Take off ${item.name || item.sku}`;
  const space = item.kind === "delist" && item.detail.give_to_sku
    ? el("div", { class: "why" }, `Give its ${item.detail.facings} facings to ${item.detail.give_to_name || item.detail.give_to_sku}`
      + (item.detail.give_to_kind === "add" ? " (new)" : ` (sells ${num(item.detail.give_to_per_week, 1)} a week)`))
    : null;
  const actions = el("div", { class: "actions" });
  if (item.status === "open" && state.canDecide) {
    const accept = el("button", { class: "btn primary", type: "button", dataset: { action: "accept" } }, "Accept");
    accept.onclick = () => decide(item, "accept");
    const dismiss = el("button", { class: "btn", type: "button", dataset: { action: "dismiss" } }, "Dismiss…");
    dismiss.onclick = () => askReason(item);
    actions.append(accept, dismiss);
  }
  const status = item.status === "open" ? null
    : el("span", { class: `badge ${item.status === "accepted" ? "good" : ""}` },
      item.status === "accepted" ? `accepted by ${item.decided_by || "?"}` : `dismissed: ${item.reason}`);
  return el("article", { class: `advice guidance-item ${item.kind} ${item.status}`, dataset: { itemId: String(item.id), sku: item.sku } },
    el("div", { class: "what" }, el("span", { class: `tag ${item.kind}` }, item.kind === "add" ? "add" : "delist"), " ", title),
    el("div", { class: "why" }, item.evidence),
    space,
    followUpText(item),
    el("div", { class: "row" }, el("span", { class: "muted small" }, item.brand || ""), status, actions),
  );
}

function drawItems(body) {
  const all = [...body.adds, ...body.delists];
  if (!all.length) {
    items.replaceChildren(el("p", { class: "empty-note" },
      body.pulled_at ? "Nothing to add or take off: this store's range fits its neighbourhood." : "Nothing from the head office yet."));
    return;
  }
  items.replaceChildren(...all.map(itemCard));
}

function drawMeta(body) {
  const stamp = body.refreshed_at || body.pulled_at;
  for (const id of ["prices-meta", "assortment-meta"]) {
    const meta = document.getElementById(id);
    const age = stamp ? agoText(stamp, "store_guidance.figures_ago") : "not pulled from the head office yet";
    meta.replaceChildren(age, body.error ? " · head office unreachable, showing the last pull" : "");
    meta.title = body.error || "";
    meta.classList.toggle("bad", Boolean(body.error));
  }
}

async function decide(item, action, reason = null) {
  const options = { method: "POST" };
  if (reason !== null) options.body = JSON.stringify({ reason });
  await api(`/api/guidance/items/${item.id}/${action}`, options);
  await load();
}

function askReason(item) {
  const dialog = document.getElementById("guidance-dismiss-dialog");
  document.getElementById("guidance-dismiss-what").textContent = `${item.name || item.sku}: ${item.evidence}`;
  const reason = document.getElementById("guidance-dismiss-reason");
  reason.value = "";
  document.getElementById("guidance-dismiss-cancel").onclick = () => dialog.close("cancel");
  dialog.onclose = async () => {
    if (dialog.returnValue === "ok" && reason.value.trim()) await decide(item, "dismiss", reason.value.trim());
  };
  dialog.showModal();
}

async function load() {
  if (!state.store) return;
  try {
    const body = await api(`/api/guidance?store=${encodeURIComponent(state.store)}`);
    drawMeta(body);
    drawPrices(body);
    drawItems(body);
    document.getElementById("guidance").dataset.loaded = "1";
  } catch (error) {
    const note = el("p", { class: "empty-note" }, `Guidance unavailable: ${error.message}`);
    prices.replaceChildren(note);
    items.replaceChildren(note.cloneNode(true));
    document.getElementById("guidance").dataset.loaded = "error";
  }
}

async function start() {
  const user = await me();
  if (!["admin", "staff", "merchandiser"].includes(user.kind)) {
    document.getElementById("guidance").hidden = true;
    return;
  }
  state.canDecide = user.kind === "admin" || user.kind === "staff";
  state.store = user.store || new URLSearchParams(location.search).get("store");
  if (!state.store) {
    const cameras = await api("/api/cameras");
    state.store = [...new Set(cameras.map((c) => c.store))].sort()[0] || null;
  }
  document.getElementById("store").addEventListener("change", (event) => {
    state.store = event.target.value;
    load();
  });
  await load();
}

start();

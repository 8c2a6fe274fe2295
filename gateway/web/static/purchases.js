// The store page's purchase list: draft orders per supplier (the suggestion saved by
// the store manager), each line with why it is suggested; the manager edits packs and
// accepts an order (then it is on order until received); every order downloads as CSV
// for its supplier. Staff see the list read-only.
import { api, el, me } from "/static/app.js";

const box = document.getElementById("purchases");
const meta = document.getElementById("purchases-meta");
const suggestButton = document.getElementById("purchases-suggest");
const state = { store: null, manager: false };
const STATUS_TEXT = { draft: "draft", on_order: "on order", received: "received" };

const eur = (v) => Number(v).toFixed(2);

/** The line's evidence as one sentence a store owner can check against the shelf. */
function whyText(why) {
  if (!why) return "";
  const parts = [
    `forecast ${why.forecast} over ${why.forecast_days} d + safety ${why.safety_stock}`,
    `on hand ${why.on_hand}${why.stock_basis === "count" ? "" : ` (${why.stock_basis})`}`,
    `on order ${why.on_order}`,
    `short ${why.shortfall}`,
  ];
  if (why.pack_rounding) parts.push(`+${why.pack_rounding} to whole packs`);
  if (why.topup_units) parts.push(`+${why.topup_units} to reach the supplier's threshold`);
  if (why.capped) parts.push(`capped by room for ${why.room}`);
  if (why.capacity !== null && why.capacity !== undefined) parts.push(`holds ${why.capacity}`);
  if (why.cheapest_supplier && why.unit_price > why.cheapest_unit_price) {
    parts.push(`${why.cheapest_supplier} is ${eur(why.cheapest_unit_price)}/unit, picked ${eur(why.unit_price)} to save delivery`);
  }
  return parts.join(" · ");
}

function packsCell(order, line) {
  if (order.status !== "draft" || !state.manager) return el("td", { class: "num" }, String(line.packs));
  const input = el("input", {
    type: "number", min: "0", step: "1", value: String(line.packs), class: "packs",
    "aria-label": `Packs of ${line.name || line.gtin}`, dataset: { gtin: line.gtin },
  });
  input.onchange = async () => {
    input.disabled = true;
    try {
      await api(`/api/purchases/${order.id}/lines/${line.gtin}`, {
        method: "PUT", body: JSON.stringify({ packs: Number(input.value) }),
      });
      await load();
    } catch (error) {
      input.setCustomValidity(error.message);
      input.reportValidity();
      input.disabled = false;
    }
  };
  return el("td", { class: "num" }, input);
}

function orderBlock(order) {
  const total = order.lines.reduce((sum, l) => sum + Number(l.value), 0);
  const fee = Number(order.delivery_fee);
  const head = el("header", {},
    el("h3", {}, order.supplier),
    el("span", { class: `badge ${order.status === "draft" ? "" : "good"}`, dataset: { status: order.status } },
      STATUS_TEXT[order.status]),
    el("span", { class: "meta" },
      `${eur(total)}${fee ? ` + delivery ${eur(fee)}` : " · free delivery"}`,
      order.expected_on ? ` · arrives ${order.expected_on}` : "",
      order.why?.topped_up_for ? ` · topped up for ${order.why.topped_up_for}` : ""),
    el("a", { class: "btn", href: `/api/purchases/${order.id}/csv`, download: "" }, "CSV"));
  const rows = order.lines.map((line) => el("tr", { dataset: { gtin: line.gtin } },
    el("td", {}, el("div", {}, line.name || line.gtin), el("div", { class: "why muted" }, whyText(line.why))),
    packsCell(order, line),
    el("td", { class: "num" }, `× ${line.pack_size}`),
    el("td", { class: "num" }, String(line.packs * line.pack_size)),
    el("td", { class: "num" }, eur(line.value))));
  const table = el("table", { class: "purchase-lines" },
    el("thead", {}, el("tr", {},
      el("th", {}, "Product and why"), el("th", { class: "num" }, "Packs"), el("th", { class: "num" }, "Pack"),
      el("th", { class: "num" }, "Units"), el("th", { class: "num" }, "Value"))),
    el("tbody", {}, rows));
  const block = el("div", { class: "purchase-order", dataset: { order: String(order.id), status: order.status } }, head, table);
  if (order.status === "draft" && state.manager) {
    const accept = el("button", { class: "btn primary", type: "button" }, "Accept order");
    accept.onclick = async () => {
      accept.disabled = true;
      await api(`/api/purchases/${order.id}/accept`, { method: "POST" });
      await load();
    };
    block.append(el("footer", {}, accept));
  }
  return block;
}

async function load() {
  const [drafts, onOrder] = await Promise.all(["draft", "on_order"].map((status) =>
    api(`/api/purchases?store=${encodeURIComponent(state.store)}&status=${status}`)));
  const orders = [...drafts, ...onOrder];
  const plan = drafts[0]?.why?.plan;
  meta.textContent = plan
    ? `saves ${eur(plan.saving)} (${plan.saving_pct} %) against buying each item from its cheapest supplier`
    : "suggested orders per supplier";
  box.replaceChildren(...(orders.length ? orders.map(orderBlock)
    : [el("p", { class: "empty-note" }, state.manager
      ? "No open orders. Make a suggestion from sales, stock and price lists."
      : "No open orders.")]));
  box.dataset.loaded = "1";
}

async function start() {
  const user = await me();
  const wanted = new URLSearchParams(location.search).get("store");
  state.store = user.store || wanted;
  if (!state.store) {
    const cameras = await api("/api/cameras");
    state.store = [...new Set(cameras.map((c) => c.store))].sort()[0] || null;
  }
  if (!state.store) { box.replaceChildren(el("p", { class: "empty-note" }, "No store yet.")); return; }
  state.manager = user.kind === "admin" || /:manager$/.test(user.role);
  suggestButton.hidden = !state.manager;
  suggestButton.onclick = async () => {
    suggestButton.disabled = true;
    try {
      await api(`/api/purchases/drafts?store=${encodeURIComponent(state.store)}`, { method: "POST" });
      await load();
    } finally { suggestButton.disabled = false; }
  };
  document.getElementById("store").addEventListener("change", (event) => {
    state.store = event.target.value;
    load();
  });
  await load();
}

start().catch((error) => {
  box.replaceChildren(el("p", { class: "empty-note error" }, `Purchase list: ${error.message}`));
});

// The store page's purchase list: draft orders per supplier (the suggestion saved by
// the store manager), each line with why it is suggested; the manager edits packs and
// accepts an order (then it is on order until received); every order downloads as CSV
// for its supplier. Staff see the list read-only.
import { api, day, el, me, num, t } from "/static/app.js";

const box = document.getElementById("purchases");
const meta = document.getElementById("purchases-meta");
const suggestButton = document.getElementById("purchases-suggest");
const state = { store: null, manager: false };
const STATUS_TEXT = {
  draft: t("purchases.status_draft"), on_order: t("purchases.status_on_order"), received: t("purchases.status_received"),
};
const BASIS = { receipts: t("purchases.basis_receipts"), none: t("purchases.basis_none") };
const TOPPED_UP = { minimum: t("purchases.topped_up_minimum"), "free delivery": t("purchases.topped_up_free_delivery") };

/** Prices as the price lists give them: two decimals, in the user's locale. */
const price = (v) => num(Number(v), 2);

/** Forecast and safety stock; the safety stock's own period when a quicker supplier can make
 * up a shortfall sooner than this one's next delivery (it then covers only until then). */
function forecastText(why) {
  const args = { forecast: why.forecast, days: why.forecast_days, safety: why.safety_stock };
  if (why.safety_days === undefined || why.safety_days >= why.forecast_days) {
    return t("purchases.why_forecast", args);
  }
  return t("purchases.why_forecast_safety_days", { ...args, safety_days: why.safety_days });
}

/** The line's evidence as one sentence a store owner can check against the shelf. */
function whyText(why) {
  if (!why) return "";
  const basis = why.stock_basis === "count" ? null : BASIS[why.stock_basis] || why.stock_basis;
  const parts = [
    forecastText(why),
    basis ? t("purchases.why_on_hand_basis", { n: why.on_hand, basis }) : t("purchases.why_on_hand", { n: why.on_hand }),
    t("purchases.why_on_order", { n: why.on_order }),
    t("purchases.why_short", { n: why.shortfall }),
  ];
  if (why.rounded_down) parts.push(t("purchases.why_rounded_down", { n: why.rounded_down }));
  if (why.pack_rounding) parts.push(t("purchases.why_pack_rounding", { n: why.pack_rounding }));
  if (why.topup_units) parts.push(t("purchases.why_topup", { n: why.topup_units }));
  if (why.capped) parts.push(t("purchases.why_capped", { n: why.room }));
  if (why.capacity !== null && why.capacity !== undefined) parts.push(t("purchases.why_holds", { n: why.capacity }));
  if (why.cheapest_supplier && why.unit_price > why.cheapest_unit_price) {
    parts.push(t("purchases.why_cheaper_elsewhere", {
      supplier: why.cheapest_supplier, cheapest: why.cheapest_unit_price, price: why.unit_price,
    }));
  }
  return parts.join(t("purchases.separator"));
}

function packsCell(order, line) {
  if (order.status !== "draft" || !state.manager) return el("td", { class: "num" }, String(line.packs));
  const input = el("input", {
    type: "number", min: "0", step: "1", value: String(line.packs), class: "packs",
    "aria-label": t("purchases.packs_of", { name: line.name || line.gtin }), dataset: { gtin: line.gtin },
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
      fee ? t("purchases.total_with_delivery", { total: price(total), fee: price(fee) })
        : t("purchases.total_free_delivery", { total: price(total) }),
      order.expected_on ? t("purchases.arrives", { day: day(order.expected_on) }) : "",
      order.why?.topped_up_for ? ` · ${TOPPED_UP[order.why.topped_up_for] || order.why.topped_up_for}` : ""),
    el("a", { class: "btn", href: `/api/purchases/${order.id}/csv`, download: "", title: t("purchases.csv_title") },
      t("purchases.csv")));
  const rows = order.lines.map((line) => el("tr", { dataset: { gtin: line.gtin } },
    el("td", {}, el("div", {}, line.name || line.gtin), el("div", { class: "why muted" }, whyText(line.why))),
    packsCell(order, line),
    el("td", { class: "num" }, `× ${num(line.pack_size)}`),
    el("td", { class: "num" }, num(line.packs * line.pack_size)),
    el("td", { class: "num" }, price(line.value))));
  const table = el("table", { class: "purchase-lines" },
    el("thead", {}, el("tr", {},
      el("th", {}, t("purchases.col_product")), el("th", { class: "num" }, t("purchases.col_packs")),
      el("th", { class: "num" }, t("purchases.col_pack")), el("th", { class: "num" }, t("purchases.col_units")),
      el("th", { class: "num" }, t("purchases.col_value")))),
    el("tbody", {}, rows));
  const block = el("div", { class: "purchase-order", dataset: { order: String(order.id), status: order.status } }, head, table);
  if (order.status === "draft" && state.manager) {
    const accept = el("button", { class: "btn primary", type: "button" }, t("purchases.accept"));
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
    ? t("purchases.saves", { saving: price(plan.saving), share: plan.saving_pct / 100 })
    : t("purchases.meta");
  box.replaceChildren(...(orders.length ? orders.map(orderBlock)
    : [el("p", { class: "empty-note" }, state.manager ? t("purchases.none_manager") : t("purchases.none"))]));
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
  if (!state.store) { box.replaceChildren(el("p", { class: "empty-note" }, t("purchases.no_store"))); return; }
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
  box.replaceChildren(el("p", { class: "empty-note error" }, t("purchases.failed", { error: error.message })));
});

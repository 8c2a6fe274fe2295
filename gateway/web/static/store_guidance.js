// The store page's head-office guidance: each SKU's price beside the median of the
// stores nearby ("12 % above the area median, 14 stores"), and what to stock: SKUs that
// sell in similar stores (add) and slow ones taking facings (delist), each accepted or
// dismissed with a reason; accepted ones show how they did since, from this store's
// own till. The figures are the last pull from the head office, kept by the gateway,
// so they show while the head office is out of reach (the header says how old).
import { agoText, api, el, me, num, t } from "/static/app.js";

const prices = document.getElementById("prices");
const items = document.getElementById("assortment");
const state = { store: null, canDecide: false };
const VERDICT = {
  selling: ["good", t("store_guidance.verdict_selling")],
  below: ["bad", t("store_guidance.verdict_below")],
  waiting: ["", t("store_guidance.verdict_waiting")],
  "selling off": ["", t("store_guidance.verdict_selling_off")],
  "sold out": ["good", t("store_guidance.verdict_sold_out")],
};
const PRICE_SENTENCE = {
  "area:at": (a) => t("store_guidance.price_at_area", a),
  "area:above": (a) => t("store_guidance.price_above_area", a),
  "area:below": (a) => t("store_guidance.price_below_area", a),
  "region:at": (a) => t("store_guidance.price_at_region", a),
  "region:above": (a) => t("store_guidance.price_above_region", a),
  "region:below": (a) => t("store_guidance.price_below_region", a),
};

/** Prices as the till writes them: two decimals, in the user's locale. */
const price = (v) => num(v, 2);
const km = (v) => num(v, Number.isInteger(v) ? 0 : 1);

/** "yours 12% above the area median, 14 stores" (or "at the median"). */
export function priceSentence(ref) {
  const share = Math.round(Math.abs(ref.diff_pct)) / 100;
  const side = share === 0 ? "at" : ref.diff_pct > 0 ? "above" : "below";
  return PRICE_SENTENCE[`${ref.basis === "region" ? "region" : "area"}:${side}`]({ share, stores: ref.stores });
}

function priceRow(ref) {
  const cls = ref.diff_pct > 5 ? "above" : ref.diff_pct < -5 ? "below" : "";
  const area = ref.basis === "region" ? t("store_guidance.in_the_region") : t("store_guidance.within_km", { km: km(ref.radius_km) });
  return el("tr", { dataset: { sku: ref.sku } },
    el("td", {}, el("div", {}, ref.name || ref.sku), el("div", { class: "muted small" }, priceSentence(ref))),
    el("td", { class: `num own ${cls}` }, price(ref.price)),
    el("td", { class: "num" }, price(ref.median)),
    el("td", { class: "num muted" }, `${price(ref.low)}–${price(ref.high)}`),
    el("td", { class: "muted small" }, area),
  );
}

function drawPrices(body) {
  if (!body.prices.length) {
    prices.replaceChildren(el("p", { class: "empty-note" },
      body.pulled_at ? t("store_guidance.no_prices") : t("store_guidance.nothing_yet")));
    return;
  }
  prices.replaceChildren(el("table", { class: "price-refs" },
    el("thead", {}, el("tr", {}, el("th", {}, t("store_guidance.col_product")),
      el("th", { class: "num" }, t("store_guidance.col_yours")), el("th", { class: "num" }, t("store_guidance.col_median")),
      el("th", { class: "num" }, t("store_guidance.col_range")), el("th", {}, t("store_guidance.col_compared")))),
    el("tbody", {}, ...body.prices.map(priceRow))));
}

/** The head office's evidence in the user's language, from its figures (`detail`);
 * its English sentence where the figures are older than the words need. */
function evidenceText(item) {
  const d = item.detail || {};
  if (item.kind === "delist") {
    if (d.per_week === undefined || d.osa === undefined) return item.evidence;
    return t("store_guidance.delist_evidence", { per_week: d.per_week, facings: d.facings, weeks: d.weeks, osa: d.osa });
  }
  if (d.in_region === undefined || d.in_region === null) return item.evidence;
  const near = d.in_region ? t("store_guidance.near_region") : t("store_guidance.near_radius", { km: km(d.radius_km) });
  const args = { per_week: d.median_per_week, sellers: d.sellers, peers: d.peers, nearby: d.nearby_peers, near };
  if (d.nearby_peers === d.peers) return t("store_guidance.add_evidence_near", args);
  if (d.nearby_peers) return t("store_guidance.add_evidence_some_near", args);
  return t("store_guidance.add_evidence_mix", args);
}

function followUpText(item) {
  const f = item.follow_up;
  if (!f) return null;
  const [tone, word] = VERDICT[f.verdict] || ["", f.verdict];
  let text = f.days < 1 ? t("store_guidance.sold_today", { units: f.units })
    : t("store_guidance.sold_in_days", { units: f.units, days: Math.round(f.days) });
  if (f.days >= 7) text += t("store_guidance.per_week_paren", { n: f.per_week });
  if (item.kind === "add") text += t("store_guidance.expected_per_week", { n: f.expected_per_week });
  if (item.kind === "delist" && f.give_to_per_week !== null && f.give_to_per_week !== undefined) {
    text += t("store_guidance.give_to_since", { name: item.detail.give_to_name || item.detail.give_to_sku, n: f.give_to_per_week });
  }
  return el("div", { class: "follow-up" }, el("span", { class: `badge ${tone}` }, word), " ", text);
}

function itemCard(item) {
  const product = item.name || item.sku;
  const title = item.kind === "add" ? t("store_guidance.stock", { product }) : t("store_guidance.take_off", { product });
  const d = item.detail;
  const giveArgs = { facings: d.facings, name: d.give_to_name || d.give_to_sku, n: d.give_to_per_week };
  const space = item.kind === "delist" && d.give_to_sku
    ? el("div", { class: "why" }, d.give_to_kind === "add"
      ? t("store_guidance.give_facings_new", giveArgs) : t("store_guidance.give_facings_sells", giveArgs))
    : null;
  const actions = el("div", { class: "actions" });
  if (item.status === "open" && state.canDecide) {
    const accept = el("button", { class: "btn primary", type: "button", dataset: { action: "accept" } }, t("store_guidance.accept"));
    accept.onclick = () => decide(item, "accept");
    const dismiss = el("button", { class: "btn", type: "button", dataset: { action: "dismiss" } }, t("store_guidance.dismiss"));
    dismiss.onclick = () => askReason(item);
    actions.append(accept, dismiss);
  }
  const status = item.status === "open" ? null
    : el("span", { class: `badge ${item.status === "accepted" ? "good" : ""}` },
      item.status === "accepted" ? t("store_guidance.accepted_by", { name: item.decided_by || "?" })
        : t("store_guidance.dismissed_because", { reason: item.reason }));
  return el("article", { class: `advice guidance-item ${item.kind} ${item.status}`, dataset: { itemId: String(item.id), sku: item.sku } },
    el("div", { class: "what" }, el("span", { class: `tag ${item.kind}` },
      item.kind === "add" ? t("store_guidance.tag_add") : t("store_guidance.tag_delist")), " ", title),
    el("div", { class: "why" }, evidenceText(item)),
    space,
    followUpText(item),
    el("div", { class: "row" }, el("span", { class: "muted small" }, item.brand || ""), status, actions),
  );
}

function drawItems(body) {
  const all = [...body.adds, ...body.delists];
  if (!all.length) {
    items.replaceChildren(el("p", { class: "empty-note" },
      body.pulled_at ? t("store_guidance.range_fits") : t("store_guidance.nothing_yet")));
    return;
  }
  items.replaceChildren(...all.map(itemCard));
}

function drawMeta(body) {
  const stamp = body.refreshed_at || body.pulled_at;
  for (const id of ["prices-meta", "assortment-meta"]) {
    const meta = document.getElementById(id);
    const age = stamp ? agoText(stamp, "store_guidance.figures_ago") : t("store_guidance.not_pulled");
    meta.replaceChildren(age, body.error ? t("store_guidance.unreachable") : "");
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
  document.getElementById("guidance-dismiss-what").textContent = t("store_guidance.dismiss_what", { product: item.name || item.sku, evidence: evidenceText(item) });
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
    const note = el("p", { class: "empty-note" }, t("store_guidance.unavailable", { error: error.message }));
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

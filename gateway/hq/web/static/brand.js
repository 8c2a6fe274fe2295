// The HQ brand page: one brand's products in every store that carries them (a brand
// user sees its own brand only; the API enforces it). KPIs, weekly trend, the stores
// ranked, per region and per product, and CSV / Parquet downloads of the same rows.
import { api, el, fail, money, num, pct, ready, scoreClass } from "/static/app.js";
import { chart, dayRange, daySeconds, fillPlaces, rateCell, shell, storeLabel, table } from "/static/hq/hq.js";

const $ = (id) => document.getElementById(id);
let user = null;

function brand() {
  return user.kind === "brand" ? user.brand : $("brand").value;
}

function query(extra = {}) {
  const p = new URLSearchParams();
  for (const id of ["from", "to"]) if ($(id).value) p.set(id === "from" ? "since" : "until", $(id).value);
  for (const id of ["chain", "region"]) if ($(id).value) p.set(id, $(id).value);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p;
}

async function fillFilters() {
  const url = new URLSearchParams(location.search);
  await fillPlaces($("chain"), $("region"), url);
  if (url.get("since")) $("from").value = url.get("since");
  if (url.get("until")) $("to").value = url.get("until");
  for (const id of ["sort", "step", "level"]) if (url.get(id)) $(id).value = url.get(id);
  if (user.kind !== "brand") {
    const { brands } = await api("/api/brands");
    $("brand").replaceChildren(...brands.map((b) => el("option", { value: b }, b)));
    $("brand").value = url.get("brand") || brands[0] || "";
    $("brand-pick").hidden = false;
  }
}

async function load() {
  const name = brand();
  if (!name) {
    $("kpis").replaceChildren(el("p", { class: "empty-note" }, "No brand has figures yet."));
    return;
  }
  const base = `/api/brands/${encodeURIComponent(name)}`;
  const [stores, trend, regions, products] = await Promise.all([
    api(`${base}/stores?${query({ sort: $("sort").value })}`),
    api(`${base}/trend?${query({ step: $("step").value })}`),
    api(`${base}/regions?${query()}`),
    api(`${base}/products?${query()}`),
  ]);
  $("title").textContent = `${stores.brand} across stores`;
  document.title = `${stores.brand} across stores · shelfsense HQ`;
  if (!$("from").value) $("from").value = stores.since;
  if (!$("to").value) $("to").value = stores.until;
  const level = { level: $("level").value };
  $("csv").href = `${base}/export.csv?${query(level)}`;
  $("parquet").href = `${base}/export.parquet?${query(level)}`;
  drawKpis(stores);
  drawTrend(trend, stores.currency);
  drawStores(stores);
  drawRegions(regions, stores.currency);
  drawProducts(products);
  const kept = { sort: $("sort").value, step: $("step").value, ...(user.kind === "brand" ? {} : { brand: name }) };
  history.replaceState(null, "", `?${query(kept)}`);
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

function drawKpis({ totals, currency, since, until }) {
  if (!totals) {
    $("kpis").replaceChildren(el("p", { class: "empty-note" }, "None of this brand's products was on a watched shelf in this range."));
    return;
  }
  $("kpis").replaceChildren(
    kpi("Availability", pct(totals.osa, 1), "time on the shelf", scoreClass(totals.osa)),
    kpi("Facing compliance", pct(totals.facing_compliance, 1), "every facing filled", scoreClass(totals.facing_compliance)),
    kpi("Out of stock", `${num(totals.oos_hours, 1)} h`, "slot-hours empty"),
    kpi("Lost sales", money(totals.lost_sales, currency), "estimated, while empty", totals.lost_sales > 0 ? "bad" : "good"),
    kpi("Share of shelf", pct(totals.share_of_shelf, 1), `${num(totals.facings)} facings, mean shelf ${num(totals.shelf_level, 1)}`),
    kpi("Revenue", money(totals.revenue, currency), `${num(totals.units)} units at ${money(totals.price, currency)}`),
    kpi("Stores", num(totals.stores), dayRange(since, until)));
}

function drawTrend(trend, currency) {
  const xs = trend.points.map((p) => daySeconds(p.period));
  $("trend-meta").textContent = trend.step === "week" ? "by week (Monday), across the stores" : "by day, across the stores";
  const step = trend.step === "week" ? 7 * 86400 : 86400;
  chart($("chart-availability"), {
    xs, step,
    series: [
      { label: "Availability", values: trend.points.map((p) => p.osa) },
      { label: "Facing compliance", values: trend.points.map((p) => p.facing_compliance) },
    ],
  });
  chart($("chart-sales"), {
    xs, step, yPercent: false, bars: true, yLabel: currency || "",
    series: [
      { label: "Revenue", values: trend.points.map((p) => p.revenue) },
      { label: "Lost sales", values: trend.points.map((p) => p.lost_sales) },
    ],
  });
}

function rankBadge(rank, count) {
  const cls = rank === 1 ? "top" : rank === count && count > 2 ? "bottom" : "";
  return el("span", { class: `rank ${cls}` }, rank);
}

function drawStores({ stores }) {
  $("stores-meta").textContent = `${stores.length} store(s), 1 = best by ${$("sort").selectedOptions[0].textContent.toLowerCase()}`;
  if (!stores.length) { $("stores").replaceChildren(el("p", { class: "empty-note" }, "No store in this selection.")); return; }
  $("stores").replaceChildren(table("stores-table", [
    { label: "Rank", cell: (s) => rankBadge(s.rank, stores.length) },
    { label: "Store", cell: (s) => storeLabel(s.store_name, s.store) },
    { label: "Chain · region", cell: (s) => `${s.chain || "–"} · ${s.region || "–"}` },
    { label: "Availability", num: true, cell: (s) => rateCell(s.osa, "Availability") },
    { label: "Facing compliance", num: true, cell: (s) => rateCell(s.facing_compliance, "Facing compliance") },
    { label: "Out of stock", num: true, cell: (s) => `${num(s.oos_hours, 1)} h` },
    { label: "Lost sales", num: true, cell: (s) => money(s.lost_sales, s.currency) },
    { label: "Share of shelf", num: true, cell: (s) => pct(s.share_of_shelf, 1) },
    { label: "Shelf", num: true, title: "facings-weighted mean shelf, 1 = top", cell: (s) => num(s.shelf_level, 1) },
    { label: "Units", num: true, cell: (s) => num(s.units) },
    { label: "Revenue", num: true, cell: (s) => money(s.revenue, s.currency) },
    { label: "Price", num: true, cell: (s) => money(s.price, s.currency) },
  ], stores));
}

function drawRegions({ regions }, currency) {
  if (!regions.length) { $("regions").replaceChildren(el("p", { class: "empty-note" }, "No region in this selection.")); return; }
  $("regions").replaceChildren(table("regions-table", [
    { label: "Region", cell: (r) => r.region },
    { label: "Stores", num: true, cell: (r) => num(r.stores) },
    { label: "Availability", num: true, cell: (r) => rateCell(r.osa, "Availability") },
    { label: "Lost sales", num: true, cell: (r) => money(r.lost_sales, currency) },
    { label: "Revenue", num: true, cell: (r) => money(r.revenue, currency) },
  ], regions));
}

function drawProducts({ products }) {
  if (!products.length) { $("products").replaceChildren(el("p", { class: "empty-note" }, "No products in this selection.")); return; }
  $("products").replaceChildren(table("products-table", [
    { label: "Product", cell: (p) => el("div", {}, p.name || "(unnamed)", el("div", { class: "muted small" }, p.sku)) },
    { label: "Store", cell: (p) => storeLabel(p.store_name, p.store) },
    { label: "Availability", num: true, cell: (p) => rateCell(p.osa, "Availability") },
    { label: "Out of stock", num: true, cell: (p) => `${num(p.oos_hours, 1)} h` },
    { label: "Lost sales", num: true, cell: (p) => money(p.lost_sales, p.currency) },
    { label: "Units", num: true, cell: (p) => num(p.units, 1) },
    { label: "Price", num: true, cell: (p) => money(p.price, p.currency) },
  ], products));
}

async function main() {
  user = await shell("brand");
  if (user.kind === "brand") $("sub").textContent = `Your products (${user.brand}) on the shelves of every store that carries them`;
  try {
    await fillFilters();
    await load();
  } catch (error) { fail($("kpis"), error); }
  $("filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await load(); } catch (error) { fail($("kpis"), error); }
  });
  ready();
}

main();

// The HQ brand page: one brand's products in every store that carries them (a brand
// user sees its own brand only; the API enforces it). KPIs, weekly trend, the stores
// ranked, per region and per product, and CSV / Parquet downloads of the same rows.
import { api, el, fail, money, num, pct, ready, scoreClass, t } from "/static/app.js";
import { chart, dayRange, daySeconds, fillPlaces, hours, rateCell, shell, storeLabel, table } from "/static/hq/hq.js";

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
    $("kpis").replaceChildren(el("p", { class: "empty-note" }, t("hq_brand.no_brand")));
    return;
  }
  const base = `/api/brands/${encodeURIComponent(name)}`;
  const [stores, trend, regions, products] = await Promise.all([
    api(`${base}/stores?${query({ sort: $("sort").value })}`),
    api(`${base}/trend?${query({ step: $("step").value })}`),
    api(`${base}/regions?${query()}`),
    api(`${base}/products?${query()}`),
  ]);
  $("title").textContent = t("hq_brand.brand_title", { brand: stores.brand });
  document.title = t("hq_brand.brand_doc_title", { brand: stores.brand });
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
    $("kpis").replaceChildren(el("p", { class: "empty-note" }, t("hq_brand.not_watched")));
    return;
  }
  $("kpis").replaceChildren(
    kpi(t("hq.availability"), pct(totals.osa, 1), t("hq_brand.availability_hint"), scoreClass(totals.osa)),
    kpi(t("hq_brand.facing_compliance"), pct(totals.facing_compliance, 1), t("hq_brand.facing_compliance_hint"), scoreClass(totals.facing_compliance)),
    kpi(t("hq.out_of_stock"), hours(totals.oos_hours), t("hq.slot_hours_empty")),
    kpi(t("hq.lost_sales"), money(totals.lost_sales, currency), t("hq_brand.lost_sales_hint"), totals.lost_sales > 0 ? "bad" : "good"),
    kpi(t("hq_brand.share_of_shelf"), pct(totals.share_of_shelf, 1), t("hq_brand.share_of_shelf_hint", { count: totals.facings, level: totals.shelf_level })),
    kpi(t("hq_brand.revenue"), money(totals.revenue, currency), t("hq_brand.revenue_hint", { count: totals.units, price: money(totals.price, currency) })),
    kpi(t("hq.stores"), num(totals.stores), dayRange(since, until)));
}

function drawTrend(trend, currency) {
  const xs = trend.points.map((p) => daySeconds(p.period));
  $("trend-meta").textContent = trend.step === "week" ? t("hq_brand.by_week") : t("hq_brand.by_day");
  const step = trend.step === "week" ? 7 * 86400 : 86400;
  chart($("chart-availability"), {
    xs, step,
    series: [
      { label: t("hq.availability"), values: trend.points.map((p) => p.osa) },
      { label: t("hq_brand.facing_compliance"), values: trend.points.map((p) => p.facing_compliance) },
    ],
  });
  chart($("chart-sales"), {
    xs, step, yPercent: false, bars: true, yLabel: currency || "",
    series: [
      { label: t("hq_brand.revenue"), values: trend.points.map((p) => p.revenue) },
      { label: t("hq.lost_sales"), values: trend.points.map((p) => p.lost_sales) },
    ],
  });
}

function rankBadge(rank, count) {
  const cls = rank === 1 ? "top" : rank === count && count > 2 ? "bottom" : "";
  return el("span", { class: `rank ${cls}` }, rank);
}

function drawStores({ stores }) {
  const by = $("sort").selectedOptions[0].textContent.toLowerCase();
  $("stores-meta").textContent = t("hq_brand.stores_meta", { count: stores.length, by });
  if (!stores.length) { $("stores").replaceChildren(el("p", { class: "empty-note" }, t("hq.no_store"))); return; }
  $("stores").replaceChildren(table("stores-table", [
    { label: t("hq_brand.rank"), cell: (s) => rankBadge(s.rank, stores.length) },
    { label: t("hq.store"), cell: (s) => storeLabel(s.store_name, s.store) },
    { label: t("hq.chain_region"), cell: (s) => `${s.chain || "–"} · ${s.region || "–"}` },
    { label: t("hq.availability"), num: true, cell: (s) => rateCell(s.osa, t("hq.availability")) },
    { label: t("hq_brand.facing_compliance"), num: true, cell: (s) => rateCell(s.facing_compliance, t("hq_brand.facing_compliance")) },
    { label: t("hq.out_of_stock"), num: true, cell: (s) => hours(s.oos_hours) },
    { label: t("hq.lost_sales"), num: true, cell: (s) => money(s.lost_sales, s.currency) },
    { label: t("hq_brand.share_of_shelf"), num: true, cell: (s) => pct(s.share_of_shelf, 1) },
    { label: t("hq_brand.shelf"), num: true, title: t("hq_brand.shelf_title"), cell: (s) => num(s.shelf_level, 1) },
    { label: t("hq_brand.units"), num: true, cell: (s) => num(s.units) },
    { label: t("hq_brand.revenue"), num: true, cell: (s) => money(s.revenue, s.currency) },
    { label: t("hq_brand.price"), num: true, cell: (s) => money(s.price, s.currency) },
  ], stores));
}

function drawRegions({ regions }, currency) {
  if (!regions.length) { $("regions").replaceChildren(el("p", { class: "empty-note" }, t("hq_brand.no_region"))); return; }
  $("regions").replaceChildren(table("regions-table", [
    { label: t("hq.region"), cell: (r) => r.region },
    { label: t("hq.stores"), num: true, cell: (r) => num(r.stores) },
    { label: t("hq.availability"), num: true, cell: (r) => rateCell(r.osa, t("hq.availability")) },
    { label: t("hq.lost_sales"), num: true, cell: (r) => money(r.lost_sales, currency) },
    { label: t("hq_brand.revenue"), num: true, cell: (r) => money(r.revenue, currency) },
  ], regions));
}

function drawProducts({ products }) {
  if (!products.length) { $("products").replaceChildren(el("p", { class: "empty-note" }, t("hq.no_products"))); return; }
  $("products").replaceChildren(table("products-table", [
    { label: t("hq.product"), cell: (p) => el("div", {}, p.name || t("hq_brand.unnamed"), el("div", { class: "muted small" }, p.sku)) },
    { label: t("hq.store"), cell: (p) => storeLabel(p.store_name, p.store) },
    { label: t("hq.availability"), num: true, cell: (p) => rateCell(p.osa, t("hq.availability")) },
    { label: t("hq.out_of_stock"), num: true, cell: (p) => hours(p.oos_hours) },
    { label: t("hq.lost_sales"), num: true, cell: (p) => money(p.lost_sales, p.currency) },
    { label: t("hq_brand.units"), num: true, cell: (p) => num(p.units, 1) },
    { label: t("hq_brand.price"), num: true, cell: (p) => money(p.price, p.currency) },
  ], products));
}

async function main() {
  user = await shell("brand");
  if (user.kind === "brand") $("sub").textContent = t("hq_brand.sub_own", { brand: user.brand });
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

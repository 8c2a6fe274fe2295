// The brand page: one brand's products only (a brand user cannot pick another), KPIs
// across stores, daily charts, the store and product tables, and the CSV download.
import {
  api, dateInput, el, fail, lineChart, localDay, money, num, pct, ready, scoreClass, shell, t,
} from "/static/app.js";

const $ = (id) => document.getElementById(id);
let user = null;

/** A shelf level in words (the API names where a product's facings sit from the top). */
const LEVEL = {
  top: t("brand.level_top"),
  "eye level": t("brand.level_eye"),
  middle: t("brand.level_middle"),
  bottom: t("brand.level_bottom"),
  "single shelf": t("brand.level_single"),
};
const level = (name) => LEVEL[name] || name;

/** Column names, also the cells' labels when a table turns into cards on a phone. */
const COLUMN = {
  store: t("brand.col_store"),
  product: t("brand.col_product"),
  shelf: t("brand.col_shelf"),
  facings: t("brand.col_facings"),
  share: t("brand.col_share"),
  placement: t("brand.col_placement"),
  availability: t("brand.col_availability"),
  compliance: t("brand.col_compliance"),
  units: t("brand.col_units"),
  revenue: t("brand.col_revenue"),
};

function params() {
  const p = new URLSearchParams({ since: localDay($("from").value), until: localDay($("to").value, 1) });
  if (user.kind !== "brand") p.set("brand", $("brand").value);
  if ($("store").value) p.set("store", $("store").value);
  return p;
}

async function fillFilters() {
  const url = new URLSearchParams(location.search);
  const today = new Date();
  $("from").value = url.get("from") || dateInput(new Date(today.getTime() - 6 * 86400000));
  $("to").value = url.get("to") || dateInput(today);
  if (user.kind !== "brand") {
    const products = await api("/api/catalogue?limit=1000");
    const brands = [...new Set(products.map((p) => p.brand).filter(Boolean))].sort();
    $("brand").replaceChildren(...brands.map((b) => el("option", { value: b }, b)));
    $("brand").value = url.get("brand") || brands[0] || "";
    $("brand-pick").hidden = false;
  }
}

async function load() {
  const p = params();
  const audit = await api(`/api/reports/brand?${p}`);
  $("title").textContent = t("brand.heading_of", { brand: audit.brand });
  $("csv").href = `/api/reports/brand.csv?${p}`;
  if (!$("store").options.length || $("store").options.length === 1) {
    for (const s of audit.stores) $("store").append(el("option", { value: s.store }, s.store));
  }
  drawKpis(audit);
  drawCharts(audit);
  drawStores(audit);
  drawProducts(audit);
}

function weighted(stores, key, weight) {
  let sum = 0; let total = 0;
  for (const s of stores) if (s[key] !== null && s[weight]) { sum += s[key] * s[weight]; total += s[weight]; }
  return total ? sum / total : null;
}

function drawKpis(audit) {
  const s = audit.stores;
  const availability = weighted(s, "availability", "facings");
  const compliance = weighted(s, "facings_compliance", "facings");
  const facings = s.reduce((a, x) => a + x.facings, 0);
  const shelf = s.reduce((a, x) => a + x.shelf_facings, 0);
  const units = s.reduce((a, x) => a + x.units, 0);
  const revenue = s.reduce((a, x) => a + x.revenue, 0);
  const currency = s.find((x) => x.currency)?.currency;
  $("kpis").replaceChildren(
    kpi(COLUMN.availability, pct(availability, 1), t("brand.availability_hint"), scoreClass(availability)),
    kpi(COLUMN.compliance, pct(compliance, 1), t("brand.compliance_hint"), scoreClass(compliance)),
    kpi(COLUMN.share, pct(shelf ? facings / shelf : null, 1), t("brand.share_hint", { facings, shelf })),
    kpi(t("brand.units_sold"), num(units), t("brand.stores_count", { count: s.length })),
    kpi(COLUMN.revenue, money(revenue, currency), t("brand.in_range")));
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

function drawCharts(audit) {
  const xs = audit.days.map((d) => new Date(d).getTime() / 1000);
  lineChart($("chart-availability"), { xs, series: audit.daily.map((d) => ({ label: d.store, values: d.availability })) });
  lineChart($("chart-units"), { xs, yPercent: false, bars: true, series: audit.daily.map((d) => ({ label: d.store, values: d.units })) });
}

function drawStores(audit) {
  if (!audit.stores.length) { $("stores").replaceChildren(el("p", { class: "empty-note" }, t("brand.no_stores"))); return; }
  const c = COLUMN;
  $("stores").replaceChildren(el("table", { class: "cards", id: "stores-table" },
    el("thead", {}, el("tr", {}, [c.store, c.facings, c.share, c.placement, c.availability, c.compliance, c.units, c.revenue].map((h, i) => el("th", { class: i && i !== 3 ? "num" : null }, h)))),
    el("tbody", {}, audit.stores.map((s) => el("tr", {},
      el("td", { "data-label": c.store }, s.store),
      el("td", { class: "num", "data-label": c.facings }, `${num(s.facings)} / ${num(s.shelf_facings)}`),
      el("td", { class: "num", "data-label": c.share }, pct(s.share_of_shelf, 1)),
      el("td", { "data-label": c.placement }, Object.entries(s.placement).map(([name, f]) => t("brand.placed", { level: level(name), facings: f })).join(t("brand.list_separator")) || "–"),
      el("td", { class: "num", "data-label": c.availability }, pct(s.availability, 1)),
      el("td", { class: "num", "data-label": c.compliance }, pct(s.facings_compliance, 1)),
      el("td", { class: "num", "data-label": c.units }, num(s.units)),
      el("td", { class: "num", "data-label": c.revenue }, money(s.revenue, s.currency)))))));
}

function drawProducts(audit) {
  if (!audit.products.length) { $("products").replaceChildren(el("p", { class: "empty-note" }, t("brand.no_products"))); return; }
  const c = COLUMN;
  $("products").replaceChildren(el("table", { class: "cards", id: "products-table" },
    el("thead", {}, el("tr", {}, [c.product, c.store, c.shelf, c.facings, c.availability, c.compliance, c.units, c.revenue].map((h, i) => el("th", { class: i > 2 ? "num" : null }, h)))),
    el("tbody", {}, audit.products.map((p) => el("tr", {},
      el("td", { "data-label": c.product }, p.name || t("brand.unnamed"), el("div", { class: "muted" }, p.sku)),
      el("td", { "data-label": c.store }, p.store),
      el("td", { "data-label": c.shelf }, p.placement ? level(p.placement) : t("brand.not_watched")),
      el("td", { class: "num", "data-label": c.facings }, num(p.facings)),
      el("td", { class: "num", "data-label": c.availability }, pct(p.availability, 1)),
      el("td", { class: "num", "data-label": c.compliance }, pct(p.facings_compliance, 1)),
      el("td", { class: "num", "data-label": c.units }, num(p.units)),
      el("td", { class: "num", "data-label": c.revenue }, money(p.revenue, p.currency)))))));
}

async function main() {
  user = await shell("brand");
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

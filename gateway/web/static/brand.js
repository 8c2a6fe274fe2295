// The brand page: one brand's products only (a brand user cannot pick another), KPIs
// across stores, daily charts, the store and product tables, and the CSV download.
import {
  api, dateInput, el, fail, lineChart, localDay, money, num, pct, ready, scoreClass, shell,
} from "/static/app.js";

const $ = (id) => document.getElementById(id);
let user = null;

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
  $("title").textContent = `${audit.brand} · brand audit`;
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
    kpi("Availability", pct(availability, 1), "time on the shelf", scoreClass(availability)),
    kpi("Facings compliance", pct(compliance, 1), "visible vs planned facings", scoreClass(compliance)),
    kpi("Share of shelf", pct(shelf ? facings / shelf : null, 1), `${facings} of ${shelf} facings`),
    kpi("Units sold", num(units), `${s.length} store(s)`),
    kpi("Revenue", money(revenue, currency), "in the range"));
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
  if (!audit.stores.length) { $("stores").replaceChildren(el("p", { class: "empty-note" }, "None of your products is on a watched shelf in this range.")); return; }
  $("stores").replaceChildren(el("table", { class: "cards", id: "stores-table" },
    el("thead", {}, el("tr", {}, ["Store", "Facings", "Share of shelf", "Placement", "Availability", "Facings compliance", "Units", "Revenue"].map((h, i) => el("th", { class: i && i !== 3 ? "num" : null }, h)))),
    el("tbody", {}, audit.stores.map((s) => el("tr", {},
      el("td", { "data-label": "Store" }, s.store),
      el("td", { class: "num", "data-label": "Facings" }, `${s.facings} / ${s.shelf_facings}`),
      el("td", { class: "num", "data-label": "Share of shelf" }, pct(s.share_of_shelf, 1)),
      el("td", { "data-label": "Placement" }, Object.entries(s.placement).map(([level, f]) => `${level} ${f}`).join(", ") || "–"),
      el("td", { class: "num", "data-label": "Availability" }, pct(s.availability, 1)),
      el("td", { class: "num", "data-label": "Facings compliance" }, pct(s.facings_compliance, 1)),
      el("td", { class: "num", "data-label": "Units" }, num(s.units)),
      el("td", { class: "num", "data-label": "Revenue" }, money(s.revenue, s.currency)))))));
}

function drawProducts(audit) {
  if (!audit.products.length) { $("products").replaceChildren(el("p", { class: "empty-note" }, "No products.")); return; }
  $("products").replaceChildren(el("table", { class: "cards", id: "products-table" },
    el("thead", {}, el("tr", {}, ["Product", "Store", "Shelf", "Facings", "Availability", "Facings compliance", "Units", "Revenue"].map((h, i) => el("th", { class: i > 2 ? "num" : null }, h)))),
    el("tbody", {}, audit.products.map((p) => el("tr", {},
      el("td", { "data-label": "Product" }, p.name || "(unnamed)", el("div", { class: "muted" }, p.sku)),
      el("td", { "data-label": "Store" }, p.store),
      el("td", { "data-label": "Shelf" }, p.placement || "not on a watched shelf"),
      el("td", { class: "num", "data-label": "Facings" }, num(p.facings)),
      el("td", { class: "num", "data-label": "Availability" }, pct(p.availability, 1)),
      el("td", { class: "num", "data-label": "Facings compliance" }, pct(p.facings_compliance, 1)),
      el("td", { class: "num", "data-label": "Units" }, num(p.units)),
      el("td", { class: "num", "data-label": "Revenue" }, money(p.revenue, p.currency)))))));
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

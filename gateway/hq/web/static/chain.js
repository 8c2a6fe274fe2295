// The HQ chain page for merchandisers: compliance and availability per store over time,
// devices that went quiet, the worst stores and products. A merchandiser scoped to a
// chain or region sees its stores only (the API enforces it).
import { api, el, fail, money, num, pct, ready, scoreClass, when } from "/static/app.js";
import { chart, dayRange, daySeconds, fillPlaces, rateCell, shell, storeLabel, table } from "/static/hq/hq.js";

const $ = (id) => document.getElementById(id);
const MAX_LINES = 7;
const REASON = { offline: ["bad", "camera offline"], "not seen": ["warn", "camera not seen"], uplink: ["bad", "uplink quiet"] };

function query(extra = {}) {
  const p = new URLSearchParams();
  if ($("from").value) p.set("since", $("from").value);
  if ($("to").value) p.set("until", $("to").value);
  for (const id of ["chain", "region"]) if ($(id).value) p.set(id, $(id).value);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p;
}

async function load() {
  const scope = new URLSearchParams();
  for (const id of ["chain", "region"]) if ($(id).value) scope.set(id, $(id).value);
  scope.set("minutes", $("minutes").value);
  const [trend, worstStores, worstSkus, offline] = await Promise.all([
    api(`/api/chain/trend?${query({ step: $("step").value, lines: MAX_LINES })}`),
    api(`/api/chain/worst-stores?${query({ limit: 10 })}`),
    api(`/api/chain/worst-skus?${query({ limit: 10 })}`),
    api(`/api/devices/offline?${scope}`),
  ]);
  if (!$("from").value) $("from").value = trend.since;
  if (!$("to").value) $("to").value = trend.until;
  drawKpis(trend, worstStores, offline);
  drawCharts(trend);
  drawDevices(offline);
  drawWorstStores(worstStores);
  drawWorstSkus(worstSkus);
  history.replaceState(null, "", `?${query({ step: $("step").value, minutes: $("minutes").value })}`);
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

function drawKpis(trend, worst, offline) {
  const totals = trend.totals || { compliance: null, osa: null, oos_hours: 0 };
  const { compliance, osa } = totals;
  const oos = totals.oos_hours;
  const quiet = offline.stores.length;
  $("kpis").replaceChildren(
    kpi("Compliance", pct(compliance, 1), "mean of the cameras' hours", scoreClass(compliance)),
    kpi("Availability", pct(osa, 1), "time with product on the shelf", scoreClass(osa)),
    kpi("Out of stock", `${num(oos, 1)} h`, "slot-hours empty"),
    kpi("Stores", num(trend.stores_total), dayRange(trend.since, trend.until)),
    kpi("Need a look", num(quiet), "stores with a device or uplink down", quiet ? "bad" : "good"));
}

function drawCharts(trend) {
  const xs = trend.periods.map(daySeconds);
  // The API sends the lowest-compliance stores one by one (at most MAX_LINES) and all together.
  const shown = trend.stores;
  const series = (key) => [
    ...shown.map((s) => ({ label: s.store_name || s.store, values: trend.periods.map((p) => s.points.find((o) => o.period === p)?.[key] ?? null) })),
    { label: "All stores", strong: true, values: trend.overall.map((o) => o[key]) },
  ];
  const meta = shown.length < trend.stores_total ? `all ${trend.stores_total} stores and the ${shown.length} worst` : "per store";
  const step = trend.step === "week" ? "weekly" : "daily";
  $("compliance-meta").textContent = `${meta}, ${step}`;
  $("osa-meta").textContent = `${meta}, ${step}`;
  const seconds = trend.step === "week" ? 7 * 86400 : 86400;
  chart($("chart-compliance"), { xs, step: seconds, series: series("compliance") });
  chart($("chart-osa"), { xs, step: seconds, series: series("osa") });
}

function drawDevices(offline) {
  $("devices-meta").textContent = `quiet for over ${num(offline.minutes)} min, checked ${when(offline.checked_at)}`;
  if (!offline.stores.length) {
    $("devices").replaceChildren(el("p", { class: "all-clear" }, "Every camera and uplink has reported recently."));
    return;
  }
  const rows = offline.stores.flatMap((s) => s.cameras.map((c) => ({ ...c, store: s })));
  $("devices").replaceChildren(table("devices-table", [
    { label: "Store", cell: (r) => storeLabel(r.store.store_name, r.store.store) },
    { label: "Chain · region", cell: (r) => `${r.store.chain || "–"} · ${r.store.region || "–"}` },
    { label: "Camera", cell: (r) => r.camera },
    { label: "Problem", cell: (r) => el("div", { class: "reasons" }, r.reasons.map((x) => el("span", { class: `badge ${REASON[x][0]}` }, el("span", { class: "dot" }), REASON[x][1]))) },
    { label: "Camera last seen", cell: (r) => when(r.last_seen) },
    { label: "Store's last report", cell: (r) => when(r.store.last_report_at) },
  ], rows));
}

function drawWorstStores({ stores }) {
  if (!stores.length) { $("worst-stores").replaceChildren(el("p", { class: "empty-note" }, "No store in this selection.")); return; }
  $("worst-stores").replaceChildren(table("worst-stores-table", [
    { label: "Store", cell: (s) => storeLabel(s.store_name, s.store) },
    { label: "Compliance", num: true, cell: (s) => rateCell(s.compliance, "Compliance") },
    { label: "Availability", num: true, cell: (s) => rateCell(s.osa, "Availability") },
    { label: "Out of stock", num: true, cell: (s) => `${num(s.oos_hours, 1)} h` },
  ], stores));
}

function drawWorstSkus({ skus }) {
  if (!skus.length) { $("worst-skus").replaceChildren(el("p", { class: "empty-note" }, "No products in this selection.")); return; }
  $("worst-skus").replaceChildren(table("worst-skus-table", [
    { label: "Product", cell: (p) => el("div", {}, p.name || p.sku, el("div", { class: "muted small" }, `${p.brand || "–"} · ${p.sku}`)) },
    { label: "Stores", num: true, cell: (p) => num(p.stores) },
    { label: "Availability", num: true, cell: (p) => rateCell(p.osa, "Availability") },
    { label: "Lost sales", num: true, cell: (p) => money(p.lost_sales) },
  ], skus));
}

async function main() {
  const user = await shell("chain");
  const url = new URLSearchParams(location.search);
  try {
    const places = await fillPlaces($("chain"), $("region"), url);
    if (user.role.startsWith("merchandiser:")) {
      const [, what, name] = user.role.split(":");
      $("sub").textContent = `The ${places.stores.length} store(s) of ${what} ${name}: compliance and availability over time, what needs a look`;
    }
    if (url.get("since")) $("from").value = url.get("since");
    if (url.get("until")) $("to").value = url.get("until");
    for (const id of ["step", "minutes"]) if (url.get(id)) $(id).value = url.get(id);
    await load();
  } catch (error) { fail($("kpis"), error); }
  $("filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await load(); } catch (error) { fail($("kpis"), error); }
  });
  ready();
}

main();

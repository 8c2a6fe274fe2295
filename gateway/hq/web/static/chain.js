// The HQ chain page for merchandisers: compliance and availability per store over time,
// devices that went quiet, the worst stores and products. A merchandiser scoped to a
// chain or region sees its stores only (the API enforces it).
import { api, el, fail, minutes, money, num, pct, ready, scoreClass, t, when } from "/static/app.js";
import { chart, dayRange, daySeconds, fillPlaces, hours, rateCell, shell, storeLabel, table } from "/static/hq/hq.js";

const $ = (id) => document.getElementById(id);
const MAX_LINES = 7;
/** The API's reasons a camera needs a look: a badge colour and the words. */
const REASON = {
  offline: ["bad", t("hq_chain.reason_offline")],
  "not seen": ["warn", t("hq_chain.reason_not_seen")],
  uplink: ["bad", t("hq_chain.reason_uplink")],
};

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
    kpi(t("hq.compliance"), pct(compliance, 1), t("hq_chain.compliance_hint"), scoreClass(compliance)),
    kpi(t("hq.availability"), pct(osa, 1), t("hq_chain.availability_hint"), scoreClass(osa)),
    kpi(t("hq.out_of_stock"), hours(oos), t("hq.slot_hours_empty")),
    kpi(t("hq.stores"), num(trend.stores_total), dayRange(trend.since, trend.until)),
    kpi(t("hq_chain.need_a_look"), num(quiet), t("hq_chain.need_a_look_hint"), quiet ? "bad" : "good"));
}

function drawCharts(trend) {
  const xs = trend.periods.map(daySeconds);
  // The API sends the lowest-compliance stores one by one (at most MAX_LINES) and all together.
  const shown = trend.stores;
  const series = (key) => [
    ...shown.map((s) => ({ label: s.store_name || s.store, values: trend.periods.map((p) => s.points.find((o) => o.period === p)?.[key] ?? null) })),
    { label: t("hq_chain.all_stores"), strong: true, values: trend.overall.map((o) => o[key]) },
  ];
  const some = shown.length < trend.stores_total;
  const meta = trend.step === "week"
    ? (some ? t("hq_chain.all_and_worst_weekly", { total: trend.stores_total, count: shown.length }) : t("hq_chain.per_store_weekly"))
    : (some ? t("hq_chain.all_and_worst_daily", { total: trend.stores_total, count: shown.length }) : t("hq_chain.per_store_daily"));
  $("compliance-meta").textContent = meta;
  $("osa-meta").textContent = meta;
  const seconds = trend.step === "week" ? 7 * 86400 : 86400;
  chart($("chart-compliance"), { xs, step: seconds, series: series("compliance") });
  chart($("chart-osa"), { xs, step: seconds, series: series("osa") });
}

function drawDevices(offline) {
  $("devices-meta").textContent = t("hq_chain.devices_meta", { span: minutes(offline.minutes), at: when(offline.checked_at) });
  if (!offline.stores.length) {
    $("devices").replaceChildren(el("p", { class: "all-clear" }, t("hq_chain.all_clear")));
    return;
  }
  const rows = offline.stores.flatMap((s) => s.cameras.map((c) => ({ ...c, store: s })));
  $("devices").replaceChildren(table("devices-table", [
    { label: t("hq.store"), cell: (r) => storeLabel(r.store.store_name, r.store.store) },
    { label: t("hq.chain_region"), cell: (r) => `${r.store.chain || "–"} · ${r.store.region || "–"}` },
    { label: t("hq_chain.camera"), cell: (r) => r.camera },
    { label: t("hq_chain.problem"), cell: (r) => el("div", { class: "reasons" }, r.reasons.map(reasonBadge)) },
    { label: t("hq_chain.camera_last_seen"), cell: (r) => when(r.last_seen) },
    { label: t("hq_chain.store_last_report"), cell: (r) => when(r.store.last_report_at) },
  ], rows));
}

/** A reason the API gives (one it does not name yet shows as sent, in a plain badge). */
function reasonBadge(reason) {
  const [cls, words] = REASON[reason] || ["", reason];
  return el("span", { class: `badge ${cls}` }, el("span", { class: "dot" }), words);
}

function drawWorstStores({ stores }) {
  if (!stores.length) { $("worst-stores").replaceChildren(el("p", { class: "empty-note" }, t("hq.no_store"))); return; }
  $("worst-stores").replaceChildren(table("worst-stores-table", [
    { label: t("hq.store"), cell: (s) => storeLabel(s.store_name, s.store) },
    { label: t("hq.compliance"), num: true, cell: (s) => rateCell(s.compliance, t("hq.compliance")) },
    { label: t("hq.availability"), num: true, cell: (s) => rateCell(s.osa, t("hq.availability")) },
    { label: t("hq.out_of_stock"), num: true, cell: (s) => hours(s.oos_hours) },
  ], stores));
}

function drawWorstSkus({ skus }) {
  if (!skus.length) { $("worst-skus").replaceChildren(el("p", { class: "empty-note" }, t("hq.no_products"))); return; }
  $("worst-skus").replaceChildren(table("worst-skus-table", [
    { label: t("hq.product"), cell: (p) => el("div", {}, p.name || p.sku, el("div", { class: "muted small" }, `${p.brand || "–"} · ${p.sku}`)) },
    { label: t("hq.stores"), num: true, cell: (p) => num(p.stores) },
    { label: t("hq.availability"), num: true, cell: (p) => rateCell(p.osa, t("hq.availability")) },
    { label: t("hq.lost_sales"), num: true, cell: (p) => money(p.lost_sales) },
  ], skus));
}

async function main() {
  const user = await shell("chain");
  const url = new URLSearchParams(location.search);
  try {
    const places = await fillPlaces($("chain"), $("region"), url);
    if (user.role.startsWith("merchandiser:")) {
      const [, what, name] = user.role.split(":");
      const args = { count: places.stores.length, name };
      $("sub").textContent = what === "region" ? t("hq_chain.sub_region", args) : t("hq_chain.sub_chain", args);
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

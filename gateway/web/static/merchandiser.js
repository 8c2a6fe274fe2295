// The merchandiser page: compliance over time per store / camera / row, the worst slots
// and the violations with their evidence, filtered by dates, store and category.
import {
  STATUS, api, dateInput, el, fail, lineChart, localDay, minutes, pct, ready, scoreClass, shell, when,
} from "/static/app.js";

const $ = (id) => document.getElementById(id);

function query() {
  const params = new URLSearchParams({
    since: localDay($("from").value),
    until: localDay($("to").value, 1),
  });
  if ($("store").value) params.set("store", $("store").value);
  if ($("category").value) params.set("category", $("category").value);
  return params;
}

async function fillFilters() {
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86400000);
  const url = new URLSearchParams(location.search);
  $("from").value = url.get("from") || dateInput(yesterday);
  $("to").value = url.get("to") || dateInput(today);
  $("granularity").value = url.get("granularity") || "auto";
  const [cameras, categories] = await Promise.all([api("/api/cameras"), api("/api/reports/categories")]);
  for (const s of [...new Set(cameras.map((c) => c.store))].sort()) $("store").append(el("option", { value: s }, s));
  for (const c of categories) $("category").append(el("option", { value: c }, c));
  $("store").value = url.get("store") || "";
  $("category").value = url.get("category") || "";
}

async function load() {
  const params = query();
  const granularity = $("granularity").value;
  const days = (new Date(params.get("until")) - new Date(params.get("since"))) / 86400000;
  // Auto: hours for up to three days, days beyond (an hourly month is unreadable).
  const step = granularity === "auto" ? (days <= 3 ? "hour" : "day") : granularity === "hour" && days > 31 ? "day" : granularity;
  const [history, worst, violations] = await Promise.all([
    api(`/api/reports/compliance?${params}&granularity=${step}`),
    api(`/api/reports/worst-slots?${params}&limit=15`),
    api(`/api/reports/violations?${params}&limit=40`),
  ]);
  drawKpis(history, worst, violations);
  drawChart(history);
  drawWorst(worst);
  drawViolations(violations);
}

function drawKpis(history, worst, violations) {
  const stores = history.series.filter((s) => s.level === "store");
  const mean = (values) => {
    const seen = values.filter((v) => v !== null);
    return seen.length ? seen.reduce((a, b) => a + b, 0) / seen.length : null;
  };
  const overall = mean(stores.flatMap((s) => s.scores));
  const worstStore = stores.map((s) => ({ s, m: mean(s.scores) })).filter((x) => x.m !== null).sort((a, b) => a.m - b.m)[0];
  const failing = violations.reduce((sum, v) => sum + v.minutes, 0);
  $("kpis").replaceChildren(
    kpi("Average score", pct(overall, 1), "over the range", scoreClass(overall)),
    kpi("Lowest store", worstStore ? pct(worstStore.m, 1) : "–", worstStore ? worstStore.s.store : "", scoreClass(worstStore?.m)),
    kpi("Violations", String(violations.length), `${minutes(failing)} in all`),
    kpi("Worst slot", worst[0] ? minutes(worst[0].failing_minutes) : "–", worst[0] ? `${worst[0].name || worst[0].sku || "slot"} · ${worst[0].store}` : "none failing"));
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

function drawChart(history) {
  const level = $("level").value;
  const series = history.series.filter((s) => s.level === level).slice(0, 8);
  $("chart-meta").textContent = `${history.granularity === "day" ? "daily" : "hourly"} · ${series.length} line(s)${history.series.filter((s) => s.level === level).length > 8 ? " (first 8)" : ""}`;
  lineChart($("chart"), {
    xs: history.starts.map((t) => new Date(t).getTime() / 1000),
    series: series.map((s) => ({ label: s.label, values: s.scores })),
  });
}

function where(item) {
  return `${item.store} · ${item.camera} · row ${item.row} · slot ${item.slot}`;
}

function drawWorst(rows) {
  if (!rows.length) { $("worst").replaceChildren(el("p", { class: "empty-note" }, "No slot failed in this range.")); return; }
  $("worst").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, "Product"), el("th", {}, "Where"), el("th", { class: "num" }, "Failing"), el("th", { class: "num" }, "Share"), el("th", { class: "num" }, "Low"))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", { "data-label": "Product" }, r.name || r.sku || "(unassigned)", r.brand ? el("div", { class: "muted" }, r.brand) : null),
      el("td", { "data-label": "Where" }, where(r)),
      el("td", { class: "num", "data-label": "Failing" }, minutes(r.failing_minutes)),
      el("td", { class: "num", "data-label": "Share" }, pct(r.failing_share)),
      el("td", { class: "num", "data-label": "Low" }, minutes(r.low_minutes)))))));
}

function drawViolations(rows) {
  if (!rows.length) { $("violations").replaceChildren(el("p", { class: "empty-note" }, "No violations in this range.")); return; }
  $("violations").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, "What"), el("th", {}, "When"), el("th", { class: "num" }, "How long"), el("th", {}, "Evidence"))),
    el("tbody", {}, rows.map((v) => el("tr", {},
      el("td", { "data-label": "What" },
        el("span", { class: `badge st-${v.status}`, style: "background:var(--c);color:#fff" }, STATUS[v.status] || v.status), " ",
        v.name || v.sku || "slot", el("div", { class: "muted" }, where(v))),
      el("td", { "data-label": "When" }, when(v.start), el("div", { class: "muted" }, v.end ? `until ${when(v.end)}` : "still so")),
      el("td", { class: "num", "data-label": "How long" }, minutes(v.minutes)),
      el("td", { "data-label": "Evidence" }, evidence(v)))))));
}

function evidence(v) {
  if (!v.event_count) return el("span", { class: "muted" }, "state log only");
  return el("details", {},
    el("summary", {}, `${v.event_count} event${v.event_count > 1 ? "s" : ""}`),
    el("ul", {}, v.events.map((e) => el("li", {}, `${when(e.ts)} · ${e.type.replace(/_/g, " ")}${e.confidence !== null ? ` (${pct(e.confidence)} sure)` : ""}`))));
}

async function main() {
  await shell("merchandiser");
  try {
    await fillFilters();
    await load();
  } catch (error) { fail($("chart"), error); }
  $("filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = new URLSearchParams({ from: $("from").value, to: $("to").value, granularity: $("granularity").value });
    if ($("store").value) url.set("store", $("store").value);
    if ($("category").value) url.set("category", $("category").value);
    history.replaceState(null, "", `?${url}`);
    try { await load(); } catch (error) { fail($("chart"), error); }
  });
  $("level").addEventListener("change", () => load().catch((error) => fail($("chart"), error)));
  ready();
}

main();

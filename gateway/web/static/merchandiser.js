// The merchandiser page: compliance over time per store / camera / row, the worst slots
// and the violations with their evidence, filtered by dates, store and category. The
// step follows the range (hours for a few days, days beyond); the chart's figures can
// be downloaded as CSV. A bad filter or a failed load says what is wrong in a sentence
// and clears every figure, so nothing stale stays on screen looking current.
import {
  STATUS, api, dateInput, el, lineChart, localDay, minutes, onConnection, pct, places, ready, scoreClass, shell,
  when,
} from "/static/app.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_DAYS = 7; // the default range: the last week, so the chart shows a trend
const HOURLY_UP_TO_DAYS = 3; // auto: hours up to this many days, days beyond
const HOURLY_MAX_DAYS = 31; // hourly beyond this is unreadable (and too many buckets)
const shown = { history: null }; // what the chart shows now (for the CSV)

const dayName = (value) => new Date(`${value}T00:00`).toLocaleDateString(undefined, { dateStyle: "medium" });

/** The filters' problem as a sentence, or null when they are fine. */
function filterProblem() {
  const from = $("from").value, to = $("to").value;
  if (!from || !to) return `Pick both dates: ${!from ? "“From”" : "“To”"} is empty.`;
  if (from > to) return `“From” (${dayName(from)}) is after “To” (${dayName(to)}): pick a From on or before the To date.`;
  if (to > dateInput(new Date())) return `“To” (${dayName(to)}) is in the future: there is no data after today.`;
  return null;
}

/** The step for this range: what was asked, unless it does not fit (and then why). */
function stepFor(days, asked) {
  if (asked === "auto") return { step: days <= HOURLY_UP_TO_DAYS ? "hour" : "day", why: `auto for ${days} day(s)` };
  if (asked === "hour" && days > HOURLY_MAX_DAYS) return { step: "day", why: `hourly is too fine for ${days} days` };
  return { step: asked, why: null };
}

/** Clear every figure and say what is wrong instead. */
function showProblem(message) {
  shown.history = null;
  $("problem").textContent = message;
  $("problem").hidden = false;
  $("kpis").replaceChildren();
  $("chart").replaceChildren(el("p", { class: "empty-note" }, "No figures: see the message above."));
  $("chart-meta").textContent = "";
  $("worst").replaceChildren();
  $("violations").replaceChildren();
  $("csv").disabled = true;
}

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
  const url = new URLSearchParams(location.search);
  $("from").value = url.get("from") || dateInput(new Date(today.getTime() - DEFAULT_DAYS * 86400000));
  $("to").value = url.get("to") || dateInput(today);
  $("granularity").value = url.get("granularity") || "auto";
  const [cameras, categories] = await Promise.all([api("/api/cameras"), api("/api/reports/categories")]);
  for (const s of [...new Set(cameras.map((c) => c.store))].sort()) $("store").append(el("option", { value: s }, s));
  for (const c of categories) $("category").append(el("option", { value: c }, c));
  $("store").value = url.get("store") || "";
  $("category").value = url.get("category") || "";
}

async function load() {
  const problem = filterProblem();
  if (problem) { showProblem(problem); return; }
  const params = query();
  const days = Math.round((new Date(params.get("until")) - new Date(params.get("since"))) / 86400000);
  const { step, why } = stepFor(days, $("granularity").value);
  let history, worst, violations, worstWhere, violationWhere;
  try {
    [history, worst, violations] = await Promise.all([
      api(`/api/reports/compliance?${params}&granularity=${step}`),
      api(`/api/reports/worst-slots?${params}&limit=15`),
      api(`/api/reports/violations?${params}&limit=40`),
    ]);
    [worstWhere, violationWhere] = await Promise.all([places(worst), places(violations)]);
  } catch (error) {
    showProblem(error.status === 0
      ? "The figures could not be loaded: the gateway cannot be reached. They load again when it is back."
      : `The figures could not be loaded: ${error.message}`);
    return;
  }
  $("problem").hidden = true;
  shown.history = history;
  $("csv").disabled = !history.starts.length;
  drawKpis(history, worst, violations);
  drawChart(history, why);
  drawWorst(worst, worstWhere);
  drawViolations(violations, violationWhere);
}

/** The chart's figures as CSV: one line per bucket and series (rows counted from 1). */
function downloadCsv() {
  const history = shown.history;
  if (!history) return;
  const level = $("level").value;
  const quote = (v) => (v === null || v === undefined ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [["start", "level", "store", "camera", "row", "label", "score", "coverage"].join(",")];
  for (const s of history.series.filter((x) => x.level === level)) {
    history.starts.forEach((start, i) => {
      lines.push([start, s.level, s.store, s.camera, s.row === null ? null : s.row + 1, s.label,
        s.scores[i] === null ? null : s.scores[i].toFixed(4), s.coverage[i]?.toFixed(4)].map(quote).join(","));
    });
  }
  const blob = new Blob([lines.join("\n") + "\n"], { type: "text/csv" });
  const link = el("a", { href: URL.createObjectURL(blob), download: `compliance-${$("from").value}-to-${$("to").value}-${level}.csv` });
  document.body.append(link);
  link.click();
  setTimeout(() => { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
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

function drawChart(history, why = null) {
  const level = $("level").value;
  const series = history.series.filter((s) => s.level === level).slice(0, 8);
  $("chart-meta").textContent = `${history.granularity === "day" ? "daily" : "hourly"}${why ? ` (${why})` : ""} · ${series.length} line(s)${history.series.filter((s) => s.level === level).length > 8 ? " (first 8)" : ""}`;
  lineChart($("chart"), {
    xs: history.starts.map((t) => new Date(t).getTime() / 1000),
    series: series.map((s) => ({ label: s.label, values: s.scores })),
  });
}

function drawWorst(rows, where) {
  if (!rows.length) { $("worst").replaceChildren(el("p", { class: "empty-note" }, "No slot failed in this range.")); return; }
  $("worst").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, "Product"), el("th", {}, "Where"), el("th", { class: "num" }, "Failing"), el("th", { class: "num" }, "Share"), el("th", { class: "num" }, "Low"))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", { "data-label": "Product" }, r.name || r.sku || "(unassigned)", r.brand ? el("div", { class: "muted" }, r.brand) : null),
      el("td", { "data-label": "Where" }, `${r.store} · ${where[rows.indexOf(r)]}`),
      el("td", { class: "num", "data-label": "Failing" }, minutes(r.failing_minutes)),
      el("td", { class: "num", "data-label": "Share" }, pct(r.failing_share)),
      el("td", { class: "num", "data-label": "Low" }, minutes(r.low_minutes)))))));
}

function drawViolations(rows, where) {
  if (!rows.length) { $("violations").replaceChildren(el("p", { class: "empty-note" }, "No violations in this range.")); return; }
  $("violations").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, "What"), el("th", {}, "When"), el("th", { class: "num" }, "How long"), el("th", {}, "Evidence"))),
    el("tbody", {}, rows.map((v) => el("tr", {},
      el("td", { "data-label": "What" },
        el("span", { class: `badge st-${v.status}`, style: "background:var(--c);color:#fff" }, STATUS[v.status] || v.status), " ",
        v.name || v.sku || "slot", el("div", { class: "muted" }, `${v.store} · ${where[rows.indexOf(v)]}`)),
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
  } catch (error) { showProblem(`The filters could not be loaded: ${error.message}`); }
  await load();
  $("csv").addEventListener("click", downloadCsv);
  $("filters").addEventListener("submit", async (event) => {
    event.preventDefault();
    const url = new URLSearchParams({ from: $("from").value, to: $("to").value, granularity: $("granularity").value });
    if ($("store").value) url.set("store", $("store").value);
    if ($("category").value) url.set("category", $("category").value);
    history.replaceState(null, "", `?${url}`);
    await load();
  });
  // Changed filters make the figures on screen stale until Apply: say so.
  for (const id of ["from", "to", "granularity", "store", "category"]) {
    $(id).addEventListener("change", () => {
      const problem = filterProblem();
      if (problem) showProblem(problem);
      else { $("problem").hidden = true; $("chart-meta").textContent = "filters changed: press Apply"; }
    });
  }
  $("level").addEventListener("change", () => load());
  onConnection((online) => { if (online) load(); });
  ready();
}

main();

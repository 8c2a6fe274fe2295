// The merchandiser page: compliance over time per store / camera / row, the worst slots
// and the violations with their evidence, filtered by dates, store and category. The
// step follows the range (hours for a few days, days beyond); the chart's figures can
// be downloaded as CSV. A bad filter or a failed load says what is wrong in a sentence
// and clears every figure, so nothing stale stays on screen looking current.
import {
  STATUS, api, dateInput, el, lineChart, localDay, minutes, num, onConnection, pct, place, places, ready, scoreClass,
  shell, t, when,
} from "/static/app.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_DAYS = 7; // the default range: the last week, so the chart shows a trend
const HOURLY_UP_TO_DAYS = 3; // auto: hours up to this many days, days beyond
const HOURLY_MAX_DAYS = 31; // hourly beyond this is unreadable (and too many buckets)
const MAX_LINES = 8; // more lines than this are a tangle: the chart shows the first ones
const shown = { history: null }; // what the chart shows now (for the CSV)

/** The shelf events of a violation's evidence, in words (the API's type names). */
const EVENT = {
  gap_opened: t("merchandiser.event_gap_opened"),
  gap_closed: t("merchandiser.event_gap_closed"),
  low_stock: t("merchandiser.event_low_stock"),
  restocked: t("merchandiser.event_restocked"),
  wrong_product: t("merchandiser.event_wrong_product"),
  messy: t("merchandiser.event_messy"),
  status_changed: t("merchandiser.event_status_changed"),
};

/** The filters' problem as a sentence, or null when they are fine. */
function filterProblem() {
  const from = $("from").value, to = $("to").value;
  if (!from) return t("merchandiser.from_empty");
  if (!to) return t("merchandiser.to_empty");
  if (from > to) return t("merchandiser.from_after_to", { from, to });
  if (to > dateInput(new Date())) return t("merchandiser.to_future", { to });
  return null;
}

/** The step for this range: what was asked, unless it does not fit (and then why). */
function stepFor(days, asked) {
  if (asked === "auto") return { step: days <= HOURLY_UP_TO_DAYS ? "hour" : "day", why: t("merchandiser.auto_for", { count: days }) };
  if (asked === "hour" && days > HOURLY_MAX_DAYS) return { step: "day", why: t("merchandiser.hourly_too_fine", { count: days }) };
  return { step: asked, why: null };
}

/** Clear every figure and say what is wrong instead. */
function showProblem(message) {
  shown.history = null;
  $("problem").textContent = message;
  $("problem").hidden = false;
  $("kpis").replaceChildren();
  $("chart").replaceChildren(el("p", { class: "empty-note" }, t("merchandiser.no_figures")));
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
      ? t("merchandiser.unreachable")
      : t("merchandiser.load_failed", { error: error.message }));
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
    kpi(t("merchandiser.average_score"), pct(overall, 1), t("merchandiser.over_range"), scoreClass(overall)),
    kpi(t("merchandiser.lowest_store"), worstStore ? pct(worstStore.m, 1) : "–", worstStore ? worstStore.s.store : "", scoreClass(worstStore?.m)),
    kpi(t("merchandiser.violations"), num(violations.length), t("merchandiser.in_all", { span: failing })),
    kpi(t("merchandiser.worst_slot"), worst[0] ? minutes(worst[0].failing_minutes) : "–",
      worst[0] ? `${worst[0].name || worst[0].sku || t("merchandiser.slot")} · ${worst[0].store}` : t("merchandiser.none_failing")));
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

function drawChart(history, why = null) {
  const level = $("level").value;
  const all = history.series.filter((s) => s.level === level);
  const series = all.slice(0, MAX_LINES);
  const step = history.granularity === "day" ? t("merchandiser.daily") : t("merchandiser.hourly");
  const lines = all.length > MAX_LINES
    ? t("merchandiser.first_lines", { count: series.length }) : t("merchandiser.lines", { count: series.length });
  $("chart-meta").textContent = t("merchandiser.chart_meta", { step: why ? t("merchandiser.step_why", { step, why }) : step, lines });
  lineChart($("chart"), {
    xs: history.starts.map((start) => new Date(start).getTime() / 1000),
    series: series.map((s) => ({ label: seriesLabel(s), values: s.scores })),
  });
}

/** A line's name: the store, or the store and its camera (and shelf row, counted from 1). */
function seriesLabel(s) {
  return s.level === "store" ? s.store : `${s.store} · ${place({ camera: s.camera, row: s.row })}`;
}

function drawWorst(rows, where) {
  if (!rows.length) { $("worst").replaceChildren(el("p", { class: "empty-note" }, t("merchandiser.no_slot_failed"))); return; }
  const head = {
    product: t("merchandiser.col_product"), where: t("merchandiser.col_where"), failing: t("merchandiser.col_failing"),
    share: t("merchandiser.col_share"), low: t("merchandiser.col_low"),
  };
  $("worst").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, head.product), el("th", {}, head.where), el("th", { class: "num" }, head.failing), el("th", { class: "num" }, head.share), el("th", { class: "num" }, head.low))),
    el("tbody", {}, rows.map((r, i) => el("tr", {},
      el("td", { "data-label": head.product }, r.name || r.sku || t("merchandiser.unassigned"), r.brand ? el("div", { class: "muted" }, r.brand) : null),
      el("td", { "data-label": head.where }, `${r.store} · ${where[i]}`),
      el("td", { class: "num", "data-label": head.failing }, minutes(r.failing_minutes)),
      el("td", { class: "num", "data-label": head.share }, pct(r.failing_share)),
      el("td", { class: "num", "data-label": head.low }, minutes(r.low_minutes)))))));
}

function drawViolations(rows, where) {
  if (!rows.length) { $("violations").replaceChildren(el("p", { class: "empty-note" }, t("merchandiser.no_violations"))); return; }
  const head = {
    what: t("merchandiser.col_what"), when: t("merchandiser.col_when"), long: t("merchandiser.col_how_long"),
    evidence: t("merchandiser.col_evidence"),
  };
  $("violations").replaceChildren(el("table", { class: "cards" },
    el("thead", {}, el("tr", {}, el("th", {}, head.what), el("th", {}, head.when), el("th", { class: "num" }, head.long), el("th", {}, head.evidence))),
    el("tbody", {}, rows.map((v, i) => el("tr", {},
      el("td", { "data-label": head.what },
        el("span", { class: `badge st-${v.status}`, style: "background:var(--c);color:#fff" }, STATUS[v.status] || v.status), " ",
        v.name || v.sku || t("merchandiser.slot"), el("div", { class: "muted" }, `${v.store} · ${where[i]}`)),
      el("td", { "data-label": head.when }, when(v.start), el("div", { class: "muted" }, v.end ? t("merchandiser.until", { end: v.end }) : t("merchandiser.still_so"))),
      el("td", { class: "num", "data-label": head.long }, minutes(v.minutes)),
      el("td", { "data-label": head.evidence }, evidence(v)))))));
}

function evidence(v) {
  if (!v.event_count) return el("span", { class: "muted" }, t("merchandiser.state_log_only"));
  return el("details", {},
    el("summary", {}, t("merchandiser.events", { count: v.event_count })),
    el("ul", {}, v.events.map((e) => {
      const what = `${when(e.ts)} · ${EVENT[e.type] || e.type.replace(/_/g, " ")}`;
      return el("li", {}, e.confidence !== null ? t("merchandiser.event_sure", { what, sure: e.confidence }) : what);
    })));
}

async function main() {
  await shell("merchandiser");
  try {
    await fillFilters();
  } catch (error) { showProblem(t("merchandiser.filters_failed", { error: error.message })); }
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
      else { $("problem").hidden = true; $("chart-meta").textContent = t("merchandiser.filters_changed"); }
    });
  }
  $("level").addEventListener("change", () => load());
  onConnection((online) => { if (online) load(); });
  ready();
}

main();

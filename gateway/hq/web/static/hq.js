// shelfsense head office: the app shell for the HQ pages (an ES module, no build step).
// It reuses the store gateway's helpers and look (/static/app.js, /static/app.css) and
// draws the top bar with the HQ pages this role may open. Words come from the `hq`
// catalogue (and the store gateway's `common`), figures and dates in the user's locale.
import { api, el, locale, me, num, pct, roleName, scoreClass, t } from "/static/app.js";
import { languagePicker } from "/static/i18n.js";

export const PAGES = [
  { id: "chain", href: "/chain", label: "nav.chain", kinds: ["admin", "merchandiser"] },
  { id: "brand", href: "/brand", label: "nav.brands", kinds: ["admin", "merchandiser", "brand"] },
];

/** The top bar: logo, the HQ pages of this role, the user, language, logout. Returns the user. */
export async function shell(pageId) {
  const user = await me();
  const pages = PAGES.filter((p) => p.kinds.includes(user.kind));
  if (!pages.some((p) => p.id === pageId)) {
    location.replace(pages.length ? pages[0].href : "/");
    throw new Error("this page is not for " + user.kind);
  }
  const bar = el("header", { class: "topbar" },
    el("a", { class: "logo", href: "/" }, "shelf", el("b", {}, "sense"), el("span", { class: "tier" }, t("hq.tier"))),
    el("nav", { class: "nav", "aria-label": t("common.pages") },
      pages.map((p) => el("a", { href: p.href, id: `to-${p.id}`, "aria-current": p.id === pageId ? "page" : null }, t(p.label)))),
    el("div", { class: "who" },
      el("span", { class: "name", id: "user-name" }, user.name),
      el("span", { class: "role", id: "user-role", title: user.role }, roleName(user.role)),
      languagePicker(),
      el("button", { type: "button", id: "logout", onclick: logout }, t("common.logout"))));
  document.body.prepend(bar);
  document.body.dataset.kind = user.kind;
  return user;
}

async function logout() {
  try { await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" }); } finally {
    location.href = "/login";
  }
}

/** Slot-hours (out of stock) as "12.5 h" / "12.5 小时": an amount of hours, not a span. */
export const hours = (value) => t("hq.hours", { hours: value });

/** Seconds since the epoch of a "YYYY-MM-DD" day (UTC midnight), for the charts. */
export const daySeconds = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;

/** The stores, chains and regions this user may see, into the filter selects. */
export async function fillPlaces(chainSelect, regionSelect, url) {
  const places = await api("/api/stores");
  const fill = (select, values, all) => {
    select.replaceChildren(el("option", { value: "" }, all), ...values.map((v) => el("option", { value: v }, v)));
    select.value = url.get(select.id) || (values.length === 1 ? values[0] : "");
    select.disabled = values.length < 2;
  };
  fill(chainSelect, places.chains, t("hq.all_chains"));
  fill(regionSelect, places.regions, t("hq.all_regions"));
  return places;
}

/** A table cell with a rate as a percentage beside a small bar coloured by how good it is. */
export function rateCell(value, label) {
  const width = value === null || value === undefined ? 0 : Math.max(0, Math.min(1, value)) * 100;
  return el("td", { class: "num", "data-label": label },
    el("span", { class: "rate" },
      el("span", { class: `meter ${scoreClass(value)}`, "aria-hidden": "true" }, el("i", { style: `width:${width.toFixed(1)}%` })),
      el("span", { class: "rate-text" }, pct(value, 1))));
}

/** A table from column specs [{label, num?, cell(row) -> Node|string}] and rows. */
export function table(id, columns, rows) {
  return el("table", { class: "cards", id },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { class: c.num ? "num" : null, title: c.title || null }, c.label)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) => {
      const value = c.cell(row);
      return value instanceof Node && value.tagName === "TD" ? value : el("td", { class: c.num ? "num" : null, "data-label": c.label }, value);
    })))));
}

/** Two lines: a store's name and, muted, its id. */
export function storeLabel(name, id) {
  return el("div", {}, name || id, name ? el("div", { class: "muted small" }, id) : null);
}

const utcDay = (day) => new Date(`${day}T00:00:00Z`);

/** "16 Nov – 25 Nov 2026" (11月16日 至 2026年11月25日): a day range in the user's
 *  locale, short enough for a KPI hint (the first day's year only when it differs), in
 *  a span that wraps between the days only, never inside a Chinese date. */
export function dayRange(since, until) {
  const fmt = (day, year) => utcDay(day).toLocaleDateString(locale, { day: "numeric", month: "short", year: year ? "numeric" : undefined, timeZone: "UTC" });
  const text = t("hq.day_range", { since: fmt(since, since.slice(0, 4) !== until.slice(0, 4)), until: fmt(until, true) });
  return el("span", { class: "day-range" }, text);
}

/** A chart's day (seconds at UTC midnight) as "16 Nov" / "11月16日". */
const chartDay = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: "UTC" });
const chartDayLong = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });

const COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c6d31"];

/** A responsive uPlot chart over days (`xs` in seconds, one `step` apart).
 *  `series`: [{label, values, strong?}]; a strong series (e.g. every store together) is
 *  drawn dark, thick and dashed (put it last: uPlot draws in order, so it is on top). `bars`: grouped bars, the x range padded by
 *  half a step so the first and last bars are whole (a lone point gets the same padding). */
export function chart(container, { xs, series, step = 86400, yPercent = true, yLabel = "", bars = false }) {
  container.replaceChildren();
  if (!xs.length || !series.length) {
    container.append(el("p", { class: "empty-note" }, t("common.no_data_range")));
    return null;
  }
  const width = () => Math.max(280, container.clientWidth);
  const height = () => (container.clientWidth < 500 ? 220 : 280);
  // bars, or a single point (a range of zero width would hide it): half a step each side
  const pad = bars || xs.length === 1 ? step / 2 : 0;
  const barWidth = 0.7 / series.length;
  const opts = {
    width: width(),
    height: height(),
    // the days are UTC midnights: ticks and labels in UTC too, so no zone shifts a day
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: {
      x: { time: true, range: () => [xs[0] - pad, xs[xs.length - 1] + pad] },
      y: yPercent ? { range: [0, 1] } : { range: (u, min, max) => [0, Math.max(1, max * 1.1)] },
    },
    axes: [
      // a tick on each point when they fit (weeks: on their Mondays), else uPlot's choice
      {
        stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, space: 56, splits: xs.length * 64 <= width() ? () => xs : undefined,
        values: (u, ticks) => ticks.map((s) => chartDay.format(new Date(s * 1000))),
      },
      {
        stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, label: yLabel, size: 56,
        values: (u, ticks) => ticks.map((v) => (yPercent ? pct(v) : num(v))),
      },
    ],
    series: [
      { label: t("hq.day"), value: (u, s) => (s === null || s === undefined ? "–" : chartDayLong.format(new Date(s * 1000))) },
      ...series.map((s, i) => {
        const colour = s.strong ? "#18202c" : COLOURS[i % COLOURS.length];
        // two series: side by side (the first left of its day, the second right of it)
        const align = series.length === 2 ? (i === 0 ? -1 : 1) : 0;
        const bar = bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [barWidth, 48], align }) : undefined;
        return {
          label: s.label,
          stroke: colour,
          width: s.strong ? 3 : 2,
          dash: s.strong && !bars ? [6, 4] : undefined,
          fill: bars ? colour + "99" : undefined,
          paths: bar,
          points: { show: !bars, size: xs.length < 60 ? 6 : 4 },
          spanGaps: false,
          value: (u, v) => (v === null || v === undefined ? "–" : yPercent ? pct(v, 1) : num(v)),
        };
      }),
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], container);
  new ResizeObserver(() => plot.setSize({ width: width(), height: height() })).observe(container);
  return plot;
}

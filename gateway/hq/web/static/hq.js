// shelfsense head office: the app shell for the HQ pages (an ES module, no build step).
// It reuses the store gateway's helpers and look (/static/app.js, /static/app.css) and
// draws the top bar with the HQ pages this role may open.
import { api, el, me, num, pct, scoreClass } from "/static/app.js";

export const PAGES = [
  { id: "chain", href: "/chain", label: "Stores & compliance", kinds: ["admin", "merchandiser"] },
  { id: "brand", href: "/brand", label: "Brands", kinds: ["admin", "merchandiser", "brand"] },
];

/** The top bar: logo, the HQ pages of this role, the user, logout. Returns the user. */
export async function shell(pageId) {
  const user = await me();
  const pages = PAGES.filter((p) => p.kinds.includes(user.kind));
  if (!pages.some((p) => p.id === pageId)) {
    location.replace(pages.length ? pages[0].href : "/");
    throw new Error("this page is not for " + user.kind);
  }
  const bar = el("header", { class: "topbar" },
    el("a", { class: "logo", href: "/" }, "shelf", el("b", {}, "sense"), el("span", { class: "tier" }, "HQ")),
    el("nav", { class: "nav", "aria-label": "Pages" },
      pages.map((p) => el("a", { href: p.href, "aria-current": p.id === pageId ? "page" : null }, p.label))),
    el("div", { class: "who" },
      el("span", { class: "name", id: "user-name" }, user.name),
      el("span", { class: "role", id: "user-role" }, user.role),
      el("button", { type: "button", id: "logout", onclick: logout }, "Log out")));
  document.body.prepend(bar);
  document.body.dataset.kind = user.kind;
  return user;
}

async function logout() {
  try { await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" }); } finally {
    location.href = "/login";
  }
}

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
  fill(chainSelect, places.chains, "All chains");
  fill(regionSelect, places.regions, "All regions");
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

/** "16 Nov – 25 Nov 2026": a day range, short enough for a KPI hint. */
export function dayRange(since, until) {
  const fmt = (day, year) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", year: year ? "numeric" : undefined, timeZone: "UTC" });
  return `${fmt(since, since.slice(0, 4) !== until.slice(0, 4))} – ${fmt(until, true)}`;
}

const COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c6d31"];

/** A responsive uPlot chart over days (`xs` in seconds, one `step` apart).
 *  `series`: [{label, values, strong?}]; a strong series (e.g. every store together) is
 *  drawn dark, thick and dashed (put it last: uPlot draws in order, so it is on top). `bars`: grouped bars, the x range padded by
 *  half a step so the first and last bars are whole (a lone point gets the same padding). */
export function chart(container, { xs, series, step = 86400, yPercent = true, yLabel = "", bars = false }) {
  container.replaceChildren();
  if (!xs.length || !series.length) {
    container.append(el("p", { class: "empty-note" }, "No data for this range yet."));
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
    scales: {
      x: { time: true, range: () => [xs[0] - pad, xs[xs.length - 1] + pad] },
      y: yPercent ? { range: [0, 1] } : { range: (u, min, max) => [0, Math.max(1, max * 1.1)] },
    },
    axes: [
      // a tick on each point when they fit (weeks: on their Mondays), else uPlot's choice
      { stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, space: 56, splits: xs.length * 64 <= width() ? () => xs : undefined },
      {
        stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, label: yLabel, size: 56,
        values: (u, ticks) => ticks.map((t) => (yPercent ? `${Math.round(t * 100)}%` : num(t))),
      },
    ],
    series: [
      {},
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

// shelfsense dashboards: the shared app shell and helpers (an ES module, no build step).
// Every page imports this: it finds out who is logged in, draws the top bar with the
// pages that role may use, and offers fetch, formatting, live-update and chart helpers.
// Every request and the live stream report to `connection.js`, which says plainly when
// the gateway cannot be reached.
// Words and figures come from `i18n.js` in the user's language and locale.
import { doubt, gatewayFetch, heard, isOnline, onConnection, streaming, watch } from "/static/connection.js";
import { ago, languagePicker, locale, num, pct, t, when } from "/static/i18n.js";

export { isOnline, onConnection };
export { ago, clockTime, day, days, lang, locale, minutes, money, num, pct, perDay, phrase, t, translatePage, when } from "/static/i18n.js";

export const PAGES = [
  { id: "store", href: "/store", label: "nav.store", kinds: ["admin", "staff", "merchandiser"] },
  { id: "merchandiser", href: "/merchandiser", label: "nav.merchandiser", kinds: ["admin", "merchandiser"] },
  { id: "brand", href: "/brand", label: "nav.brand", kinds: ["admin", "merchandiser", "brand"] },
  { id: "devices", href: "/devices", label: "nav.devices", kinds: ["admin", "installer"] },
  { id: "rollouts", href: "/rollouts", label: "nav.rollouts", kinds: ["admin"] },
  { id: "calibrate", href: "/calibrate", label: "nav.calibrate", kinds: ["admin", "installer"] },
  // The user's own settings: a link beside the user's name, not a page of the store.
  { id: "alerts", href: "/alerts", label: "nav.alerts", kinds: ["admin", "installer", "staff", "merchandiser"], menu: "user" },
];

const SLOT_STATUSES = ["stocked", "low", "empty", "wrong_product", "messy", "occluded", "unknown"];
/** A slot status in words ("Empty") and as the short tag drawn on the shelf ("EMPTY"). */
export const STATUS = Object.fromEntries(SLOT_STATUSES.map((s) => [s, t(`status.${s}`)]));
export const STATUS_TAG = Object.fromEntries(SLOT_STATUSES.map((s) => [s, t(`status_tag.${s}`)]));

export class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/** JSON from the API; a 401 sends the browser to the login page. */
export async function api(path, options = {}) {
  const response = await gatewayFetch(path, {
    headers: options.body ? { "Content-Type": "application/json" } : {},
    ...options,
  });
  if (response.status === 401 && !path.startsWith("/api/auth/")) {
    toLogin();
    throw new HttpError(401, t("common.not_signed_in"));
  }
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = sentence((await response.json()).detail) || detail; } catch { /* not JSON */ }
    throw new HttpError(response.status, detail);
  }
  return response.status === 204 ? null : response.json();
}

/** An API error's detail as a sentence: FastAPI's list of field errors becomes
 * "since: Input should be a valid datetime; limit: ...", never raw JSON. */
function sentence(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "query" && p !== "body").join(".") || t("common.request")}: ${d.msg}`).join("; ");
  }
  return detail ? JSON.stringify(detail) : "";
}

/** Who is signed in: {name, role, kind, store, brand}; no session: to /login. */
export async function me() {
  try {
    return await api("/api/auth/me");
  } catch (error) {
    if (error.status === 401) toLogin();
    throw error;
  }
}

function toLogin() {
  location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The top bar: logo, the pages this role may open, the user, logout, live status. */
export async function shell(pageId) {
  const user = await me();
  const pages = PAGES.filter((p) => p.kinds.includes(user.kind));
  if (!pages.some((p) => p.id === pageId)) {
    location.replace(pages.length ? pages[0].href : "/login");
    throw new Error("this page is not for " + user.kind);
  }
  const bar = el("header", { class: "topbar" },
    el("a", { class: "logo", href: "/" }, "shelf", el("b", {}, "sense")),
    el("nav", { class: "nav", "aria-label": t("common.pages") },
      pages.filter((p) => !p.menu).map((p) => link(p, pageId))),
    el("div", { class: "who" },
      el("span", { class: "live", id: "live", "data-state": "idle", title: t("common.live_title") }, t("common.live")),
      el("span", { class: "name", id: "user-name" }, user.name),
      el("span", { class: "role", id: "user-role", title: user.role }, roleName(user.role)),
      pages.filter((p) => p.menu === "user").map((p) => link(p, pageId, "menu-link")),
      languagePicker(),
      el("button", { type: "button", id: "logout", onclick: logout }, t("common.logout"))));
  document.body.prepend(bar);
  document.body.dataset.kind = user.kind;
  watch();
  setInterval(tickAgo, 5000);
  return user;
}

function link(page, pageId, className = null) {
  return el("a", { href: page.href, class: className, id: `to-${page.id}`, "aria-current": page.id === pageId ? "page" : null }, t(page.label));
}

/** A role as the server names it ("staff:s1:manager", "merchandiser:chain:acme") in words. */
export function roleName(role) {
  const [kind, first, second] = String(role || "").split(":");
  if (kind === "staff") return t(second === "manager" ? "role.manager_of" : "role.staff_of", { store: first });
  if (kind === "brand") return t("role.brand_of", { brand: first });
  if (kind === "merchandiser" && first) return t(`role.merchandiser_${first}`, { name: second });
  return t(`role.${kind}`);
}

async function logout() {
  try { await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" }); } finally {
    location.href = "/login";
  }
}


/** Live updates (server-sent events): handlers by event name; reconnects on error.
 * Every message (and the server's `ping`) counts as word from the gateway; a dropped
 * stream makes the page ask whether the gateway is still there. */
export function live(handlers) {
  const badge = document.getElementById("live");
  let source = null;
  let retry = 1000;
  const open = () => {
    if (badge && badge.dataset.state !== "on") badge.dataset.state = "off";
    source = new EventSource("/api/stream");
    source.onopen = () => { retry = 1000; streaming(); if (badge) badge.dataset.state = "on"; };
    source.onerror = () => {
      if (badge) badge.dataset.state = "off";
      doubt();
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(open, retry);
        retry = Math.min(retry * 2, 30000);
      }
    };
    source.addEventListener("ping", heard);
    for (const [name, handler] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => { heard(); handler(JSON.parse(event.data)); });
    }
  };
  open();
  return () => source && source.close();
}

// ---- where a slot is: one numbering on every page -------------------------------

/** A place as people count it: rows and slots from 1 (the API and the camera count
 * from 0), with the layout's own names where it gives them (`aisle`, `bay` on the
 * layout, `label` on a row, `name` on a slot). `layout` may be null. */
export function place({ camera = null, row = null, slot = null }, layout = null) {
  const rowSpec = layout && row !== null ? (layout.rows || []).find((r) => r.index === row) : null;
  const parts = [];
  if (layout?.aisle) parts.push(t("place.aisle", { name: layout.aisle }));
  if (layout?.bay) parts.push(t("place.bay", { name: layout.bay }));
  else if (camera) parts.push(camera);
  if (row !== null && row !== undefined) parts.push(rowSpec?.label ? t("place.shelf", { name: rowSpec.label }) : t("place.row", { n: row + 1 }));
  if (slot !== null && slot !== undefined) parts.push(t("place.slot", { n: slot + 1 }));
  return parts.join(" · ");
}

const layoutCache = new Map();

/** A camera's layout (cached per page; null when it has none or it may not be read). */
export function layoutOf(store, camera) {
  const key = `${store}/${camera}`;
  if (!layoutCache.has(key)) {
    layoutCache.set(key, api(`/api/layouts/${encodeURIComponent(store)}/${encodeURIComponent(camera)}`)
      .then((record) => record.layout).catch(() => null));
  }
  return layoutCache.get(key);
}

/** `place` for many records at once: fetches each camera's layout once. */
export async function places(items) {
  const layouts = await Promise.all(items.map((i) => (i.store && i.camera ? layoutOf(i.store, i.camera) : null)));
  return items.map((item, n) => place(item, layouts[n]));
}

// ---- formatting (numbers, money, dates and spans: i18n.js, in the user's locale) ----

/** An element whose text says how long ago `iso` was, kept current by `tickAgo`;
 * `key` is the sentence around it (default "updated {ago}"). */
export function agoText(iso, key = "common.updated_ago") {
  return el("span", { dataset: { ago: iso || "", agoKey: key } }, t(key, { ago: ago(iso) }));
}

/** Re-say one `agoText` from its `data-ago` time. */
export function sayAgo(node) {
  node.textContent = t(node.dataset.agoKey, { ago: ago(node.dataset.ago || null) });
}

/** Re-say every `agoText` (a page that stays open must not keep saying "just now"). */
export function tickAgo() {
  document.querySelectorAll("[data-ago]").forEach(sayAgo);
}

export function scoreClass(score) {
  if (score === null || score === undefined) return "";
  return score >= 0.9 ? "good" : score >= 0.75 ? "warn" : "bad";
}

/** A date input's value as local midnight in ISO 8601 (with the offset). */
export function localDay(value, addDays = 0) {
  const [y, m, d] = value.split("-").map(Number);
  return isoLocal(new Date(y, m - 1, d + addDays));
}

export function isoLocal(date) {
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:00${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

export function dateInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// ---- charts (vendored uPlot, global `uPlot`) --------------------------------------

export const LINE_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#8c6d31"];

/** A responsive uPlot line chart; `xs` in seconds, `series` [{label, values}]. */
export function lineChart(container, { xs, series, yPercent = true, yLabel = "", bars = false }) {
  container.replaceChildren();
  if (!xs.length || !series.length) {
    container.append(el("p", { class: "empty-note" }, t("common.no_data_range")));
    return null;
  }
  const width = () => Math.max(280, container.clientWidth);
  const height = () => (container.clientWidth < 500 ? 220 : 280);
  const opts = {
    width: width(),
    height: height(),
    scales: { x: { time: true }, y: yPercent ? { range: [0, 1] } : { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [
      { stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, values: timeTicks },
      {
        stroke: "#5f6b7a", grid: { stroke: "#eef0f4" }, label: yLabel, size: 52,
        values: (u, ticks) => ticks.map((t) => (yPercent ? `${Math.round(t * 100)}%` : num(t))),
      },
    ],
    series: [
      { label: t("common.time"), value: (u, v) => (v === null || v === undefined ? "–" : when(new Date(v * 1000).toISOString())) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: LINE_COLOURS[i % LINE_COLOURS.length],
        width: 2,
        fill: bars ? LINE_COLOURS[i % LINE_COLOURS.length] + "55" : undefined,
        paths: bars && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined,
        points: { show: true, size: xs.length < 60 ? 6 : 4 },
        spanGaps: false,
        value: (u, v) => (v === null || v === undefined ? "–" : yPercent ? pct(v, 1) : num(v)),
      })),
    ],
    cursor: { drag: { x: false, y: false } },
    legend: { live: true },
  };
  const chart = new uPlot(opts, [xs, ...series.map((s) => s.values)], container);
  new ResizeObserver(() => chart.setSize({ width: width(), height: height() })).observe(container);
  return chart;
}

/** Time-axis labels in the user's locale: hours within two days, else dates. */
function timeTicks(u, ticks) {
  const span = ticks.length > 1 ? ticks[ticks.length - 1] - ticks[0] : 0;
  const style = span <= 2 * 86400 ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric" };
  const labels = ticks.map((tick) => new Date(tick * 1000).toLocaleString(locale, style));
  return labels.map((label, i) => (i > 0 && label === labels[i - 1] ? "" : label)); // a day once
}

export function ready() { document.body.dataset.ready = "1"; }

export function fail(where, error) {
  where.replaceChildren(el("p", { class: "error-note" }, t("common.could_not_load", { error: error.message })));
}

// shelfsense head office: the app shell for the HQ pages (an ES module, no build step).
// It reuses the store gateway's helpers and look (/static/app.js, /static/app.css) and
// draws the top bar with the HQ pages this role may open.
import { api, el, me, pct, scoreClass } from "/static/app.js";

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
    select.value = url.get(select.id) || "";
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

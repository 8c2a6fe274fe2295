// shelfsense languages: the words of every page and the locale its figures are written in.
//
// A page names its catalogues on <html data-i18n-ns="store purchases">; this module loads
// `common` and those, for the language the user chose (remembered in this browser) or
// else the browser's own, before any page script runs (top-level await), then translates
// the page's static text. Elements say what to translate:
//   data-i18n (a key)                    its text
//   data-i18n-attr (attribute:key pairs, ";" between)   attributes
// Scripts call t("key", {args}). Catalogues live in /static/i18n/<lang>/<ns>.json, one
// file per page so each page's words sit together; a missing key falls back to English
// and is recorded in `missingKeys` (the page tests fail on any).
//
// Placeholders: {name} or {name:format}. Formats: num (0 digits), num1, num2, pct, pct1,
// money (args.currency), minutes (a span: "42 min", "1.5 h"), days, perDay, when (date
// and time), day (date), ago. Plurals: a catalogue value may be an object of plural
// categories ({"one": ..., "other": ...}) chosen by args.count.

export const LANGUAGES = { en: "English", "zh-CN": "简体中文" };
const STORAGE_KEY = "shelfsense.lang";
const COOKIE = "shelfsense_lang";

/** The language to show: the one chosen here before, else the browser's first we have. */
export function chooseLanguage() {
  const chosen = safeStorage(() => localStorage.getItem(STORAGE_KEY));
  if (chosen && chosen in LANGUAGES) return chosen;
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function safeStorage(read) {
  try { return read(); } catch { return null; } // storage off (private mode, policy)
}

export const lang = chooseLanguage();
/** The locale figures and dates are written in (English pages keep the browser's region). */
export const locale = lang === "en" ? undefined : lang;

const catalogue = {};
const english = {};
const loaded = new Set();
export const missingKeys = new Set();

async function loadNamespace(language, ns) {
  const response = await fetch(`/static/i18n/${language}/${ns}.json`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`no ${language} catalogue "${ns}" (${response.status})`);
  return response.json();
}

/** Load catalogues `namespaces` (besides those already loaded) and translate the page. */
export async function useCatalogues(namespaces) {
  const wanted = namespaces.filter((ns) => ns && !loaded.has(ns));
  wanted.forEach((ns) => loaded.add(ns));
  // A catalogue that cannot be read costs its words (keys show, the tests catch it), not the page.
  const missing = (error) => { console.warn(error.message); return {}; };
  const english_ = await Promise.all(wanted.map((ns) => loadNamespace("en", ns).catch(missing)));
  english_.forEach((words) => Object.assign(english, words));
  if (lang === "en") {
    english_.forEach((words) => Object.assign(catalogue, words));
  } else {
    const words = await Promise.all(wanted.map((ns) => loadNamespace(lang, ns).catch(missing)));
    words.forEach((w) => Object.assign(catalogue, w));
  }
  translatePage();
}

/** The sentence for `key` in the chosen language, its placeholders filled from `args`. */
export function t(key, args = {}) {
  let text = catalogue[key];
  if (text === undefined) {
    missingKeys.add(key);
    text = english[key];
    if (text === undefined) return key;
  }
  if (typeof text === "object") text = text[plural(args.count)] ?? text.other;
  return text.replace(/\{(\w+)(?::(\w+))?\}/g, (whole, name, format) =>
    name in args ? formatArg(args[name], format, args) : whole);
}

/** Whether the catalogues know `key` (for server sentences that may be newer than them). */
export function has(key) {
  return key in catalogue || key in english;
}

/** A sentence the server sent as {key, args}: translated when known, else its English. */
export function phrase(sentence, fallback = "") {
  if (!sentence || !sentence.key || !has(sentence.key)) return fallback;
  const args = { ...sentence.args };
  for (const [name, value] of Object.entries(args)) {
    if (value && typeof value === "object" && value.key) args[name] = phrase(value, "");
  }
  return t(sentence.key, args);
}

const pluralRules = new Intl.PluralRules(locale);
const plural = (count) => (count === undefined ? "other" : pluralRules.select(Number(count)));

function formatArg(value, format, args) {
  if (value === null || value === undefined) return "–";
  switch (format) {
    case undefined: return typeof value === "number" ? num(value) : String(value);
    case "num": return num(value);
    case "num1": return num(value, 1);
    case "num2": return num(value, 2);
    case "pct": return pct(value);
    case "pct1": return pct(value, 1);
    case "money": return money(value, args.currency);
    case "minutes": return minutes(value);
    case "days": return days(value);
    case "perDay": return perDay(value);
    case "when": return when(value);
    case "day": return day(value);
    case "ago": return ago(value);
    default: return String(value);
  }
}

// ---- figures in the user's locale ----------------------------------------------

export const num = (value, digits = 0) =>
  value === null || value === undefined ? "–"
    : Number(value).toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const pct = (value, digits = 0) =>
  value === null || value === undefined ? "–"
    : Number(value).toLocaleString(locale, { style: "percent", maximumFractionDigits: digits, minimumFractionDigits: digits });

export function money(value, currency) {
  if (value === null || value === undefined) return "–";
  try {
    const digits = Math.abs(value) < 1000 ? 2 : 0;
    return Number(value).toLocaleString(locale, { style: "currency", currency: currency || "EUR", minimumFractionDigits: digits, maximumFractionDigits: digits });
  } catch { return num(value, 2); }
}

/** A span of minutes as people say it: seconds under one, minutes under two hours. */
export function minutes(m) {
  if (m === null || m === undefined) return "–";
  if (m < 1) return unit(m * 60, "second");
  return m < 120 ? unit(Math.round(m), "minute") : unit(m / 60, "hour", 1);
}

export function days(d) {
  if (d === null || d === undefined) return "–";
  return d >= 1 ? unit(d, "day", 1) : minutes(d * 24 * 60);
}

export function perDay(daily) {
  if (daily === null || daily === undefined) return "–";
  return t("common.per_day", { n: num(daily, daily >= 10 ? 0 : 1) });
}

function unit(value, name, digits = 0) {
  return Number(value).toLocaleString(locale, { style: "unit", unit: name, unitDisplay: "short", maximumFractionDigits: digits });
}

export const when = (iso) =>
  (iso ? new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" }) : "–");

export const day = (iso) =>
  (iso ? new Date(iso.length === 10 ? `${iso}T00:00` : iso).toLocaleDateString(locale, { dateStyle: "medium" }) : "–");

export const clockTime = (date = new Date()) => date.toLocaleTimeString(locale);

const relative = new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" });

/** How long ago `iso` was ("just now", "5 min ago", "3 days ago"). */
export function ago(iso) {
  if (!iso) return t("common.never");
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (seconds < 10) return t("common.just_now");
  if (seconds < 90) return relative.format(-Math.round(seconds), "second");
  if (seconds < 3600) return relative.format(-Math.round(seconds / 60), "minute");
  if (seconds < 172800) return relative.format(-Math.round(seconds / 3600), "hour");
  return relative.format(-Math.round(seconds / 86400), "day");
}

// ---- the page's static text -------------------------------------------------

/** Translate every element under `root` that names a key (data-i18n, data-i18n-attr). */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attribute, key] = pair.split(":").map((s) => s.trim());
      if (attribute && key) node.setAttribute(attribute, t(key));
    }
  }
}

/** Switch language: remembered in this browser (and a cookie the server may read). */
export function setLanguage(language) {
  if (!(language in LANGUAGES)) return;
  safeStorage(() => localStorage.setItem(STORAGE_KEY, language));
  document.cookie = `${COOKIE}=${language}; path=/; max-age=31536000; samesite=lax`;
  location.reload();
}

/** A small select that switches the language (for the top bar and the sign-in page). */
export function languagePicker() {
  const select = document.createElement("select");
  select.id = "language";
  select.className = "language";
  select.setAttribute("aria-label", t("common.language"));
  for (const [code, name] of Object.entries(LANGUAGES)) {
    const option = new Option(name, code, code === lang, code === lang);
    option.lang = code;
    select.append(option);
  }
  select.addEventListener("change", () => setLanguage(select.value));
  return select;
}

document.documentElement.lang = lang;
// For the page tests and anyone debugging a page: which language, which keys were missing.
window.shelfsenseI18n = { lang, missingKeys };
await useCatalogues(["common", ...(document.documentElement.dataset.i18nNs || "").split(/\s+/)]);
document.documentElement.dataset.i18nReady = "1"; // app.css shows the page from now

// The page's link to the gateway, said plainly. When the gateway stops answering (a
// request fails, the live stream drops and a probe gets no answer, or a quiet page's
// probe fails) a banner says since when, when the data on screen was last updated and
// how long ago (counting up), action buttons wait, and pages hear `onConnection(false)`
// to show cameras as unknown. It keeps probing by itself; the first answer hides the
// banner, frees the buttons and tells pages `onConnection(true)` so they reload.

import { locale, minutes, t } from "/static/i18n.js";

const PROBE_PATH = "/api/auth/me";
const PROBE_MS = 3000; // while lost: ask again this often
const QUIET_MS = 5000; // connected, but nothing heard for this long: ask
const QUIET_STREAM_MS = 25000; // the same with a live stream open (it pings every 10 s)
const PROBE_TIMEOUT_MS = 5000;
const DOWN_STATUSES = new Set([502, 503, 504]); // a proxy in front saying the gateway is down
const ACTIONS = "main button, main input[type=file], main input[type=checkbox], dialog button";

const link = {
  online: true,
  lostAt: null,
  heardAt: Date.now(),
  listeners: new Set(),
  probing: false,
  streaming: false,
  ticker: null,
  observer: null,
};

/** Whether the gateway answered last time it was asked. */
export const isOnline = () => link.online;

/** When anything last came from the gateway (ms since the epoch). */
export const lastHeard = () => link.heardAt;

/** `fn(online)` on every change; returns a function that stops listening. */
export function onConnection(fn) {
  link.listeners.add(fn);
  return () => link.listeners.delete(fn);
}

/** Something came from the gateway (a response, a stream message). */
export function heard() {
  link.heardAt = Date.now();
  if (!link.online) restore();
}

/** Something failed that may mean the gateway is gone: ask it before saying so. */
export function doubt() {
  link.streaming = false;
  probe();
}

/** A live stream is open: its pings say the gateway is there, so probe less. */
export function streaming() {
  link.streaming = true;
  heard();
}

/** `fetch` that keeps the connection state: a network error or a proxy's 502/503/504
 * marks the gateway unreachable; any other answer marks it reachable. */
export async function gatewayFetch(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...init });
  } catch (error) {
    lose();
    const failure = new Error("the gateway cannot be reached");
    failure.status = 0;
    throw failure;
  }
  if (DOWN_STATUSES.has(response.status) && !response.headers.get("content-type")?.includes("json")) lose();
  else heard();
  return response;
}

async function probe() {
  if (link.probing) return;
  link.probing = true;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
  try {
    const response = await fetch(PROBE_PATH, { credentials: "same-origin", cache: "no-store", signal: abort.signal });
    if (DOWN_STATUSES.has(response.status)) lose();
    else heard();
  } catch {
    lose();
  } finally {
    clearTimeout(timer);
    link.probing = false;
  }
}

function notify() {
  for (const fn of link.listeners) {
    try { fn(link.online); } catch (error) { console.error(error); }
  }
}

function lose() {
  if (!link.online) return;
  link.online = false;
  link.lostAt = Date.now();
  document.body.dataset.connection = "lost";
  pauseActions();
  drawBanner();
  link.ticker = setInterval(drawBanner, 1000);
  notify();
}

function restore() {
  link.online = true;
  link.lostAt = null;
  delete document.body.dataset.connection;
  clearInterval(link.ticker);
  link.ticker = null;
  banner().hidden = true;
  resumeActions();
  notify();
}

// ---- banner --------------------------------------------------------------------

function banner() {
  let box = document.getElementById("connection-banner");
  if (!box) {
    box = document.createElement("div");
    box.id = "connection-banner";
    box.className = "connection-banner";
    box.setAttribute("role", "alert");
    box.hidden = true;
    const bar = document.querySelector("body > header");
    if (bar) bar.after(box); else document.body.prepend(box);
  }
  return box;
}

const clock = (ms) => new Date(ms).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** "12 s", "3 min", "2 h": how long ago, to the unit a person reads. */
export function age(ms) {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  return minutes(s < 90 ? s / 60 : s < 5400 ? Math.round(s / 60) : Math.round(s / 3600) * 60);
}

function drawBanner() {
  const box = banner();
  box.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = t("connection.lost", { since: clock(link.lostAt) });
  const data = document.createElement("span");
  data.className = "last-data";
  data.textContent = " " + t("connection.last_data", { at: clock(link.heardAt), age: age(link.heardAt) });
  box.append(strong, data);
  box.hidden = false;
}

// ---- actions wait ----------------------------------------------------------------

function pauseOne(node) {
  if (node.disabled || node.dataset.offlineOk !== undefined) return;
  node.disabled = true;
  node.dataset.offlinePaused = "1";
}

function pauseActions() {
  document.querySelectorAll(ACTIONS).forEach(pauseOne);
  // Buttons drawn or enabled while the gateway is away wait too.
  link.observer = new MutationObserver(() => document.querySelectorAll(ACTIONS).forEach(pauseOne));
  link.observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["disabled"] });
}

function resumeActions() {
  link.observer?.disconnect();
  link.observer = null;
  for (const node of document.querySelectorAll("[data-offline-paused]")) {
    node.disabled = false;
    delete node.dataset.offlinePaused;
  }
}

// ---- watching -------------------------------------------------------------------

/** Start watching (once per page): probe while lost, and when a page has been quiet. */
export function watch() {
  if (link.watching) return;
  link.watching = true;
  setInterval(() => {
    if (!link.online) probe();
    else if (Date.now() - link.heardAt > (link.streaming ? QUIET_STREAM_MS : QUIET_MS)) probe();
  }, PROBE_MS / 2);
  window.addEventListener("online", probe);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) probe(); });
}

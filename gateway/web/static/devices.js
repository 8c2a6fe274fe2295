// The devices page: the node table with status badges and a banner for every node in
// alert (offline too long, silent, or its camera failing), each node's model version and
// latest roll-out outcome, and the head-office uplink's backlog and lag. Refreshes every 10 s.
import { ago, api, el, fail, isOnline, num, onConnection, ready, shell } from "/static/app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;

function statusBadge(d) {
  if (!isOnline()) return el("span", { class: "badge", title: "the gateway cannot be reached" }, el("i", { class: "dot" }), "unknown");
  if (d.alert === "offline") return el("span", { class: "badge bad" }, el("i", { class: "dot" }), "offline");
  if (d.alert) return el("span", { class: "badge warn" }, el("i", { class: "dot" }), d.alert.replace("_", " "));
  if (!d.online) return el("span", { class: "badge" }, el("i", { class: "dot" }), d.offline_since ? "offline (brief)" : "never connected");
  return el("span", { class: "badge good" }, el("i", { class: "dot" }), "online");
}

function layoutBadge(d) {
  if (d.layout_current === true) return el("span", { class: "badge good", title: d.layout_running }, "current");
  if (d.layout_current === false) return el("span", { class: "badge warn", title: `runs ${d.layout_running}, gateway has ${d.layout_configured}` }, "outdated");
  return el("span", { class: "badge" }, d.layout_configured ? "not reported" : "no layout");
}

const ROLLOUT_BADGE = { switched: "good", rejected: "bad", reverted: "", announced: "warn" };

function modelCell(d) {
  const version = d.model_version
    ? el("strong", { dataset: { modelVersion: d.model_version } }, d.model_version)
    : el("span", { class: "muted", dataset: { modelVersion: "" } }, "configured");
  const rollout = d.rollout_outcome
    ? el("div", {},
      el("span", { class: `badge ${ROLLOUT_BADGE[d.rollout_outcome] ?? ""}`, title: d.rollout_reason || null, dataset: { rollout: d.rollout_outcome } },
        `${d.rollout_version} ${d.rollout_outcome}`))
    : null;
  const reason = d.rollout_outcome === "rejected" && d.rollout_reason ? el("div", { class: "muted" }, d.rollout_reason) : null;
  return [version, d.model ? el("div", { class: "muted" }, d.model) : null, rollout, reason];
}

function temp(value) {
  if (value === null || value === undefined) return "–";
  return el("span", { class: value >= 80 ? "error-note" : null }, `${num(value, 1)} °C`);
}

async function load() {
  // Alert thresholds may be set in the page's address (e.g. ?offline_alert_s=60).
  const url = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const key of ["offline_alert_s", "silent_after_s"]) if (url.get(key)) query.set(key, url.get(key));
  draw(await api(`/api/reports/devices?${query}`));
  $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

let lastNodes = [];

function draw(nodes) {
  lastNodes = nodes;
  const alerts = nodes.filter((d) => d.alert);
  $("alerts").replaceChildren(...alerts.map((d) =>
    el("div", { class: "banner", role: "alert", dataset: { alert: `${d.store}/${d.camera}` } },
      `${d.store} / ${d.camera}: ${d.alert_reason || d.alert}`)));
  const online = nodes.filter((d) => d.online).length;
  const outdated = nodes.filter((d) => d.layout_current === false).length;
  $("kpis").replaceChildren(
    isOnline()
      ? kpi("Online", `${online} / ${nodes.length}`, "nodes reporting", online === nodes.length ? "good" : "warn")
      : kpi("Online", `? / ${nodes.length}`, "unknown: the gateway cannot be reached", "warn"),
    kpi("Alerts", String(alerts.length), "offline, silent or camera fault", alerts.length ? "bad" : "good"),
    kpi("Outdated layouts", String(outdated), "node runs an older layout", outdated ? "warn" : "good"));
  if (!nodes.length) { $("nodes").replaceChildren(el("p", { class: "empty-note" }, "No camera node has reported yet.")); return; }
  $("nodes").replaceChildren(el("table", { class: "cards", id: "nodes-table" },
    el("thead", {}, el("tr", {}, ["Node", "Status", "Last seen", "Inference", "CPU temp", "FPS", "Outbox", "Layout", "Model", "Software"].map((h, i) => el("th", { class: i >= 3 && i <= 6 ? "num" : null }, h)))),
    el("tbody", {}, nodes.map((d) => el("tr", { dataset: { node: `${d.store}/${d.camera}` } },
      el("td", { "data-label": "Node" }, el("strong", {}, d.camera), el("div", { class: "muted" }, d.store)),
      el("td", { "data-label": "Status" }, statusBadge(d), d.alert_reason ? el("div", { class: "muted" }, d.alert_reason) : null),
      el("td", { "data-label": "Last seen" }, ago(d.last_seen)),
      el("td", { class: "num", "data-label": "Inference" }, d.inference_ms === null ? "–" : `${num(d.inference_ms, 1)} ms`),
      el("td", { class: "num", "data-label": "CPU temp" }, temp(d.cpu_temp_c)),
      el("td", { class: "num", "data-label": "FPS" }, num(d.fps, 1)),
      el("td", { class: "num", "data-label": "Outbox" }, d.outbox_pending === null ? "–" : `${num(d.outbox_pending)}${d.outbox_dropped ? ` (${d.outbox_dropped} dropped)` : ""}`),
      el("td", { "data-label": "Layout" }, layoutBadge(d), d.layout_running ? el("div", { class: "muted" }, d.layout_running) : null),
      el("td", { "data-label": "Model" }, ...modelCell(d)),
      el("td", { "data-label": "Software" }, d.software || "–"))))));
}

function seconds(s) {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

async function loadUplink() {
  const u = await api("/api/reports/devices/uplink");
  if (!u.enabled) {
    $("uplink").replaceChildren(el("p", { class: "empty-note", dataset: { uplink: "off" } },
      "Not enabled: this gateway feeds no head office (hq: in the gateway config)."));
    return;
  }
  const state = u.last_error ? el("span", { class: "badge bad" }, el("i", { class: "dot" }), "down")
    : el("span", { class: "badge good" }, el("i", { class: "dot" }), "sending");
  const dropped = Object.entries(u.dropped_by_kind).filter(([, n]) => n).map(([kind, n]) => `${n} ${kind}`).join(", ");
  const banner = u.last_error ? [el("div", { class: "banner", role: "alert", dataset: { alert: "uplink" } }, `Head-office uplink: ${u.last_error}`)] : [];
  $("uplink").replaceChildren(...banner,
    el("section", { class: "kpis", dataset: { uplink: "on" } },
      kpi("Uplink", state, u.last_error ? "the head office is unreachable; messages wait on disk" : "head office reachable", u.last_error ? "bad" : "good"),
      kpi("Backlog", num(u.backlog), "messages waiting in the outbox", u.backlog > 1000 ? "warn" : "good"),
      kpi("Lag", seconds(u.lag_s), "age of the oldest waiting message", u.lag_s > 600 ? "warn" : "good"),
      kpi("Dropped", num(u.dropped), dropped || "by the outbox bound", u.dropped ? "warn" : "good"),
      kpi("Last sent", u.last_sent_at ? ago(u.last_sent_at) : "never", `${num(u.sent)} sent since start`)));
}

function kpi(label, value, hint, cls = "") {
  return el("div", { class: `kpi ${cls}` }, el("div", { class: "label" }, label), el("div", { class: "value" }, value), el("div", { class: "hint" }, hint));
}

async function main() {
  await shell("devices");
  try { await load(); } catch (error) { fail($("nodes"), error); }
  try { await loadUplink(); } catch (error) { fail($("uplink"), error); }
  setInterval(() => {
    if (!isOnline()) return; // the banner says so; the table keeps the last data
    load().catch((error) => fail($("nodes"), error));
    loadUplink().catch((error) => fail($("uplink"), error));
  }, REFRESH_MS);
  onConnection((online) => {
    draw(lastNodes);
    if (online) load().catch((error) => fail($("nodes"), error));
  });
  ready();
}

main();

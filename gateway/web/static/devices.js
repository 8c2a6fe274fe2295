// The devices page: the node table with status badges and a banner for every node in
// alert (offline too long, silent, or its camera failing), each node's model version and
// latest roll-out outcome, and the head-office uplink's backlog and lag. Refreshes every 10 s.
import { ago, api, clockTime, el, fail, isOnline, minutes, num, onConnection, ready, shell, t } from "/static/app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;

/** A node's alert in words (the API names it: offline, silent, camera_fault). */
const ALERT = {
  offline: t("devices.alert_offline"),
  silent: t("devices.alert_silent"),
  camera_fault: t("devices.alert_camera_fault"),
};

/** A roll-out's outcome on a node, in words (the API's outcome names). */
const OUTCOME = {
  switched: t("devices.outcome_switched"),
  rejected: t("devices.outcome_rejected"),
  reverted: t("devices.outcome_reverted"),
  announced: t("devices.outcome_announced"),
};

/** Column names, also the cells' labels when the table turns into cards on a phone. */
const COLUMN = {
  node: t("devices.col_node"),
  status: t("devices.col_status"),
  seen: t("devices.col_last_seen"),
  inference: t("devices.col_inference"),
  temp: t("devices.col_cpu_temp"),
  fps: t("devices.col_fps"),
  outbox: t("devices.col_outbox"),
  layout: t("devices.col_layout"),
  model: t("devices.col_model"),
  software: t("devices.col_software"),
};

function statusBadge(d) {
  if (!isOnline()) return el("span", { class: "badge", title: t("devices.unreachable") }, el("i", { class: "dot" }), t("devices.unknown"));
  if (d.alert === "offline") return el("span", { class: "badge bad" }, el("i", { class: "dot" }), ALERT.offline);
  if (d.alert) return el("span", { class: "badge warn" }, el("i", { class: "dot" }), ALERT[d.alert] || d.alert.replace("_", " "));
  if (!d.online) return el("span", { class: "badge" }, el("i", { class: "dot" }), d.offline_since ? t("devices.offline_brief") : t("devices.never_connected"));
  return el("span", { class: "badge good" }, el("i", { class: "dot" }), t("devices.online"));
}

function layoutBadge(d) {
  if (d.layout_current === true) return el("span", { class: "badge good", title: d.layout_running }, t("devices.layout_current"));
  if (d.layout_current === false) {
    const title = t("devices.layout_differs", { running: d.layout_running, configured: d.layout_configured });
    return el("span", { class: "badge warn", title }, t("devices.layout_outdated"));
  }
  return el("span", { class: "badge" }, d.layout_configured ? t("devices.layout_not_reported") : t("devices.no_layout"));
}

const ROLLOUT_BADGE = { switched: "good", rejected: "bad", reverted: "", announced: "warn" };

function modelCell(d) {
  const version = d.model_version
    ? el("strong", { dataset: { modelVersion: d.model_version } }, d.model_version)
    : el("span", { class: "muted", dataset: { modelVersion: "" } }, t("devices.model_configured"));
  const rollout = d.rollout_outcome
    ? el("div", {},
      el("span", { class: `badge ${ROLLOUT_BADGE[d.rollout_outcome] ?? ""}`, title: d.rollout_reason || null, dataset: { rollout: d.rollout_outcome } },
        t("devices.rollout_badge", { version: d.rollout_version, outcome: OUTCOME[d.rollout_outcome] || d.rollout_outcome })))
    : null;
  const reason = d.rollout_outcome === "rejected" && d.rollout_reason ? el("div", { class: "muted" }, d.rollout_reason) : null;
  return [version, d.model ? el("div", { class: "muted" }, d.model) : null, rollout, reason];
}

function temp(value) {
  if (value === null || value === undefined) return "–";
  return el("span", { class: value >= 80 ? "error-note" : null }, t("devices.celsius", { c: value }));
}

async function load() {
  // Alert thresholds may be set in the page's address (e.g. ?offline_alert_s=60).
  const url = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const key of ["offline_alert_s", "silent_after_s"]) if (url.get(key)) query.set(key, url.get(key));
  draw(await api(`/api/reports/devices?${query}`));
  $("refreshed").textContent = t("devices.updated_at", { time: clockTime() });
}

let lastNodes = [];

function draw(nodes) {
  lastNodes = nodes;
  const alerts = nodes.filter((d) => d.alert);
  $("alerts").replaceChildren(...alerts.map((d) =>
    el("div", { class: "banner", role: "alert", dataset: { alert: `${d.store}/${d.camera}` } },
      `${d.store} / ${d.camera}: ${d.alert_reason || ALERT[d.alert] || d.alert}`)));
  const online = nodes.filter((d) => d.online).length;
  const outdated = nodes.filter((d) => d.layout_current === false).length;
  $("kpis").replaceChildren(
    isOnline()
      ? kpi(t("devices.kpi_online"), t("devices.online_of", { online, total: nodes.length }), t("devices.nodes_reporting"), online === nodes.length ? "good" : "warn")
      : kpi(t("devices.kpi_online"), t("devices.online_of", { online: "?", total: nodes.length }), t("devices.online_unknown"), "warn"),
    kpi(t("devices.kpi_alerts"), num(alerts.length), t("devices.alerts_hint"), alerts.length ? "bad" : "good"),
    kpi(t("devices.kpi_outdated"), num(outdated), t("devices.outdated_hint"), outdated ? "warn" : "good"));
  if (!nodes.length) { $("nodes").replaceChildren(el("p", { class: "empty-note" }, t("devices.no_nodes"))); return; }
  const c = COLUMN;
  $("nodes").replaceChildren(el("table", { class: "cards", id: "nodes-table" },
    el("thead", {}, el("tr", {}, [c.node, c.status, c.seen, c.inference, c.temp, c.fps, c.outbox, c.layout, c.model, c.software].map((h, i) => el("th", { class: i >= 3 && i <= 6 ? "num" : null }, h)))),
    el("tbody", {}, nodes.map((d) => el("tr", { dataset: { node: `${d.store}/${d.camera}` } },
      el("td", { "data-label": c.node }, el("strong", {}, d.camera), el("div", { class: "muted" }, d.store)),
      el("td", { "data-label": c.status }, statusBadge(d), d.alert_reason ? el("div", { class: "muted" }, d.alert_reason) : null),
      el("td", { "data-label": c.seen }, ago(d.last_seen)),
      el("td", { class: "num", "data-label": c.inference }, d.inference_ms === null ? "–" : t("devices.ms", { ms: d.inference_ms })),
      el("td", { class: "num", "data-label": c.temp }, temp(d.cpu_temp_c)),
      el("td", { class: "num", "data-label": c.fps }, num(d.fps, 1)),
      el("td", { class: "num", "data-label": c.outbox }, outbox(d)),
      el("td", { "data-label": c.layout }, layoutBadge(d), d.layout_running ? el("div", { class: "muted" }, d.layout_running) : null),
      el("td", { "data-label": c.model }, ...modelCell(d)),
      el("td", { "data-label": c.software }, d.software || "–"))))));
}

function outbox(d) {
  if (d.outbox_pending === null) return "–";
  return d.outbox_dropped ? t("devices.outbox_dropped", { pending: d.outbox_pending, dropped: d.outbox_dropped }) : num(d.outbox_pending);
}

async function loadUplink() {
  const u = await api("/api/reports/devices/uplink");
  if (!u.enabled) {
    $("uplink").replaceChildren(el("p", { class: "empty-note", dataset: { uplink: "off" } },
      t("devices.uplink_off")));
    return;
  }
  const state = u.last_error ? el("span", { class: "badge bad" }, el("i", { class: "dot" }), t("devices.uplink_down"))
    : el("span", { class: "badge good" }, el("i", { class: "dot" }), t("devices.uplink_sending"));
  const dropped = Object.entries(u.dropped_by_kind).filter(([, n]) => n)
    .map(([kind, n]) => t("devices.dropped_kind", { n, kind })).join(t("devices.list_separator"));
  const banner = u.last_error ? [el("div", { class: "banner", role: "alert", dataset: { alert: "uplink" } }, t("devices.uplink_error", { error: u.last_error }))] : [];
  $("uplink").replaceChildren(...banner,
    el("section", { class: "kpis", dataset: { uplink: "on" } },
      kpi(t("devices.kpi_uplink"), state, u.last_error ? t("devices.uplink_unreachable") : t("devices.uplink_reachable"), u.last_error ? "bad" : "good"),
      kpi(t("devices.kpi_backlog"), num(u.backlog), t("devices.backlog_hint"), u.backlog > 1000 ? "warn" : "good"),
      kpi(t("devices.kpi_lag"), minutes(u.lag_s / 60), t("devices.lag_hint"), u.lag_s > 600 ? "warn" : "good"),
      kpi(t("devices.kpi_dropped"), num(u.dropped), dropped || t("devices.dropped_hint"), u.dropped ? "warn" : "good"),
      kpi(t("devices.kpi_last_sent"), ago(u.last_sent_at), t("devices.sent_since_start", { count: u.sent }))));
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

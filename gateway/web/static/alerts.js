// My alerts (every user but brands): the user's own quiet hours, their channels (a
// signed webhook or an Apprise URL), a test alert to each, and their latest deliveries.
// Addresses are shown shortened (a webhook path or an Apprise URL carries tokens); a
// webhook's signing secret is shown once, right after it is added.
import { agoText, api, clockTime, el, fail, ready, shell, t, when } from "/static/app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;
const FOLLOW_MS = 20000;
const STATUS_BADGE = { sent: "good", pending: "info", held: "warn", dropped: "", failed: "bad" };
const STATUS_WORD = {
  sent: t("alerts.status_sent"), pending: t("alerts.status_pending"), held: t("alerts.status_held"),
  dropped: t("alerts.status_dropped"), failed: t("alerts.status_failed"),
};
const KIND_WORD = { webhook: t("alerts.kind_webhook"), apprise: t("alerts.kind_apprise") };
/** Alerts whose title is a fixed sentence: said in the user's language from the kind
 * (an advice alert's title is the advice as it was sent, kept as is). */
const TITLES = {
  test: () => t("alerts.title_test"),
  camera_offline: (d) => t("alerts.title_camera_offline", { store: d.store, camera: d.camera }),
};

/** A translated sentence whose {placeholders} named in `nodes` become those elements. */
function sentenceWith(text, nodes) {
  return text.split(/(\{\w+\})/).filter((part) => part !== "").map((part) => {
    const name = part.slice(1, -1);
    return /^\{\w+\}$/.test(part) && Object.hasOwn(nodes, name) ? nodes[name] : part;
  });
}

function note(text, kind = "error") {
  $("notes").replaceChildren(el("div", { class: "banner", role: kind === "error" ? "alert" : "status", dataset: { note: kind } }, text));
}

/** A channel's address without what may be a token: a webhook's scheme and host (its
 * path hidden), an Apprise URL's scheme and first characters. */
export function masked(url) {
  const cut = url.indexOf("://");
  if (cut < 0) return "…";
  const scheme = url.slice(0, cut).toLowerCase();
  if (scheme === "http" || scheme === "https") {
    try {
      const parts = new URL(url);
      const more = parts.pathname.length > 1 || parts.search ? "/…" : "";
      return `${parts.protocol}//${parts.host}${more}`;
    } catch { /* not a URL the browser reads: shorten it like the rest */ }
  }
  const rest = url.slice(cut + 3);
  return `${scheme}://${rest.slice(0, 3)}…`;
}

function showQuiet(hours) {
  const on = hours.start !== null;
  $("quiet-now").replaceChildren(on
    ? el("span", { id: "quiet-state", dataset: { quiet: "on" } }, sentenceWith(t("alerts.quiet_on", { timezone: hours.timezone }),
      { start: el("strong", {}, hours.start), end: el("strong", {}, hours.end) }))
    : el("span", { id: "quiet-state", dataset: { quiet: "off" } }, t("alerts.quiet_off")));
  $("quiet-off").disabled = !on;
  if (on) {
    $("quiet-start").value = hours.start;
    $("quiet-end").value = hours.end;
    $("quiet-zone").value = hours.timezone;
  } else if (!$("quiet-zone").value) {
    $("quiet-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  }
}

function channelRow(c) {
  return el("tr", { dataset: { channel: String(c.id), kind: c.kind } },
    el("td", { "data-label": t("alerts.name") }, el("strong", {}, c.name)),
    el("td", { "data-label": t("alerts.kind") }, el("span", { class: "badge" }, KIND_WORD[c.kind] || c.kind)),
    el("td", { "data-label": t("alerts.address") }, el("code", { class: "masked-url" }, masked(c.url))),
    el("td", { "data-label": t("alerts.added") }, when(c.created_at)),
    el("td", { "data-label": "" }, el("div", { class: "row-actions" },
      el("button", { class: "btn", type: "button", dataset: { action: "test" }, onclick: () => sendTest(c) }, t("alerts.send_test")),
      el("button", { class: "btn danger", type: "button", dataset: { action: "delete" }, onclick: () => remove(c) }, t("alerts.delete")))));
}

function showChannels(channels) {
  if (!channels.length) {
    $("channels").replaceChildren(el("p", { class: "empty-note" }, t("alerts.no_channels")));
    return;
  }
  $("channels").replaceChildren(el("table", { id: "channels-table", class: "cards" },
    el("thead", {}, el("tr", {}, [t("alerts.name"), t("alerts.kind"), t("alerts.address"), t("alerts.added"), ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, channels.map(channelRow))));
}

function deliveryRow(d) {
  const where = [d.store, d.camera].filter((part) => part && part !== "-").join(" · ");
  return el("tr", { dataset: { delivery: String(d.id), status: d.status } },
    el("td", { "data-label": t("alerts.when") }, agoText(d.sent_at || d.created_at, "common.ago")),
    el("td", { "data-label": t("alerts.alert") }, el("strong", {}, TITLES[d.kind]?.(d) ?? d.title), where ? el("div", { class: "muted" }, where) : null),
    el("td", { "data-label": t("alerts.channel") }, d.channel || el("span", { class: "muted" }, t("alerts.channel_deleted"))),
    el("td", { "data-label": t("alerts.status") }, el("span", { class: `badge ${STATUS_BADGE[d.status]}` }, STATUS_WORD[d.status] || d.status),
      d.attempts > 1 ? el("div", { class: "muted" }, t("alerts.tries", { count: d.attempts })) : null,
      d.last_error && d.status !== "sent" ? el("div", { class: "error-note small" }, d.last_error) : null));
}

function showDeliveries(deliveries) {
  if (!deliveries.length) {
    $("deliveries").replaceChildren(el("p", { class: "empty-note" }, t("alerts.no_deliveries")));
    return;
  }
  $("deliveries").replaceChildren(el("table", { id: "deliveries-table", class: "cards" },
    el("thead", {}, el("tr", {}, [t("alerts.when"), t("alerts.alert"), t("alerts.channel"), t("alerts.status")].map((h) => el("th", {}, h)))),
    el("tbody", {}, deliveries.map(deliveryRow))));
}

async function load({ quiet = false } = {}) {
  const mine = await api("/api/alerts/me");
  if (!quiet) showQuiet(mine.quiet_hours);
  showChannels(mine.channels);
  showDeliveries(mine.deliveries);
  $("refreshed").textContent = t("alerts.refreshed", { time: clockTime() });
  return mine;
}

async function saveQuiet(event) {
  event.preventDefault();
  await putQuiet({ start: $("quiet-start").value, end: $("quiet-end").value, timezone: $("quiet-zone").value.trim() });
}

async function putQuiet(body) {
  try {
    showQuiet(await api("/api/alerts/me/quiet-hours", { method: "PUT", body: JSON.stringify(body) }));
    note(body.start ? t("alerts.quiet_saved") : t("alerts.quiet_turned_off"), "ok");
  } catch (error) { note(t("alerts.quiet_not_saved", { error: error.message })); }
}

function showSecret(channel) {
  const box = $("secret");
  box.replaceChildren(
    el("strong", {}, t("alerts.secret_once", { name: channel.name })),
    el("code", { id: "secret-value" }, channel.secret),
    el("span", { class: "muted small" }, t("alerts.secret_how")));
  box.hidden = false;
}

async function add(event) {
  event.preventDefault();
  const body = { name: $("channel-name").value.trim(), kind: $("channel-kind").value, url: $("channel-url").value.trim() };
  try {
    const channel = await api("/api/alerts/me/channels", { method: "POST", body: JSON.stringify(body) });
    $("channel-name").value = "";
    $("channel-url").value = "";  // the kind stays: the next one is likely the same kind
    $("secret").hidden = true;
    if (channel.secret) showSecret(channel);
    note(t("alerts.added_channel", { name: channel.name }), "ok");
    await load({ quiet: true });
  } catch (error) { note(t("alerts.not_added", { error: error.message })); }
}

async function remove(channel) {
  if (!confirm(t("alerts.confirm_delete", { name: channel.name }))) return;
  try {
    await api(`/api/alerts/me/channels/${channel.id}`, { method: "DELETE" });
    note(t("alerts.deleted", { name: channel.name }), "ok");
  } catch (error) { note(t("alerts.not_deleted", { error: error.message })); }
  await load({ quiet: true });
}

/** Queue a test alert, then refresh until the alert thread has sent it (or given up). */
async function sendTest(channel) {
  let queued;
  try {
    queued = await api(`/api/alerts/me/channels/${channel.id}/test`, { method: "POST" });
  } catch (error) { note(t("alerts.test_not_sent", { error: error.message })); return; }
  note(t("alerts.test_queued", { name: channel.name }), "ok");
  const deadline = Date.now() + FOLLOW_MS;
  while (Date.now() < deadline) {
    const mine = await load({ quiet: true });
    const found = mine.deliveries.find((d) => d.id === queued.id);
    if (found && found.status !== "pending") {
      const sent = found.status === "sent";
      note(sent ? t("alerts.test_sent", { name: channel.name })
        : t("alerts.test_failed", { name: channel.name, error: found.last_error || STATUS_WORD[found.status] || found.status }), sent ? "ok" : "error");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  note(t("alerts.test_waiting", { name: channel.name }));
}

async function main() {
  await shell("alerts");
  $("zones").replaceChildren(...(Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : []).map((z) => el("option", { value: z })));
  $("quiet").addEventListener("submit", saveQuiet);
  $("quiet-off").addEventListener("click", () => putQuiet({ start: null, end: null }));
  $("add").addEventListener("submit", add);
  $("channel-kind").addEventListener("change", () => {
    $("channel-url").placeholder = $("channel-kind").value === "webhook" ? "https://example.com/hook" : "ntfys://ntfy.sh/my-topic";
  });
  try { await load(); } catch (error) { fail($("channels"), error); }
  setInterval(() => { load({ quiet: true }).catch((error) => fail($("deliveries"), error)); }, REFRESH_MS);
  ready();
}

main();

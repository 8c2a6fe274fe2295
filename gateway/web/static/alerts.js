// My alerts (every user but brands): the user's own quiet hours, their channels (a
// signed webhook or an Apprise URL), a test alert to each, and their latest deliveries.
// Addresses are shown shortened (a webhook path or an Apprise URL carries tokens); a
// webhook's signing secret is shown once, right after it is added.
import { agoText, api, el, fail, ready, shell, when } from "/static/app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;
const FOLLOW_MS = 20000;
const STATUS_BADGE = { sent: "good", pending: "info", held: "warn", dropped: "", failed: "bad" };
const STATUS_WORD = { sent: "sent", pending: "sending", held: "held (quiet hours)", dropped: "dropped", failed: "failed" };

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
    ? el("span", { id: "quiet-state", dataset: { quiet: "on" } }, "Quiet every day from ", el("strong", {}, hours.start), " until ", el("strong", {}, hours.end), ` (${hours.timezone}).`)
    : el("span", { id: "quiet-state", dataset: { quiet: "off" } }, "No quiet hours: alerts go out at any time."));
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
    el("td", { "data-label": "Name" }, el("strong", {}, c.name)),
    el("td", { "data-label": "Kind" }, el("span", { class: "badge" }, c.kind)),
    el("td", { "data-label": "Address" }, el("code", { class: "masked-url" }, masked(c.url))),
    el("td", { "data-label": "Added" }, when(c.created_at)),
    el("td", { "data-label": "" }, el("div", { class: "row-actions" },
      el("button", { class: "btn", type: "button", dataset: { action: "test" }, onclick: () => sendTest(c) }, "Send a test"),
      el("button", { class: "btn danger", type: "button", dataset: { action: "delete" }, onclick: () => remove(c) }, "Delete"))));
}

function showChannels(channels) {
  if (!channels.length) {
    $("channels").replaceChildren(el("p", { class: "empty-note" }, "No channel yet: add one to get alerts."));
    return;
  }
  $("channels").replaceChildren(el("table", { id: "channels-table", class: "cards" },
    el("thead", {}, el("tr", {}, ["Name", "Kind", "Address", "Added", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, channels.map(channelRow))));
}

function deliveryRow(d) {
  const where = [d.store, d.camera].filter((part) => part && part !== "-").join(" · ");
  return el("tr", { dataset: { delivery: String(d.id), status: d.status } },
    el("td", { "data-label": "When" }, agoText(d.sent_at || d.created_at, "common.ago")),
    el("td", { "data-label": "Alert" }, el("strong", {}, d.title), where ? el("div", { class: "muted" }, where) : null),
    el("td", { "data-label": "Channel" }, d.channel || el("span", { class: "muted" }, "deleted")),
    el("td", { "data-label": "Status" }, el("span", { class: `badge ${STATUS_BADGE[d.status]}` }, STATUS_WORD[d.status] || d.status),
      d.attempts > 1 ? el("div", { class: "muted" }, `${d.attempts} tries`) : null,
      d.last_error && d.status !== "sent" ? el("div", { class: "error-note small" }, d.last_error) : null));
}

function showDeliveries(deliveries) {
  if (!deliveries.length) {
    $("deliveries").replaceChildren(el("p", { class: "empty-note" }, "No alert sent to you yet."));
    return;
  }
  $("deliveries").replaceChildren(el("table", { id: "deliveries-table", class: "cards" },
    el("thead", {}, el("tr", {}, ["When", "Alert", "Channel", "Status"].map((h) => el("th", {}, h)))),
    el("tbody", {}, deliveries.map(deliveryRow))));
}

async function load({ quiet = false } = {}) {
  const mine = await api("/api/alerts/me");
  if (!quiet) showQuiet(mine.quiet_hours);
  showChannels(mine.channels);
  showDeliveries(mine.deliveries);
  $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
  return mine;
}

async function saveQuiet(event) {
  event.preventDefault();
  await putQuiet({ start: $("quiet-start").value, end: $("quiet-end").value, timezone: $("quiet-zone").value.trim() });
}

async function putQuiet(body) {
  try {
    showQuiet(await api("/api/alerts/me/quiet-hours", { method: "PUT", body: JSON.stringify(body) }));
    note(body.start ? "Quiet hours saved." : "Quiet hours turned off.", "ok");
  } catch (error) { note(`Quiet hours not saved: ${error.message}`); }
}

function showSecret(channel) {
  const box = $("secret");
  box.replaceChildren(
    el("strong", {}, `Signing secret of “${channel.name}”: copy it now, this page does not show it again.`),
    el("code", { id: "secret-value" }, channel.secret),
    el("span", { class: "muted small" }, "Your receiver checks each alert's X-Shelfsense-Signature header with it (HMAC-SHA256; see the README's Push alerts section)."));
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
    note(`Added “${channel.name}”. Send it a test to see that it arrives.`, "ok");
    await load({ quiet: true });
  } catch (error) { note(`Channel not added: ${error.message}`); }
}

async function remove(channel) {
  if (!confirm(`Delete the channel “${channel.name}”? Alerts stop going there.`)) return;
  try {
    await api(`/api/alerts/me/channels/${channel.id}`, { method: "DELETE" });
    note(`Deleted “${channel.name}”.`, "ok");
  } catch (error) { note(`Not deleted: ${error.message}`); }
  await load({ quiet: true });
}

/** Queue a test alert, then refresh until the alert thread has sent it (or given up). */
async function sendTest(channel) {
  let queued;
  try {
    queued = await api(`/api/alerts/me/channels/${channel.id}/test`, { method: "POST" });
  } catch (error) { note(`Test not sent: ${error.message}`); return; }
  note(`Test alert to “${channel.name}” queued…`, "ok");
  const deadline = Date.now() + FOLLOW_MS;
  while (Date.now() < deadline) {
    const mine = await load({ quiet: true });
    const found = mine.deliveries.find((d) => d.id === queued.id);
    if (found && found.status !== "pending") {
      note(found.status === "sent" ? `Test alert to “${channel.name}” sent.` : `Test alert to “${channel.name}”: ${found.last_error || found.status}.`, found.status === "sent" ? "ok" : "error");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
  }
  note(`Test alert to “${channel.name}” is still waiting: is the alert thread on (alerts.enabled)?`);
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

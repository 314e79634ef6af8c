// The dashboard's shell: log in with a token, pages by the address's fragment, live updates from /api/events
// (Enterprise and admin) or a slow refresh (other tiers, whose daily quota a dashboard left open must not eat).
import { api, session, stream } from "./api.js";
import { el, errorText, toast } from "./ui.js";
import * as overview from "./pages/overview.js";
import * as positions from "./pages/positions.js";
import * as history from "./pages/history.js";
import * as strategies from "./pages/strategies.js";
import * as signals from "./pages/signals.js";
import * as logs from "./pages/logs.js";
import * as admin from "./pages/admin.js";

const pages = { overview, positions, history, strategies, signals, logs, admin };
/// Without the stream, how often to refresh: every 30 s at most, and slowly enough that a page left open all day
/// spends no more than half the tier's daily quota (a refresh costs up to 6 calls). Free's 1,000 a day: 15 minutes.
function pollSeconds(me) {
  const perDay = me.limits?.perDay ?? 0;
  if (!perDay) return 30;
  return Math.min(900, Math.max(30, Math.ceil((86400 * 6) / (perDay * 0.5))));
}
let context = null;
let current = null;
let streamAbort = null;
let pollTimer = null;
let refreshTimer = null;

function identityFrom(me) {
  const isAdmin = me.role === "admin";
  return {
    me, isAdmin,
    canWrite: !(me.limits && me.limits.readOnly),
    canStream: isAdmin || me.tier === "enterprise",
    writeWhy: `your ${me.tier} tier is read-only (Pro and above may change things)`,
    adminWhy: "needs an admin token",
  };
}

async function logIn(token) {
  session.token = token;
  try {
    const me = await api("/api/subscription/me");
    context = identityFrom(me);
    return true;
  } catch (error) {
    session.token = null;
    context = null;
    throw error;
  }
}

function logOut() {
  session.token = null;
  context = null;
  stopLive();
  location.hash = "";
  showLogin();
}

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("page").replaceChildren();
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("login-error").textContent = message;
  document.getElementById("token").focus();
}

function parseHash() {
  const [name, query = ""] = location.hash.replace(/^#/, "").split("?");
  return { name: pages[name] ? name : "overview", params: new URLSearchParams(query) };
}

async function show() {
  if (!context) return showLogin();
  document.getElementById("login").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  const me = context.me;
  document.getElementById("identity").textContent = `${me.owner} · ${me.role === "admin" ? "admin" : me.tier}`;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.needs === "admin") link.hidden = !context.isAdmin;
  }
  const { name, params } = parseHash();
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.getAttribute("href") === "#" + name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const page = pages[name];
  current = { name, page, params };
  const container = document.getElementById("page");
  container.dataset.page = name;
  try {
    const content = await page.render({ ...context, params, refresh: scheduleRefresh });
    if (current.page === page) container.replaceChildren(content);
  } catch (error) {
    if (error.status === 401) return logOut();
    container.replaceChildren(el("p", { class: "error", role: "alert" }, "This page could not be loaded: ", errorText(error)));
  }
}

function scheduleRefresh(delay = 800) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { if (context && !document.querySelector("#page [data-editing]")) show(); }, delay);
}

function announce(text) {
  document.getElementById("live").textContent = text;
}

function stopLive() {
  if (streamAbort) streamAbort.abort();
  streamAbort = null;
  clearInterval(pollTimer);
  pollTimer = null;
}

function startLive() {
  stopLive();
  if (!context.canStream) {
    const seconds = pollSeconds(context.me);
    announce(`refreshing every ${seconds >= 120 ? Math.round(seconds / 60) + " min" : seconds + " s"} (live updates need Enterprise)`);
    pollTimer = setInterval(() => scheduleRefresh(0), seconds * 1000);
    return;
  }
  const abort = new AbortController();
  streamAbort = abort;
  const run = async (attempt) => {
    try {
      announce("live");
      await stream("/api/events", onEvent, abort.signal);
      if (!abort.signal.aborted) throw new Error("the stream ended");
    } catch (error) {
      if (abort.signal.aborted) return;
      if (error.status === 401) return logOut();
      const wait = Math.min(30, 2 ** attempt);
      announce(`live updates lost (${errorText(error)}); reconnecting in ${wait} s`);
      setTimeout(() => { if (streamAbort === abort) run(attempt + 1); }, wait * 1000);
    }
  };
  run(0);
}

function onEvent(name, data) {
  if (name === "tick") return;
  if (current && current.page.onEvent && current.page.onEvent(name, data)) return;
  if (name === "fill") toast(`fill: ${data.side} ${data.quantity} ${data.symbol} at ${data.price}`);
  if (name === "mindset_state") toast(`mindset: ${data.from} → ${data.to} (${data.reason})`);
  if (name === "daemon_down") toast(`${data.daemon} is down`);
  if (["fill", "order", "mindset_state", "decision", "daemon_down", "daemon_up"].includes(name)) scheduleRefresh();
}

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = document.getElementById("token");
  const token = field.value.trim();
  field.value = "";
  try {
    await logIn(token);
    startLive();
    if (!location.hash) location.hash = "#overview";
    else show();
  } catch (error) {
    showLogin(error.status === 401 ? `Refused: ${error.message}` : `Could not log in: ${errorText(error)}`);
  }
});
document.getElementById("logout").addEventListener("click", logOut);
document.getElementById("refresh").addEventListener("click", () => {
  // A refresh would redraw the form being edited: say why nothing moves rather than wipe it or do nothing silently.
  if (document.querySelector("#page [data-editing]")) toast("not refreshed: a form on this page is being edited (submit it, or put it back as it was)");
  scheduleRefresh(0);
});
window.addEventListener("hashchange", show);

(async () => {
  if (!session.token) return showLogin();
  try {
    await logIn(session.token);
    startLive();
    show();
  } catch (error) {
    showLogin(error.status === 401 ? `Your token was refused: ${error.message}` : errorText(error));
  }
})();

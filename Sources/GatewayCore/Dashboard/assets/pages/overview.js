// Overview: the account, today's and 30 days' equity, the mindset with its limits as gauges, the processes and
// venues, the trading switch, the latest fills (live), and the trader's own lockout.
import { api } from "../api.js";
import { lineChart } from "../chart.js";
import { action, el, errorText, signed, table, time, toast } from "../ui.js";

let fillsBody = null;

function gauge(label, used, limit, detail) {
  const value = Number(used), max = Number(limit);
  const id = "g-" + label.replace(/\W+/g, "-");
  if (!(max > 0)) return el("div", { class: "gauge" }, el("span", {}, label, ": ", el("span", { class: "muted" }, "no limit set")));
  const ratio = Math.max(0, value) / max;
  return el("div", { class: "gauge" },
    el("label", { for: id }, `${label}: ${detail}`),
    el("meter", { id, min: 0, max, low: max * 0.5, high: max * 0.8, optimum: 0, value: Math.min(Math.max(0, value), max) },
       `${Math.round(ratio * 100)} %`));
}

function fillRow(fill) {
  return [fill.side, fill.quantity, fill.symbol, fill.price, fill.strategyId || "—", fill.time];
}

function fillsTable(fills) {
  const wrapper = table("Latest fills, newest first", [
    ["Time", (f) => time(f.time)], ["Symbol", (f) => f.symbol], ["Side", (f) => f.side],
    ["Quantity", (f) => f.quantity, { num: true }], ["Price", (f) => f.price, { num: true }],
    ["Fee", (f) => f.fee, { num: true }], ["Strategy", (f) => f.strategyId || "—"],
  ], fills, "no fills yet");
  wrapper.id = "latest-fills";
  fillsBody = wrapper.querySelector("tbody");
  return wrapper;
}

export function onEvent(name, data) {
  if (name !== "fill" || !fillsBody || !document.body.contains(fillsBody)) return false;
  const row = el("tr", { class: "fresh" }, [time(data.time), data.symbol, data.side, data.quantity, data.price, data.fee, data.strategyId || "—"]
    .map((cell, index) => el("td", { class: [3, 4, 5].includes(index) ? "num" : undefined }, cell)));
  if (fillsBody.querySelector("td[colspan]")) fillsBody.replaceChildren();
  fillsBody.prepend(row);
  while (fillsBody.children.length > 10) fillsBody.lastChild.remove();
  return false; // the figures above change too: the page refreshes as well
}

export async function render(ctx) {
  const [account, mindset, day, month, health, fills] = await Promise.all([
    api("/api/account"), api("/api/mindset"), api("/api/account/equity?range=day"), api("/api/account/equity?range=month"),
    fetch("/healthz").then((r) => r.json()).catch(() => ({ services: {} })), api("/api/fills?limit=10"),
  ]);
  // The limits judge the worst of the closed trades, the equity's change and the open positions' (docs/mindset.md).
  const peak = Number(mindset.intradayPeak ?? 0), pnl = Number(mindset.judgedPnl ?? mindset.dailyPnl ?? 0);
  const drawdown = Math.max(0, peak - pnl);
  const lossUsed = Math.max(0, -Number(mindset.judgedPnl ?? mindset.dailyPnl ?? 0));

  const dayChart = el("div", { class: "chart" });
  const monthChart = el("div", { class: "chart" });
  const hhmm = (d) => d.toISOString().slice(11, 16);
  const mmdd = (d) => d.toISOString().slice(5, 10);
  lineChart(dayChart, day.samples, { title: `Equity today in ${day.currency}, ${day.samples.length} samples`, timeFormat: hhmm });
  lineChart(monthChart, month.samples, { title: `Equity over 30 days in ${month.currency}, ${month.samples.length} samples`, timeFormat: mmdd });

  const state = mindset.emotionState || "UNKNOWN";
  const stateClass = { CALM: "good", CONFIDENT: "good", CAUTIOUS: "warn", TILTED: "bad", LOCKED: "bad" }[state] || "muted";
  const trading = account.tradingEnabled;

  const switchButton = trading
    ? action("Pause trading", async () => {
        try { await api("/api/admin/pause", { method: "POST", body: { reason: "paused from the dashboard" } }); toast("trading paused"); ctx.refresh(0); }
        catch (error) { toast(errorText(error)); }
      }, { allowed: ctx.isAdmin, why: ctx.adminWhy, danger: true })
    : action("Resume trading", async () => {
        try { await api("/api/admin/resume", { method: "POST", body: {} }); toast("trading resumed"); ctx.refresh(0); }
        catch (error) { toast(errorText(error)); }
      }, { allowed: ctx.isAdmin, why: ctx.adminWhy });

  const lockoutForm = el("form", { class: "filters", "aria-label": "Lock myself out" },
    el("div", { class: "field" }, el("label", { for: "lockout-hours" }, "Hours"),
       el("input", { id: "lockout-hours", type: "number", min: "1", max: "720", value: "12", required: true, disabled: !ctx.canWrite })),
    el("div", { class: "field" }, el("label", { for: "lockout-reason" }, "Reason"),
       el("input", { id: "lockout-reason", maxlength: "200", required: true, disabled: !ctx.canWrite, value: "" })),
    action("Lock me out", null, { allowed: ctx.canWrite, why: ctx.writeWhy }));
  lockoutForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const hours = Number(lockoutForm.querySelector("#lockout-hours").value);
    const until = new Date(Date.now() + hours * 3600_000).toISOString();
    try {
      await api("/api/mindset/lockout", { method: "POST", body: { until, reason: lockoutForm.querySelector("#lockout-reason").value } });
      toast(`no new entries until ${until}`);
      ctx.refresh(0);
    } catch (error) { toast(errorText(error)); }
  });
  const submit = lockoutForm.querySelector("button");
  if (submit) submit.type = "submit";

  const services = Object.entries(health.services || {}).sort();
  return el("div", {},
    el("h2", {}, "Overview"),
    el("div", { class: "grid" },
      el("div", { class: "card", id: "equity" }, el("h3", {}, "Equity"), el("div", { class: "figure" }, `${account.equity} ${account.currency}`),
         el("div", {}, "cash ", account.cash, " · exposure ", account.exposure),
         account.unvalued.length ? el("div", { class: "warn" }, "not valued (no price): ", account.unvalued.join(", ")) : null,
         (account.shortfalls || []).map((s) => el("div", { class: "bad", role: "alert" },
           `${s.venue} holds ${s.held} ${s.asset}, less than the strategies' books (${s.booked}): a fill missed, or a trade by hand there`))),
      el("div", { class: "card" }, el("h3", {}, "Today"),
         el("div", { class: "figure" }, signed(account.realizedPnlToday)),
         el("div", {}, "realised, net of fees ", account.feesToday, " · unrealised ", signed(account.unrealizedPnl)),
         el("div", {}, "drawdown from today's peak: ", drawdown.toFixed(2))),
      el("div", { class: "card", id: "mindset" }, el("h3", {}, "Mindset"),
         el("div", {}, el("span", { class: `state ${stateClass}` }, state), mindset.lockReason ? el("span", { class: "why" }, mindset.lockReason) : null),
         gauge("Daily loss limit used", lossUsed, mindset.dailyLossLimit, `${lossUsed.toFixed(2)} of ${mindset.dailyLossLimit ?? "—"}`),
         gauge("Give-back from peak", drawdown, mindset.giveBackLimit, `${drawdown.toFixed(2)} of ${mindset.giveBackLimit ?? "—"}`),
         el("div", {}, `trades ${mindset.trades ?? 0} · wins ${mindset.wins ?? 0} · losses ${mindset.losses ?? 0}`),
         mindset.openPositionsChange != null ? el("div", { id: "open-positions-change" }, "open positions since the day's start: ", signed(mindset.openPositionsChange)) : null,
         (mindset.positionsLeftOut || []).length ? el("div", { class: "warn" }, "not in the open positions' measure (no price, or the venue holds less): ",
           mindset.positionsLeftOut.join(", ")) : null,
         mindset.selfLockoutUntil ? el("div", { class: "warn" }, "self-lockout until ", time(mindset.selfLockoutUntil), ": ", mindset.selfLockoutReason) : null,
         (mindset.recentTransitions || []).length ? el("ul", {}, mindset.recentTransitions.slice(-3).map((t) => el("li", {}, `${t.from} → ${t.to}: ${t.reason}`))) : null),
      el("div", { class: "card", id: "trading" }, el("h3", {}, "Trading"),
         el("div", { class: "figure" }, el("span", { class: trading ? "good" : "bad" }, trading ? "enabled" : "paused")),
         account.pausedReason ? el("div", {}, account.pausedReason) : null,
         switchButton),
      el("div", { class: "card" }, el("h3", {}, "Processes and venues"),
         el("ul", {}, services.map(([name, up]) => el("li", {}, `${name}: `, el("span", { class: up === "up" ? "good" : "bad" }, up)))),
         el("ul", {}, account.venues.map((v) => el("li", { "data-venue": v.venue }, `${v.venue}: `,
           v.connection ? el("span", { class: v.connection === "connected" ? "good" : "bad" }, v.connection) : el("span", { class: "muted" }, "no report yet"),
           v.connectionSince ? [" since ", time(v.connectionSince)] : null,
           v.blocked ? [" · ", el("span", { class: "bad" }, v.blocked)] : null,
           v.ordersHeld ? [" · ", el("span", { class: "bad" }, v.ordersHeld)] : null, ` · equity ${v.equity}`))))),
    el("h3", {}, "Equity today"), dayChart,
    el("h3", {}, "Equity, 30 days"), monthChart,
    el("h3", {}, "Latest fills"), fillsTable(fills.fills),
    el("h3", {}, "Lock myself out"),
    el("p", { class: "hint" }, "No new entries until the time is up, whatever happens meanwhile; nobody can lift it early. Exits still pass."),
    lockoutForm);
}

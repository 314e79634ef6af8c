// Positions per venue and the orders still working, with cancel where the token may cancel.
import { api } from "../api.js";
import { action, el, errorText, signed, table, time, toast, traceLink } from "../ui.js";

export function cancelButton(ctx, order) {
  const own = order.strategyId === "manual";
  const allowed = ctx.isAdmin || (ctx.canWrite && own);
  const why = !ctx.canWrite ? ctx.writeWhy : "a strategy's order: cancelling it needs an admin token";
  return action("Cancel", async () => {
    try {
      const after = await api(`/api/orders/${encodeURIComponent(order.clientOrderId)}`, { method: "DELETE" });
      toast(`${order.clientOrderId}: ${after.status}`);
      ctx.refresh(0);
    } catch (error) { toast(errorText(error)); }
  }, { allowed, why, secondary: true });
}

export async function render(ctx) {
  const [positions, acknowledged, partial] = await Promise.all([
    api("/api/positions"), api("/api/orders?status=acknowledged&limit=200"), api("/api/orders?status=partially_filled&limit=200"),
  ]);
  const open = [...acknowledged.orders, ...partial.orders];
  return el("div", {},
    el("h2", {}, "Positions and open orders"),
    table("Positions per venue and symbol", [
      ["Venue", (p) => p.venue], ["Symbol", (p) => p.symbol], ["Quantity", (p) => p.quantity, { num: true }],
      ["Average price", (p) => p.averagePrice ?? "—", { num: true }], ["Last price", (p) => p.lastPrice ?? "—", { num: true }],
      ["Unrealised", (p) => signed(p.unrealizedPnl), { num: true }], ["Realised", (p) => signed(p.realizedPnl), { num: true }],
    ], positions.positions.filter((p) => p.quantity !== "0"), "no open positions"),
    el("h3", {}, "Open orders"),
    table("Orders working at their venue", [
      ["Created", (o) => time(o.createdAt)], ["Order", (o) => el("span", { class: "mono" }, o.clientOrderId)],
      ["Symbol", (o) => o.symbol], ["Side", (o) => o.side], ["Type", (o) => o.type],
      ["Quantity", (o) => o.quantity, { num: true }], ["Filled", (o) => o.filledQuantity, { num: true }],
      ["Limit", (o) => o.limitPrice ?? "—", { num: true }], ["Strategy", (o) => o.strategyId ?? "—"],
      ["Trace", (o) => traceLink(ctx, o.requestId)], ["", (o) => cancelButton(ctx, o)],
    ], open, "no open orders"));
}

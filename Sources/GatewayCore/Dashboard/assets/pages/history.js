// Orders and fills history: filters, and paging by the API's cursors (orders) and sequences (fills).
import { api } from "../api.js";
import { el, holdsRefreshWhileEdited, signed, table, time, traceLink } from "../ui.js";
import { cancelButton } from "./positions.js";

const STATUSES = ["", "pending_new", "sent", "acknowledged", "partially_filled", "filled", "cancelled", "rejected", "expired", "unknown"];

// A new filter starts at the first page: `pageKey` is the section's paging parameter (orders' cursor, fills' before).
function filterForm(ctx, prefix, pageKey, values, fields) {
  const form = el("form", { class: "filters", "aria-label": `Filter ${prefix}` },
    fields.map(([name, label, options]) => el("div", { class: "field" },
      el("label", { for: `${prefix}-${name}` }, label),
      options ? el("select", { id: `${prefix}-${name}`, name }, options.map((o) => el("option", { value: o, selected: values.get(name) === o }, o || "any")))
              : el("input", { id: `${prefix}-${name}`, name, value: values.get(name) || "", size: 12 }))),
    el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(ctx.params);
    for (const [name] of fields) {
      const value = form.elements[name].value.trim();
      value ? params.set(`${prefix}_${name}`, value) : params.delete(`${prefix}_${name}`);
    }
    params.delete(`${prefix}_${pageKey}`);
    location.hash = "#history?" + params.toString();
  });
  return holdsRefreshWhileEdited(form);
}

function pick(ctx, prefix, names) {
  const query = new URLSearchParams();
  for (const name of names) {
    const value = ctx.params.get(`${prefix}_${name}`);
    if (value) query.set(name, value);
  }
  return query;
}

function pager(ctx, prefix, key, next) {
  const first = new URLSearchParams(ctx.params);
  first.delete(`${prefix}_${key}`);
  const later = new URLSearchParams(ctx.params);
  if (next) later.set(`${prefix}_${key}`, next);
  return el("div", { class: "pager" },
    ctx.params.get(`${prefix}_${key}`) ? el("a", { href: "#history?" + first.toString() }, "First page") : null,
    next ? el("a", { href: "#history?" + later.toString(), rel: "next" }, "Next page") : el("span", { class: "muted" }, "last page"));
}

export async function render(ctx) {
  const orderQuery = pick(ctx, "o", ["symbol", "status", "strategy", "cursor"]);
  orderQuery.set("limit", "25");
  const fillQuery = pick(ctx, "f", ["symbol", "strategy", "before"]);
  fillQuery.set("limit", "25");
  const [orders, fills] = await Promise.all([api("/api/orders?" + orderQuery), api("/api/fills?" + fillQuery)]);
  return el("div", {},
    el("h2", {}, "Orders and fills"),
    el("h3", {}, "Orders"),
    filterForm(ctx, "o", "cursor", new URLSearchParams([...ctx.params].filter(([k]) => k.startsWith("o_")).map(([k, v]) => [k.slice(2), v])),
               [["symbol", "Symbol"], ["status", "Status", STATUSES], ["strategy", "Strategy"]]),
    table("Orders, newest first", [
      ["Created", (o) => time(o.createdAt)], ["Order", (o) => el("span", { class: "mono" }, o.clientOrderId)], ["Venue", (o) => o.venue],
      ["Symbol", (o) => o.symbol], ["Side", (o) => o.side], ["Quantity", (o) => o.quantity, { num: true }],
      ["Filled", (o) => o.filledQuantity, { num: true }], ["Average price", (o) => o.averageFillPrice ?? "—", { num: true }],
      ["Status", (o) => o.status], ["Strategy", (o) => o.strategyId ?? "—"], ["Trace", (o) => traceLink(ctx, o.requestId)],
      ["", (o) => (["acknowledged", "partially_filled"].includes(o.status) ? cancelButton(ctx, o) : "")],
    ], orders.orders, "no orders match"),
    pager(ctx, "o", "cursor", orders.nextCursor),
    el("h3", {}, "Fills"),
    filterForm(ctx, "f", "before", new URLSearchParams([...ctx.params].filter(([k]) => k.startsWith("f_")).map(([k, v]) => [k.slice(2), v])),
               [["symbol", "Symbol"], ["strategy", "Strategy"]]),
    table("Fills, newest first", [
      ["Time", (f) => time(f.time)], ["#", (f) => f.sequence ?? "—", { num: true }], ["Order", (f) => el("span", { class: "mono" }, f.clientOrderId)],
      ["Venue", (f) => f.venue], ["Symbol", (f) => f.symbol], ["Side", (f) => f.side], ["Quantity", (f) => f.quantity, { num: true }],
      ["Price", (f) => f.price, { num: true }], ["Fee", (f) => signed(f.fee), { num: true }], ["Strategy", (f) => f.strategyId ?? "—"],
      ["Trace", (f) => traceLink(ctx, f.requestId)],
    ], fills.fills, "no fills match"),
    pager(ctx, "f", "before", fills.nextBefore));
}

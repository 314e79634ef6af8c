// Signals with mindsetd's decisions and their reasons, newest first.
import { api } from "../api.js";
import { el, holdsRefreshWhileEdited, table, time } from "../ui.js";

const OUTCOMES = ["", "pending", "approved", "blocked", "below_minimum", "not_sent", "placed", "unknown"];

export async function render(ctx) {
  const query = new URLSearchParams({ limit: "100" });
  for (const name of ["strategy", "outcome"]) if (ctx.params.get(name)) query.set(name, ctx.params.get(name));
  const page = await api("/api/signals?" + query);
  const form = el("form", { class: "filters", "aria-label": "Filter signals" },
    el("div", { class: "field" }, el("label", { for: "s-strategy" }, "Strategy"), el("input", { id: "s-strategy", name: "strategy", value: ctx.params.get("strategy") || "" })),
    el("div", { class: "field" }, el("label", { for: "s-outcome" }, "Outcome"),
       el("select", { id: "s-outcome", name: "outcome" }, OUTCOMES.map((o) => el("option", { value: o, selected: ctx.params.get("outcome") === o }, o || "any")))),
    el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of ["strategy", "outcome"]) if (form.elements[name].value) params.set(name, form.elements[name].value);
    location.hash = "#signals?" + params;
  });
  holdsRefreshWhileEdited(form);
  return el("div", {},
    el("h2", {}, "Signals and decisions"),
    el("p", { class: "hint" }, `arsenald keeps its last ${page.capacity ?? 1000} signals; every order is under Orders & fills.`),
    form,
    table("Signals, newest first", [
      ["Time", (r) => time(r.signal.time)], ["Strategy", (r) => r.signal.strategyId], ["Symbol", (r) => r.signal.symbol],
      ["Side", (r) => r.signal.side], ["Quantity", (r) => r.signal.quantity, { num: true }], ["Price", (r) => r.signal.price, { num: true }],
      ["Entry", (r) => (r.signal.isEntry ? "entry" : "exit")], ["Outcome", (r) => el("strong", {}, r.outcome)],
      ["Why", (r) => el("span", {}, (r.decision?.reasons || []).join("; ") || r.detail || r.signal.reason || "—")],
    ], page.signals || [], "no signals match"));
}

// The four processes' recent log lines (admin): by level, daemon and request id — an order's trace.
import { api } from "../api.js";
import { el, holdsRefreshWhileEdited, table, time } from "../ui.js";

const LEVELS = ["", "trace", "debug", "info", "notice", "warning", "error", "critical"];
const DAEMONS = ["", "gateway", "mindsetd", "arsenald", "routerd"];

export async function render(ctx) {
  if (!ctx.isAdmin) return el("p", {}, "The logs need an admin token.");
  const query = new URLSearchParams({ limit: "300" });
  for (const name of ["level", "daemon", "requestId"]) if (ctx.params.get(name)) query.set(name, ctx.params.get(name));
  const page = await api("/api/logs?" + query);
  const field = (name, label, options) => el("div", { class: "field" }, el("label", { for: `l-${name}` }, label),
    options ? el("select", { id: `l-${name}`, name }, options.map((o) => el("option", { value: o, selected: ctx.params.get(name) === o }, o || "any")))
            : el("input", { id: `l-${name}`, name, value: ctx.params.get(name) || "", size: 24 }));
  const form = el("form", { class: "filters", "aria-label": "Filter log lines" },
    field("level", "Level", LEVELS), field("daemon", "Daemon", DAEMONS), field("requestId", "Request id"), el("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of ["level", "daemon", "requestId"]) if (form.elements[name].value.trim()) params.set(name, form.elements[name].value.trim());
    location.hash = "#logs?" + params;
  });
  holdsRefreshWhileEdited(form);
  const lines = (page.lines || []).slice();
  if (ctx.params.get("requestId")) lines.sort((a, b) => String(a.time).localeCompare(String(b.time)));
  return el("div", {},
    el("h2", {}, ctx.params.get("requestId") ? `Trace of ${ctx.params.get("requestId")}` : "Logs"),
    form,
    page.unavailable?.length ? el("p", { class: "warn" }, "not answering: ", page.unavailable.join(", ")) : null,
    table(ctx.params.get("requestId") ? "Every line of the request, in time order" : "Log lines, newest first", [
      ["Time", (l) => time(l.time)], ["Daemon", (l) => l.daemon], ["Level", (l) => l.level], ["Component", (l) => l.component],
      ["Message", (l) => l.message],
      ["Details", (l) => el("span", { class: "mono" }, Object.entries(l.metadata || {}).map(([k, v]) => `${k}=${v}`).join(" "))],
    ], lines, "no lines match"));
}

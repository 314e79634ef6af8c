// The strategy registry: enable, disable, parameters within the schema's bounds, and each strategy's performance.
import { api } from "../api.js";
import { action, el, errorText, signed, table, toast } from "../ui.js";

function parameterForm(ctx, strategy) {
  const rows = strategy.parameters.map((p) => {
    const id = `p-${strategy.id}-${p.name}`;
    return el("tr", {},
      el("th", { scope: "row" }, el("label", { for: id }, p.name)),
      el("td", {}, el("input", { id, name: p.name, type: "number", value: p.value, min: p.minimum, max: p.maximum,
                                 step: p.type === "integer" ? "1" : "any", required: true, disabled: !ctx.canWrite,
                                 "aria-describedby": id + "-d" })),
      el("td", { id: id + "-d", class: "muted" }, `${p.description} (${p.minimum} – ${p.maximum}; default ${p.defaultValue})`));
  });
  const form = el("form", { "aria-label": `Parameters of ${strategy.id}` },
    el("table", { class: "params" }, el("tbody", {}, rows)),
    action("Save parameters", null, { allowed: ctx.canWrite, why: ctx.writeWhy }),
    el("p", { class: "error", role: "alert" }));
  const button = form.querySelector("button");
  if (button) button.type = "submit";
  form.addEventListener("input", () => form.setAttribute("data-editing", ""));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const changed = {};
    for (const p of strategy.parameters) {
      const value = Number(form.elements[p.name].value);
      if (value !== p.value) changed[p.name] = value;
    }
    if (!Object.keys(changed).length) return toast("nothing changed");
    try {
      await api(`/api/strategy/${encodeURIComponent(strategy.id)}/parameters`, { method: "PUT", body: changed });
      form.removeAttribute("data-editing");
      toast(`${strategy.id}: parameters saved`);
      ctx.refresh(0);
    } catch (error) {
      form.querySelector(".error").textContent = errorText(error);
    }
  });
  return form;
}

export async function render(ctx) {
  const { strategies } = await api("/api/strategy");
  // A strategy's performance is read from routerd's whole fill log: shown when it comes, never blocking the page.
  const perf = await Promise.all(strategies.map((s) => api(`/api/strategy/${encodeURIComponent(s.id)}/performance`).catch(() => null)));
  return el("div", {},
    el("h2", {}, "Strategies"),
    strategies.map((strategy, index) => {
      const stats = perf[index]?.strategies?.find((p) => p.strategyId === strategy.id);
      const toggle = strategy.enabled
        ? action("Disable", async () => change(ctx, strategy, "disable"), { allowed: ctx.canWrite, why: ctx.writeWhy, secondary: true })
        : action("Enable", async () => change(ctx, strategy, "enable"), { allowed: ctx.canWrite, why: ctx.writeWhy });
      return el("section", { class: "card", id: `strategy-${strategy.id}`, "aria-labelledby": `title-${strategy.id}` },
        el("h3", { id: `title-${strategy.id}` }, strategy.id, " ",
           el("span", { class: `state ${strategy.enabled ? "good" : "muted"}`, "data-state": strategy.enabled ? "enabled" : "disabled" },
              strategy.enabled ? "enabled" : "disabled")),
        el("p", {}, strategy.description),
        el("p", {}, `symbols ${strategy.symbols.join(", ")} · signals ${strategy.signals} · fills ${strategy.fills} · trades ${strategy.trades} · wins ${strategy.wins} · realised `,
           signed(strategy.realizedPnl)),
        toggle,
        stats ? table(`Performance of ${strategy.id} from routerd's fills`, [
          ["Symbol", (s) => s.symbol], ["Net P&L", (s) => signed(s.netPnl), { num: true }], ["Fees", (s) => s.fees, { num: true }],
          ["Max drawdown", (s) => s.maxDrawdown, { num: true }], ["Position", (s) => s.position, { num: true }], ["Volume", (s) => s.volume, { num: true }],
        ], stats.symbols || [], "no trades yet") : el("p", { class: "muted" }, `no trades yet`),
        stats ? el("p", {}, `win rate ${stats.winRate ?? "—"} over ${stats.trades} trades`) : null,
        el("details", {}, el("summary", {}, "Parameters"), parameterForm(ctx, strategy)));
    }));
}

async function change(ctx, strategy, verb) {
  try {
    await api(`/api/strategy/${encodeURIComponent(strategy.id)}/${verb}`, { method: "POST" });
    toast(`${strategy.id}: ${verb}d`);
    ctx.refresh(0);
  } catch (error) { toast(errorText(error)); }
}

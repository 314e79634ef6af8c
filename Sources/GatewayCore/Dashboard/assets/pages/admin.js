// Admin: tokens (issue, revoke), tiers, usage per subscriber, the trading switch, and mindset lock/unlock.
import { api } from "../api.js";
import { action, el, errorText, table, time, toast } from "../ui.js";

// Ids are per form: several forms have a field of the same name, and a label finds its control by a unique id.
function form(label, fields, submitLabel, onsubmit) {
  const id = (name) => `a-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${name}`;
  const element = el("form", { class: "filters", "aria-label": label },
    fields.map(([name, text, options, attrs = {}]) => el("div", { class: "field" }, el("label", { for: id(name) }, text),
      options ? el("select", { id: id(name), name }, options.map((o) => el("option", { value: o }, o)))
              : el("input", { id: id(name), name, ...attrs }))),
    el("button", { type: "submit" }, submitLabel));
  element.addEventListener("input", () => element.setAttribute("data-editing", ""));
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(fields.map(([name]) => [name, element.elements[name].value.trim()]));
    try { await onsubmit(values, element); element.removeAttribute("data-editing"); } catch (error) { toast(errorText(error)); }
  });
  return element;
}

export async function render(ctx) {
  if (!ctx.isAdmin) return el("p", {}, "The admin page needs an admin token.");
  const [tokens, usage, status, account, mindset] = await Promise.all([
    api("/api/admin/tokens"), api("/api/admin/usage?days=7"), api("/api/admin/status"), api("/api/account"), api("/api/mindset"),
  ]);
  const secret = el("p", { role: "alert", class: "mono" });
  const revoke = (token) => action("Revoke", async () => {
    if (!confirm(`Revoke ${token.prefix}… of ${token.owner}? It stops working at once.`)) return;
    try { await api(`/api/admin/tokens/${encodeURIComponent(token.id)}`, { method: "DELETE" }); toast(`${token.prefix} revoked`); ctx.refresh(0); }
    catch (error) { toast(errorText(error)); }
  }, { allowed: token.state === "active" || token.state === "grace_period", why: `already ${token.state}`, danger: true });

  return el("div", {},
    el("h2", {}, "Admin"),
    el("h3", {}, "Trading and mindset"),
    el("p", {}, "Trading is ", el("strong", {}, account.tradingEnabled ? "enabled" : `paused (${account.pausedReason ?? "no reason"})`),
       "; the mindset is ", el("strong", {}, mindset.emotionState), mindset.lockReason ? ` (${mindset.lockReason})` : ""),
    form("Pause trading", [["reason", "Reason", null, { maxlength: "200", placeholder: "optional" }]], "Pause", async ({ reason }) => {
      await api("/api/admin/pause", { method: "POST", body: reason ? { reason } : {} });
      toast("trading paused");
      ctx.refresh(0);
    }),
    action("Resume trading", async () => {
      try { await api("/api/admin/resume", { method: "POST", body: {} }); toast("trading resumed"); ctx.refresh(0); } catch (error) { toast(errorText(error)); }
    }, { allowed: !account.tradingEnabled, why: "trading is not paused" }),
    form("Lock the mindset", [["reason", "Lock reason", null, { maxlength: "200", required: true }]], "Lock", async ({ reason }) => {
      await api("/api/admin/mindset/lock", { method: "POST", body: { reason } });
      toast("mindset locked");
      ctx.refresh(0);
    }),
    action("Unlock the mindset", async () => {
      try { await api("/api/admin/mindset/unlock", { method: "POST", body: {} }); toast("mindset unlocked"); ctx.refresh(0); } catch (error) { toast(errorText(error)); }
    }, { allowed: mindset.emotionState === "LOCKED", why: "not locked" }),

    el("h3", {}, "Processes"),
    table("Every process", [
      ["Process", ([name]) => name], ["State", ([, s]) => el("span", { class: s.state === "up" ? "good" : "bad" }, s.state)],
      ["Version", ([, s]) => s.version ?? "—"], ["Summary", ([, s]) => s.summary ?? s.error ?? "—"],
    ], Object.entries(status.services || {}).sort()),

    el("h3", {}, "Tokens"),
    form("Issue a token", [["owner", "Owner", null, { required: true, maxlength: "64", pattern: "[A-Za-z0-9._@-]+" }],
                           ["tier", "Tier", ["free", "pro", "enterprise"]], ["role", "Role", ["user", "admin"]],
                           ["expiresInDays", "Expires in days", null, { type: "number", min: "1", max: "3650", placeholder: "never" }]],
         "Issue", async ({ owner, tier, role, expiresInDays }) => {
           const body = { owner, tier, role };
           if (expiresInDays) body.expiresInDays = Number(expiresInDays);
           const issued = await api("/api/admin/tokens", { method: "POST", body });
           secret.textContent = `New token for ${owner} (shown once; copy it now): ${issued.token}`;
           ctx.refresh(60_000);
         }),
    secret,
    table("Every token, oldest first (never a secret)", [
      ["Prefix", (t) => el("span", { class: "mono" }, t.prefix)], ["Owner", (t) => t.owner], ["Role", (t) => t.role], ["Tier", (t) => t.tier],
      ["State", (t) => t.state], ["Created", (t) => time(t.createdAt)], ["Last used", (t) => time(t.lastUsedAt)], ["Expires", (t) => time(t.expiresAt)],
      ["", (t) => revoke(t)],
    ], tokens.tokens),

    el("h3", {}, "Subscriptions"),
    form("Set an owner's tier", [["owner", "Owner", null, { required: true, maxlength: "64" }], ["tier", "Tier", ["free", "pro", "enterprise"]],
                                 ["status", "Status", ["active", "suspended"]]],
         "Set", async ({ owner, tier, status }) => {
           await api(`/api/admin/subscriptions/${encodeURIComponent(owner)}`, { method: "PUT", body: { tier, status } });
           toast(`${owner}: ${tier}, ${status}`);
           ctx.refresh(0);
         }),

    el("h3", {}, "Usage per subscriber, last 7 days"),
    table("Calls per owner, the busiest first", [
      ["Owner", (u) => u.owner], ["Counted", (u) => u.counted, { num: true }], ["Throttled (429)", (u) => u.throttled, { num: true }],
      ["Errors", (u) => u.errors, { num: true }], ["Last call", (u) => time(u.lastCallAt)],
    ], usage.owners, "no calls recorded"));
}

// Small DOM helpers shared by the pages.
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/// A table with a caption for screen readers; `columns` are [header, (row) => cell, {num}].
export function table(caption, columns, rows, empty = "nothing yet") {
  const head = el("tr", {}, columns.map(([name, , options]) => el("th", { scope: "col", class: options?.num ? "num" : undefined }, name)));
  const body = rows.length
    ? rows.map((row) => el("tr", {}, columns.map(([, cell, options]) => el("td", { class: options?.num ? "num" : undefined }, cell(row)))))
    : [el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, empty))];
  return el("div", { class: "scroll" }, el("table", {}, el("caption", { class: "muted" }, caption), el("thead", {}, head), el("tbody", {}, body)));
}

/// An action the caller may not take is shown disabled with the reason beside it (and as its description).
export function action(label, onclick, { allowed = true, why = "", danger = false, secondary = false } = {}) {
  const id = "why-" + Math.random().toString(36).slice(2);
  const button = el("button", { type: "button", class: danger ? "danger" : secondary ? "secondary" : undefined, onclick,
                                disabled: !allowed, "aria-describedby": allowed ? undefined : id }, label);
  return allowed ? button : el("span", {}, button, el("span", { class: "why", id }, why));
}

export function signed(text) {
  const value = String(text ?? "");
  return el("span", { class: value.startsWith("-") ? "bad" : value === "0" || value === "" ? undefined : "good" }, value || "—");
}

export function time(text) {
  if (!text) return "—";
  const date = new Date(text);
  return el("time", { datetime: text }, date.toISOString().replace("T", " ").slice(0, 19) + " UTC");
}

let toastTimer;
export function toast(message) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("show"), 6000);
}

export function errorText(error) {
  return error.code ? `${error.message} (${error.code})` : String(error.message || error);
}

/// A request id linked to its trace (every log line of the request, from the four daemons) for an admin; shown plain
/// to others, whose tokens may not read the logs.
export function traceLink(ctx, requestId) {
  if (!requestId) return "—";
  return ctx.isAdmin ? el("a", { href: `#logs?requestId=${encodeURIComponent(requestId)}`, title: "every log line of this request" }, requestId)
    : el("span", { class: "mono", title: "the trace needs an admin token" }, requestId);
}

/// A filter form whose fields differ from how the page drew them holds the page's refresh (app.js skips it while a
/// `[data-editing]` element is on the page): a live update must not wipe what the trader is typing. Back as drawn, or
/// submitted (the page is drawn anew for the new filter), it no longer holds it.
export function holdsRefreshWhileEdited(form) {
  const values = () => [...form.elements].map((field) => field.value).join("\u0000");
  const drawn = values();
  form.addEventListener("input", () => {
    if (values() === drawn) form.removeAttribute("data-editing");
    else form.setAttribute("data-editing", "");
  });
  form.addEventListener("submit", () => form.removeAttribute("data-editing"));
  return form;
}

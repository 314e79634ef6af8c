// The API as the dashboard uses it: the token from session storage on every call, errors as thrown objects with
// the API's own code and message, and /api/events read as a stream (EventSource cannot send a token header, and
// a token must never go in a URL).
const KEY = "bagbot.token";

export const session = {
  get token() { return sessionStorage.getItem(KEY); },
  set token(value) { value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY); },
};

export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (session.token) init.headers.Authorization = "Bearer " + session.token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new APIError(0, "network", "the gateway cannot be reached: " + error.message);
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: reported below */ }
  if (!response.ok) {
    const error = json && json.error ? json.error : { code: "http_" + response.status, message: text.slice(0, 200) || response.statusText };
    throw new APIError(response.status, error.code, error.message);
  }
  return json;
}

/// Reads /api/events until `signal` aborts, calling onEvent(name, data) per event; resolves when the stream ends.
export async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: { Accept: "text/event-stream", Authorization: "Bearer " + session.token }, signal, cache: "no-store" });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch { /* keep the status text */ }
    throw new APIError(response.status, "stream", message);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      let parsed;
      try { parsed = JSON.parse(data.join("\n")); } catch { continue; }
      onEvent(name, parsed);
    }
  }
}

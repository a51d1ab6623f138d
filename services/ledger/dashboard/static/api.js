// The ledger's API with the session's bearer token (sessionStorage: gone with the tab).
const KEY = "jsb.token";

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export class Unauthorized extends Error {}

export async function get(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") url.searchParams.set(k, v);
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token.get()}` } });
  if (r.status === 401) throw new Unauthorized();
  const body = await r.json();
  if (!r.ok) throw Object.assign(new Error(body.detail || body.title || r.statusText), { body });
  return body;
}

// Server-sent events over fetch (EventSource cannot send an Authorization header, and
// a token in the URL would end up in logs). Calls onEvent(name, data); resolves when
// the stream ends, so the caller reconnects.
export async function stream(path, onEvent, signal, lastId) {
  const headers = { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" };
  if (lastId != null) headers["Last-Event-ID"] = String(lastId);
  const r = await fetch(path, { headers, signal });
  if (!r.ok || !r.body) throw new Error(`stream: ${r.status}`);
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "", id = null;
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
        else if (line.startsWith("id: ")) id = Number(line.slice(4));
      }
      if (data) onEvent(name, JSON.parse(data), id);
    }
  }
}

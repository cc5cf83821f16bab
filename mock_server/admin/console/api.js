// The console's only way to the server: the admin API (with the admin key in keyed mode) and the
// public API (with a token). Keyed mode: the API key stays in this tab and is never shown. Open mode
// (any token is its own tenant): the console acts as the token the user types, `dev` until then (the
// README's token), kept in this browser; it is the only token the console ever shows.

const session = window.sessionStorage;
const local = window.localStorage;

/** The token the README's examples use, so the console shows the tasks a newcomer made with them. */
export const DEFAULT_OPEN_TOKEN = "dev";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const credentials = {
  /** "open" or "keyed", from `/__admin/info`: where the token is kept and whether it may be shown. */
  mode: "open",
  get admin() { return session.getItem("a2v.admin") || ""; },
  set admin(value) { session.setItem("a2v.admin", value); },
  get token() {
    if (this.mode === "keyed") return session.getItem("a2v.token") || "";
    return local.getItem("a2v.open-token") || DEFAULT_OPEN_TOKEN;
  },
  /** Open mode: the token typed in the header, kept in this browser. */
  set openToken(value) { local.setItem("a2v.open-token", value); },
  /** Keyed mode: the API key given in the log-in dialog, kept in this tab only. */
  set apiKey(value) { session.setItem("a2v.token", value); },
  /** Whether this tab was given an API key (keyed mode needs one). */
  get hasToken() { return Boolean(session.getItem("a2v.token")); },
};

// Older consoles made a random token per browser; it named a tenant nobody else could find.
local.removeItem("a2v.token");

async function envelope(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok || !body || body.code !== 0) {
    const code = body && typeof body.code === "number" ? body.code : null;
    const message = body && body.message ? body.message : `HTTP ${response.status}`;
    throw new ApiError(response.status, code, message);
  }
  return body.data;
}

/** A call to `/__admin/<path>`; `body` is sent as JSON (or as is when it is a Blob). */
export async function admin(path, { method = "GET", body, query, headers = {} } = {}) {
  const url = new URL("/__admin/" + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const init = { method, headers: { ...headers } };
  if (credentials.admin) init.headers.Authorization = "Bearer " + credentials.admin;
  if (body instanceof Blob) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  return envelope(await fetch(url, init));
}

/** A call to the public API with `credentials.token`. */
export async function api(path, { method = "GET", body, prefer } = {}) {
  const init = { method, headers: { Authorization: "Bearer " + credentials.token } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (prefer) init.headers.Prefer = prefer;
  return envelope(await fetch(new URL(path, window.location.origin), init));
}

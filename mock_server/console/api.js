// The console's only way to the server: the admin API (with the admin key in keyed mode) and the
// public API (with the tenant's own token). Credentials stay in this browser; the token is never shown.

const session = window.sessionStorage;
const local = window.localStorage;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const credentials = {
  get admin() { return session.getItem("a2v.admin") || ""; },
  set admin(value) { session.setItem("a2v.admin", value); },
  get token() {
    let token = session.getItem("a2v.token") || local.getItem("a2v.token");
    if (!token) {
      // Open mode: each token is its own tenant, so the console makes one for this browser.
      const bytes = crypto.getRandomValues(new Uint8Array(12));
      token = "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      local.setItem("a2v.token", token);
    }
    return token;
  },
  set token(value) { session.setItem("a2v.token", value); },
  /** Whether this tab was given an API key (keyed mode needs one; open mode makes its own). */
  get hasToken() { return Boolean(session.getItem("a2v.token")); },
};

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

/** A call to the public API as this browser's tenant. */
export async function api(path, { method = "GET", body, prefer } = {}) {
  const init = { method, headers: { Authorization: "Bearer " + credentials.token } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (prefer) init.headers.Prefer = prefer;
  return envelope(await fetch(new URL(path, window.location.origin), init));
}

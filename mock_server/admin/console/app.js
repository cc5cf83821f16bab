// The a2v-mock console: tasks (live), a task page with its videos, a "new video" form, the journal and
// the scenario. Plain ES modules, no build step; every action is a call to the admin or public API.

import { admin, api, ApiError, credentials } from "./api.js";

const $ = (selector, root = document) => root.querySelector(selector);
const state = { info: null, tenant: "", me: "", tasks: [], deliveries: [], poll: null, view: "", request: null };
const POLL_MS = 1000;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleTimeString() : "";
}

function showError(err) {
  const banner = $("#banner");
  banner.textContent = err instanceof ApiError && err.code ? `${err.message} (code ${err.code})` : String(err.message || err);
  banner.hidden = false;
}

function clearError() { $("#banner").hidden = true; }

// --- start-up: mode, admin key, tenant -------------------------------------------------------------

async function loadInfo() {
  try {
    state.info = await admin("info");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      await askForKeys(err.message, { admin: true });
      return loadInfo();
    }
    throw err;
  }
  credentials.mode = state.info.mode;
  if (state.info.mode === "keyed" && !credentials.hasToken) {
    // Keyed mode: only configured API keys work, so the console cannot make its own token.
    await askForKeys("", { admin: false });
  }
}

function askForKeys(message, { admin: needAdmin }) {
  const dialog = $("#login");
  const adminInput = $("#login input[name=admin]");
  adminInput.closest("label").hidden = !needAdmin;
  adminInput.required = needAdmin;
  $("#login-error").textContent = credentials.admin ? message : "";
  return new Promise((resolve) => {
    $("#login-form").addEventListener("submit", () => {
      const form = new FormData($("#login-form"));
      if (needAdmin) credentials.admin = String(form.get("admin"));
      credentials.apiKey = String(form.get("token"));
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

async function whoAmI() {
  const { tenant } = await admin("tenants/label", { method: "POST", body: { token: credentials.token } });
  state.me = tenant;
  $("#acting").textContent = `you act as ${tenant}`;
}

/** Open mode: the token field (the one token the console shows: the user's own), `dev` at first. */
function setUpTokenForm() {
  if (state.info.mode !== "open") return;
  const form = $("#token-form");
  const input = $("#token");
  input.value = credentials.token;
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    credentials.openToken = token;
    input.value = token;
    try {
      await whoAmI();
      state.tenant = state.me;
      await loadTenants();
      await show();
    } catch (err) {
      showError(err);
    }
  });
}

async function loadTenants() {
  const tenants = await admin("tenants");
  const select = $("#tenant");
  const labels = new Set(tenants.map((t) => t.tenant));
  labels.add(state.me);
  if (!state.tenant) state.tenant = state.me;
  labels.add(state.tenant);
  select.replaceChildren(...[...labels].sort().map((label) => {
    const count = tenants.find((t) => t.tenant === label)?.tasks ?? 0;
    const option = el("option", { value: label }, `${label}${label === state.me ? " (you)" : ""} · ${count}`);
    option.selected = label === state.tenant;
    return option;
  }));
}

// --- tasks ---------------------------------------------------------------------------------------------

function statusBadge(status) {
  return el("span", { class: `badge ${status}` }, status);
}

function progressBar(progress) {
  const bar = el("div", { class: "progress", title: `${progress}%` }, el("div"));
  bar.firstChild.style.width = `${progress}%`;
  return bar;
}

async function refreshTasks() {
  const [tasks, deliveries] = await Promise.all([
    admin("tasks", { query: { tenant: state.tenant } }),
    admin("callbacks", { query: { tenant: state.tenant } }),
  ]);
  state.tasks = tasks.sort((a, b) => b.created_at - a.created_at);
  state.deliveries = deliveries;
}

function renderTasks() {
  const rows = state.tasks.map((task) => {
    const calls = state.deliveries.filter((d) => d.video_id === task.video_id);
    const took = task.status === "finished" || task.status === "error" ? `${task.updated_at - task.created_at} s` : "";
    // Each cell names its column (`data-label`): on a narrow screen the rows are cards (console.css).
    return el("tr", { dataset: { videoId: task.video_id, status: task.status }, onclick: () => { location.hash = `#/task/${task.video_id}`; } },
      el("td", { class: "mono", "data-label": "video" }, task.video_id.slice(0, 10) + "…"),
      el("td", { "data-label": "status" }, statusBadge(task.status)),
      el("td", { "data-label": "progress" }, progressBar(task.progress)),
      el("td", { "data-label": "character" }, task.model_id),
      el("td", { "data-label": "created" }, when(task.created_at)),
      el("td", { "data-label": "took" }, took),
      el("td", { "data-label": "duration" }, task.duration != null ? `${task.duration.toFixed(1)} s` : ""),
      el("td", { class: "error", "data-label": "error" }, task.error ? `${task.error.code} ${task.error.message}` : ""),
      el("td", { "data-label": "callbacks" }, calls.length ? calls.map((d) => d.state).join(", ") : ""),
    );
  });
  $("#tasks-table tbody").replaceChildren(...rows);
  $("#tasks-empty").hidden = rows.length > 0;
  if (rows.length && !window.__a2vFirstRow) window.__a2vFirstRow = performance.now();
}

function renderTask(id) {
  const task = state.tasks.find((t) => t.video_id === id);
  $("#task-id").textContent = id;
  if (!task) {
    const badge = $("#task-status");
    badge.textContent = "not found for this tenant";
    badge.className = "badge";
    for (const part of ["#task-error", "#task-media", "#task-actions"]) $(part).hidden = true;
    $("#task-facts").replaceChildren();
    $("#task-progress").firstElementChild.style.width = "0";
    return;
  }
  const badge = $("#task-status");
  badge.textContent = task.status;
  badge.className = `badge ${task.status}`;
  $("#task-progress").firstElementChild.style.width = `${task.progress}%`;
  const error = $("#task-error");
  error.hidden = !task.error;
  error.textContent = task.error ? `error ${task.error.code}: ${task.error.message}` : "";
  const facts = [
    ["character", task.model_id], ["audio", task.audio_url], ["progress", `${task.progress}%`],
    ["created", when(task.created_at)], ["updated", when(task.updated_at)],
    ["duration", task.duration != null ? `${task.duration} s` : "—"], ["plan", planList(task.plan)],
  ];
  $("#task-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const media = $("#task-media");
  if (task.status === "finished") {
    // Set the sources once: the signed URLs change on every read, and reloading would restart playback.
    for (const [selector, url] of [["#task-video", task.video_url], ["#task-mask", task.mask_video_url]]) {
      const video = $(selector);
      if (video.dataset.for !== id) {
        video.dataset.for = id;
        video.src = url;
      }
    }
    media.hidden = false;
  } else {
    media.hidden = true;
  }
  $("#task-actions").hidden = task.status === "finished" || task.status === "error";
  const calls = state.deliveries.filter((d) => d.video_id === id);
  $("#task-callbacks tbody").replaceChildren(...calls.map((d) => el("tr", {},
    el("td", { class: "mono" }, d.delivery_id), el("td", {}, d.event), el("td", {}, d.url),
    el("td", {}, d.attempts), el("td", {}, d.last_status ?? d.last_error ?? ""), el("td", {}, d.state))));
}

/** Seconds as a person writes them: 0.9, not 0.8999999999999999. */
const seconds = (value) => String(Number((value ?? 0).toFixed(2)));

/** A task's plan (how test control fixed its fate) in words, one fact per line. */
function planList(plan) {
  const items = [];
  const { outcome, error_code: code, pending_seconds: pending, in_progress_seconds: running, accepted_at: accepted, replayed, ...rest } = plan;
  if (outcome === "error") {
    const message = state.info.task_error_codes.find((c) => c.code === code)?.message;
    items.push(`fails with ${code}${message ? ` (${message})` : ""}`);
  } else if (outcome === "finish") {
    items.push("finishes with a real render of its audio (an audio that cannot be rendered still fails it)");
  }
  if (pending !== undefined || running !== undefined) {
    items.push(pending || running
      ? `pending for at least ${seconds(pending)} s, then in progress for at least ${seconds(running)} s`
      : "no minimum timings: it moves on as fast as it renders");
  }
  if (accepted) items.push(`accepted at ${when(accepted)}`);
  if (replayed) {
    const { duration, error_message: message } = replayed;
    items.push(`replays a recorded task${duration != null ? ` (${seconds(duration)} s of video)` : ""}${message ? `: "${message}"` : ""}`);
  }
  for (const [key, value] of Object.entries(rest)) items.push(`${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`);
  return el("ul", { class: "plan" }, ...items.map((text) => el("li", {}, text)));
}

/** Headers a browser adds on its own (client hints, fetch metadata, ...): hidden unless asked for. */
const BROWSER_HEADERS = /^(sec-|user-agent$|accept-language$|accept-encoding$|referer$|origin$|connection$|priority$|dnt$|pragma$|cache-control$)/i;

async function showCreatingRequest(id) {
  const pre = $("#task-request");
  state.request = null;
  $("#task-request-toggle").hidden = true;
  const { requests: entries } = await admin("requests", { query: { path: "/v1/a2v/video.generate", contains: id, limit: 1 } });
  if (!entries.length) {
    pre.textContent = "not in the journal any more (it keeps the latest requests only)";
    return;
  }
  state.request = entries[0];
  renderCreatingRequest();
}

function renderCreatingRequest() {
  const e = state.request;
  if (!e) return;
  const all = $("#task-request-all").checked;
  const hidden = Object.keys(e.request.headers).filter((name) => BROWSER_HEADERS.test(name));
  const headers = (h, filter) => Object.entries(h).filter(([k]) => !filter || !BROWSER_HEADERS.test(k)).map(([k, v]) => `${k}: ${v}`).join("\n");
  const pre = $("#task-request");
  pre.textContent = `${e.request.method} ${e.request.url}\n${headers(e.request.headers, !all)}\n\n${e.request.body}` +
    `\n\n→ ${e.status}\n${headers(e.response.headers, false)}\n\n${e.response.body}`;
  pre.classList.remove("muted");
  $("#task-request-hidden").textContent = String(hidden.length);
  $("#task-request-toggle").hidden = hidden.length === 0;
}

// --- new video -----------------------------------------------------------------------------------------

async function loadNewForm() {
  const characters = await api("/v1/a2v/character.list");
  const select = $("#new-character");
  select.replaceChildren(...characters.map((c) => el("option", { value: c.model_id, dataset: { preview: c.preview_url } }, `${c.display_name} (${c.model_id})`)));
  const preview = () => { $("#new-preview").src = select.selectedOptions[0]?.dataset.preview || ""; };
  select.addEventListener("change", preview);
  preview();
  $("#new-sample").replaceChildren(...state.info.samples.map((s) => el("option", { value: s.url }, `${s.name} — ${s.description}`)));
  const codes = state.info.task_error_codes.map((c) => el("option", { value: c.code }, `${c.code} ${c.message}`));
  $("#new-error-code").append(...codes);
}

/** Why `value` cannot be an audio URL, in words (the API's own answer quotes the spec's pattern). */
function audioUrlProblem(value) {
  if (!value) return "enter the audio's URL (http:// or https://), or choose a built-in sample or a file";
  let url;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL: give a full address such as https://example.com/speech.wav`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return `"${value}" is a ${url.protocol} URL: the mock fetches audio over http:// or https:// only`;
  }
  return "";
}

async function submitNew(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const button = $("#new-submit");
  $("#new-error").textContent = "";
  button.disabled = true;
  try {
    let audioUrl = "";
    const source = form.get("source");
    if (source === "sample") audioUrl = String(form.get("sample"));
    else if (source === "url") {
      audioUrl = String(form.get("url")).trim();
      const problem = audioUrlProblem(audioUrl);
      if (problem) throw new Error(problem);
    } else {
      const file = $("#new-file").files[0];
      if (!file) throw new Error("choose a file to upload");
      const upload = await admin("uploads", { method: "POST", body: file, query: { name: file.name } });
      audioUrl = upload.url;
    }
    const prefer = [];
    if (form.get("outcome")) prefer.push(`outcome=${form.get("outcome")}`);
    if (form.get("error_code")) prefer.push(`error_code=${form.get("error_code")}`);
    if (form.get("duration")) prefer.push(`duration=${form.get("duration")}`);
    const data = await api("/v1/a2v/video.generate", {
      method: "POST", body: { model_id: form.get("model_id"), audio_url: audioUrl }, prefer: prefer.join(", "),
    });
    state.tenant = state.me;
    location.hash = `#/task/${data.video_id}`;
  } catch (err) {
    $("#new-error").textContent = err instanceof ApiError && err.code ? `${err.message} (code ${err.code})` : err.message;
  } finally {
    button.disabled = false;
  }
}

// --- journal -------------------------------------------------------------------------------------------

async function loadJournal(event) {
  event?.preventDefault();
  const form = new FormData($("#journal-filter"));
  const query = {
    method: form.get("method"), path: form.get("path"), status: form.get("status"),
    contains: form.get("contains"), tenant: form.get("mine") ? state.tenant : "", limit: 200,
  };
  const { requests: entries, meta } = await admin("requests", { query }); // newest first; meta.total before the limit
  $("#journal-count").textContent = `${meta.total} matching`;
  const rows = entries.flatMap((e) => {
    const row = el("tr", { dataset: { path: e.path, status: e.status } },
      el("td", {}, new Date(e.time * 1000).toLocaleTimeString()), el("td", {}, e.method),
      el("td", { class: "mono" }, e.request.url), el("td", {}, e.status),
      el("td", {}, e.code ?? ""), el("td", {}, e.duration_ms), el("td", { class: "mono" }, e.tenant ?? ""));
    const detail = el("tr", { class: "detail", hidden: "" }, el("td", { colspan: 7 }, el("pre", { class: "code" },
      JSON.stringify({ request: e.request, response: e.response }, null, 2))));
    row.addEventListener("click", () => { detail.hidden = !detail.hidden; });
    return [row, detail];
  });
  $("#journal-table tbody").replaceChildren(...rows);
}

// --- scenario ------------------------------------------------------------------------------------------

async function loadScenario() {
  const s = await admin("scenario");
  const f = $("#scenario-form").elements;
  f.latency_min.value = s.latency_ms.min;
  f.latency_max.value = s.latency_ms.max;
  f.error_rate.value = s.error_rate;
  f.drop_rate.value = s.drop_rate;
  f.rl_requests.value = s.rate_limit ? s.rate_limit.requests : "";
  f.rl_seconds.value = s.rate_limit ? s.rate_limit.per_seconds : "";
  f.pending_seconds.value = s.timings.pending_seconds;
  f.in_progress_seconds.value = s.timings.in_progress_seconds;
  f.url_ttl_seconds.value = s.url_ttl_seconds ?? "";
  $("#next-tasks").textContent = s.next_tasks.length ? `queued: ${s.next_tasks.map((t) => `${t.outcome} ${t.error_code ?? ""}`).join(", ")}` : "";
  const select = $("#fail-next-code");
  if (!select.options.length) {
    select.append(...state.info.task_error_codes.map((c) => el("option", { value: c.code }, `${c.code} ${c.message}`)));
    $("#task-fail-code").append(...state.info.task_error_codes.map((c) => el("option", { value: c.code }, `${c.code} ${c.message}`)));
  }
}

async function saveScenario(event) {
  event.preventDefault();
  const f = $("#scenario-form").elements;
  const num = (input) => Number(input.value || 0);
  const requests = f.rl_requests.value, seconds = f.rl_seconds.value;
  await admin("scenario", {
    method: "PUT",
    body: {
      latency_ms: { min: num(f.latency_min), max: num(f.latency_max) },
      error_rate: num(f.error_rate), drop_rate: num(f.drop_rate),
      rate_limit: requests && seconds ? { requests: Number(requests), per_seconds: Number(seconds) } : null,
      timings: { pending_seconds: num(f.pending_seconds), in_progress_seconds: num(f.in_progress_seconds) },
      url_ttl_seconds: f.url_ttl_seconds.value === "" ? null : Number(f.url_ttl_seconds.value),
    },
  });
  clearError();
  $("#scenario-saved").textContent = `saved at ${new Date().toLocaleTimeString()}`;
}

async function failNext() {
  const current = await admin("scenario");
  const code = Number($("#fail-next-code").value);
  await admin("scenario", { method: "PUT", body: { next_tasks: [...current.next_tasks, { outcome: "error", error_code: code }] } });
  await loadScenario();
  clearError();
  $("#scenario-saved").textContent = `the next task will fail with ${code}`;
}

/** Asks before a reset (it cannot be undone); resolves true only for the dialog's Reset button. */
function confirmReset(tenant) {
  const dialog = $("#confirm-reset");
  $("#confirm-reset-tenant").textContent = tenant;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "reset"), { once: true });
    dialog.showModal();
  });
}

async function resetTenant() {
  const tenant = state.tenant;
  if (!(await confirmReset(tenant))) {
    $("#scenario-saved").textContent = "nothing was reset";
    return;
  }
  await admin("reset", { method: "POST", body: { tenant } });
  clearError();
  $("#scenario-saved").textContent = `${tenant} reset`;
  await loadTenants();
}

async function failTask() {
  const id = $("#task-id").textContent;
  await admin(`tasks/${id}`, { method: "POST", body: { status: "error", error_code: Number($("#task-fail-code").value) } });
  await tick();
}

// --- routing and the live loop -------------------------------------------------------------------------

function route() {
  const [, view = "tasks", arg = ""] = location.hash.split("/");
  return { view, arg };
}

async function tick() {
  const { view, arg } = route();
  try {
    if (view === "tasks" || view === "task") {
      await refreshTasks();
      if (view === "tasks") renderTasks();
      else renderTask(arg);
    }
    clearError();
  } catch (err) {
    showError(err);
  }
}

async function show() {
  const { view, arg } = route();
  clearError();  // a banner belongs to the view whose call failed
  for (const section of document.querySelectorAll(".view")) section.classList.toggle("active", section.id === `view-${view}`);
  for (const link of document.querySelectorAll("nav a[data-view]")) link.classList.toggle("active", link.dataset.view === (view === "task" ? "tasks" : view));
  try {
    if (view === "task") {
      $("#task-request").textContent = "looking in the journal…";
      await tick();
      await showCreatingRequest(arg);
    } else if (view === "journal") await loadJournal();
    else if (view === "scenario") await loadScenario();
    else await tick();
  } catch (err) {
    showError(err);
  }
}

async function main() {
  await loadInfo();
  const mode = $("#mode");
  mode.textContent = state.info.mode === "open" ? "open mode" : "keyed mode";
  mode.title = state.info.mode === "open" ? "any token is its own tenant" : "only configured API keys";
  await whoAmI();
  setUpTokenForm();
  await loadTenants();
  $("#tenant").addEventListener("change", (event) => {
    state.tenant = event.target.value;
    if (route().view === "task") location.hash = "#/tasks";  // the task is the other tenant's
    else show();
  });
  $("#new-form").addEventListener("submit", submitNew);
  $("#journal-filter").addEventListener("submit", (event) => loadJournal(event).catch(showError));
  $("#scenario-form").addEventListener("submit", (event) => saveScenario(event).catch(showError));
  $("#fail-next").addEventListener("click", () => failNext().catch(showError));
  $("#reset-tenant").addEventListener("click", () => resetTenant().catch(showError));
  $("#task-fail").addEventListener("click", () => failTask().catch(showError));
  $("#task-request-all").addEventListener("change", renderCreatingRequest);
  window.addEventListener("hashchange", show);
  await Promise.all([loadNewForm(), loadScenario()]);
  await show();
  state.poll = setInterval(() => {
    const { view } = route();
    if (view === "tasks" || view === "task") tick();
  }, POLL_MS);
  setInterval(() => loadTenants().catch(() => {}), 5 * POLL_MS);
  document.body.dataset.ready = "true";
}

main().catch(showError);

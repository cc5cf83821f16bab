// The a2v-mock console: tasks (live), a task page with its videos, a "new video" form, the journal and
// the scenario. Plain ES modules, no build step; every action is a call to the admin or public API.

import { admin, api, ApiError, credentials } from "./api.js";

const $ = (selector, root = document) => root.querySelector(selector);
const state = { info: null, tenant: "", me: "", tasks: [], deliveries: [], poll: null, view: "" };
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
      credentials.token = String(form.get("token"));
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
    return el("tr", { dataset: { videoId: task.video_id, status: task.status }, onclick: () => { location.hash = `#/task/${task.video_id}`; } },
      el("td", { class: "mono" }, task.video_id.slice(0, 10) + "…"),
      el("td", {}, statusBadge(task.status)),
      el("td", {}, progressBar(task.progress)),
      el("td", {}, task.model_id),
      el("td", {}, when(task.created_at)),
      el("td", {}, took),
      el("td", {}, task.duration != null ? `${task.duration.toFixed(1)} s` : ""),
      el("td", { class: "error" }, task.error ? `${task.error.code} ${task.error.message}` : ""),
      el("td", {}, calls.length ? calls.map((d) => d.state).join(", ") : ""),
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
    $("#task-status").textContent = "not found for this tenant";
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
    ["duration", task.duration != null ? `${task.duration} s` : "—"], ["plan", JSON.stringify(task.plan)],
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

async function showCreatingRequest(id) {
  const pre = $("#task-request");
  const entries = await admin("requests", { query: { path: "/v1/a2v/video.generate", contains: id, limit: 1 } });
  if (!entries.length) {
    pre.textContent = "not in the journal any more (it keeps the latest requests only)";
    return;
  }
  const e = entries[0];
  const headers = (h) => Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\n");
  pre.textContent = `${e.method} ${e.path}${e.query ? "?" + e.query : ""}\n${headers(e.request.headers)}\n\n${e.request.body}` +
    `\n\n→ ${e.status}\n${headers(e.response.headers)}\n\n${e.response.body}`;
  pre.classList.remove("muted");
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
    else if (source === "url") audioUrl = String(form.get("url"));
    else {
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
  const [entries, { count }] = await Promise.all([admin("requests", { query }), admin("requests/count", { query })]);
  $("#journal-count").textContent = `${count} matching`;
  const rows = entries.reverse().flatMap((e) => {
    const row = el("tr", { dataset: { path: e.path, status: e.status } },
      el("td", {}, new Date(e.time * 1000).toLocaleTimeString()), el("td", {}, e.method),
      el("td", { class: "mono" }, e.path + (e.query ? "?" + e.query : "")), el("td", {}, e.status),
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
  $("#scenario-saved").textContent = `saved at ${new Date().toLocaleTimeString()}`;
}

async function failNext() {
  const current = await admin("scenario");
  const code = Number($("#fail-next-code").value);
  await admin("scenario", { method: "PUT", body: { next_tasks: [...current.next_tasks, { outcome: "error", error_code: code }] } });
  await loadScenario();
  $("#scenario-saved").textContent = `the next task will fail with ${code}`;
}

async function resetTenant() {
  await admin("reset", { method: "POST", body: { tenant: state.tenant } });
  $("#scenario-saved").textContent = `${state.tenant} reset`;
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
  await loadTenants();
  $("#tenant").addEventListener("change", (event) => { state.tenant = event.target.value; show(); });
  $("#new-form").addEventListener("submit", submitNew);
  $("#journal-filter").addEventListener("submit", (event) => loadJournal(event).catch(showError));
  $("#scenario-form").addEventListener("submit", (event) => saveScenario(event).catch(showError));
  $("#fail-next").addEventListener("click", () => failNext().catch(showError));
  $("#reset-tenant").addEventListener("click", () => resetTenant().catch(showError));
  $("#task-fail").addEventListener("click", () => failTask().catch(showError));
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

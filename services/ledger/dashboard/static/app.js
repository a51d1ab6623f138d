// The ops dashboard: tiles, charts, the departments table, a subject's timeline, the
// live feed. Plain ES modules; Apache ECharts is served by the ledger from the
// project's node_modules (docs/dashboard.md).
import * as echarts from "/dashboard/assets/echarts.esm.min.js";
import { Unauthorized, get, stream, token } from "/dashboard/assets/api.js";
import { applyTexts, t, toggleLang } from "/dashboard/assets/i18n.js";
import { openSubject } from "/dashboard/assets/timeline.js";

const $ = (id) => document.getElementById(id);
const charts = {};
const state = { departments: [], sort: { key: "overdue", desc: true } };
Object.assign((window.jsbDashboard ??= {}), { charts, state });

const TILES = [
  "subjects_under_sanction", "designations_in_force", "objections_pending",
  "objections_overdue", "interceptions_today", "tasks_overdue", "dead_letters", "consumer_lag",
];

function chart(id) {
  charts[id] ??= echarts.init($(id), null, { renderer: "canvas" });
  return charts[id];
}

function showLogin(message = "") {
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("who").textContent = "";
}

async function guarded(work) {
  try {
    return await work();
  } catch (err) {
    if (err instanceof Unauthorized) {
      token.clear();
      showLogin(t("bad_token"));
      return undefined;
    }
    throw err;
  }
}

function renderTiles(doc) {
  const box = $("tiles");
  box.replaceChildren();
  for (const key of TILES) {
    if (!(key in doc)) continue;
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.tile = key;
    if (["objections_overdue", "tasks_overdue", "dead_letters"].includes(key) && doc[key] > 0) {
      tile.classList.add("warn");
    }
    const value = document.createElement("div");
    value.className = "value";
    value.textContent = String(doc[key]);
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = t(`tile_${key}`);
    tile.append(value, label);
    if (key === "designations_in_force") {
      const detail = document.createElement("div");
      detail.className = "detail";
      detail.textContent = Object.entries(doc.designations_in_force_by_list_type)
        .map(([k, n]) => `${k} ${n}`).join(" · ");
      tile.append(detail);
    }
    box.append(tile);
  }
}

function lineChart(id, doc) {
  const series = Object.entries(doc.series).map(([name, data]) => ({
    name, type: "bar", stack: "all", data, emphasis: { focus: "series" },
  }));
  chart(id).setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { type: "scroll", top: 0 },
    grid: { left: 40, right: 10, top: 40, bottom: 30 },
    xAxis: { type: "category", data: doc.days.map((d) => d.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series,
  }, true);
}

function departmentsChart(rows) {
  const top = [...rows].sort((a, b) => b.overdue - a.overdue || a.rate - b.rate).slice(0, 20);
  chart("chart-departments").setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [t("rate"), t("overdue")] },
    grid: { left: 40, right: 40, top: 40, bottom: 60 },
    xAxis: { type: "category", data: top.map((r) => r.department), axisLabel: { rotate: 45 } },
    yAxis: [{ type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
            { type: "value", minInterval: 1 }],
    series: [
      { name: t("rate"), type: "bar", data: top.map((r) => r.rate) },
      { name: t("overdue"), type: "line", yAxisIndex: 1, data: top.map((r) => r.overdue) },
    ],
  }, true);
}

function duration(seconds) {
  if (seconds == null) return "—";
  const [n, unit] = seconds < 120 ? [seconds, "s"] : seconds < 7200 ? [seconds / 60, "min"]
    : seconds < 172800 ? [seconds / 3600, "h"] : [seconds / 86400, "d"];
  return `${n.toFixed(n < 10 ? 1 : 0)} ${unit}`;
}

function renderDepartments() {
  const { key, desc } = state.sort;
  const rows = [...state.departments].sort((a, b) => {
    const x = a[key], y = b[key];
    const order = typeof x === "string" ? x.localeCompare(y) : (x ?? -1) - (y ?? -1);
    return desc ? -order : order;
  });
  const body = $("departments").tBodies[0];
  body.replaceChildren();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.department = r.department;
    if (r.overdue > 0) {
      tr.classList.add("overdue");
      tr.title = t("not_reporting");
    }
    const median = duration(r.median_feedback_seconds);
    for (const v of [r.department, r.assigned, r.answered, `${r.rate}%`, r.overdue, median]) {
      tr.insertCell().textContent = String(v);
    }
    tr.addEventListener("click", () => drill(r.department));
  }
}

async function drill(department) {
  const doc = await guarded(() => get(`/v1/stats/departments/${encodeURIComponent(department)}/overdue`));
  if (!doc) return;
  $("drill").hidden = false;
  $("drill-department").textContent = department;
  const body = $("drill-tasks").tBodies[0];
  body.replaceChildren();
  for (const task of doc.tasks) {
    const tr = body.insertRow();
    const subject = tr.insertCell();
    const link = document.createElement("a");
    link.href = "#";
    link.textContent = task.subject_id;
    link.addEventListener("click", (e) => { e.preventDefault(); search(task.subject_id); });
    subject.append(link);
    for (const v of [task.list_type, task.measure, task.deadline, task.designated_by]) {
      tr.insertCell().textContent = v;
    }
  }
}

export async function refresh() {
  await guarded(async () => {
    const [tiles, designations, interceptions, departments] = await Promise.all([
      get("/v1/stats/tiles"),
      get("/v1/stats/designations/daily", { days: 30 }),
      get("/v1/stats/interceptions/daily", { days: 30 }),
      get("/v1/stats/departments"),
    ]);
    renderTiles(tiles);
    lineChart("chart-designations", designations);
    lineChart("chart-interceptions", interceptions);
    state.departments = departments.departments.map((r) => ({
      ...r, rate: r.assigned ? Math.round((1000 * r.answered) / r.assigned) / 10 : 0,
    }));
    departmentsChart(state.departments);
    renderDepartments();
    document.body.dataset.loaded = String(Date.now());
  });
}

function search(id) {
  $("subject-id").value = id;
  $("search-error").textContent = "";
  return guarded(() => openSubject(id, echarts)).catch((err) => {
    $("search-error").textContent = err.message;
  });
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 1000);
}

async function follow() {
  let last = null;
  for (;;) {
    let failed = false;
    try {
      await stream("/v1/stats/stream", (name, data, id) => {
        if (id != null) last = id;
        if (name === "hello") {
          $("live-state").textContent = t("live_on");
          $("live-state").classList.add("on");
        }
        if (name !== "append") return;
        const li = document.createElement("li");
        li.dataset.position = data.position;
        li.dataset.designation = data.designation_id ?? "";
        li.textContent = `#${data.position} ${data.effective_at.slice(0, 19)} ${data.type} ` +
          `${data.subject_id} ${data.list_type ?? data.department ?? ""}`;
        $("live").prepend(li);
        while ($("live").children.length > 200) $("live").lastChild.remove();
        scheduleRefresh();
      }, undefined, last);
    } catch (err) {
      failed = true;
      console.warn("live feed", err);
    }
    if (!token.get()) return;
    if (failed) {
      $("live-state").textContent = t("live_off");
      $("live-state").classList.remove("on");
    }
    // the server ends a stream after a minute (services/ledger/dashboard/live.py):
    // pick up at once where it ended; after a failure, wait a little
    await new Promise((r) => setTimeout(r, failed ? 2000 : 100));
  }
}

async function start() {
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  await refresh();
  if (!token.get()) return;
  follow();
}

function wire() {
  applyTexts();
  $("lang").addEventListener("click", () => {
    toggleLang();
    if (!token.get()) return;
    refresh();
    if (!$("subject").hidden) search($("subject-id").value.trim());
  });
  $("logout").addEventListener("click", () => { token.clear(); location.reload(); });
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    token.set($("token").value.trim());
    start();
  });
  $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("subject-id").value.trim()); });
  for (const th of $("departments").querySelectorAll("th[data-key]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : true };
      renderDepartments();
    });
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  if (token.get()) start(); else showLogin();
}

wire();

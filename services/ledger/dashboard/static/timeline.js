// One subject's story: its designations as bands of their states over time (ECharts
// custom series), every event a clickable point (payload, position, hash), whether
// the chain verifies, and the status at any past moment ("as of" slider, "known at").
import { get } from "/dashboard/assets/api.js";
import { t } from "/dashboard/assets/i18n.js";

const $ = (id) => document.getElementById(id);
const COLORS = {
  pending: "#c7d2fe", in_force: "#dc2626", suspended: "#f59e0b", expired: "#9ca3af",
  exited: "#60a5fa", repaired: "#10b981", revoked: "#4b5563", superseded: "#a78bfa",
};
const view = { subject: null, span: [0, 0], events: [], chart: null, timer: null };
window.jsbDashboard ??= {};
window.jsbDashboard.subject = view;

function instantOf(value) {
  const [lo, hi] = view.span;
  return new Date(lo + ((hi - lo) * Number(value)) / 1000);
}

function knownAt() {
  const raw = $("known-at").value;
  return raw ? new Date(raw).toISOString() : null;
}

async function showStatus() {
  const asOf = instantOf($("as-of").value).toISOString();
  $("as-of-label").textContent = asOf.replace("T", " ").slice(0, 19) + "Z";
  const status = await get(`/v1/subjects/${encodeURIComponent(view.subject)}/status`, {
    as_of: asOf, known_at: knownAt(),
  });
  const box = $("as-of-status");
  box.replaceChildren();
  box.dataset.asOf = asOf;
  box.dataset.knownAt = knownAt() ?? "";
  box.dataset.restricted = String(status.restricted);
  const head = document.createElement("p");
  head.textContent = status.restricted ? t("restricted") : t("not_restricted");
  box.append(head);
  if (!status.designations.length) box.append(t("nothing"));
  for (const d of status.designations) {
    const span = document.createElement("span");
    span.className = `designation state-${d.state}`;
    span.dataset.designation = d.designation_id;
    span.dataset.state = d.state;
    span.textContent = `${d.list_type} · ${t(`state_${d.state}`)}`;
    box.append(span);
  }
  box.dataset.ready = "1";
  view.chart?.setOption({ series: [{ id: "bands", markLine: markAt(asOf) }] });
}

function markAt(iso) {
  return { symbol: "none", silent: true, label: { show: false },
           lineStyle: { color: "#111827", type: "dashed" },
           data: [{ xAxis: new Date(iso).getTime() }] };
}

function scheduleStatus() {
  $("as-of-status").dataset.ready = "0";
  clearTimeout(view.timer);
  view.timer = setTimeout(() => showStatus().catch((e) => { $("search-error").textContent = e.message; }), 150);
}

function draw(echarts, timeline) {
  const rows = timeline.designations.map((d) => d.designation_id);
  const label = timeline.designations.map((d) => `${d.list_type} (${d.designated_by})`);
  const now = view.span[1];
  const bands = [];
  for (const [id, spans] of Object.entries(timeline.bands)) {
    const row = rows.indexOf(id);
    if (row < 0) continue;
    for (const s of spans) {
      bands.push({
        value: [row, Date.parse(s.from), s.until ? Date.parse(s.until) : now],
        state: s.state,
        itemStyle: { color: COLORS[s.state] ?? "#94a3b8" },
      });
    }
  }
  const points = view.events.map((e) => {
    const id = e.event.data?.designation_id;
    const row = Math.max(0, rows.indexOf(id));
    return { value: [Date.parse(e.effective_at), row], position: e.position, name: e.type };
  });
  view.chart ??= echarts.init($("chart-timeline"));
  view.chart.off("click");
  view.chart.setOption({
    animation: false,
    tooltip: {
      formatter: (p) => p.seriesId === "events"
        ? `#${p.data.position} ${p.data.name}`
        : `${label[p.value[0]]}: ${t(`state_${p.data.state}`)}`,
    },
    grid: { left: 220, right: 20, top: 20, bottom: 40 },
    xAxis: { type: "time", min: view.span[0], max: view.span[1] },
    yAxis: { type: "category", data: label, inverse: true },
    dataZoom: [{ type: "inside", xAxisIndex: 0, filterMode: "weakFilter" }],
    series: [
      {
        id: "bands", type: "custom", dimensions: ["row", "from", "until"],
        encode: { x: ["from", "until"], y: "row" }, data: bands,
        renderItem: (params, api) => {
          const start = api.coord([api.value(1), api.value(0)]);
          const end = api.coord([api.value(2), api.value(0)]);
          const height = api.size([0, 1])[1] * 0.5;
          return {
            type: "rect",
            shape: { x: start[0], y: start[1] - height / 2, width: Math.max(2, end[0] - start[0]), height },
            style: api.style(),
          };
        },
        markLine: markAt(new Date(view.span[1]).toISOString()),
      },
      { id: "events", type: "scatter", data: points, symbolSize: 10, itemStyle: { color: "#1d4ed8" }, z: 3 },
    ],
  }, true);
  const legend = $("band-legend");
  legend.replaceChildren();
  for (const state of new Set(bands.map((b) => b.state))) {
    const item = document.createElement("span");
    item.className = "band";
    item.dataset.state = state;
    item.style.borderLeftColor = COLORS[state] ?? "#94a3b8";
    item.textContent = t(`state_${state}`);
    legend.append(item);
  }
  view.chart.on("click", { seriesId: "events" }, (p) => {
    const e = view.events.find((x) => x.position === p.data.position);
    const box = $("event-detail");
    box.hidden = false;
    box.dataset.position = String(e.position);
    box.textContent = JSON.stringify({
      position: e.position, stream_version: e.stream_version, type: e.type,
      effective_at: e.effective_at, recorded_at: e.recorded_at, prev_hash: e.prev_hash,
      hash: e.hash, chain_verifies: view.verified, event: e.event,
    }, null, 2);
  });
}

export async function openSubject(id, echarts) {
  const path = `/v1/subjects/${encodeURIComponent(id)}`;
  const [timeline, history, verify] = await Promise.all([
    get(`${path}/timeline`), get(`${path}/history`), get(`${path}/history/verify`),
  ]);
  view.subject = id; // what the caller typed: the answer masks identity numbers for most tokens
  view.events = history.events;
  view.verified = verify.ok;
  const times = history.events.map((e) => Date.parse(e.effective_at));
  const now = Date.now();
  const first = times.length ? Math.min(...times) : now - 86400000;
  view.span = [first - 86400000, now];
  $("subject").hidden = false;
  $("subject-title").textContent = `${timeline.subject_id} · ${history.events.length} ${t("events")}`;
  $("verify").textContent = verify.ok ? `✔ ${t("chain_ok")}` : `✘ ${t("chain_broken")}`;
  $("verify").dataset.ok = String(verify.ok);
  $("event-detail").hidden = true;
  $("as-of").value = "1000";
  $("as-of").oninput = scheduleStatus;
  $("known-at").onchange = scheduleStatus;
  $("known-now").onclick = () => { $("known-at").value = ""; scheduleStatus(); };
  draw(echarts, timeline);
  await showStatus();
}

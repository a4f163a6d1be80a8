"use strict";
// cadre dashboard: one page, views chosen by ?view=, every figure from the API.

const el = (id) => document.getElementById(id);
const fmt = (v, d = 2) => (v === null || v === undefined) ? "–" : Number(v).toFixed(d);
const pct = (v) => (v === null || v === undefined) ? "–" : (100 * v).toFixed(0) + "%";
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]));
// YlOrRd, a colour-blind-safe sequential scale for gaps
const SCALE = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"];
// Okabe–Ito, a colour-blind-safe categorical palette for series
const SERIES = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"];
const BANDS = [["ready_now", "Ready now"], ["ready_1_2_years", "1–2 years"], ["ready_3_plus_years", "3+ years"], ["not_ready", "Not ready"]];
const bandName = (b) => (BANDS.find(x => x[0] === b) || [b, b || "–"])[1];

const state = { me: null, charts: [], lastEvents: null, unitNames: {} };

function params() { return new URLSearchParams(location.search); }
function view() { return params().get("view") || "overview"; }

/// Navigates within the page, keeping the as-of date and the org unit.
function navigate(changes) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) { if (v === null || v === "") p.delete(k); else p.set(k, v); }
  history.pushState(null, "", "?" + p);
  render();
}

/// The API query string for the current filters plus `extra`.
function apiQuery(extra = {}) {
  const p = new URLSearchParams();
  const q = params();
  if (q.get("as_of")) p.set("as_of", q.get("as_of"));
  if (q.get("unit")) p.set("org_unit", q.get("unit"));
  for (const [k, v] of Object.entries(extra)) { if (v === null) p.delete(k); else p.set(k, v); }
  return p.toString();
}

async function api(path) {
  const r = await fetch(path, { credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) { const e = new Error(body.error || r.statusText); e.status = r.status; throw e; }
  return body;
}

function csvLink(path) { return `<a class="csv" href="${esc(path)}" download data-csv>Download CSV</a>`; }

function clearCharts() { state.charts.forEach(c => c.destroy()); state.charts = []; }
function chart(canvas, config) {
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
  const c = new Chart(canvas, config);
  state.charts.push(c);
  return c;
}
function sparkline(canvas, values, colour) {
  return chart(canvas, {
    type: "line",
    data: { labels: values.map((_, i) => i), datasets: [{ data: values, borderColor: colour, borderWidth: 2, pointRadius: 0, tension: 0.25, spanGaps: true }] },
    options: { responsive: false, plugins: { legend: { display: false }, tooltip: { enabled: false } }, scales: { x: { display: false }, y: { display: false } } },
  });
}

/// A plain table from API rows; `cols` are [key, label, formatter?].
function table(rows, cols, opts = {}) {
  let h = "<table><thead><tr>" + cols.map(c => `<th class="${c[3] || ""}">${esc(c[1])}</th>`).join("") + "</tr></thead><tbody>";
  for (const r of rows) {
    h += `<tr class="${r.suppressed ? "suppressed" : ""}"${opts.rowAttr ? opts.rowAttr(r) : ""}>` + cols.map(c => {
      const v = c[2] ? c[2](r[c[0]], r) : esc(r[c[0]] ?? "–");
      return `<td class="${c[3] || ""}">${v}</td>`;
    }).join("") + "</tr>";
  }
  if (!rows.length) h += `<tr><td class="text" colspan="${cols.length}">Nothing here.</td></tr>`;
  return h + "</tbody></table>";
}
const num = (d) => (v, r) => r && r.suppressed ? "<span title=\"fewer people than may be shown\">·</span>" : fmt(v, d);
const share = (v, r) => r && r.suppressed ? "·" : pct(v);
const risk = (v) => v ? `<span class="risk ${esc(v)}">${esc(v)}</span>` : "–";

// ---------- views ----------

const VIEWS = {
  async overview(root) {
    const d = await api("/v1/query/trends?" + apiQuery({ months: 12 }));
    const rows = d.tables.trends.rows;
    const last = rows[rows.length - 1] || {};
    const figures = [
      ["headcount", "Headcount", v => v ?? "–", null],
      ["coverage", "Assessment coverage", pct, "coverage_change"],
      ["staleness", "Staleness", pct, "staleness_change"],
      ["mean_gap", "Mean gap", v => fmt(v), "mean_gap_change"],
      ["succession_coverage", "Succession coverage", pct, "succession_coverage_change"],
      ["positions_at_risk", "Positions at risk", v => v ?? "–", "positions_at_risk_change"],
    ];
    let h = '<div class="cards">';
    figures.forEach(([k, label, f, ch], i) => {
      let change;
      if (k === "headcount") {
        const prev = rows[rows.length - 2];
        change = prev && last.headcount !== null && prev.headcount !== null ? last.headcount - prev.headcount : null;
      } else change = last[ch];
      const shown = change === null || change === undefined ? "no earlier month" :
        (k === "mean_gap" ? (change >= 0 ? "+" : "") + fmt(change) : k === "positions_at_risk" || k === "headcount" ? (change >= 0 ? "+" : "") + change : (change >= 0 ? "+" : "") + (100 * change).toFixed(1) + " pts");
      h += `<div class="card"><div class="k">${label}</div><div class="v" data-metric="${k}">${last.suppressed ? "·" : f(last[k])}</div>` +
        `<div class="d" data-change="${k}">${last.suppressed ? "suppressed" : shown + " since last month"}</div><canvas id="spark-${k}" width="170" height="36" aria-label="${label}, last 12 months"></canvas></div>`;
    });
    h += "</div>";
    h += `<section><h2>Last 12 months ${csvLink("/v1/query/trends?" + apiQuery({ months: 12, format: "csv" }))}</h2><div class="chart"><canvas id="trend-chart" aria-label="Mean gap and coverage by month"></canvas></div></section>`;
    h += `<section><h2>Monthly figures</h2>${table(rows, [
      ["as_of", "Month end", v => esc(String(v).slice(0, 10)), "text"], ["headcount", "Headcount", num(0)],
      ["coverage", "Coverage", share], ["staleness", "Staleness", share], ["mean_gap", "Mean gap", num(2)],
      ["succession_coverage", "Succession coverage", share], ["mean_bench_strength", "Bench strength", num(1)], ["positions_at_risk", "At risk", num(0)],
    ])}</section>`;
    root.innerHTML = h;
    figures.forEach(([k], i) => sparkline(el("spark-" + k), rows.map(r => r[k]), SERIES[i % SERIES.length]));
    chart(el("trend-chart"), {
      type: "line",
      data: {
        labels: rows.map(r => String(r.as_of).slice(0, 7)),
        datasets: [
          { label: "Mean gap (levels)", data: rows.map(r => r.mean_gap), borderColor: SERIES[0], backgroundColor: SERIES[0], yAxisID: "gap" },
          { label: "Assessment coverage (%)", data: rows.map(r => r.coverage === null ? null : 100 * r.coverage), borderColor: SERIES[1], backgroundColor: SERIES[1], yAxisID: "share" },
          { label: "Succession coverage (%)", data: rows.map(r => r.succession_coverage === null ? null : 100 * r.succession_coverage), borderColor: SERIES[2], backgroundColor: SERIES[2], yAxisID: "share", borderDash: [6, 3] },
        ],
      },
      options: { scales: { gap: { position: "left", beginAtZero: true, title: { display: true, text: "levels" } }, share: { position: "right", min: 0, max: 100, title: { display: true, text: "%" }, grid: { drawOnChartArea: false } } } },
    });
  },

  async heatmap(root) {
    const unit = params().get("unit") || "";
    const d = await api("/v1/gaps/heatmap?" + apiQuery({ org_unit: null, parent: unit }));
    const crumbs = d.breadcrumb.length ? d.breadcrumb.map(b => `<a data-unit="${esc(b.unit_id)}">${esc(b.unit_name)}</a>`) : ['<a data-unit="">Organisation</a>'];
    const comps = d.competencies;
    const cats = [];
    for (const c of comps) {
      const last = cats[cats.length - 1];
      if (last && last.id === c.category) last.n++; else cats.push({ id: c.category, name: c.category_name, n: 1 });
    }
    const cell = {};
    for (const c of d.cells) cell[c.unit_id + "\u0000" + c.competency_id] = c;
    let t = '<thead><tr><th class="name" rowspan="2">Unit</th><th rowspan="2">People</th>' +
      cats.map(c => `<th class="cat" colspan="${c.n}">${esc(c.name)}</th>`).join("") + "</tr><tr>" +
      comps.map(c => `<th class="comp" title="${esc(c.competency_name)}"><div>${esc(c.competency_name)}</div></th>`).join("") + "</tr></thead><tbody>";
    for (const r of d.rows) {
      t += `<tr><td class="name"><a data-unit="${esc(r.unit_id)}">${esc(r.unit_name)}</a></td><td>${r.suppressed ? "·" : r.headcount}</td>`;
      for (const c of comps) {
        const x = cell[r.unit_id + "\u0000" + c.competency_id];
        if (!x || x.mean_gap === null) {
          const why = !x ? "not required here" : (x.suppressed ? "fewer people than may be shown" : "no levelled pairs");
          t += `<td class="cell na" data-unit="${esc(r.unit_id)}" data-competency="${esc(c.competency_id)}" title="${why}">${x && x.suppressed ? "·" : ""}</td>`;
        } else {
          const i = Math.max(0, Math.min(SCALE.length - 1, Math.floor((x.mean_gap / 2) * SCALE.length)));
          t += `<td class="cell" data-unit="${esc(r.unit_id)}" data-competency="${esc(c.competency_id)}" data-gap="${x.mean_gap}" style="background:${SCALE[i]};color:${x.mean_gap >= 1.25 ? "#fff" : "#1d2330"}" ` +
            `title="${esc(r.unit_name)} · ${esc(c.competency_name)}&#10;mean gap ${fmt(x.mean_gap)} · coverage ${pct(x.coverage)} · meeting ${pct(x.meeting_share)} · ${x.people_with_requirements} people">${fmt(x.mean_gap, 1)}</td>`;
        }
      }
      t += "</tr>";
    }
    if (!d.rows.length) t += `<tr><td class="name" colspan="${comps.length + 2}">No sub-units below this one.</td></tr>`;
    const u = d.unit || {};
    let h = `<nav class="crumbs" id="crumbs">${crumbs.join(" › ")}</nav>`;
    h += `<div class="cards">` + [
      ["headcount", "Headcount", u.suppressed ? "·" : (u.headcount ?? "–")],
      ["coverage", "Assessment coverage", share(u.coverage, u)],
      ["meeting_share", "Meeting requirement", share(u.meeting_share, u)],
      ["mean_gap", "Mean gap", num(2)(u.mean_gap, u)],
    ].map(([k, label, v]) => `<div class="card"><div class="k">${label}</div><div class="v" data-metric="${k}">${v}</div></div>`).join("") + "</div>";
    h += `<section><h2>Mean gap by org unit and competency ${csvLink("/v1/gaps/heatmap?" + apiQuery({ org_unit: null, parent: unit, format: "csv" }))}</h2>` +
      `<p class="muted">Each cell: mean gap (required − effective level) over the people of that unit and everything under it whose role requires the competency. Click a unit to drill down. Hatched: nobody there needs it; a dot: too few people to show.</p>` +
      `<table id="heatmap">${t}</tbody></table><div class="legend">Mean gap: ${SCALE.map((c, i) => `<span class="sw" style="background:${c}" title="${(i * 2 / SCALE.length).toFixed(2)}+"></span>`).join("")} 0 → 2+</div></section>`;
    h += `<section><h2>Competencies in ${esc(u.unit_name || "the organisation")} ${csvLink("/v1/gaps/competencies?" + apiQuery({ org_unit: d.parent || null, format: "csv" }))}</h2><div class="chart"><canvas id="comp-chart"></canvas></div>${table(comps, [
      ["competency_name", "Competency", null, "text"], ["category_name", "Category", null, "text"], ["people_with_requirements", "People", num(0)],
      ["coverage", "Coverage", share], ["meeting_share", "Meeting", share], ["mean_gap", "Mean gap", num(2)],
    ])}</section>`;
    if (state.me.may.individuals && d.parent) h += `<section id="people"><h2>People in ${esc(u.unit_name || d.parent)}</h2><p class="muted">Loading…</p></section>`;
    root.innerHTML = h;
    root.querySelectorAll("[data-unit]").forEach(a => { if (a.tagName === "A") a.onclick = () => navigate({ unit: a.dataset.unit }); });
    const shown = comps.filter(c => c.mean_gap !== null);
    chart(el("comp-chart"), {
      type: "bar",
      data: { labels: shown.map(c => c.competency_name), datasets: [{ label: "Mean gap", data: shown.map(c => c.mean_gap), backgroundColor: shown.map(c => SCALE[Math.max(0, Math.min(SCALE.length - 1, Math.floor((c.mean_gap / 2) * SCALE.length)))]), borderColor: "#5b6475", borderWidth: 1 }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: "mean gap (levels)" } } } },
    });
    if (state.me.may.individuals && d.parent) {
      const g = await api("/v1/query/gaps?" + apiQuery({ org_unit: d.parent }));
      const people = g.tables.employees.rows;
      el("people").innerHTML = `<h2>People in ${esc(u.unit_name || d.parent)} ${csvLink("/v1/query/gaps?" + apiQuery({ org_unit: d.parent, format: "csv", table: "employees" }))}</h2>` + table(people, [
        ["name", "Name", (v, r) => `<a href="?${esc(new URLSearchParams({ view: "profile", id: r.employee_id, ...(params().get("as_of") ? { as_of: params().get("as_of") } : {}) }))}" data-employee="${esc(r.employee_id)}">${esc(v)}</a>`, "name"],
        ["role_id", "Role", null, "text"], ["required_pairs", "Required"], ["unassessed_pairs", "Unassessed"],
        ["total_weighted_gap", "Weighted gap", num(1)], ["role_fit", "Role fit", num(2)],
      ]);
    }
  },

  async training(root) {
    const d = await api("/v1/query/training-needs?" + apiQuery());
    const needs = d.tables.needs.rows;
    const courses = d.tables.courses ? d.tables.courses.rows : [];
    const byComp = {};
    for (const c of courses) (byComp[c.competency_id] = byComp[c.competency_id] || []).push(c);
    const top = needs.filter(n => !n.suppressed).slice(0, 15);
    let h = `<section><h2>Where training would close the most gap ${csvLink("/v1/query/training-needs?" + apiQuery({ format: "csv", table: "needs" }))}</h2>` +
      `<p class="muted">Competencies ranked by total weighted gap (Σ weight × gap over everyone in scope). Borich rank orders by mean gap among those with a gap, weighted by importance.</p>` +
      `<div class="chart"><canvas id="needs-chart"></canvas></div>${table(needs, [
        ["rank", "Rank", num(0)], ["competency_name", "Competency", null, "text"], ["category_name", "Category", null, "text"],
        ["total_weighted_gap", "Weighted gap", num(1)], ["people_affected", "People affected", num(0)], ["mean_gap_affected", "Mean gap (affected)", num(2)],
        ["borich_rank", "Borich rank", num(0)],
        ["competency_id", "Courses that address it", v => (byComp[v] || []).map(c => `<span class="pill" title="${c.participants ?? "·"} participants; mean change ${fmt(c.mean_change)}">${esc(c.course_title || c.course_id)}</span>`).join(" ") || '<span class="muted">none on record</span>', "wrap"],
      ])}</section>`;
    h += `<section><h2>Courses and their measured effect ${csvLink("/v1/query/training-needs?" + apiQuery({ format: "csv", table: "courses" }))}</h2>${table(courses, [
      ["course_title", "Course", null, "text"], ["competency_id", "Competency", null, "text"], ["participants", "Participants", num(0)],
      ["measured", "Measured", num(0)], ["mean_change", "Mean change", num(2)],
    ])}</section>`;
    root.innerHTML = h;
    chart(el("needs-chart"), {
      type: "bar",
      data: { labels: top.map(n => n.competency_name), datasets: [
        { label: "Total weighted gap", data: top.map(n => n.total_weighted_gap), backgroundColor: SERIES[0], xAxisID: "x" },
        { label: "People affected", data: top.map(n => n.people_affected), backgroundColor: SERIES[1], xAxisID: "x2" },
      ] },
      options: { indexAxis: "y", scales: { x: { position: "bottom", beginAtZero: true, title: { display: true, text: "weighted gap" } }, x2: { position: "top", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "people" } } } },
    });
  },

  async succession(root) {
    const d = await api("/v1/query/succession?" + apiQuery());
    const pos = d.tables.positions.rows;
    const cands = d.tables.candidates.rows;
    const s = d.summary || {};
    const per = {};
    for (const c of cands) (per[c.position_id] = per[c.position_id] || []).push(c);
    let h = `<div class="cards">` + [
      ["critical_positions", "Critical positions", s.critical_positions], ["coverage", "Succession coverage", pct(s.coverage)],
      ["red", "At risk (red)", s.red], ["amber", "Amber", s.amber], ["vacant", "Vacant", s.vacant], ["mean_bench_strength", "Mean bench strength", fmt(s.mean_bench_strength, 1)],
    ].map(([k, label, v]) => `<div class="card"><div class="k">${label}</div><div class="v" data-metric="${k}">${v ?? "–"}</div></div>`).join("") + "</div>";
    h += `<section><h2>Succession board ${csvLink("/v1/query/succession?" + apiQuery({ format: "csv", table: "positions" }))} <a class="csv" href="/v1/reports/succession?${esc(apiQuery())}" target="_blank">Report (HTML)</a> <a class="csv" href="/v1/reports/succession?${esc(apiQuery({ format: "pdf" }))}">Report (PDF)</a></h2>`;
    const order = { red: 0, amber: 1, green: 2 };
    const sorted = pos.slice().sort((a, b) => (order[a.risk] - order[b.risk]) || String(a.title).localeCompare(b.title));
    h += table(sorted, [
      ["title", "Position", (v, r) => `<a href="?${esc(new URLSearchParams({ ...Object.fromEntries(params()), view: "position", id: r.position_id }))}" data-position="${esc(r.position_id)}">${esc(v)}</a>`, "name"],
      ["org_unit_id", "Unit", v => esc(state.unitNames[v] || v), "text"],
      ["incumbent_name", "Incumbent", (v, r) => v ? esc(v) + (r.incumbent_leaving_on ? ` <span class="muted">(leaving ${esc(r.incumbent_leaving_on)})</span>` : "") : '<i>vacant</i>', "text"],
      ...BANDS.map(([b, label]) => [b, label, (v, r) => (per[r.position_id] || []).filter(c => c.computed_readiness === b).map(c => `<span class="pill" title="fit ${fmt(c.role_fit)}${c.nominated ? ", nominated" : ""}">${esc(c.name)}</span>`).join(" "), "wrap"]),
      ["bench_strength", "Bench"], ["risk", "Risk", risk, "text"],
    ], { rowAttr: r => ` data-risk="${esc(r.risk)}"` });
    h += "</section>";
    root.innerHTML = h;
  },

  async position(root) {
    const id = params().get("id");
    const q = new URLSearchParams(apiQuery());
    q.delete("org_unit");
    const [d, plan] = await Promise.all([
      api(`/v1/succession/${encodeURIComponent(id)}?${q}`),
      api(`/v1/query/plan?${new URLSearchParams({ ...Object.fromEntries(q), position: id, months: 12 })}`),
    ]);
    const p = d.position;
    let h = `<nav class="crumbs"><a href="?${esc(new URLSearchParams({ ...Object.fromEntries(params()), view: "succession", id: "" }))}">Succession board</a> › ${esc(p.title)}</nav>`;
    h += `<section><h2>${esc(p.title)} · ${esc(p.unit)} ${risk(p.risk)}</h2><p>Incumbent: ${p.incumbent ? esc(p.incumbent) : "<i>vacant</i>"}${p.leaving_on ? " (leaving " + esc(p.leaving_on) + ")" : ""}. Bench strength ${p.bench_strength}.</p>`;
    h += `<div class="chart"><canvas id="fit-chart"></canvas></div>`;
    h += table(d.rows, [
      ["name", "Candidate", (v, r) => esc(v) + (r.nominated ? "" : ' <i class="muted">(suggested)</i>'), "name"],
      ["stated", "Stated", v => esc(bandName(v)), "text"], ["computed", "Computed", v => esc(bandName(v)), "text"], ["fit", "Role fit", num(2)],
      ["shortfalls", "Gaps to the role", v => (v || []).map(s => `${esc(s.competency)} ${fmt(s.effective, 1)} → ${s.required}${s.courses.length ? ` <span class="muted">(${esc(s.courses.join(", "))})</span>` : ""}`).join("<br>") || "meets every requirement", "wrap"],
    ]) + "</section>";
    const readiness = plan.tables.readiness ? plan.tables.readiness.rows : [];
    const events = plan.tables.events ? plan.tables.events.rows : [];
    h += `<section><h2>Plan history ${csvLink(`/v1/query/plan?${new URLSearchParams({ ...Object.fromEntries(q), position: id, months: 12, format: "csv", table: "readiness" })}`)}</h2><div class="chart"><canvas id="plan-chart"></canvas></div>${table(events, [
      ["at", "When", v => esc(String(v).slice(0, 10)), "text"], ["candidate_id", "Candidate", null, "text"], ["action", "Change", null, "text"], ["stated_readiness", "Stated", v => esc(bandName(v)), "text"],
    ])}</section>`;
    root.innerHTML = h;
    chart(el("fit-chart"), {
      type: "bar",
      data: { labels: d.rows.map(c => c.name), datasets: [{ label: "Role fit", data: d.rows.map(c => c.fit), backgroundColor: d.rows.map(c => c.computed === "ready_now" ? SERIES[2] : c.computed === "ready_1_2_years" ? SERIES[1] : "#9aa3b2") }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 1, title: { display: true, text: "role fit" } } } },
    });
    const months = [...new Set(readiness.map(r => String(r.as_of).slice(0, 7)))];
    const who = [...new Set(readiness.map(r => r.candidate_id))];
    chart(el("plan-chart"), {
      type: "line",
      data: { labels: months, datasets: who.map((c, i) => ({ label: c, borderColor: SERIES[i % SERIES.length], backgroundColor: SERIES[i % SERIES.length], data: months.map(m => { const r = readiness.find(x => x.candidate_id === c && String(x.as_of).startsWith(m)); return r ? r.role_fit : null; }) })) },
      options: { scales: { y: { min: 0, max: 1, title: { display: true, text: "role fit" } } } },
    });
  },

  async ninebox(root) {
    const d = await api("/v1/query/nine-box?" + apiQuery());
    const boxes = d.tables.boxes.rows;
    const members = d.tables.members ? d.tables.members.rows : null;
    const perf = ["low", "medium", "high"];
    const pot = ["high", "medium", "low"];
    let h = `<section><h2>9-box: performance × potential ${csvLink("/v1/query/nine-box?" + apiQuery({ format: "csv", table: "boxes" }))}</h2>` +
      `<p class="muted">Latest performance rating (1–2 low, 3 medium, 4–5 high) against latest potential rating, for active employees with both.${members ? "" : " Names are shown only to roles that may see individuals."}</p><div class="ninebox">`;
    for (const p of pot) {
      h += `<div class="axis"><span>potential<br><b>${p}</b></span></div>`;
      for (const f of perf) {
        const key = `${f}/${p}`;
        const b = boxes.find(x => x.box === key) || {};
        const names = members ? members.filter(m => m.box === key) : [];
        h += `<div class="box" data-box="${key}"><div class="n">${b.suppressed ? "·" : (b.people ?? 0)}</div><div class="muted">${f} performance</div>` +
          (members ? `<ul>${names.map(m => `<li><a href="?${esc(new URLSearchParams({ view: "profile", id: m.employee_id }))}">${esc(m.name)}</a></li>`).join("")}</ul>` : "") + "</div>";
      }
    }
    h += `<div></div>${perf.map(f => `<div class="axis"><span>performance <b>${f}</b></span></div>`).join("")}</div></section>`;
    root.innerHTML = h;
  },

  async profile(root) {
    const id = params().get("id");
    const q = new URLSearchParams(apiQuery());
    q.delete("org_unit");
    const d = await api(`/v1/employees/${encodeURIComponent(id)}?${q}`);
    const e = d.employee;
    const dev = d.development.rows;
    let h = `<section><h2>${esc(e.name)} ${csvLink(`/v1/employees/${encodeURIComponent(id)}?${new URLSearchParams({ ...Object.fromEntries(q), format: "csv" })}`)}</h2>` +
      `<p>${esc(e.role_name || e.role_id || "no role")} · ${esc(e.unit_name || e.org_unit_id || "no unit")} · hired ${esc(String(e.hired_at).slice(0, 10))}${e.leaving_on ? " · leaving " + esc(e.leaving_on) : ""}` +
      ` · performance ${e.performance ?? "–"}${"potential" in e && e.potential !== null ? " · potential " + esc(e.potential) : ""}</p>` +
      `<div class="chart"><canvas id="profile-chart" aria-label="Required and effective level per competency"></canvas></div></section>`;
    h += `<section><h2>Development list</h2>${table(dev, [
      ["competency_name", "Competency", null, "text"], ["category", "Category", null, "text"], ["required", "Required"], ["effective", "Effective", num(1)],
      ["gap", "Gap", num(1)], ["weighted_gap", "Weighted gap", num(1)], ["provisional", "Provisional", v => v ? "yes" : "", "text"], ["unassessed", "Unassessed", v => v ? "yes" : "", "text"],
    ])}</section>`;
    h += `<div class="cols"><section><h2>Assessments</h2>${table(d.assessments, [
      ["at", "Date", v => esc(String(v).slice(0, 10)), "text"], ["competency_name", "Competency", null, "text"], ["level", "Level"], ["assessor_type", "By", null, "text"],
    ])}</section><section><h2>Trainings</h2>${table(d.trainings, [
      ["completed_at", "Completed", v => esc(String(v).slice(0, 10)), "text"], ["course_title", "Course", (v, r) => esc(v || r.course_id), "text"], ["competency_name", "Develops", null, "text"], ["target_level", "Target"],
    ])}</section></div>`;
    if (d.nominations) h += `<section><h2>Succession nominations</h2>${table(d.nominations, [["title", "Position", null, "text"], ["readiness", "Stated readiness", v => esc(bandName(v)), "text"], ["since", "Since", v => esc(String(v).slice(0, 10)), "text"]])}</section>`;
    root.innerHTML = h;
    chart(el("profile-chart"), {
      type: "bar",
      data: { labels: dev.map(r => r.competency_name), datasets: [
        { label: "Required", data: dev.map(r => r.required), backgroundColor: SERIES[4] },
        { label: "Effective", data: dev.map(r => r.effective), backgroundColor: SERIES[0] },
      ] },
      options: { scales: { y: { beginAtZero: true, suggestedMax: 5, title: { display: true, text: "level" } } } },
    });
  },
};

// ---------- shell ----------

async function render() {
  const v = view();
  document.querySelectorAll("#tabs a").forEach(a => a.classList.toggle("active", a.dataset.nav === v || (v === "position" && a.dataset.nav === "succession")));
  el("asof").value = params().get("as_of") || "";
  el("unit").value = params().get("unit") || (state.me.scope || "");
  clearCharts();
  const root = el("view");
  root.dataset.view = v;
  root.dataset.state = "loading";
  try {
    if (!VIEWS[v]) throw new Error("no view " + v);
    await VIEWS[v](root);
    el("error").textContent = "";
    root.dataset.state = "ready";
  } catch (e) {
    el("error").textContent = (e.status === 403 ? "Not allowed: " : "Could not load: ") + e.message;
    if (e.status === 403) root.innerHTML = "";
    root.dataset.state = "error";
  }
  el("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

/// Re-renders when the log has grown (new events), without a reload.
async function poll() {
  try {
    const s = await api("/v1/status");
    if (state.lastEvents !== null && s.events !== state.lastEvents) await render();
    state.lastEvents = s.events;
  } catch (e) { /* shown on the next render */ }
}

async function start() {
  state.me = await api("/v1/me");
  const me = state.me;
  el("who").textContent = `${me.name} · ${me.role}${me.scope ? " · " + me.scope : ""}`;
  document.querySelectorAll("[data-needs=succession]").forEach(a => { if (!me.may.succession) a.remove(); });
  const units = await api("/v1/units");
  for (const u of units.units) state.unitNames[u.unit_id] = u.unit_name;
  el("unit").innerHTML = (me.scope ? "" : '<option value="">Whole organisation</option>') +
    units.units.map(u => `<option value="${esc(u.unit_id)}">${"\u00a0\u00a0".repeat(u.depth)}${esc(u.unit_name)}</option>`).join("");
  document.querySelectorAll("[data-nav]").forEach(a => a.onclick = (ev) => { ev.preventDefault(); navigate({ view: a.dataset.nav, id: null }); });
  el("unit").onchange = () => navigate({ unit: el("unit").value });
  el("asof").onchange = () => navigate({ as_of: el("asof").value });
  el("today").onclick = () => navigate({ as_of: null });
  window.onpopstate = render;
  await render();
  await poll();
  setInterval(poll, 10000);
}

start().catch(e => { el("error").textContent = "Could not start: " + e.message; });

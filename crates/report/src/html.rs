//! The report as one printable HTML page.

use std::fmt::Write;

use crate::{PositionSection, SuccessionReport};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A readiness band in words.
fn band(r: &str) -> &'static str {
    match r {
        "ready_now" => "ready now",
        "ready_1_2_years" => "ready in 1–2 years",
        "ready_3_plus_years" => "ready in 3+ years",
        "not_ready" => "not ready",
        _ => "—",
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.0}%", v * 100.0))
}

fn signed(x: i64) -> String {
    match x {
        0 => "no change".into(),
        x if x > 0 => format!("+{x}"),
        x => format!("−{}", -x),
    }
}

fn change_pts(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => {
            let d = ((a - b) * 100.0).round() as i64;
            if d == 0 {
                "no change".into()
            } else {
                format!("{} pts", signed(d))
            }
        }
        _ => "—".into(),
    }
}

const STYLE: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
body { font: 10.5pt/1.45 "DejaVu Sans", system-ui, sans-serif; color: #1d2330; margin: 0; }
h1 { font-size: 20pt; margin: 0 0 2pt; }
h2 { font-size: 14pt; margin: 18pt 0 6pt; border-bottom: 1.5pt solid #1f5fbf; padding-bottom: 2pt; break-after: avoid; }
h2.page { break-before: page; margin-top: 0; }
h3 { break-after: avoid; }
h3 { font-size: 11.5pt; margin: 12pt 0 4pt; }
.sub { color: #5b6475; margin: 0 0 12pt; }
.kpis { display: flex; gap: 8pt; flex-wrap: wrap; }
.kpi { border: 1px solid #d9dee7; border-radius: 4pt; padding: 6pt 10pt; min-width: 95pt; }
.kpi b { display: block; font-size: 16pt; }
.kpi span { color: #5b6475; font-size: 9pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { border-bottom: 1px solid #d9dee7; text-align: left; padding: 3pt 5pt; vertical-align: top; }
th { background: #f1f3f7; font-weight: 600; }
td.num, th.num { text-align: right; }
.risk { display: inline-block; padding: 0 6pt; border-radius: 8pt; font-weight: 600; font-size: 9pt; }
.risk.red { background: #fbe3e1; color: #8a1c12; }
.risk.amber { background: #fdf0d5; color: #7a4b00; }
.risk.green { background: #e0f2e6; color: #1d5b2f; }
.position { break-inside: avoid-page; }
.gaps { color: #5b6475; font-size: 9.5pt; }
.id { color: #5b6475; font-size: 8pt; white-space: nowrap; }
.method { break-before: page; }
.method dt { font-weight: 600; margin-top: 6pt; }
.method dd { margin: 0 0 0 12pt; }
"#;

impl SuccessionReport {
    /// The report as a self-contained HTML page (no scripts, no external files).
    pub fn to_html(&self) -> String {
        let mut h = String::new();
        let date = self.now.as_of.format("%-d %B %Y").to_string();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Succession report · {scope} · {date}</title><style>{STYLE}</style></head><body>",
            scope = esc(&self.scope)
        );
        let _ = write!(
            h,
            "<h1>Succession report</h1><p class=\"sub\">{} · as of {date} · compared with {}</p>",
            esc(&self.scope),
            self.before.as_of.format("%-d %B %Y")
        );
        self.summary(&mut h);
        h.push_str("<h2 class=\"page\">Critical positions</h2>");
        if self.positions.is_empty() {
            h.push_str("<p>No critical positions in this scope.</p>");
        }
        for p in &self.positions {
            position(&mut h, p);
        }
        method(&mut h, self);
        h.push_str("</body></html>");
        h
    }

    fn summary(&self, h: &mut String) {
        let (n, b) = (&self.now.summary, &self.before.summary);
        let since = self.before.as_of.format("%-d %b %Y").to_string();
        h.push_str("<h2>Executive summary</h2><div class=\"kpis\">");
        let kpi = |h: &mut String, value: String, label: &str, change: String| {
            let _ = write!(
                h,
                "<div class=\"kpi\"><b>{value}</b><span>{label}<br>{change} since {since}</span></div>"
            );
        };
        let diff = |a: usize, c: usize| signed(a as i64 - c as i64);
        kpi(
            h,
            pct(n.coverage),
            "succession coverage",
            change_pts(n.coverage, b.coverage),
        );
        kpi(
            h,
            n.critical_positions.to_string(),
            "critical positions",
            diff(n.critical_positions, b.critical_positions),
        );
        kpi(h, n.red.to_string(), "at risk (red)", diff(n.red, b.red));
        kpi(h, n.amber.to_string(), "amber", diff(n.amber, b.amber));
        kpi(h, n.vacant.to_string(), "vacant", diff(n.vacant, b.vacant));
        h.push_str("</div>");
        let _ = write!(
            h,
            "<p>{} of {} critical positions have a successor ready now ({}). {} have nobody ready within two years. Mean bench strength is {}.</p>",
            n.with_ready_now,
            n.critical_positions,
            pct(n.coverage),
            n.red,
            n.mean_bench_strength.map_or("—".into(), |v| format!("{v:.1}")),
        );
        if !self.leaving_without_successor.is_empty() {
            let list: Vec<String> = self
                .leaving_without_successor
                .iter()
                .map(|t| esc(t))
                .collect();
            let _ = write!(
                h,
                "<p><b>Incumbent leaving, nobody on the bench:</b> {}.</p>",
                list.join("; ")
            );
        }
        h.push_str("<table><thead><tr><th>Position</th><th>Unit</th><th>Incumbent</th><th class=\"num\">Bench</th><th>Risk</th></tr></thead><tbody>");
        for p in &self.positions {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><span class=\"risk {r}\">{r}</span></td></tr>",
                esc(&p.title),
                esc(&p.unit),
                p.incumbent.as_deref().map_or("vacant".into(), esc),
                p.bench_strength,
                r = esc(&p.risk)
            );
        }
        h.push_str("</tbody></table>");
    }
}

fn position(h: &mut String, p: &PositionSection) {
    let _ = write!(
        h,
        "<section class=\"position\"><h3>{} · {} <span class=\"risk {r}\">{r}</span></h3>",
        esc(&p.title),
        esc(&p.unit),
        r = esc(&p.risk)
    );
    let incumbent = match (&p.incumbent, &p.leaving_on) {
        (Some(i), Some(d)) => format!("{} (leaving on {})", esc(i), esc(d)),
        (Some(i), None) => esc(i),
        (None, _) => "vacant".into(),
    };
    let _ = write!(
        h,
        "<p>Incumbent: {incumbent}. Bench strength: {}.</p>",
        p.bench_strength
    );
    if p.candidates.is_empty() {
        h.push_str("<p>No candidates.</p></section>");
        return;
    }
    h.push_str("<table><thead><tr><th>Candidate</th><th>Stated</th><th>Computed</th><th class=\"num\">Fit</th><th>What separates them from ready now</th></tr></thead><tbody>");
    for c in &p.candidates {
        let gaps: Vec<String> = c
            .shortfalls
            .iter()
            .map(|s| {
                let courses = if s.courses.is_empty() {
                    String::new()
                } else {
                    format!(" — courses: {}", esc(&s.courses.join(", ")))
                };
                format!(
                    "{} {:.1} → {}{courses}",
                    esc(&s.competency),
                    s.effective,
                    s.required
                )
            })
            .collect();
        let gaps = if gaps.is_empty() {
            "meets every requirement".to_string()
        } else {
            gaps.join("<br>")
        };
        let _ = write!(
            h,
            "<tr><td>{} <span class=\"id\">{}</span>{}</td><td>{}</td><td>{}</td><td class=\"num\">{:.2}</td><td class=\"gaps\">{gaps}</td></tr>",
            esc(&c.name),
            esc(&c.candidate_id),
            if c.nominated { "" } else { " <i>(suggested)</i>" },
            c.stated.as_deref().map_or("—", band),
            band(&c.computed),
            c.fit
        );
    }
    h.push_str("</tbody></table></section>");
}

fn method(h: &mut String, r: &SuccessionReport) {
    let (c, l) = (&r.config, &r.policy);
    let _ = write!(
        h,
        r#"<section class="method"><h2>Method</h2><dl>
<dt>Critical position</dt><dd>A position defined with <code>critical: true</code>; only these are planned for.</dd>
<dt>Candidates</dt><dd>Everyone with a standing nomination for the position, plus the {top} active employees with the highest role fit for the position's role who do not already hold that role (marked <i>suggested</i>).</dd>
<dt>Effective level</dt><dd>For each competency, the weighted mean of the latest manager ({m}), panel ({pa}), peer ({pe}) and self ({se}) assessments of the last {w} days; a training completed since raises it by at most one level, up to the course's target.</dd>
<dt>Role fit</dt><dd>1 − Σ weight × min(gap, required) / Σ weight × required over the role's requirements, where gap = required − effective and an unassessed competency counts as level 0.</dd>
<dt>Computed readiness</dt><dd>Fit ≥ {r0:.2} ready now; ≥ {r1:.2} ready in 1–2 years; ≥ {r3:.2} ready in 3+ years; otherwise not ready. A latest performance rating below {floor} drops one band. The nominator's stated readiness is shown beside it.</dd>
<dt>What separates them from ready now</dt><dd>Each competency where the candidate's effective level is below the level the position's role requires, largest weighted gap first, with the courses that have developed that competency in this organisation.</dd>
<dt>Bench strength</dt><dd>Candidates ready now or in 1–2 years.</dd>
<dt>Risk</dt><dd>Green with a candidate ready now; amber with none ready now but one ready in 1–2 years; red with neither.</dd>
<dt>Succession coverage</dt><dd>Critical positions with a candidate ready now ÷ critical positions.</dd>
<dt>Change</dt><dd>Every figure is recomputed from the event log as of the earlier date, three months before the report date.</dd>
</dl><p>Thresholds are those in force when the report was produced (configuration <code>[analytics]</code>). Full definitions: docs/metrics.md.</p></section>"#,
        top = c.top_candidates,
        m = l.manager,
        pa = l.panel,
        pe = l.peer,
        se = l.self_assessed,
        w = l.window_days,
        r0 = c.ready_now,
        r1 = c.ready_1_2_years,
        r3 = c.ready_3_plus_years,
        floor = c.performance_floor,
    );
}

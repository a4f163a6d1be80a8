//! The analytical views: gap roll-ups, the heatmap, named queries, employee
//! profiles and the succession report. Every handler checks the caller's
//! role and scope first; every answer goes through a [`Guard`] before it
//! leaves; every view of a named individual is audited before it is served.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use cadre_access::Principal;
use cadre_analytics::{Analysis, QueryKind, QueryOutput, Scope, Table};
use cadre_projection::Snapshot;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::{effective_unit, Caller, Guard};
use crate::{ApiError, Service};

/// Parameters every view understands (each uses the ones it needs).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Params {
    as_of: Option<String>,
    org_unit: Option<String>,
    parent: Option<String>,
    category: Option<String>,
    role: Option<String>,
    months: Option<u32>,
    employee: Option<String>,
    position: Option<String>,
    /// `json` (default) or `csv`.
    format: Option<String>,
    /// Which table of a query answer to send as CSV (default: the first).
    table: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    /// Bad parameters are a JSON 400 like every other error of the API.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<Params>::from_request_parts(parts, state)
            .await
            .map(|Query(p)| p)
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

/// The one `{...}` segment of a path, percent-decoded.
pub(crate) struct Segment(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| Segment(p))
            .map_err(|e| ApiError::BadRequest(e.body_text()))
    }
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|x| !x.trim().is_empty())
}

pub(crate) fn parse_as_of(s: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    cadre_analytics::parse_as_of(s).map_err(ApiError::BadRequest)
}

/// A JSON answer, or with `format=csv` one of its tables as CSV.
fn answer(v: Value, p: &Params, name: &str) -> Result<Response, ApiError> {
    match p.format.as_deref() {
        None | Some("json") => Ok(Json(v).into_response()),
        Some("csv") => {
            let table = match v.get("tables").and_then(Value::as_object) {
                Some(tables) => {
                    let wanted = p.table.as_deref();
                    let found = match wanted {
                        Some(t) => tables.get(t),
                        None => tables.values().next(),
                    };
                    found.ok_or_else(|| {
                        let names: Vec<&str> = tables.keys().map(String::as_str).collect();
                        ApiError::NotFound(format!(
                            "no table {:?} in this answer; it has: {}",
                            wanted.unwrap_or(""),
                            names.join(", ")
                        ))
                    })?
                }
                None => &v,
            };
            let csv = csv_of(table);
            let file = format!("cadre-{name}.csv");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}\""),
                    ),
                ],
                csv,
            )
                .into_response())
        }
        Some(other) => Err(ApiError::BadRequest(format!(
            "format {other:?} is not known: use json or csv"
        ))),
    }
}

/// The CSV of a `{"columns", "rows"}` table, with a `suppressed` column when
/// any row was suppressed: exactly the figures the caller may see.
fn csv_of(table: &Value) -> String {
    let mut columns: Vec<String> = table
        .get("columns")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<&Map<String, Value>> = table
        .get("rows")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    if rows.iter().any(|r| r.contains_key("suppressed")) {
        columns.push("suppressed".into());
    }
    let t = Table {
        rows: rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| r.get(c).cloned().unwrap_or(Value::Null))
                    .collect()
            })
            .collect(),
        columns,
    };
    let mut out = Vec::new();
    t.write_csv(&mut out).expect("writing to memory");
    String::from_utf8(out).expect("CSV of JSON text is UTF-8")
}

/// Runs a view over a snapshot on the blocking pool, then lets the guard
/// protect the answer. `f` returns the answer and the scope it is about.
async fn analyse(
    s: Arc<Service>,
    who: Principal,
    as_of: Option<String>,
    f: impl FnOnce(&Principal, &Snapshot, &Analysis) -> Result<(Value, Scope), ApiError>
        + Send
        + 'static,
) -> Result<Value, ApiError> {
    let as_of = parse_as_of(as_of.as_deref())?;
    let slot = s.slot(&who)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let started = Instant::now();
        let prepared = s.engine().prepared(as_of)?;
        let (snap, g) = (prepared.snapshot(), prepared.analysis());
        let (mut out, scope) = f(&who, snap, g)?;
        Guard::new(who, s.k(), g, &scope)?.protect(&mut out);
        s.engine().metrics().record_analytics(started.elapsed());
        Ok(out)
    })
    .await?
}

fn table_json(snap: &Snapshot, t: Table) -> Value {
    json!({"as_of": snap.as_of.to_rfc3339(), "columns": t.columns, "rows": t.records()})
}

/// `GET /v1/units`: the org units the caller may look at, in tree order.
pub(crate) async fn units(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    p: Params,
) -> Result<Json<Value>, ApiError> {
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let snap = tokio::task::spawn_blocking(move || s.engine().snapshot(as_of)).await?;
    let mut units: Vec<_> = snap
        .units
        .values()
        .filter(|u| who.scope.as_ref().is_none_or(|sc| u.path.contains(sc)))
        .collect();
    units.sort_by(|a, b| a.path.cmp(&b.path));
    let rows: Vec<Value> = units
        .iter()
        .map(|u| json!({"unit_id": u.id, "unit_name": u.name, "parent_id": u.parent_id, "depth": u.path.len() - 1}))
        .collect();
    Ok(Json(json!({"scope": who.scope, "units": rows})))
}

pub(crate) async fn gaps_by_unit(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    p: Params,
) -> Result<Response, ApiError> {
    let v = analyse(s, who, p.as_of.clone(), |who, snap, g| {
        let mut t = Table::from_frame(&g.by_unit()?);
        let scope = effective_unit(who, snap, None)?;
        if let Some(scope) = &scope {
            let at = t.column("unit_id").expect("by_unit has unit_id");
            t.rows.retain(|r| {
                r[at]
                    .as_str()
                    .is_some_and(|u| snap.unit_path(u).contains(scope))
            });
        }
        Ok((table_json(snap, t), Scope::default()))
    })
    .await?;
    answer(v, &p, "units")
}

/// A roll-up within an optional `org_unit` subtree.
async fn scoped_rollup(
    s: Arc<Service>,
    Caller(who): Caller,
    p: Params,
    name: &str,
    rollup: fn(
        &Analysis,
        &Scope,
    ) -> Result<cadre_analytics::DataFrame, cadre_analytics::AnalyticsError>,
) -> Result<Response, ApiError> {
    let (unit, category, role) = (
        nonempty(p.org_unit.clone()),
        nonempty(p.category.clone()),
        nonempty(p.role.clone()),
    );
    let v = analyse(s, who, p.as_of.clone(), move |who, snap, g| {
        let scope = Scope {
            org_unit: effective_unit(who, snap, unit.as_deref())?,
            category,
            role,
        };
        let t = Table::from_frame(&rollup(g, &scope)?);
        Ok((table_json(snap, t), scope))
    })
    .await?;
    answer(v, &p, name)
}

pub(crate) async fn gaps_by_competency(
    State(s): State<Arc<Service>>,
    caller: Caller,
    p: Params,
) -> Result<Response, ApiError> {
    scoped_rollup(s, caller, p, "competencies", Analysis::by_competency).await
}

pub(crate) async fn gaps_by_category(
    State(s): State<Arc<Service>>,
    caller: Caller,
    p: Params,
) -> Result<Response, ApiError> {
    scoped_rollup(s, caller, p, "categories", Analysis::by_category).await
}

/// The heatmap under a unit: its children as rows, competencies as columns,
/// plus the unit's own per-competency roll-up and the path to it.
pub(crate) async fn heatmap(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    p: Params,
) -> Result<Response, ApiError> {
    let asked = nonempty(p.parent.clone());
    let v = analyse(s, who, p.as_of.clone(), move |who, snap, g| {
        // with a single root, its children are the useful first view; a
        // scoped caller starts at their scope
        let mut roots = snap.units.values().filter(|u| u.parent_id.is_none());
        let single_root = match (roots.next(), roots.next()) {
            (Some(r), None) => Some(r.id.clone()),
            _ => None,
        };
        let parent = match asked {
            Some(a) => effective_unit(who, snap, Some(&a))?,
            None => effective_unit(who, snap, None)?.or(single_root),
        };
        let cells = Table::from_frame(&g.heatmap(parent.as_deref())?);
        let units = Table::from_frame(&g.by_unit()?).records();
        let children: Vec<_> = units
            .iter()
            .filter(|r| r.get("parent_id").and_then(Value::as_str) == parent.as_deref())
            .cloned()
            .collect();
        let this_unit = parent.as_ref().and_then(|p| {
            units
                .iter()
                .find(|r| r.get("unit_id").and_then(Value::as_str) == Some(p))
                .cloned()
        });
        let within = Scope {
            org_unit: parent.clone(),
            ..Scope::default()
        };
        let competencies = Table::from_frame(&g.by_competency(&within)?);
        let categories = Table::from_frame(&g.by_category(&within)?);
        let breadcrumb: Vec<Value> = parent
            .as_deref()
            .map(|p| snap.unit_path(p))
            .unwrap_or_default()
            .into_iter()
            .filter(|id| effective_unit(who, snap, Some(id)).is_ok())
            .map(|id| {
                let name = snap.units.get(&id).map_or(id.as_str(), |u| u.name.as_str());
                json!({"unit_id": id, "unit_name": name})
            })
            .collect();
        let v = json!({
            "as_of": snap.as_of.to_rfc3339(),
            "parent": parent,
            "unit": this_unit,
            "breadcrumb": breadcrumb,
            "rows": children,
            "competencies": competencies.records(),
            "categories": categories.records(),
            "cell_columns": cells.columns,
            "cells": cells.records(),
        });
        Ok((v, within))
    })
    .await?;
    // the table behind the heatmap is its cells
    let v = if p.format.as_deref() == Some("csv") {
        json!({"columns": v["cell_columns"], "rows": v["cells"]})
    } else {
        v
    };
    answer(v, &p, "heatmap")
}

/// `GET /v1/query/{kind}`: the same tables `cadre query KIND --format json`
/// prints, within the caller's scope. Tables naming individuals are left
/// out for roles that may not see them and audited for those who may;
/// succession and plan history need a role that may see succession.
pub(crate) async fn query(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    Segment(kind): Segment,
    p: Params,
) -> Result<Response, ApiError> {
    let kind = QueryKind::parse(&kind).ok_or_else(|| {
        let known: Vec<&str> = QueryKind::ALL.iter().map(|k| k.name()).collect();
        ApiError::NotFound(format!("no query {kind:?}; known: {}", known.join(", ")))
    })?;
    let role = who.role.as_str();
    match kind {
        QueryKind::Development if !who.role.may_see_individuals() => {
            return Err(ApiError::Forbidden(format!(
                "the {role} role may not see individuals"
            )));
        }
        QueryKind::Succession | QueryKind::Plan if !who.role.may_see_succession() => {
            return Err(ApiError::Forbidden(format!(
                "the {role} role may not see succession plans"
            )));
        }
        _ => {}
    }
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let params = (
        nonempty(p.org_unit.clone()),
        nonempty(p.category.clone()),
        nonempty(p.role.clone()),
        p.employee.clone(),
        p.position.clone(),
        p.months,
    );
    let slot = s.slot(&who)?;
    let v = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let (unit, category, role, employee, position, months) = params;
        // one snapshot and one set of frames for the scope check, the query and the guard
        let prepared = s.engine().prepared(as_of)?;
        let snap = prepared.snapshot();
        let unit = effective_unit(&who, snap, unit.as_deref())?;
        if let Some(e) = &employee {
            check_employee(&who, snap, e)?;
        }
        if let Some(pos) = position.as_ref().and_then(|x| snap.positions.get(x)) {
            effective_unit(&who, snap, Some(&pos.org_unit_id))?;
        }
        let scope = Scope {
            org_unit: unit.clone(),
            category,
            role,
        };
        let request = cadre_analytics::QueryRequest {
            kind,
            scope: scope.clone(),
            as_of,
            months: months.unwrap_or(12).clamp(1, 120),
            employee: employee.clone(),
            position: position.clone(),
        };
        let out = s.engine().query_prepared(&prepared, &request)?;
        let mut json = out.to_json();
        let names_people = out.names_people();
        let may_see_them = who.role.may_see_individuals()
            || matches!(kind, QueryKind::Succession | QueryKind::Plan);
        if !may_see_them {
            if let Some(tables) = json["tables"].as_object_mut() {
                tables.retain(|name, _| !QueryOutput::names_individuals(name));
            }
        } else if names_people {
            let subject = employee
                .or(position)
                .or(unit)
                .unwrap_or_else(|| "organisation".to_string());
            s.audit(&who, &format!("GET /v1/query/{}", kind.name()), &subject)?;
        }
        let guard = if who.role.may_see_individuals() {
            Guard::unrestricted(who)
        } else {
            Guard::new(who, s.k(), prepared.analysis(), &scope)?
        };
        guard.within_scope(snap).protect(&mut json);
        Ok::<_, ApiError>(json)
    })
    .await??;
    answer(v, &p, kind.name())
}

/// 403 unless the employee's unit lies in the caller's scope (unknown
/// employees are left to the query to report).
fn check_employee(who: &Principal, snap: &Snapshot, employee: &str) -> Result<(), ApiError> {
    let unit = snap
        .employees
        .iter()
        .find(|x| x.id == employee)
        .and_then(|x| x.org_unit_id.clone());
    match unit {
        Some(u) => effective_unit(who, snap, Some(&u)).map(|_| ()),
        None if who.scope.is_some() => Err(ApiError::Forbidden(format!(
            "{employee:?} is not in your scope"
        ))),
        None => Ok(()),
    }
}

/// `GET /v1/employees/{id}`: one person's profile: position, required and
/// effective levels, the evidence behind them (assessments and trainings
/// with dates) and their development list. Planners and admins only, in
/// scope, audited. Potential and nominations are left out when the caller
/// is the person.
pub(crate) async fn profile(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    Segment(id): Segment,
    p: Params,
) -> Result<Response, ApiError> {
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let slot = s.slot(&who)?;
    let v = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let prepared = s.engine().prepared(as_of)?;
        let (snap, g) = (prepared.snapshot(), prepared.analysis());
        let e = snap
            .employees
            .iter()
            .find(|x| x.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("no employee {id:?} as of {as_of}")))?;
        check_employee(&who, snap, &id)?;
        s.audit(&who, "GET /v1/employees", &id)?;
        let development = Table::from_frame(&g.development_list(&id)?);
        let me = who.employee.as_deref() == Some(id.as_str());
        let name_of = |c: &str| {
            snap.competencies
                .get(c)
                .map_or(c.to_string(), |x| x.name.clone())
        };
        let assessments: Vec<Value> = s
            .engine()
            .assessments(&id, as_of)
            .into_iter()
            .map(|a| json!({"at": a.at.to_rfc3339(), "competency_id": a.competency_id, "competency_name": name_of(&a.competency_id), "level": a.level, "assessor_type": a.assessor_type}))
            .collect();
        let trainings: Vec<Value> = e
            .trainings
            .iter()
            .rev()
            .map(|t| json!({"completed_at": t.completed_at.to_rfc3339(), "course_id": t.course_id, "course_title": snap.courses.get(&t.course_id), "competency_id": t.competency_id, "competency_name": name_of(&t.competency_id), "target_level": t.target_level}))
            .collect();
        let nominations: Option<Vec<Value>> = (!me).then(|| {
            snap.nominations
                .iter()
                .filter(|n| n.candidate_id == id)
                .map(|n| json!({"position_id": n.position_id, "title": snap.positions.get(&n.position_id).map(|x| x.title.clone()), "readiness": n.readiness, "since": n.since.to_rfc3339()}))
                .collect()
        });
        let unit_name = e
            .org_unit_id
            .as_ref()
            .and_then(|u| snap.units.get(u))
            .map(|u| u.name.clone());
        let role_name = e
            .role_id
            .as_ref()
            .and_then(|r| snap.roles.get(r))
            .map(|r| r.name.clone());
        Ok::<_, ApiError>(json!({
            "as_of": snap.as_of.to_rfc3339(),
            "employee": {
                "employee_id": e.id,
                "name": e.name,
                "active": e.active,
                "hired_at": e.hired_at.to_rfc3339(),
                "leaving_on": e.leaving_on,
                "org_unit_id": e.org_unit_id,
                "unit_name": unit_name,
                "position_id": e.position_id,
                "role_id": e.role_id,
                "role_name": role_name,
                "performance": e.performance,
                "potential": if me { None } else { e.potential },
            },
            "development": {"columns": development.columns, "rows": development.records()},
            "assessments": assessments,
            "trainings": trainings,
            "nominations": nominations,
        }))
    })
    .await??;
    // the table behind the profile is the development list
    let v = if p.format.as_deref() == Some("csv") {
        v["development"].clone()
    } else {
        v
    };
    answer(v, &p, "profile")
}

/// `GET /v1/reports/succession?org_unit=&as_of=&format=html|pdf`: the
/// leadership report, for roles that may see succession, in scope, audited.
pub(crate) async fn succession_report(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    p: Params,
) -> Result<Response, ApiError> {
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let pdf = match p.format.as_deref() {
        None | Some("html") => false,
        Some("pdf") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?} is not known: use html or pdf"
            )))
        }
    };
    let unit = nonempty(p.org_unit);
    // each PDF starts a Chromium: a few at once, the others retry
    let permit = if pdf {
        let busy = || {
            ApiError::Busy(
                format!(
                    "{} PDF reports are being printed; retry in a few seconds",
                    s.limits.max_pdf_renders
                ),
                5.0,
            )
        };
        Some(
            s.pdf_renders
                .clone()
                .try_acquire_owned()
                .map_err(|_| busy())?,
        )
    } else {
        None
    };
    let slot = s.slot(&who)?;
    tokio::task::spawn_blocking(move || {
        let (_permit, _slot) = (permit, slot);
        let snap = s.engine().snapshot(as_of);
        let unit = effective_unit(&who, &snap, unit.as_deref())?;
        s.audit(
            &who,
            "GET /v1/reports/succession",
            unit.as_deref().unwrap_or("organisation"),
        )?;
        let mut report = s.engine().succession_report(as_of, unit.as_deref())?;
        if let Some(me) = &who.employee {
            report = report.without_candidate(me);
        }
        if let Some(scope) = &who.scope {
            // a scoped reader's own people, as the guard keeps them
            let inside = cadre_analytics::people_in(&snap, scope);
            report = report.only_candidates(|c| inside.contains(c));
        }
        let html = report.to_html();
        if pdf {
            let bytes = cadre_report::html_to_pdf(&html)
                .map_err(|e| ApiError::ToolUnavailable(e.to_string()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/pdf"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"succession-report.pdf\"",
                    ),
                ],
                bytes,
            )
                .into_response())
        } else {
            Ok(Html(html).into_response())
        }
    })
    .await?
}

/// `GET /v1/succession/{position}`: one critical position's candidates with
/// the gaps that separate each from the position's role, for roles that may
/// see succession, in scope, audited.
pub(crate) async fn position_detail(
    State(s): State<Arc<Service>>,
    Caller(who): Caller,
    Segment(position): Segment,
    p: Params,
) -> Result<Response, ApiError> {
    let as_of = parse_as_of(p.as_of.as_deref())?;
    let slot = s.slot(&who)?;
    let v = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let snap = s.engine().snapshot(as_of);
        let pos = snap
            .positions
            .get(&position)
            .ok_or_else(|| ApiError::NotFound(format!("no position {position:?}")))?;
        effective_unit(&who, &snap, Some(&pos.org_unit_id))?;
        s.audit(&who, "GET /v1/succession", &position)?;
        let section = s
            .engine()
            .position_section(as_of, &pos.org_unit_id, &position)?
            .ok_or_else(|| {
                ApiError::NotFound(format!("{position:?} is not a critical position"))
            })?;
        let mut v = json!({
            "as_of": snap.as_of.to_rfc3339(),
            "position": {
                "position_id": section.position_id,
                "title": section.title,
                "unit": section.unit,
                "incumbent": section.incumbent,
                "leaving_on": section.leaving_on,
                "risk": section.risk,
                "bench_strength": section.bench_strength,
            },
            "rows": section.candidates,
        });
        Guard::unrestricted(who).within_scope(&snap).protect(&mut v);
        Ok::<_, ApiError>(v)
    })
    .await??;
    answer(v, &p, "position")
}

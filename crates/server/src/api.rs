//! Routes and handlers.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cadre_analytics::{Analysis, Scope, Table};
use cadre_ingest::{parse_body, Outcome};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{ApiError, Service};

const DASHBOARD: &str = include_str!("../assets/index.html");

pub(crate) fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/events", post(post_events))
        .route("/v1/gaps/units", get(gaps_by_unit))
        .route("/v1/gaps/competencies", get(gaps_by_competency))
        .route("/v1/gaps/categories", get(gaps_by_category))
        .route("/v1/gaps/heatmap", get(heatmap))
        .route("/v1/query/{kind}", get(query))
        .with_state(service)
}

async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD)
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn metrics(State(s): State<Arc<Service>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics().render(),
    )
        .into_response()
}

async fn status(State(s): State<Arc<Service>>) -> Result<Json<Value>, ApiError> {
    let (events, dead, bytes, latest) = tokio::task::spawn_blocking(move || s.status()).await?;
    Ok(Json(json!({
        "events": events,
        "dead_letters": dead,
        "log_bytes": bytes,
        "latest_occurred_at": latest,
    })))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// `POST /v1/events`: one event, an array, or NDJSON; one result per item.
///
/// 200 when every item was accepted or a duplicate; 422 when any was
/// rejected (the others are stored all the same; the body says which).
async fn post_events(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    match bearer(&headers) {
        Some(t) if s.token_matches(t) => {}
        _ => return Err(ApiError::Unauthorized),
    }
    let items = parse_body(&body);
    if items.is_empty() {
        return Err(ApiError::BadRequest(
            "empty body: send one JSON event, a JSON array of events, or NDJSON".into(),
        ));
    }
    let batch = tokio::task::spawn_blocking(move || s.ingest("http", items)).await??;
    let (accepted, duplicate, rejected) = batch.counts();
    let status = if rejected == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let results: Vec<&Outcome> = batch.outcomes.iter().collect();
    Ok((
        status,
        Json(json!({
            "accepted": accepted,
            "duplicate": duplicate,
            "rejected": rejected,
            "results": results,
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct GapQuery {
    as_of: Option<String>,
    org_unit: Option<String>,
    parent: Option<String>,
    category: Option<String>,
    role: Option<String>,
}

pub(crate) fn parse_as_of(s: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    cadre_analytics::parse_as_of(s).map_err(ApiError::BadRequest)
}

/// Runs an analytics closure over a snapshot on the blocking pool.
async fn analyse<T: Send + 'static>(
    s: Arc<Service>,
    as_of: Option<String>,
    f: impl FnOnce(&cadre_projection::Snapshot, &Analysis) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let as_of = parse_as_of(as_of.as_deref())?;
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let snap = s.snapshot(as_of);
        let g = Analysis::with_config(&snap, s.analytics_config().clone())?;
        let out = f(&snap, &g);
        s.metrics().record_analytics(started.elapsed());
        out
    })
    .await?
}

fn table_json(as_of_label: &str, t: Table) -> Json<Value> {
    Json(json!({"as_of": as_of_label, "columns": t.columns, "rows": t.records()}))
}

async fn gaps_by_unit(
    State(s): State<Arc<Service>>,
    Query(q): Query<GapQuery>,
) -> Result<Json<Value>, ApiError> {
    analyse(s, q.as_of, |snap, g| {
        Ok(table_json(
            &snap.as_of.to_rfc3339(),
            Table::from_frame(&g.by_unit()?),
        ))
    })
    .await
}

/// A roll-up within an optional `org_unit` subtree.
async fn scoped_rollup(
    s: Arc<Service>,
    q: GapQuery,
    rollup: fn(
        &Analysis,
        &Scope,
    ) -> Result<cadre_analytics::DataFrame, cadre_analytics::AnalyticsError>,
) -> Result<Json<Value>, ApiError> {
    analyse(s, q.as_of, move |snap, g| {
        let scope = Scope {
            org_unit: q.org_unit,
            category: q.category,
            role: q.role,
        };
        let t = Table::from_frame(&rollup(g, &scope)?);
        Ok(table_json(&snap.as_of.to_rfc3339(), t))
    })
    .await
}

async fn gaps_by_competency(
    State(s): State<Arc<Service>>,
    Query(q): Query<GapQuery>,
) -> Result<Json<Value>, ApiError> {
    scoped_rollup(s, q, Analysis::by_competency).await
}

async fn gaps_by_category(
    State(s): State<Arc<Service>>,
    Query(q): Query<GapQuery>,
) -> Result<Json<Value>, ApiError> {
    scoped_rollup(s, q, Analysis::by_category).await
}

/// The heatmap under a unit: its children as rows, competencies as columns,
/// plus the unit's own per-competency roll-up and the path to it.
async fn heatmap(
    State(s): State<Arc<Service>>,
    Query(q): Query<GapQuery>,
) -> Result<Json<Value>, ApiError> {
    analyse(s, q.as_of, move |snap, g| {
        // with a single root, its children are the useful first view
        let mut roots = snap.units.values().filter(|u| u.parent_id.is_none());
        let single_root = match (roots.next(), roots.next()) {
            (Some(r), None) => Some(r.id.clone()),
            _ => None,
        };
        let parent = q.parent.filter(|p| !p.is_empty()).or(single_root);
        let cells = Table::from_frame(&g.heatmap(parent.as_deref())?);
        let units = Table::from_frame(&g.by_unit()?);
        let children: Vec<_> = units
            .records()
            .into_iter()
            .filter(|r| r.get("parent_id").and_then(Value::as_str) == parent.as_deref())
            .collect();
        let this_unit: Option<_> = parent.as_ref().and_then(|p| {
            units
                .records()
                .into_iter()
                .find(|r| r.get("unit_id").and_then(Value::as_str) == Some(p))
        });
        let within = Scope {
            org_unit: parent.clone(),
            ..Scope::default()
        };
        let scope = Table::from_frame(&g.by_competency(&within)?);
        let categories = Table::from_frame(&g.by_category(&within)?);
        let breadcrumb: Vec<Value> = parent
            .as_deref()
            .map(|p| snap.unit_path(p))
            .unwrap_or_default()
            .into_iter()
            .map(|id| {
                let name = snap.units.get(&id).map_or(id.as_str(), |u| u.name.as_str());
                json!({"unit_id": id, "unit_name": name})
            })
            .collect();
        Ok(Json(json!({
            "as_of": snap.as_of.to_rfc3339(),
            "parent": parent,
            "unit": this_unit,
            "breadcrumb": breadcrumb,
            "rows": children,
            "competencies": scope.records(),
            "categories": categories.records(),
            "cells": cells.records(),
        })))
    })
    .await
}

/// Parameters of `GET /v1/query/{kind}`, the same as `cadre query`'s flags.
#[derive(Debug, Deserialize)]
struct QueryParams {
    as_of: Option<String>,
    org_unit: Option<String>,
    category: Option<String>,
    role: Option<String>,
    months: Option<u32>,
    employee: Option<String>,
    position: Option<String>,
}

/// `GET /v1/query/{kind}`: the same tables `cadre query KIND --format json` prints.
async fn query(
    State(s): State<Arc<Service>>,
    Path(kind): Path<String>,
    Query(p): Query<QueryParams>,
) -> Result<Json<Value>, ApiError> {
    let kind = cadre_analytics::QueryKind::parse(&kind).ok_or_else(|| {
        let known: Vec<&str> = cadre_analytics::QueryKind::ALL
            .iter()
            .map(|k| k.name())
            .collect();
        ApiError::NotFound(format!("no query {kind:?}; known: {}", known.join(", ")))
    })?;
    let request = cadre_analytics::QueryRequest {
        kind,
        scope: Scope {
            org_unit: p.org_unit.filter(|x| !x.is_empty()),
            category: p.category.filter(|x| !x.is_empty()),
            role: p.role.filter(|x| !x.is_empty()),
        },
        as_of: parse_as_of(p.as_of.as_deref())?,
        months: p.months.unwrap_or(12).clamp(1, 120),
        employee: p.employee,
        position: p.position,
    };
    let out = tokio::task::spawn_blocking(move || s.query(&request)).await??;
    Ok(Json(out.to_json()))
}

//! The API's one table of endpoints, from which both the router and the
//! OpenAPI document (`GET /openapi.json`) are made, so the document cannot
//! drift from the routes: an endpoint that is served is described, and an
//! endpoint that is described is served.
//!
//! The browser pages (`/`, `/login`, `/logout`, `/assets/...`) are not part
//! of the API and are left out of the document.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, MethodRouter};
use serde_json::{json, Map, Value};

use crate::auth::Access;
use crate::{api, views, Limits, Service};

/// A query or path parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    name: &'static str,
    in_path: bool,
    description: &'static str,
    kind: ParamKind,
}

#[derive(Debug, Clone, Copy)]
enum ParamKind {
    Text,
    Months,
    OneOf(&'static [&'static str]),
    /// The names of `cadre query`'s kinds.
    QueryKind,
}

/// What a successful answer carries.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer {
    /// JSON of a component schema.
    Json(&'static str),
    /// JSON of a component schema, or with `format=csv` a table as CSV.
    JsonOrCsv(&'static str),
    /// An HTML page, or with `format=pdf` a PDF.
    HtmlOrPdf,
    /// Prometheus text exposition.
    Metrics,
    /// This document.
    OpenApi,
}

/// One operation of the API.
pub(crate) struct Endpoint {
    method: &'static str,
    /// In axum's syntax, which is OpenAPI's: `/v1/query/{kind}`.
    path: &'static str,
    summary: &'static str,
    description: &'static str,
    access: Access,
    params: &'static [Param],
    answer: Answer,
    /// Status codes other than 200 (and the 401/403 that `access` implies).
    errors: &'static [u16],
    route: fn(&Limits) -> MethodRouter<Arc<Service>>,
}

const AS_OF: Param = Param {
    name: "as_of",
    in_path: false,
    description: "The moment the figures are as of: an RFC 3339 time or a date (YYYY-MM-DD, end of that day). Default: now.",
    kind: ParamKind::Text,
};
const ORG_UNIT: Param = Param {
    name: "org_unit",
    in_path: false,
    description: "Restrict to this org unit and the units below it (within the caller's scope).",
    kind: ParamKind::Text,
};
const PARENT: Param = Param {
    name: "parent",
    in_path: false,
    description: "The unit whose children are the heatmap's rows (default: the caller's scope or the single root).",
    kind: ParamKind::Text,
};
const CATEGORY: Param = Param {
    name: "category",
    in_path: false,
    description: "Restrict to competencies of this category.",
    kind: ParamKind::Text,
};
const ROLE: Param = Param {
    name: "role",
    in_path: false,
    description: "Restrict to employees holding this role profile.",
    kind: ParamKind::Text,
};
const MONTHS: Param = Param {
    name: "months",
    in_path: false,
    description: "How many months of trends (1 to 120; default 12).",
    kind: ParamKind::Months,
};
const EMPLOYEE: Param = Param {
    name: "employee",
    in_path: false,
    description: "The employee a `development` query is about.",
    kind: ParamKind::Text,
};
const POSITION: Param = Param {
    name: "position",
    in_path: false,
    description: "The position a `plan` query is about.",
    kind: ParamKind::Text,
};
const FORMAT_CSV: Param = Param {
    name: "format",
    in_path: false,
    description: "`json` (default) or `csv` (one table of the answer).",
    kind: ParamKind::OneOf(&["json", "csv"]),
};
const TABLE: Param = Param {
    name: "table",
    in_path: false,
    description: "With `format=csv`, which table of the answer to send (default: the first).",
    kind: ParamKind::Text,
};
const FORMAT_PDF: Param = Param {
    name: "format",
    in_path: false,
    description: "`html` (default) or `pdf`.",
    kind: ParamKind::OneOf(&["html", "pdf"]),
};
const KIND: Param = Param {
    name: "kind",
    in_path: true,
    description: "The query: the same names as `cadre query`.",
    kind: ParamKind::QueryKind,
};
const ID: Param = Param {
    name: "id",
    in_path: true,
    description: "The employee's id.",
    kind: ParamKind::Text,
};
const POSITION_PATH: Param = Param {
    name: "position",
    in_path: true,
    description: "The critical position's id.",
    kind: ParamKind::Text,
};

/// Every endpoint of the API, in the order the document lists them.
pub(crate) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "get",
        path: "/health",
        summary: "Liveness",
        description: "Answers while the server runs; needs no token.",
        access: Access::Public,
        params: &[],
        answer: Answer::Json("Health"),
        errors: &[],
        route: |_| get(api::health),
    },
    Endpoint {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        description: "The OpenAPI document of the API, made from the same table as the routes.",
        access: Access::Public,
        params: &[],
        answer: Answer::OpenApi,
        errors: &[],
        route: |_| get(document_handler),
    },
    Endpoint {
        method: "get",
        path: "/metrics",
        summary: "Prometheus metrics",
        description: "Counters and gauges of ingest, the store, the projection and the exporters, in Prometheus text format.",
        access: Access::Read,
        params: &[],
        answer: Answer::Metrics,
        errors: &[],
        route: |_| get(api::metrics),
    },
    Endpoint {
        method: "get",
        path: "/v1/me",
        summary: "Who the token belongs to",
        description: "The caller's name, role and scope, the small-group threshold, and what the role may do.",
        access: Access::Token,
        params: &[],
        answer: Answer::Json("Me"),
        errors: &[],
        route: |_| get(api::me),
    },
    Endpoint {
        method: "get",
        path: "/v1/status",
        summary: "Counts of the store",
        description: "Events stored, dead letters, bytes of the log and the latest occurred_at.",
        access: Access::Read,
        params: &[],
        answer: Answer::Json("Status"),
        errors: &[],
        route: |_| get(api::status),
    },
    Endpoint {
        method: "post",
        path: "/v1/events",
        summary: "Post events",
        description: "One event, a JSON array of events, or NDJSON (one event per line; declared with `Content-Type: application/x-ndjson`). Each item is validated against its JSON Schema and checked (dates, references, scales, ids); valid items are stored durably before the answer, invalid ones go to the dead-letter store. 200 when every item was accepted or a duplicate, 422 when any was rejected (the others are stored all the same). 413 and 429 store nothing; 503 acknowledges nothing and may be retried.",
        access: Access::Ingest,
        params: &[],
        answer: Answer::Json("IngestResult"),
        errors: &[400, 413, 422, 429, 503],
        // the handler reads the body itself, within its limits
        route: |_| post(api::post_events).layer(DefaultBodyLimit::disable()),
    },
    Endpoint {
        method: "get",
        path: "/v1/units",
        summary: "Org units in scope",
        description: "The org units the caller may look at, in tree order.",
        access: Access::Read,
        params: &[AS_OF],
        answer: Answer::Json("Units"),
        errors: &[400],
        route: |_| get(views::units),
    },
    Endpoint {
        method: "get",
        path: "/v1/gaps/units",
        summary: "Gap roll-up by org unit",
        description: "Every org unit's roll-up over its whole subtree (docs/metrics.md); small groups suppressed for roles that may not see individuals.",
        access: Access::Read,
        params: &[AS_OF, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Table"),
        errors: &[400],
        route: |_| get(views::gaps_by_unit),
    },
    Endpoint {
        method: "get",
        path: "/v1/gaps/competencies",
        summary: "Gap roll-up by competency",
        description: "Each competency's roll-up within an optional org unit, category and role.",
        access: Access::Read,
        params: &[AS_OF, ORG_UNIT, CATEGORY, ROLE, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Table"),
        errors: &[400, 404],
        route: |_| get(views::gaps_by_competency),
    },
    Endpoint {
        method: "get",
        path: "/v1/gaps/categories",
        summary: "Gap roll-up by competency category",
        description: "Each category's roll-up within an optional org unit, category and role.",
        access: Access::Read,
        params: &[AS_OF, ORG_UNIT, CATEGORY, ROLE, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Table"),
        errors: &[400, 404],
        route: |_| get(views::gaps_by_category),
    },
    Endpoint {
        method: "get",
        path: "/v1/gaps/heatmap",
        summary: "Heatmap of a unit's children by competency",
        description: "The children of `parent` as rows, competencies as columns, with the unit's own roll-ups and the path to it. With `format=csv`, the cells.",
        access: Access::Read,
        params: &[AS_OF, PARENT, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Heatmap"),
        errors: &[400, 404],
        route: |_| get(views::heatmap),
    },
    Endpoint {
        method: "get",
        path: "/v1/query/{kind}",
        summary: "A named query",
        description: "The same tables `cadre query KIND --format json` prints, within the caller's scope. Tables naming individuals are left out for roles that may not see them; `succession` and `plan` need a role that may see succession plans, `development` one that may see individuals.",
        access: Access::Read,
        params: &[KIND, AS_OF, ORG_UNIT, CATEGORY, ROLE, MONTHS, EMPLOYEE, POSITION, FORMAT_CSV, TABLE],
        answer: Answer::JsonOrCsv("QueryAnswer"),
        errors: &[400, 404, 503],
        route: |_| get(views::query),
    },
    Endpoint {
        method: "get",
        path: "/v1/employees/{id}",
        summary: "One employee's profile",
        description: "Position, required and effective levels, the evidence behind them and the development list. Audited.",
        access: Access::Individuals,
        params: &[ID, AS_OF, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Profile"),
        errors: &[400, 404, 503],
        route: |_| get(views::profile),
    },
    Endpoint {
        method: "get",
        path: "/v1/succession/{position}",
        summary: "One critical position's candidates",
        description: "Incumbent, risk, bench strength and each candidate's readiness and fit. Audited.",
        access: Access::Succession,
        params: &[POSITION_PATH, AS_OF, FORMAT_CSV],
        answer: Answer::JsonOrCsv("Position"),
        errors: &[400, 404, 503],
        route: |_| get(views::position_detail),
    },
    Endpoint {
        method: "get",
        path: "/v1/reports/succession",
        summary: "The succession report",
        description: "The leadership report on succession within an org unit, as HTML or PDF. Audited.",
        access: Access::Succession,
        params: &[AS_OF, ORG_UNIT, FORMAT_PDF],
        answer: Answer::HtmlOrPdf,
        errors: &[400, 404, 503],
        route: |_| get(views::succession_report),
    },
];

/// The routes of every endpoint, each behind the access rule its row
/// documents: a handler is reached only by a caller the rule lets in, and
/// takes that caller as a [`crate::auth::Caller`].
pub(crate) fn routes(service: &Arc<Service>) -> axum::Router<Arc<Service>> {
    ENDPOINTS.iter().fold(axum::Router::new(), |r, e| {
        let route = (e.route)(&service.limits);
        let route = match e.access {
            Access::Public => route,
            access => route.route_layer(axum::middleware::from_fn_with_state(
                service.clone(),
                move |state, request, next| crate::auth::admit(access, state, request, next),
            )),
        };
        r.route(e.path, route)
    })
}

/// The document is the same for the life of the process: made once, on first request.
async fn document_handler() -> axum::Json<&'static Value> {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    axum::Json(DOCUMENT.get_or_init(document))
}

/// The OpenAPI 3.1 document of the API.
pub fn document() -> Value {
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let entry = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        entry[e.method] = operation(e);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cadre",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Event ingest and competency analytics of cadre. Every operation but /health and /openapi.json needs a bearer token (`Authorization: Bearer TOKEN`); what a token may see depends on its role and scope (docs/access.md). Errors are JSON objects with one `error` string.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        },
    })
}

fn operation(e: &Endpoint) -> Value {
    let mut responses = Map::new();
    responses.insert("200".into(), ok_response(e.answer));
    let mut codes: Vec<u16> = e.errors.to_vec();
    match e.access {
        Access::Public => {}
        Access::Token => codes.push(401),
        _ => codes.extend([401, 403]),
    }
    codes.push(500);
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        responses.insert(code.to_string(), error_response(code, e));
    }
    let mut op = json!({
        "operationId": operation_id(e),
        "summary": e.summary,
        "description": e.description,
        "parameters": e.params.iter().map(parameter).collect::<Vec<_>>(),
        "responses": responses,
    });
    if !matches!(e.access, Access::Public) {
        op["security"] = json!([{"bearer": []}]);
    }
    if e.method == "post" {
        op["requestBody"] = json!({
            "required": true,
            "content": {
                "application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/Event"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                ]}},
                "application/x-ndjson": {"schema": {"type": "string", "description": "One event per line."}},
            },
        });
    }
    op
}

fn operation_id(e: &Endpoint) -> String {
    let words: Vec<String> = e
        .path
        .split('/')
        .filter(|w| !w.is_empty() && *w != "v1")
        .map(|w| {
            w.trim_matches(|c| c == '{' || c == '}')
                .replace(['.', '-'], "_")
        })
        .collect();
    format!("{}_{}", e.method, words.join("_"))
}

fn parameter(p: &Param) -> Value {
    let schema = match p.kind {
        ParamKind::Text => json!({"type": "string"}),
        ParamKind::Months => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
        ParamKind::OneOf(values) => json!({"type": "string", "enum": values}),
        ParamKind::QueryKind => json!({"type": "string", "enum": query_kinds()}),
    };
    json!({
        "name": p.name,
        "in": if p.in_path { "path" } else { "query" },
        "required": p.in_path,
        "description": p.description,
        "schema": schema,
    })
}

fn ok_response(a: Answer) -> Value {
    let schema_ref = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let (description, content) = match a {
        Answer::Json(name) => (
            "OK",
            json!({"application/json": {"schema": schema_ref(name)}}),
        ),
        Answer::JsonOrCsv(name) => (
            "OK: JSON, or with format=csv a table as CSV",
            json!({
                "application/json": {"schema": schema_ref(name)},
                "text/csv": {"schema": {"type": "string"}},
            }),
        ),
        Answer::HtmlOrPdf => (
            "OK: the report as HTML, or with format=pdf as PDF",
            json!({
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}},
            }),
        ),
        Answer::Metrics => (
            "OK: Prometheus text format 0.0.4",
            json!({"text/plain": {"schema": {"type": "string"}}}),
        ),
        Answer::OpenApi => (
            "OK: an OpenAPI 3.1 document",
            json!({"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}),
        ),
    };
    json!({"description": description, "content": content})
}

fn error_response(code: u16, e: &Endpoint) -> Value {
    let description = match code {
        400 => "The request is malformed (a bad date, an unknown format, an empty body)",
        401 => "No valid bearer token",
        403 => match e.access {
            Access::Ingest => "The token's role may not post events",
            Access::Individuals => {
                "The role may not see individuals, or the employee is outside the caller's scope"
            }
            Access::Succession => {
                "The role may not see succession plans, or the unit is outside the caller's scope"
            }
            _ => "The role may not read this, or the unit is outside the caller's scope",
        },
        404 => "The unit, employee, position, query or table does not exist",
        413 => "The body or the number of events is over the limit; nothing was stored",
        422 => "Some items were rejected; the others were stored (the body says which)",
        429 => "The token posts faster than its rate allows; nothing was stored",
        503 => {
            "Storage or the audit log is unavailable; nothing was acknowledged, retrying is safe"
        }
        _ => "A fault of the server",
    };
    let schema = if code == 422 { "IngestResult" } else { "Error" };
    let mut r = json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
    });
    if code == 429 {
        r["headers"] = json!({"Retry-After": {
            "description": "Seconds to wait before sending again",
            "required": true,
            "schema": {"type": "integer", "minimum": 1},
        }});
    }
    if code == 401 {
        r["headers"] = json!({"WWW-Authenticate": {
            "required": true,
            "schema": {"type": "string", "const": "Bearer"},
        }});
    }
    r
}

fn query_kinds() -> Vec<&'static str> {
    cadre_analytics::QueryKind::ALL
        .map(cadre_analytics::QueryKind::name)
        .to_vec()
}

/// A JSON object with these required keys (others allowed).
fn object(required: &[&str]) -> Value {
    json!({"type": "object", "required": required})
}

/// A `{columns, rows}` table.
fn table() -> Value {
    json!({
        "type": "object",
        "required": ["columns", "rows"],
        "properties": {
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "object"}},
        },
    })
}

fn schemas() -> Value {
    let nullable_text = json!({"type": ["string", "null"]});
    let count = json!({"type": "integer", "minimum": 0});
    let mut event: Value =
        serde_json::from_str(cadre_ingest::ENVELOPE_SCHEMA).expect("the envelope schema is JSON");
    if let Some(o) = event.as_object_mut() {
        // the document's own dialect applies; the ids belong to schemas/
        o.remove("$schema");
        o.remove("$id");
    }
    let mut table_at = table();
    table_at["required"] = json!(["as_of", "columns", "rows"]);
    table_at["properties"]["as_of"] = json!({"type": "string", "format": "date-time"});
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        "Me": {
            "type": "object",
            "required": ["name", "role", "scope", "k", "may"],
            "properties": {
                "name": {"type": "string"},
                "role": {"type": "string", "enum": cadre_access::Role::ALL.map(cadre_access::Role::as_str)},
                "scope": nullable_text,
                "k": count,
                "may": {
                    "type": "object",
                    "required": ["read", "ingest", "individuals", "succession"],
                    "additionalProperties": {"type": "boolean"},
                },
            },
        },
        "Status": {
            "type": "object",
            "required": ["events", "dead_letters", "log_bytes", "latest_occurred_at"],
            "properties": {
                "events": count,
                "dead_letters": count,
                "log_bytes": count,
                "latest_occurred_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "Event": event,
        "Outcome": {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["status", "position", "event_id", "seq"],
                    "properties": {
                        "status": {"const": "accepted"},
                        "position": count,
                        "event_id": {"type": "string", "format": "uuid"},
                        "seq": count,
                    },
                },
                {
                    "type": "object",
                    "required": ["status", "position", "event_id"],
                    "properties": {
                        "status": {"const": "duplicate"},
                        "position": count,
                        "event_id": {"type": "string", "format": "uuid"},
                    },
                },
                {
                    "type": "object",
                    "required": ["status", "position", "path", "reason"],
                    "properties": {
                        "status": {"const": "rejected"},
                        "position": count,
                        "event_id": {"type": "string"},
                        "path": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
            ],
        },
        "IngestResult": {
            "type": "object",
            "required": ["accepted", "duplicate", "rejected", "results"],
            "properties": {
                "accepted": count,
                "duplicate": count,
                "rejected": count,
                "results": {"type": "array", "items": {"$ref": "#/components/schemas/Outcome"}},
            },
        },
        "Units": {
            "type": "object",
            "required": ["scope", "units"],
            "properties": {
                "scope": nullable_text,
                "units": {"type": "array", "items": {
                    "type": "object",
                    "required": ["unit_id", "unit_name", "parent_id", "depth"],
                    "properties": {
                        "unit_id": {"type": "string"},
                        "unit_name": {"type": "string"},
                        "parent_id": nullable_text,
                        "depth": count,
                    },
                }},
            },
        },
        "Table": table_at,
        "Heatmap": object(&["as_of", "parent", "breadcrumb", "rows", "competencies", "categories", "cell_columns", "cells"]),
        "QueryAnswer": {
            "type": "object",
            "required": ["kind", "as_of", "summary", "tables"],
            "properties": {
                "kind": {"type": "string", "enum": query_kinds()},
                "as_of": {"type": "string", "format": "date-time"},
                "tables": {"type": "object", "additionalProperties": table()},
            },
        },
        "Profile": object(&["as_of", "employee", "development"]),
        "Position": object(&["as_of", "position", "rows"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_described_once_with_its_parameters() {
        let doc = document();
        let mut seen = std::collections::HashSet::new();
        for e in ENDPOINTS {
            assert!(
                seen.insert((e.method, e.path)),
                "{} {} twice",
                e.method,
                e.path
            );
            let op = &doc["paths"][e.path][e.method];
            assert!(
                op.is_object(),
                "{} {} not in the document",
                e.method,
                e.path
            );
            // every {name} of the path is a required path parameter
            for name in e
                .path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split('}').next())
            {
                let p = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["name"] == name && p["in"] == "path");
                assert!(
                    p.is_some_and(|p| p["required"] == true),
                    "{}: {name}",
                    e.path
                );
            }
            assert!(op["responses"]["200"].is_object());
            assert!(op["responses"]["500"].is_object());
        }
        let ids: std::collections::HashSet<_> = ENDPOINTS.iter().map(operation_id).collect();
        assert_eq!(ids.len(), ENDPOINTS.len(), "operation ids are unique");
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r.clone());
                    }
                    m.values().for_each(|x| refs(x, out));
                }
                Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 10);
        for r in all {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{r} is not a component reference"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} resolves"
            );
        }
    }

    #[test]
    fn protected_operations_declare_the_bearer_scheme_and_401() {
        let doc = document();
        for e in ENDPOINTS {
            let op = &doc["paths"][e.path][e.method];
            let public = matches!(e.access, Access::Public);
            assert_eq!(op.get("security").is_none(), public, "{}", e.path);
            assert_eq!(op["responses"]["401"].is_null(), public, "{}", e.path);
        }
    }
}

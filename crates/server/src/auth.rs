//! Who is calling, and what they may see: the HTTP side of `cadre_access`.

use std::collections::{HashMap, HashSet};

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use cadre_access::{
    protect_remainders, protected_units, suppress_row, suppress_small_complements,
    suppress_small_groups, suppress_small_groups_within, suppress_thin_figures, Principal, Role,
    UnitCount,
};
use cadre_analytics::{Analysis, Scope, Table};
use cadre_projection::Snapshot;
use serde_json::{Map, Value};

use crate::{ApiError, Service};

/// The cookie the sign-in form sets: a session id, never the token.
pub(crate) const COOKIE: &str = "cadre_session";

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The session id of the sign-in cookie.
pub(crate) fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            kv.trim()
                .strip_prefix(COOKIE)
                .and_then(|r| r.strip_prefix('='))
        })
}

/// The token a request carries: `Authorization: Bearer`, or, when
/// `cookie` allows it, the token behind the sign-in cookie's session.
///
/// Only reads (GET, HEAD) take the cookie: a browser attaches a cookie to
/// any request a page makes, even one a hostile page on the same site
/// makes, but never a bearer header it was not given. So a write always
/// needs the header, and no form can make a signed-in browser store an event.
fn token(s: &Service, headers: &HeaderMap, cookie: bool) -> Option<String> {
    if let Some(t) = bearer(headers) {
        return Some(t.to_string());
    }
    cookie
        .then(|| session_id(headers))
        .flatten()
        .and_then(|id| s.sessions.token(id))
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Anyone, without a token.
    Public,
    /// Any role that may read figures.
    Read,
    /// Any valid token.
    Token,
    /// A role that may post events.
    Ingest,
    /// A role that may see named individuals.
    Individuals,
    /// A role that may see succession plans.
    Succession,
}

impl Access {
    /// Whether a role passes the rule.
    fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Token => true,
            Access::Read => role.may_read(),
            Access::Ingest => role.may_ingest(),
            Access::Individuals => role.may_see_individuals(),
            Access::Succession => role.may_see_succession(),
        }
    }

    /// The caller of a read (a page, a GET), if their token passes the
    /// rule: 401 without a valid token, 403 without the right. Endpoints are
    /// checked by their row ([`admit`]); the dashboard's pages ask here.
    pub(crate) fn require(self, s: &Service, headers: &HeaderMap) -> Result<Principal, ApiError> {
        self.require_for(s, headers, true)
    }

    /// As [`Access::require`]; the sign-in cookie counts only when `cookie`.
    fn require_for(
        self,
        s: &Service,
        headers: &HeaderMap,
        cookie: bool,
    ) -> Result<Principal, ApiError> {
        let p = token(s, headers, cookie)
            .and_then(|t| s.authenticate(&t))
            .ok_or(ApiError::Unauthorized)?;
        if self.allows(p.role) {
            Ok(p)
        } else {
            Err(ApiError::Forbidden(format!(
                "the {} role may not {}",
                p.role.as_str(),
                self.action()
            )))
        }
    }

    /// What a caller refused by the rule may not do, in plain words.
    fn action(self) -> &'static str {
        match self {
            Access::Public | Access::Token => "",
            Access::Read => "read figures",
            Access::Ingest => "post events",
            Access::Individuals => "see individuals' profiles",
            Access::Succession => "see succession plans",
        }
    }
}

/// The access rule of an endpoint's row, applied before its handler: 401
/// without a valid token, 403 when the role may not; the caller goes on to
/// the handler as a [`Caller`].
pub(crate) async fn admit(
    rule: Access,
    State(s): State<Arc<Service>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    let who = rule.require_for(&s, request.headers(), read)?;
    request.extensions_mut().insert(Caller(who));
    Ok(next.run(request).await)
}

/// The caller of an endpoint, admitted by its row's access rule.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            // a handler of a row without a rule: a bug of the table, not the caller's
            ApiError::Internal("this endpoint has no access rule".into())
        })
    }
}

/// The org unit a request is about: the one asked for, which must lie in
/// the caller's scope, or else the scope itself.
pub(crate) fn effective_unit(
    p: &Principal,
    snap: &Snapshot,
    asked: Option<&str>,
) -> Result<Option<String>, ApiError> {
    match (&p.scope, asked) {
        (None, a) => Ok(a.map(str::to_string)),
        (Some(scope), None) => Ok(Some(scope.clone())),
        (Some(scope), Some(a)) => {
            if snap.unit_path(a).iter().any(|u| u == scope) {
                Ok(Some(a.to_string()))
            } else {
                Err(ApiError::Forbidden(format!(
                    "{a:?} is outside your scope {scope:?}"
                )))
            }
        }
    }
}

/// The columns that count the people a row of an aggregate table is about,
/// in order of preference.
const COUNT_COLUMNS: [&str; 6] = [
    "people_with_requirements",
    "headcount",
    "people",
    "participants",
    "people_affected",
    "people_at_level",
];

/// Keys under which a JSON answer holds lists of rows.
const ROW_KEYS: [&str; 4] = ["rows", "cells", "competencies", "categories"];

/// What one caller may see of one snapshot's figures.
pub(crate) struct Guard {
    who: Principal,
    k: usize,
    /// Units whose figures are hidden (see [`protected_units`]).
    hidden_units: HashSet<String>,
    /// Every figure is hidden: the answer is about a protected population.
    hide_all: bool,
    /// With a role filter: the people of each competency and each category
    /// without it, so that no row leaves out 1..k-1 of them.
    complements: Option<(HashMap<String, usize>, HashMap<String, usize>)>,
    /// For a token with a scope: the employees of that scope. Rows naming a
    /// candidate from elsewhere, and summaries naming anyone else, are
    /// dropped ([`Guard::within_scope`]).
    inside: Option<HashSet<String>>,
}

impl Guard {
    /// For callers who may see individuals: only the rule about one's own
    /// prospects applies.
    pub(crate) fn unrestricted(who: Principal) -> Guard {
        Guard {
            who,
            k: 1,
            hidden_units: HashSet::new(),
            hide_all: false,
            complements: None,
            inside: None,
        }
    }

    /// For a token with a scope, keeps the answer to the people of that
    /// scope: a succession candidate from another unit (a suggestion by role
    /// fit, or a nomination across units) is not listed to it, and a summary
    /// names no one from elsewhere. Positions' counts (bench strength, risk)
    /// still count every candidate.
    pub(crate) fn within_scope(mut self, snap: &Snapshot) -> Guard {
        if let Some(scope) = &self.who.scope {
            self.inside = Some(
                cadre_analytics::people_in(snap, scope)
                    .into_iter()
                    .collect(),
            );
        }
        self
    }

    /// Works out what `who` may see of the figures of `scope`.
    pub(crate) fn new(
        who: Principal,
        k: usize,
        g: &Analysis,
        scope: &Scope,
    ) -> Result<Guard, ApiError> {
        let mut guard = Guard::unrestricted(who);
        if guard.who.role.may_see_individuals() {
            return Ok(guard);
        }
        guard.k = k;
        let units = Table::from_frame(&g.by_unit()?);
        let counts: Vec<UnitCount> = units
            .records()
            .iter()
            .map(|r| UnitCount {
                id: text(r, "unit_id").unwrap_or_default().to_string(),
                parent: text(r, "parent_id").map(str::to_string),
                people: count(r, "people_with_requirements"),
            })
            .collect();
        guard.hidden_units = protected_units(&counts, k);
        let small = |n: usize| (1..k).contains(&n);
        guard.hide_all = scope
            .org_unit
            .as_ref()
            .is_some_and(|u| guard.hidden_units.contains(u));
        if let Some(role) = &scope.role {
            // the people of the scope outside the role must not be few, or
            // the unfiltered figures minus these would give them away
            let within = Scope {
                org_unit: scope.org_unit.clone(),
                ..Scope::default()
            };
            let others: usize = Table::from_frame(&g.by_role(&within)?)
                .records()
                .iter()
                .filter(|r| text(r, "role_id") != Some(role.as_str()))
                .map(|r| count(r, "people_with_requirements"))
                .sum();
            guard.hide_all |= small(others);
            // and per row: each competency and category of the scope
            let people = |t: Table, key: &str| people_by(&t.records(), key);
            let unfiltered = Scope {
                role: None,
                ..scope.clone()
            };
            guard.complements = Some((
                people(
                    Table::from_frame(&g.by_competency(&unfiltered)?),
                    "competency_id",
                ),
                people(Table::from_frame(&g.by_category(&unfiltered)?), "category"),
            ));
        }
        Ok(guard)
    }

    /// The smallest group shown: k, or nothing at all when every figure is hidden.
    fn small_group(&self) -> usize {
        if self.hide_all {
            usize::MAX
        } else {
            self.k
        }
    }

    /// Applies the rules to every list of rows in a JSON answer: rows about
    /// the caller's own potential or nominations are dropped; for roles that
    /// may not see individuals, small groups and protected units lose their
    /// figures.
    pub(crate) fn protect(&self, v: &mut Value) {
        // a heatmap: its parent's people per competency, read before the
        // rows are blanked
        let parent = (!self.who.role.may_see_individuals())
            .then(|| v.get("cells").and(v.get("competencies")))
            .flatten()
            .and_then(as_rows)
            .map(|rows| people_by(&rows, "competency_id"));
        self.protect_parts(v);
        if let (Some(parent), Some(cells)) = (parent, v.get_mut("cells")) {
            if let Some(mut rows) = as_rows(cells) {
                let k = self.small_group();
                protect_remainders(
                    &mut rows,
                    &parent,
                    "competency_id",
                    "people_with_requirements",
                    k,
                );
                *cells = Value::Array(rows.into_iter().map(Value::Object).collect());
            }
        }
    }

    fn protect_parts(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if ROW_KEYS.contains(&key.as_str()) {
                        if let Some(mut rows) = as_rows(child) {
                            self.protect_rows(&mut rows);
                            *child = Value::Array(rows.into_iter().map(Value::Object).collect());
                            continue;
                        }
                    }
                    if key == "over_nominated" {
                        if let (Some(inside), Value::Array(list)) = (&self.inside, &mut *child) {
                            list.retain(|entry| {
                                entry[0].as_str().is_some_and(|id| inside.contains(id))
                            });
                        }
                        continue;
                    }
                    if key == "unit" {
                        if let Value::Object(row) = child {
                            self.protect_unit_row(row);
                            continue;
                        }
                    }
                    self.protect_parts(child);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.protect_parts(i)),
            _ => {}
        }
    }

    fn protect_rows(&self, rows: &mut Vec<Map<String, Value>>) {
        if let Some(me) = &self.who.employee {
            rows.retain(|r| !about_own_prospects(r, me));
        }
        if let Some(inside) = &self.inside {
            rows.retain(|r| text(r, "candidate_id").is_none_or(|c| inside.contains(c)));
        }
        if self.who.role.may_see_individuals() {
            return;
        }
        let Some(first) = rows.first() else { return };
        // a competency's row by its competency, a category's by its category
        let key = ["competency_id", "category"]
            .into_iter()
            .find(|k| first.contains_key(*k))
            .filter(|_| !first.contains_key("unit_id"));
        if let Some(column) = COUNT_COLUMNS.iter().find(|c| first.contains_key(**c)) {
            let k = self.small_group();
            if *column == "people_at_level" {
                // a level distribution: complementary within each competency
                suppress_small_groups_within(rows, "competency_id", column, &["unassessed"], k);
            } else {
                suppress_small_groups(rows, column, k);
            }
            let pairs_of_people = *column == "people_with_requirements";
            if let (Some((competencies, categories)), Some(key), true) =
                (&self.complements, key, pairs_of_people)
            {
                let whole = if key == "competency_id" {
                    competencies
                } else {
                    categories
                };
                suppress_small_complements(rows, whole, key, column, self.k);
            }
        }
        for r in rows.iter_mut() {
            self.protect_unit_row(r);
            suppress_thin_figures(r, self.k);
        }
    }

    fn protect_unit_row(&self, r: &mut Map<String, Value>) {
        if self.who.role.may_see_individuals() {
            return;
        }
        let hidden = text(r, "unit_id").is_some_and(|u| self.hidden_units.contains(u));
        if hidden || self.hide_all {
            suppress_row(r);
        }
    }
}

/// A row that tells its subject about their own potential or nominations.
fn about_own_prospects(r: &Map<String, Value>, me: &str) -> bool {
    text(r, "candidate_id") == Some(me)
        || (text(r, "employee_id") == Some(me) && r.contains_key("potential"))
}

/// The people each row is about (`people_with_requirements`), by the row's `key`.
fn people_by(rows: &[Map<String, Value>], key: &str) -> HashMap<String, usize> {
    rows.iter()
        .filter_map(|r| {
            Some((
                text(r, key)?.to_string(),
                count(r, "people_with_requirements"),
            ))
        })
        .collect()
}

fn as_rows(v: &Value) -> Option<Vec<Map<String, Value>>> {
    v.as_array()?
        .iter()
        .map(|i| i.as_object().cloned())
        .collect()
}

fn text<'a>(r: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    r.get(key).and_then(Value::as_str)
}

fn count(r: &Map<String, Value>, key: &str) -> usize {
    r.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

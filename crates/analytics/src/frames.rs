//! Snapshot to frames: the flat tables every roll-up starts from.

use cadre_projection::Snapshot;
use polars::prelude::*;

/// One row per (active employee, required competency of their role).
pub(crate) fn pairs(s: &Snapshot) -> PolarsResult<DataFrame> {
    let mut employee = Vec::new();
    let mut unit = Vec::new();
    let mut role = Vec::new();
    let mut competency = Vec::new();
    let mut category = Vec::new();
    let mut category_name = Vec::new();
    let mut required = Vec::new();
    let mut weight = Vec::new();
    let mut effective: Vec<Option<f64>> = Vec::new();
    let mut assessed = Vec::new();
    let mut provisional = Vec::new();
    let mut gap: Vec<Option<f64>> = Vec::new();
    let mut meets: Vec<Option<bool>> = Vec::new();
    for e in s.active_employees() {
        let (Some(role_id), Some(unit_id)) = (&e.role_id, &e.org_unit_id) else {
            continue;
        };
        let Some(profile) = s.roles.get(role_id) else {
            continue;
        };
        for q in &profile.requirements {
            let level = e.levels.get(&q.competency_id);
            let req = f64::from(q.level);
            employee.push(e.id.as_str());
            unit.push(unit_id.as_str());
            role.push(role_id.as_str());
            competency.push(q.competency_id.as_str());
            let info = s.competencies.get(&q.competency_id);
            category.push(info.map_or("unknown", |c| c.category.as_str()));
            category_name.push(info.map_or("Unknown", |c| c.category_name.as_str()));
            required.push(req);
            weight.push(q.weight);
            effective.push(level.map(|l| l.level));
            assessed.push(level.is_some_and(|l| l.assessed()));
            provisional.push(level.is_some_and(|l| l.provisional()));
            gap.push(level.map(|l| (req - l.level).max(0.0)));
            meets.push(level.map(|l| l.level >= req));
        }
    }
    df!(
        "employee_id" => employee,
        "org_unit_id" => unit,
        "role_id" => role,
        "competency_id" => competency,
        "category" => category,
        "category_name" => category_name,
        "required" => required,
        "weight" => weight,
        "effective" => effective,
        "assessed" => assessed,
        "provisional" => provisional,
        "gap" => gap,
        "meets" => meets,
    )
}

/// One row per active employee with a position.
pub(crate) fn people(s: &Snapshot) -> PolarsResult<DataFrame> {
    let (ids, units): (Vec<&str>, Vec<&str>) = s
        .active_employees()
        .filter_map(|e| e.org_unit_id.as_deref().map(|u| (e.id.as_str(), u)))
        .unzip();
    df!("employee_id" => ids, "org_unit_id" => units)
}

/// Every (unit, ancestor) pair, a unit being its own ancestor.
pub(crate) fn ancestry(s: &Snapshot) -> PolarsResult<DataFrame> {
    let mut unit = Vec::new();
    let mut ancestor = Vec::new();
    for u in s.units.values() {
        for a in &u.path {
            unit.push(u.id.as_str());
            ancestor.push(a.as_str());
        }
    }
    df!("org_unit_id" => unit, "ancestor_id" => ancestor)
}

/// Units with names and parents.
pub(crate) fn units(s: &Snapshot) -> PolarsResult<DataFrame> {
    let ids: Vec<&str> = s.units.keys().map(String::as_str).collect();
    let names: Vec<&str> = s.units.values().map(|u| u.name.as_str()).collect();
    let parents: Vec<Option<&str>> = s.units.values().map(|u| u.parent_id.as_deref()).collect();
    df!("unit_id" => ids, "unit_name" => names, "parent_id" => parents)
}

/// Competencies with names and categories.
pub(crate) fn competencies(s: &Snapshot) -> PolarsResult<DataFrame> {
    let c: Vec<_> = s.competencies.values().collect();
    df!(
        "competency_id" => c.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        "competency_name" => c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        "category" => c.iter().map(|c| c.category.as_str()).collect::<Vec<_>>(),
        "category_name" => c.iter().map(|c| c.category_name.as_str()).collect::<Vec<_>>(),
        "framework_id" => c.iter().map(|c| c.framework_id.as_str()).collect::<Vec<_>>(),
    )
}

//! Snapshot to frames: the flat tables every roll-up starts from.

use cadre_model::RoleProfileDefined;
use cadre_projection::{EffectiveLevel, EmployeeState, Snapshot};
use chrono::Duration;
use polars::prelude::*;
use rayon::prelude::*;

use crate::AnalyticsConfig;

/// Columns of the pairs frame, built row by row.
struct PairColumns<'a> {
    employee: Vec<&'a str>,
    unit: Vec<&'a str>,
    role: Vec<&'a str>,
    competency: Vec<&'a str>,
    category: Vec<&'a str>,
    category_name: Vec<&'a str>,
    required: Vec<f64>,
    weight: Vec<f64>,
    effective: Vec<Option<f64>>,
    assessed: Vec<bool>,
    provisional: Vec<bool>,
    gap: Vec<Option<f64>>,
    weighted_gap: Vec<Option<f64>>,
    meets: Vec<Option<bool>>,
    stale: Vec<Option<bool>>,
    self_only: Vec<bool>,
    fit_shortfall: Vec<f64>,
    fit_weight: Vec<f64>,
    role_fit: Vec<Option<f64>>,
    person_first: Vec<bool>,
    category_first: Vec<bool>,
    /// One row per employee with pairs: [`Rows::fits`].
    fits: FitColumns<'a>,
}

/// Columns of the per-employee fit frame.
struct FitColumns<'a> {
    employee: Vec<&'a str>,
    role: Vec<&'a str>,
    required: Vec<u32>,
    unassessed: Vec<u32>,
    weighted_gap: Vec<f64>,
    role_fit: Vec<Option<f64>>,
}

impl PairColumns<'_> {
    /// Empty columns with room for `rows` pairs of `people` employees.
    fn with_capacity(rows: usize, people: usize) -> Self {
        PairColumns {
            employee: Vec::with_capacity(rows),
            unit: Vec::with_capacity(rows),
            role: Vec::with_capacity(rows),
            competency: Vec::with_capacity(rows),
            category: Vec::with_capacity(rows),
            category_name: Vec::with_capacity(rows),
            required: Vec::with_capacity(rows),
            weight: Vec::with_capacity(rows),
            effective: Vec::with_capacity(rows),
            assessed: Vec::with_capacity(rows),
            provisional: Vec::with_capacity(rows),
            gap: Vec::with_capacity(rows),
            weighted_gap: Vec::with_capacity(rows),
            meets: Vec::with_capacity(rows),
            stale: Vec::with_capacity(rows),
            self_only: Vec::with_capacity(rows),
            fit_shortfall: Vec::with_capacity(rows),
            fit_weight: Vec::with_capacity(rows),
            role_fit: Vec::with_capacity(rows),
            person_first: Vec::with_capacity(rows),
            category_first: Vec::with_capacity(rows),
            fits: FitColumns {
                employee: Vec::with_capacity(people),
                role: Vec::with_capacity(people),
                required: Vec::with_capacity(people),
                unassessed: Vec::with_capacity(people),
                weighted_gap: Vec::with_capacity(people),
                role_fit: Vec::with_capacity(people),
            },
        }
    }
}

/// The pairs of some employees, and their per-employee totals.
pub(crate) struct Rows {
    /// One row per (employee, required competency): see [`pairs`].
    pub pairs: DataFrame,
    /// One row per employee with pairs: `employee_id, role_id,
    /// required_pairs, unassessed_pairs, total_weighted_gap, role_fit`.
    pub fits: DataFrame,
}

impl Rows {
    /// `self` with `other`'s rows below.
    fn stack(mut self, other: &Rows) -> PolarsResult<Rows> {
        self.pairs.vstack_mut(&other.pairs)?;
        self.fits.vstack_mut(&other.fits)?;
        Ok(self)
    }
}

/// One row per (active employee, required competency of their role), and
/// each such employee's totals. Built a run of employees at a time on every
/// core, then stacked in order.
pub(crate) fn pairs(s: &Snapshot, cfg: &AnalyticsConfig) -> PolarsResult<Rows> {
    pairs_in_runs(s, cfg, PAIRS_RUN)
}

/// [`pairs`], each core taking at least `fewest` employees.
fn pairs_in_runs(s: &Snapshot, cfg: &AnalyticsConfig, fewest: usize) -> PolarsResult<Rows> {
    let active: Vec<&EmployeeState> = s.active_employees().collect();
    let run = active
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(fewest);
    let parts = active
        .par_chunks(run)
        .map(|employees| pairs_of(s, cfg, employees.iter().copied()))
        .collect::<PolarsResult<Vec<Rows>>>()?;
    let mut parts = parts.into_iter();
    let mut out = match parts.next() {
        Some(first) => first,
        None => pairs_of(s, cfg, [])?,
    };
    for part in parts {
        out = out.stack(&part)?;
    }
    // one chunk per column, as the roll-ups expect
    out.pairs.rechunk_mut_par();
    out.fits.rechunk_mut_par();
    Ok(out)
}

/// An employee's role, unit and role profile, when they have all three:
/// the employees who have pairs.
fn placed<'a>(
    s: &'a Snapshot,
    e: &'a EmployeeState,
) -> Option<(&'a String, &'a String, &'a RoleProfileDefined)> {
    let (Some(role_id), Some(unit_id)) = (&e.role_id, &e.org_unit_id) else {
        return None;
    };
    Some((role_id, unit_id, s.roles.get(role_id)?))
}

/// The fewest employees whose pairs are built on a core of their own.
const PAIRS_RUN: usize = 4096;

/// The rows of [`pairs`] of some of the snapshot's active employees, in the order given.
pub(crate) fn pairs_of<'a, I>(
    s: &'a Snapshot,
    cfg: &AnalyticsConfig,
    employees: I,
) -> PolarsResult<Rows>
where
    I: IntoIterator<Item = &'a EmployeeState>,
    I::IntoIter: Clone,
{
    let stale_before = s.as_of - Duration::days(cfg.stale_days);
    let employees = employees.into_iter();
    // every column sized once: grown row by row, each doubled several times,
    // copied and touched twice the memory (at 1M employees, 5.4 million
    // rows in 21 columns)
    let (rows, people) = employees
        .clone()
        .filter_map(|e| placed(s, e))
        .fold((0, 0), |(rows, people), (_, _, profile)| {
            (rows + profile.requirements.len(), people + 1)
        });
    let mut c = PairColumns::with_capacity(rows, people);
    for e in employees {
        let Some((role_id, unit_id, profile)) = placed(s, e) else {
            continue;
        };
        let first = c.fit_weight.len();
        let mut categories: Vec<&str> = Vec::new();
        for q in &profile.requirements {
            let level: Option<&EffectiveLevel> = e.levels.get(q.competency_id.as_str());
            let req = f64::from(q.level);
            let info = s.competencies.get(&q.competency_id);
            let gap = level.map(|l| (req - l.level).max(0.0));
            // for role fit an unassessed competency counts as level 0
            let fit_gap = (req - level.map_or(0.0, |l| l.level)).max(0.0);
            let category = info.map_or("unknown", |c| c.category.as_str());
            // each person's first pair, and first pair in each category,
            // stand for the person where a roll-up counts people
            let new_category = !categories.contains(&category);
            if new_category {
                categories.push(category);
            }
            c.person_first.push(c.employee.len() == first);
            c.category_first.push(new_category);
            c.employee.push(&e.id);
            c.unit.push(unit_id);
            c.role.push(role_id);
            c.competency.push(&q.competency_id);
            c.category.push(category);
            c.category_name
                .push(info.map_or("Unknown", |c| c.category_name.as_str()));
            c.required.push(req);
            c.weight.push(q.weight);
            c.effective.push(level.map(|l| l.level));
            c.assessed.push(level.is_some_and(|l| l.assessed()));
            c.provisional.push(level.is_some_and(|l| l.provisional()));
            c.gap.push(gap);
            c.weighted_gap.push(gap.map(|g| g * q.weight));
            c.meets.push(level.map(|l| l.level >= req));
            c.stale.push(
                e.last_assessed
                    .get(q.competency_id.as_str())
                    .map(|at| *at < stale_before),
            );
            c.self_only
                .push(level.is_some_and(|l| l.assessed() && l.self_only));
            c.fit_shortfall.push(q.weight * fit_gap.min(req));
            c.fit_weight.push(q.weight * req);
        }
        // the employee's role fit on each of their rows (docs/metrics.md):
        // 1 − Σ w·min(gap, required) / Σ w·required over their requirements
        let shortfall: f64 = c.fit_shortfall[first..].iter().sum();
        let weight: f64 = c.fit_weight[first..].iter().sum();
        let fit = (weight > 0.0).then(|| 1.0 - shortfall / weight);
        c.role_fit.resize(c.fit_weight.len(), fit);
        if c.fit_weight.len() > first {
            let f = &mut c.fits;
            f.employee.push(&e.id);
            f.role.push(role_id);
            f.required.push((c.fit_weight.len() - first) as u32);
            f.unassessed
                .push(c.effective[first..].iter().filter(|l| l.is_none()).count() as u32);
            f.weighted_gap
                .push(c.weighted_gap[first..].iter().flatten().sum());
            f.role_fit.push(fit);
        }
    }
    let f = c.fits;
    let fits = df!(
        "employee_id" => f.employee,
        "role_id" => f.role,
        "required_pairs" => f.required,
        "unassessed_pairs" => f.unassessed,
        "total_weighted_gap" => f.weighted_gap,
        "role_fit" => f.role_fit,
    )?;
    let pairs = df!(
        "employee_id" => c.employee,
        "org_unit_id" => c.unit,
        "role_id" => c.role,
        "competency_id" => c.competency,
        "category" => c.category,
        "category_name" => c.category_name,
        "required" => c.required,
        "weight" => c.weight,
        "effective" => c.effective,
        "assessed" => c.assessed,
        "provisional" => c.provisional,
        "gap" => c.gap,
        "weighted_gap" => c.weighted_gap,
        "meets" => c.meets,
        "stale" => c.stale,
        "self_only" => c.self_only,
        "fit_shortfall" => c.fit_shortfall,
        "fit_weight" => c.fit_weight,
        "role_fit" => c.role_fit,
        "person_first" => c.person_first,
        "category_first" => c.category_first,
    )?;
    Ok(Rows { pairs, fits })
}

/// One row per active employee with a position.
pub(crate) fn people(s: &Snapshot) -> PolarsResult<DataFrame> {
    people_of(s.active_employees())
}

/// The rows of [`people`] of some active employees, in the order given.
pub(crate) fn people_of<'a>(
    employees: impl IntoIterator<Item = &'a EmployeeState>,
) -> PolarsResult<DataFrame> {
    let e: Vec<_> = employees
        .into_iter()
        .filter(|e| e.org_unit_id.is_some())
        .collect();
    df!(
        "employee_id" => e.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        "name" => e.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        "org_unit_id" => e.iter().map(|e| e.org_unit_id.as_deref()).collect::<Vec<_>>(),
        "position_id" => e.iter().map(|e| e.position_id.as_deref()).collect::<Vec<_>>(),
        "role_id" => e.iter().map(|e| e.role_id.as_deref()).collect::<Vec<_>>(),
        "performance" => e.iter().map(|e| e.performance.map(u32::from)).collect::<Vec<_>>(),
        "potential" => e.iter().map(|e| e.potential.map(potential_name)).collect::<Vec<_>>(),
    )
}

pub(crate) fn potential_name(p: cadre_model::Potential) -> &'static str {
    match p {
        cadre_model::Potential::Low => "low",
        cadre_model::Potential::Medium => "medium",
        cadre_model::Potential::High => "high",
    }
}

/// `frame`, whose rows are sorted by `employee_id`, with employee `id`'s rows
/// (none, if they had none) replaced by `rows`, in one chunk.
pub(crate) fn splice(frame: &DataFrame, id: &str, rows: &DataFrame) -> PolarsResult<DataFrame> {
    let ids = frame.column("employee_id")?.str()?.rechunk();
    let first_not_below = |inclusive: bool| {
        let (mut lo, mut hi) = (0, ids.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let v = ids.get(mid).unwrap_or_default();
            if v < id || (inclusive && v == id) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let (from, to) = (first_not_below(false), first_not_below(true));
    let mut out = frame.slice(0, from);
    out.vstack_mut(rows)?;
    out.vstack_mut(&frame.slice(to as i64, frame.height() - to))?;
    out.rechunk_mut_par();
    Ok(out)
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
    let u: Vec<_> = s.units.values().collect();
    df!(
        "unit_id" => u.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        "unit_name" => u.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        "parent_id" => u.iter().map(|u| u.parent_id.as_deref()).collect::<Vec<_>>(),
    )
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

/// Role profiles with names.
pub(crate) fn roles(s: &Snapshot) -> PolarsResult<DataFrame> {
    df!(
        "role_id" => s.roles.keys().map(String::as_str).collect::<Vec<_>>(),
        "role_name" => s.roles.values().map(|r| r.name.as_str()).collect::<Vec<_>>(),
    )
}

/// One row per (employee, training, competency developed), with the assessed
/// level before and after and the change between them.
pub(crate) fn trainings(s: &Snapshot) -> PolarsResult<DataFrame> {
    let mut emp = Vec::new();
    let mut course = Vec::new();
    let mut title = Vec::new();
    let mut comp = Vec::new();
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut change = Vec::new();
    for e in &s.employees {
        for t in &e.trainings {
            emp.push(e.id.as_str());
            course.push(t.course_id.as_str());
            title.push(s.courses.get(&t.course_id).map(String::as_str));
            comp.push(&*t.competency_id);
            before.push(t.level_before);
            after.push(t.level_after);
            change.push(t.level_before.zip(t.level_after).map(|(b, a)| a - b));
        }
    }
    df!(
        "employee_id" => emp,
        "course_id" => course,
        "course_title" => title,
        "competency_id" => comp,
        "level_before" => before,
        "level_after" => after,
        "change" => change,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_built_in_runs_are_the_pairs_built_in_one() {
        let s = crate::generated::snapshot(120, 3);
        let cfg = AnalyticsConfig::default();
        let whole = pairs_of(&s, &cfg, s.active_employees()).expect("pairs");
        assert!(whole.pairs.height() > 300, "{}", whole.pairs.height());
        assert!(whole.fits.height() > 100, "{}", whole.fits.height());
        for fewest in [1, 7, 50] {
            let runs = pairs_in_runs(&s, &cfg, fewest).expect("pairs");
            assert!(
                runs.pairs.equals_missing(&whole.pairs),
                "runs of at least {fewest}"
            );
            assert!(
                runs.fits.equals_missing(&whole.fits),
                "fits, runs of at least {fewest}"
            );
        }
    }
}

//! Skills gaps, role fit and their roll-ups by org unit, competency, category and role.

use std::collections::BTreeSet;

use cadre_projection::Snapshot;
use polars::prelude::*;

use crate::{frames, AnalyticsConfig, AnalyticsError};

/// Analytics over one snapshot.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub(crate) config: AnalyticsConfig,
    pub(crate) pairs: DataFrame,
    pub(crate) people: DataFrame,
    pub(crate) ancestry: DataFrame,
    pub(crate) units: DataFrame,
    pub(crate) unit_ids: BTreeSet<String>,
    pub(crate) competencies: DataFrame,
    pub(crate) roles: DataFrame,
    /// Each employee with pairs, their totals and role fit, built with the pairs.
    fits: DataFrame,
}

/// How many rows of the group have `e` true.
pub(crate) fn count(e: Expr, name: &str) -> Expr {
    e.cast(DataType::UInt32).sum().alias(name)
}

/// The pair counts of a group, from `required_pairs` to `self_only_pairs`:
/// shared by the roll-ups and the partial aggregates.
pub(crate) fn pair_counts() -> Vec<Expr> {
    vec![
        len().cast(DataType::UInt32).alias("required_pairs"),
        count(col("assessed"), "assessed_pairs"),
        count(col("effective").is_not_null(), "levelled_pairs"),
        count(col("meets"), "meeting_pairs"),
        count(col("stale").is_not_null(), "ever_assessed_pairs"),
        count(col("stale"), "stale_pairs"),
        count(col("self_only"), "self_only_pairs"),
    ]
}

/// Which of a person's pairs stands for them in a group, where a roll-up
/// counts people (`people_with_requirements`) or averages their role fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PersonRow {
    /// Every pair: the groups hold at most one pair per person (the keys
    /// include the competency, which a role requires once).
    EveryPair,
    /// The person's first pair: the groups hold whole people (a role, a unit, everything).
    First,
    /// The person's first pair in each category: the groups split people by category.
    FirstInCategory,
}

impl PersonRow {
    /// For groups of whole people within `scope`: a category scope keeps
    /// only that category's pairs, where the person's first may not be.
    pub(crate) fn of_people(scope: &Scope) -> PersonRow {
        if scope.category.is_some() {
            PersonRow::FirstInCategory
        } else {
            PersonRow::First
        }
    }

    /// `person_fit`: the role fit on the pairs that stand for a person, null on the others.
    fn fit(self) -> Expr {
        match self.flag() {
            None => col("role_fit"),
            Some(flag) => when(col(flag))
                .then(col("role_fit"))
                .otherwise(lit(NULL).cast(DataType::Float64)),
        }
        .alias("person_fit")
    }

    /// How many people the group holds: `people_with_requirements`.
    fn people(self) -> Expr {
        match self.flag() {
            None => len().cast(DataType::UInt32),
            Some(flag) => col(flag).cast(DataType::UInt32).sum(),
        }
        .alias("people_with_requirements")
    }

    fn flag(self) -> Option<&'static str> {
        match self {
            PersonRow::EveryPair => None,
            PersonRow::First => Some("person_first"),
            PersonRow::FirstInCategory => Some("category_first"),
        }
    }
}

/// Aggregations over a group of (employee, required competency) pairs whose
/// `person_fit` holds each person's role fit on the pair that stands for them.
fn pair_metrics(person: PersonRow) -> Vec<Expr> {
    let mut m = vec![person.people()];
    m.extend(pair_counts());
    m.push(col("gap").mean().alias("mean_gap"));
    m.push(col("weighted_gap").sum().alias("total_weighted_gap"));
    m.push(col("person_fit").mean().alias("mean_role_fit"));
    m.push(fit_people());
    m
}

/// How many people of the group have a role fit: `role_fit_people`.
fn fit_people() -> Expr {
    col("person_fit")
        .count()
        .cast(DataType::UInt32)
        .alias("role_fit_people")
}

/// `num / den` as a float, null when `den` is zero or missing.
fn ratio(num: &str, den: &str, name: &str) -> Expr {
    when(col(den).gt(lit(0u32)))
        .then(col(num).cast(DataType::Float64) / col(den).cast(DataType::Float64))
        .otherwise(lit(NULL))
        .alias(name)
}

fn with_ratios(lf: LazyFrame) -> LazyFrame {
    lf.with_columns([
        ratio("assessed_pairs", "required_pairs", "coverage"),
        ratio("meeting_pairs", "levelled_pairs", "meeting_share"),
        ratio("stale_pairs", "ever_assessed_pairs", "staleness"),
    ])
}

/// The leading [`ROLLUP_COLUMNS`] that are counts (0 when a group is empty).
const COUNTS: usize = 8;

/// The columns every roll-up ends with, in order.
pub const ROLLUP_COLUMNS: [&str; 15] = [
    "people_with_requirements",
    "required_pairs",
    "assessed_pairs",
    "levelled_pairs",
    "meeting_pairs",
    "ever_assessed_pairs",
    "stale_pairs",
    "self_only_pairs",
    "coverage",
    "staleness",
    "meeting_share",
    "mean_gap",
    "total_weighted_gap",
    "mean_role_fit",
    "role_fit_people",
];

fn rollup_cols() -> Vec<Expr> {
    ROLLUP_COLUMNS.iter().map(|c| col(*c)).collect()
}

impl Analysis {
    /// Builds the frames for a snapshot with the default configuration.
    pub fn new(snapshot: &Snapshot) -> Result<Analysis, AnalyticsError> {
        Analysis::with_config(snapshot, AnalyticsConfig::default())
    }

    /// Builds the frames for a snapshot.
    pub fn with_config(
        snapshot: &Snapshot,
        config: AnalyticsConfig,
    ) -> Result<Analysis, AnalyticsError> {
        let rows = frames::pairs(snapshot, &config)?;
        Ok(Analysis {
            pairs: rows.pairs,
            fits: rows.fits,
            people: frames::people(snapshot)?,
            ancestry: frames::ancestry(snapshot)?,
            units: frames::units(snapshot)?,
            unit_ids: snapshot.units.keys().cloned().collect(),
            competencies: frames::competencies(snapshot)?,
            roles: frames::roles(snapshot)?,
            config,
        })
    }

    /// Takes employee `id`'s rows again from `s`, a snapshot that differs
    /// from the one the frames were built from in that employee's state
    /// alone ([`Snapshot::refresh_employee`]); the same frames as building
    /// them from `s` anew.
    pub fn refresh_employee(&mut self, s: &Snapshot, id: &str) -> Result<(), AnalyticsError> {
        let e = s
            .employee_index(id)
            .ok()
            .map(|i| &s.employees[i])
            .filter(|e| e.active);
        let rows = frames::pairs_of(s, &self.config, e)?;
        self.pairs = frames::splice(&self.pairs, id, &rows.pairs)?;
        self.fits = frames::splice(&self.fits, id, &rows.fits)?;
        self.people = frames::splice(&self.people, id, &frames::people_of(e)?)?;
        Ok(())
    }

    /// The configuration in force.
    pub fn config(&self) -> &AnalyticsConfig {
        &self.config
    }

    /// One row per (active employee, required competency): the gap table.
    pub fn pairs(&self) -> &DataFrame {
        &self.pairs
    }

    pub(crate) fn check_unit(&self, unit: &str) -> Result<(), AnalyticsError> {
        if self.unit_ids.contains(unit) {
            Ok(())
        } else {
            Err(AnalyticsError::UnknownUnit(unit.to_string()))
        }
    }

    /// Rows of `lf` (which has `org_unit_id`) in the subtree of `unit`; all rows when `None`.
    pub(crate) fn in_subtree(
        &self,
        lf: LazyFrame,
        unit: Option<&str>,
    ) -> Result<LazyFrame, AnalyticsError> {
        let Some(u) = unit else { return Ok(lf) };
        self.check_unit(u)?;
        let inside = self
            .ancestry
            .clone()
            .lazy()
            .filter(col("ancestor_id").eq(lit(u)))
            .select([col("org_unit_id")]);
        Ok(lf.inner_join(inside, col("org_unit_id"), col("org_unit_id")))
    }

    /// Pairs of employees in the subtree of `unit` (all pairs when `None`).
    pub(crate) fn pairs_in(&self, unit: Option<&str>) -> Result<LazyFrame, AnalyticsError> {
        self.in_subtree(self.pairs.clone().lazy(), unit)
    }

    /// Pairs within a scope: an org unit subtree, a category and a role, each optional.
    pub(crate) fn scoped(&self, scope: &Scope) -> Result<LazyFrame, AnalyticsError> {
        let mut lf = self.pairs_in(scope.org_unit.as_deref())?;
        if let Some(c) = &scope.category {
            lf = lf.filter(col("category").eq(lit(c.as_str())));
        }
        if let Some(r) = &scope.role {
            lf = lf.filter(col("role_id").eq(lit(r.as_str())));
        }
        Ok(lf)
    }

    /// Metrics grouped by `keys` over `pairs` (which carry `role_fit`), each
    /// person counted, and their role fit taken, once: on the pair `person`
    /// names, so that no group-by per person is needed.
    pub(crate) fn grouped(pairs: LazyFrame, keys: &[&str], person: PersonRow) -> LazyFrame {
        let key_cols: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
        with_ratios(
            pairs
                .with_columns([person.fit()])
                .group_by(key_cols)
                .agg(pair_metrics(person)),
        )
    }

    /// Per employee: role, required pairs, unassessed pairs, total weighted gap and role fit.
    ///
    /// Columns: `employee_id, name, org_unit_id, position_id, role_id,
    /// required_pairs, unassessed_pairs, total_weighted_gap, role_fit`.
    pub fn employees(&self, unit: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let people = self.in_subtree(self.people.clone().lazy(), unit)?;
        // role fit = 1 − Σ w·min(gap, required) / Σ w·required, with
        // unassessed competencies at level 0, and the totals behind it
        let fit = self.fits.clone().lazy().select([
            col("employee_id"),
            col("required_pairs"),
            col("unassessed_pairs"),
            col("total_weighted_gap"),
            col("role_fit"),
        ]);
        Ok(people
            .left_join(fit, col("employee_id"), col("employee_id"))
            .select([
                col("employee_id"),
                col("name"),
                col("org_unit_id"),
                col("position_id"),
                col("role_id"),
                col("required_pairs").fill_null(lit(0u32)),
                col("unassessed_pairs").fill_null(lit(0u32)),
                col("total_weighted_gap").fill_null(lit(0.0)),
                col("role_fit"),
            ])
            .sort(["employee_id"], SortMultipleOptions::default())
            .collect()?)
    }

    /// Roll-up for every org unit over its whole subtree, sorted by unit id.
    ///
    /// Columns: `unit_id, unit_name, parent_id, headcount`, then [`ROLLUP_COLUMNS`].
    pub fn by_unit(&self) -> Result<DataFrame, AnalyticsError> {
        // Every figure of a subtree is a sum over its units, or a ratio of two
        // such sums, because each person sits in one unit: the pairs are summed
        // per unit once, and only the per-unit sums meet the ancestry.
        let pair_sums = self
            .pairs
            .clone()
            .lazy()
            .with_columns([PersonRow::First.fit()])
            .group_by([col("org_unit_id")])
            .agg(
                [PersonRow::First.people()]
                    .into_iter()
                    .chain(pair_counts())
                    .chain([
                        col("gap").sum().alias("gap_sum"),
                        col("gap").count().cast(DataType::UInt32).alias("gap_n"),
                        col("weighted_gap").sum().alias("total_weighted_gap"),
                        col("person_fit").sum().alias("role_fit_sum"),
                        fit_people(),
                    ])
                    .collect::<Vec<_>>(),
            );
        let headcounts = self
            .people
            .clone()
            .lazy()
            .group_by([col("org_unit_id")])
            .agg([len().cast(DataType::UInt32).alias("headcount")]);
        let per_ancestor = |per_unit: LazyFrame, sums: Vec<&str>| {
            per_unit
                .inner_join(
                    self.ancestry.clone().lazy(),
                    col("org_unit_id"),
                    col("org_unit_id"),
                )
                .group_by([col("ancestor_id")])
                .agg(sums.into_iter().map(|c| col(c).sum()).collect::<Vec<_>>())
        };
        let mut sums: Vec<&str> = ROLLUP_COLUMNS[..COUNTS].to_vec();
        sums.extend([
            "gap_sum",
            "gap_n",
            "total_weighted_gap",
            "role_fit_sum",
            "role_fit_people",
        ]);
        let pairs = per_ancestor(pair_sums, sums);
        let people = per_ancestor(headcounts, vec!["headcount"]);
        let mut fill: Vec<Expr> = ROLLUP_COLUMNS[..COUNTS]
            .iter()
            .chain(&["headcount", "role_fit_people", "gap_n"])
            .map(|c| col(*c).fill_null(lit(0u32)).cast(DataType::UInt32))
            .collect();
        fill.push(col("total_weighted_gap").fill_null(lit(0.0)));
        let mut select = vec![
            col("unit_id"),
            col("unit_name"),
            col("parent_id"),
            col("headcount"),
        ];
        select.extend(rollup_cols());
        let rolled = self
            .units
            .clone()
            .lazy()
            .left_join(people, col("unit_id"), col("ancestor_id"))
            .left_join(pairs, col("unit_id"), col("ancestor_id"))
            .with_columns(fill)
            .with_columns([
                ratio("gap_sum", "gap_n", "mean_gap"),
                ratio("role_fit_sum", "role_fit_people", "mean_role_fit"),
            ]);
        Ok(with_ratios(rolled)
            .select(select)
            .sort(["unit_id"], SortMultipleOptions::default())
            .collect()?)
    }

    /// Roll-up per competency within a scope.
    ///
    /// Columns: `competency_id, competency_name, category, category_name`, then [`ROLLUP_COLUMNS`].
    pub fn by_competency(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let grouped = Self::grouped(
            self.scoped(scope)?,
            &["competency_id"],
            PersonRow::EveryPair,
        );
        let names = self.competencies.clone().lazy().select([
            col("competency_id"),
            col("competency_name"),
            col("category"),
            col("category_name"),
        ]);
        let mut select = vec![
            col("competency_id"),
            col("competency_name"),
            col("category"),
            col("category_name"),
        ];
        select.extend(rollup_cols());
        Ok(grouped
            .left_join(names, col("competency_id"), col("competency_id"))
            .select(select)
            .sort(
                ["category", "competency_id"],
                SortMultipleOptions::default(),
            )
            .collect()?)
    }

    /// Roll-up per category within a scope.
    ///
    /// Columns: `category, category_name`, then [`ROLLUP_COLUMNS`].
    pub fn by_category(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let mut select = vec![col("category"), col("category_name")];
        select.extend(rollup_cols());
        Ok(Self::grouped(
            self.scoped(scope)?,
            &["category", "category_name"],
            PersonRow::FirstInCategory,
        )
        .select(select)
        .sort(["category"], SortMultipleOptions::default())
        .collect()?)
    }

    /// Roll-up per role within a scope.
    ///
    /// Columns: `role_id, role_name`, then [`ROLLUP_COLUMNS`].
    pub fn by_role(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let mut select = vec![col("role_id"), col("role_name")];
        select.extend(rollup_cols());
        Ok(Self::grouped(
            self.scoped(scope)?,
            &["role_id"],
            PersonRow::of_people(scope),
        )
        .left_join(self.roles.clone().lazy(), col("role_id"), col("role_id"))
        .select(select)
        .sort(["role_id"], SortMultipleOptions::default())
        .collect()?)
    }

    /// The heatmap under `parent` (the root units when `None`): one row per
    /// (child unit, competency), each child covering its whole subtree.
    ///
    /// Columns: `unit_id, unit_name, competency_id`, then [`ROLLUP_COLUMNS`].
    pub fn heatmap(&self, parent: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let rows = self.child_units(parent)?;
        let pairs = self
            .pairs
            .clone()
            .lazy()
            .inner_join(
                self.ancestry.clone().lazy(),
                col("org_unit_id"),
                col("org_unit_id"),
            )
            .inner_join(
                rows.select([col("unit_id"), col("unit_name")]),
                col("ancestor_id"),
                col("unit_id"),
            )
            .with_columns([col("ancestor_id").alias("unit_id")]);
        let mut select = vec![col("unit_id"), col("unit_name"), col("competency_id")];
        select.extend(rollup_cols());
        Ok(Self::grouped(
            pairs,
            &["unit_id", "unit_name", "competency_id"],
            PersonRow::EveryPair,
        )
        .select(select)
        .sort(["unit_id", "competency_id"], SortMultipleOptions::default())
        .collect()?)
    }

    /// How many people are at each level of each competency, beside how many
    /// are required to be at it (levels are floored: 2.4 counts at 2).
    ///
    /// Columns: `competency_id, level, people_at_level, people_required_at_level, unassessed`.
    pub fn level_distribution(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let pairs = self.scoped(scope)?;
        let at = pairs
            .clone()
            .filter(col("effective").is_not_null())
            // levels are non-negative, so truncation is the floor
            .with_columns([col("effective").cast(DataType::Int32).alias("level")])
            .group_by([col("competency_id"), col("level")])
            .agg([len().cast(DataType::UInt32).alias("people_at_level")])
            .with_columns([lit(0u32)
                .cast(DataType::UInt32)
                .alias("people_required_at_level")]);
        let required = pairs
            .clone()
            .with_columns([col("required").cast(DataType::Int32).alias("level")])
            .group_by([col("competency_id"), col("level")])
            .agg([len()
                .cast(DataType::UInt32)
                .alias("people_required_at_level")])
            .with_columns([lit(0u32).cast(DataType::UInt32).alias("people_at_level")])
            .select([
                col("competency_id"),
                col("level"),
                col("people_at_level"),
                col("people_required_at_level"),
            ]);
        let unassessed = pairs.group_by([col("competency_id")]).agg([col("effective")
            .is_null()
            .cast(DataType::UInt32)
            .sum()
            .alias("unassessed")]);
        Ok(concat([at, required], UnionArgs::default())?
            .group_by([col("competency_id"), col("level")])
            .agg([
                col("people_at_level").sum(),
                col("people_required_at_level").sum(),
            ])
            .left_join(unassessed, col("competency_id"), col("competency_id"))
            .sort(["competency_id", "level"], SortMultipleOptions::default())
            .collect()?)
    }

    /// The direct children of `parent`, or the roots.
    fn child_units(&self, parent: Option<&str>) -> Result<LazyFrame, AnalyticsError> {
        let units = self.units.clone().lazy();
        Ok(match parent {
            None => units.filter(col("parent_id").is_null()),
            Some(p) => {
                self.check_unit(p)?;
                units.filter(col("parent_id").eq(lit(p)))
            }
        })
    }
}

/// Which pairs a figure covers: an org unit's subtree, a category, a role; each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Scope {
    /// Limit to this org unit and everything under it.
    pub org_unit: Option<String>,
    /// Limit to competencies of this category.
    pub category: Option<String>,
    /// Limit to employees in this role.
    pub role: Option<String>,
}

impl Scope {
    /// Everything.
    pub fn all() -> Scope {
        Scope::default()
    }

    /// One org unit's subtree.
    pub fn unit(u: impl Into<String>) -> Scope {
        Scope {
            org_unit: Some(u.into()),
            ..Scope::default()
        }
    }
}

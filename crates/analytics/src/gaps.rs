//! Skills gaps and their roll-ups by org unit, competency and category.

use cadre_projection::Snapshot;
use polars::prelude::*;

use crate::frames;
use crate::AnalyticsError;

/// Gap analytics over one snapshot.
#[derive(Debug, Clone)]
pub struct GapAnalysis {
    pairs: DataFrame,
    people: DataFrame,
    ancestry: DataFrame,
    units: DataFrame,
    unit_ids: std::collections::BTreeSet<String>,
    competencies: DataFrame,
}

/// Aggregations over a group of (employee, required competency) pairs.
fn pair_metrics() -> Vec<Expr> {
    vec![
        col("employee_id")
            .n_unique()
            .cast(DataType::UInt32)
            .alias("people_with_requirements"),
        len().cast(DataType::UInt32).alias("required_pairs"),
        col("assessed")
            .cast(DataType::UInt32)
            .sum()
            .alias("assessed_pairs"),
        col("effective")
            .is_not_null()
            .cast(DataType::UInt32)
            .sum()
            .alias("levelled_pairs"),
        col("meets")
            .cast(DataType::UInt32)
            .sum()
            .alias("meeting_pairs"),
        col("gap").mean().alias("mean_gap"),
    ]
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
    ])
}

const COUNTS: [&str; 5] = [
    "people_with_requirements",
    "required_pairs",
    "assessed_pairs",
    "levelled_pairs",
    "meeting_pairs",
];

impl GapAnalysis {
    /// Builds the frames for a snapshot.
    pub fn new(snapshot: &Snapshot) -> Result<GapAnalysis, AnalyticsError> {
        Ok(GapAnalysis {
            pairs: frames::pairs(snapshot)?,
            people: frames::people(snapshot)?,
            ancestry: frames::ancestry(snapshot)?,
            units: frames::units(snapshot)?,
            unit_ids: snapshot.units.keys().cloned().collect(),
            competencies: frames::competencies(snapshot)?,
        })
    }

    /// One row per (active employee, required competency): the gap table.
    pub fn pairs(&self) -> &DataFrame {
        &self.pairs
    }

    fn check_unit(&self, unit: &str) -> Result<(), AnalyticsError> {
        if self.unit_ids.contains(unit) {
            Ok(())
        } else {
            Err(AnalyticsError::UnknownUnit(unit.to_string()))
        }
    }

    /// Pairs of employees in the subtree of `scope` (all pairs when `None`).
    fn pairs_in(&self, scope: Option<&str>) -> Result<LazyFrame, AnalyticsError> {
        let pairs = self.pairs.clone().lazy();
        Ok(match scope {
            None => pairs,
            Some(unit) => {
                self.check_unit(unit)?;
                let inside = self
                    .ancestry
                    .clone()
                    .lazy()
                    .filter(col("ancestor_id").eq(lit(unit)))
                    .select([col("org_unit_id")]);
                pairs.inner_join(inside, col("org_unit_id"), col("org_unit_id"))
            }
        })
    }

    /// Roll-up for every org unit over its whole subtree, sorted by unit id.
    ///
    /// Columns: `unit_id, unit_name, parent_id, headcount,
    /// people_with_requirements, required_pairs, assessed_pairs,
    /// levelled_pairs, meeting_pairs, mean_gap, coverage, meeting_share`.
    pub fn by_unit(&self) -> Result<DataFrame, AnalyticsError> {
        let anc = self.ancestry.clone().lazy();
        let headcount = self
            .people
            .clone()
            .lazy()
            .inner_join(anc.clone(), col("org_unit_id"), col("org_unit_id"))
            .group_by([col("ancestor_id")])
            .agg([len().cast(DataType::UInt32).alias("headcount")]);
        let metrics = self
            .pairs
            .clone()
            .lazy()
            .inner_join(anc, col("org_unit_id"), col("org_unit_id"))
            .group_by([col("ancestor_id")])
            .agg(pair_metrics());
        let mut fill: Vec<Expr> = COUNTS
            .iter()
            .map(|c| col(*c).fill_null(lit(0u32)))
            .collect();
        fill.push(col("headcount").fill_null(lit(0u32)));
        let out = self
            .units
            .clone()
            .lazy()
            .left_join(headcount, col("unit_id"), col("ancestor_id"))
            .left_join(metrics, col("unit_id"), col("ancestor_id"))
            .with_columns(fill);
        Ok(with_ratios(out)
            .sort(["unit_id"], SortMultipleOptions::default())
            .collect()?)
    }

    /// Roll-up per competency within `scope` (an org unit subtree, or all).
    ///
    /// Columns: `competency_id, competency_name, category, category_name,
    /// people_with_requirements, required_pairs, assessed_pairs,
    /// levelled_pairs, meeting_pairs, mean_gap, coverage, meeting_share`.
    pub fn by_competency(&self, scope: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let grouped = self
            .pairs_in(scope)?
            .group_by([col("competency_id")])
            .agg(pair_metrics());
        let names = self.competencies.clone().lazy().select([
            col("competency_id"),
            col("competency_name"),
            col("category"),
            col("category_name"),
        ]);
        let out = grouped.left_join(names, col("competency_id"), col("competency_id"));
        Ok(with_ratios(out)
            .select([
                col("competency_id"),
                col("competency_name"),
                col("category"),
                col("category_name"),
                all()
                    .exclude_cols([
                        "competency_id",
                        "competency_name",
                        "category",
                        "category_name",
                    ])
                    .as_expr(),
            ])
            .sort(
                ["category", "competency_id"],
                SortMultipleOptions::default(),
            )
            .collect()?)
    }

    /// Roll-up per category within `scope`.
    ///
    /// Columns: `category, category_name, people_with_requirements,
    /// required_pairs, assessed_pairs, levelled_pairs, meeting_pairs,
    /// mean_gap, coverage, meeting_share`.
    pub fn by_category(&self, scope: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let out = self
            .pairs_in(scope)?
            .group_by([col("category"), col("category_name")])
            .agg(pair_metrics());
        Ok(with_ratios(out)
            .sort(["category"], SortMultipleOptions::default())
            .collect()?)
    }

    /// The heatmap under `parent` (the root units when `None`): one row per
    /// (child unit, competency), each child covering its whole subtree.
    ///
    /// Columns: `unit_id, unit_name, competency_id, people_with_requirements,
    /// required_pairs, assessed_pairs, levelled_pairs, meeting_pairs,
    /// mean_gap, coverage, meeting_share`.
    pub fn heatmap(&self, parent: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let rows = self.child_units(parent)?;
        let out = self
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
            .group_by([
                col("ancestor_id").alias("unit_id"),
                col("unit_name"),
                col("competency_id"),
            ])
            .agg(pair_metrics());
        Ok(with_ratios(out)
            .sort(["unit_id", "competency_id"], SortMultipleOptions::default())
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

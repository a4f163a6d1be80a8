//! Partial aggregates: the roll-ups as sums and counts that add up across
//! instances which each hold part of the employees.
//!
//! Means and shares are never summed; each is a ratio of two sums given in
//! `docs/metrics.md` ("Partial aggregates"), so the figures computed from the
//! sum of any split of the employees equal the figures of the whole.

use polars::prelude::*;

use crate::gaps::{count, pair_counts};
use crate::{Analysis, AnalyticsError};

/// The unit id of the rows that cover the whole organisation.
pub const ORGANISATION: &str = "";

/// The summable columns of [`Analysis::pair_partials`], in order.
pub const PAIR_PARTIAL_COLUMNS: [&str; 12] = [
    "required_pairs",
    "assessed_pairs",
    "levelled_pairs",
    "meeting_pairs",
    "ever_assessed_pairs",
    "stale_pairs",
    "self_only_pairs",
    "gap_sum",
    "weighted_gap_sum",
    "affected_pairs",
    "affected_gap_sum",
    "borich_sum",
];

/// The summable columns of [`Analysis::people_partials`], in order.
pub const PEOPLE_PARTIAL_COLUMNS: [&str; 4] = [
    "headcount",
    "people_with_requirements",
    "role_fit_sum",
    "role_fit_people",
];

impl Analysis {
    /// `lf` (which has `org_unit_id`) once per unit whose subtree holds the
    /// row (`unit_id`), and once more for the organisation (`unit_id` = "").
    fn with_ancestors(&self, lf: LazyFrame) -> Result<LazyFrame, AnalyticsError> {
        let anc = self.ancestry.clone().lazy();
        let in_units = lf
            .clone()
            .inner_join(anc, col("org_unit_id"), col("org_unit_id"))
            .rename(["ancestor_id"], ["unit_id"], true);
        let in_org = lf.with_columns([lit(ORGANISATION).alias("unit_id")]);
        Ok(concat(
            [in_org, in_units],
            UnionArgs {
                to_supertypes: true,
                ..UnionArgs::default()
            },
        )?)
    }

    /// Sums and counts over (employee, required competency) pairs per unit
    /// subtree and competency, sorted by unit then competency.
    ///
    /// Columns: `unit_id, competency_id, category`, then
    /// [`PAIR_PARTIAL_COLUMNS`].
    pub fn pair_partials(&self) -> Result<DataFrame, AnalyticsError> {
        let pairs = self.with_ancestors(self.pairs.clone().lazy())?;
        let gap_pos = col("gap").gt(lit(0.0));
        let mut select = vec![col("unit_id"), col("competency_id"), col("category")];
        select.extend(PAIR_PARTIAL_COLUMNS.iter().map(|c| col(*c)));
        Ok(pairs
            .group_by([col("unit_id"), col("competency_id"), col("category")])
            .agg(
                pair_counts()
                    .into_iter()
                    .chain([
                        col("gap").sum().alias("gap_sum"),
                        col("weighted_gap").sum().alias("weighted_gap_sum"),
                        count(gap_pos.clone(), "affected_pairs"),
                        col("gap").filter(gap_pos).sum().alias("affected_gap_sum"),
                        (col("required") * col("gap")).sum().alias("borich_sum"),
                    ])
                    .collect::<Vec<_>>(),
            )
            .select(select)
            .sort(["unit_id", "competency_id"], SortMultipleOptions::default())
            .collect()?)
    }

    /// Counts of people per unit subtree: headcount, people with at least one
    /// requirement, and the sum and count of their role fits; sorted by unit.
    ///
    /// Columns: `unit_id`, then [`PEOPLE_PARTIAL_COLUMNS`].
    pub fn people_partials(&self) -> Result<DataFrame, AnalyticsError> {
        let people = self
            .with_ancestors(
                self.people
                    .clone()
                    .lazy()
                    .select([col("employee_id"), col("org_unit_id")]),
            )?
            .group_by([col("unit_id")])
            .agg([len().cast(DataType::UInt32).alias("headcount")]);
        // each person with requirements once, on their first pair, which
        // carries their role fit
        let per_person = self
            .pairs
            .clone()
            .lazy()
            .filter(col("person_first"))
            .select([col("employee_id"), col("org_unit_id"), col("role_fit")]);
        let with_req = self
            .with_ancestors(per_person)?
            .group_by([col("unit_id")])
            .agg([
                len()
                    .cast(DataType::UInt32)
                    .alias("people_with_requirements"),
                col("role_fit").sum().alias("role_fit_sum"),
                col("role_fit")
                    .count()
                    .cast(DataType::UInt32)
                    .alias("role_fit_people"),
            ]);
        let mut select = vec![col("unit_id")];
        select.extend(PEOPLE_PARTIAL_COLUMNS.iter().map(|c| col(*c)));
        Ok(people
            .join(
                with_req,
                [col("unit_id")],
                [col("unit_id")],
                JoinArgs::new(JoinType::Full).with_coalesce(JoinCoalesce::CoalesceColumns),
            )
            .with_columns([
                col("headcount").fill_null(lit(0u32)),
                col("people_with_requirements").fill_null(lit(0u32)),
                col("role_fit_sum").fill_null(lit(0.0)),
                col("role_fit_people").fill_null(lit(0u32)),
            ])
            .select(select)
            .sort(["unit_id"], SortMultipleOptions::default())
            .collect()?)
    }
}

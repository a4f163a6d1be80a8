//! Training needs: which competencies to develop first, which courses help, and each person's list.

use cadre_projection::Snapshot;
use polars::prelude::*;

use crate::gaps::Scope;
use crate::{frames, people_in, Analysis, AnalyticsError};

impl Analysis {
    /// Competencies ranked by total weighted gap within a scope.
    ///
    /// Columns: `rank, competency_id, competency_name, category,
    /// category_name, total_weighted_gap, people_affected,
    /// mean_gap_affected, borich_score, borich_rank`. People affected are
    /// those with a gap above 0; the Borich score is the mean of
    /// required × gap over levelled pairs.
    pub fn training_needs(&self, scope: &Scope) -> Result<DataFrame, AnalyticsError> {
        let names = self.competencies.clone().lazy().select([
            col("competency_id"),
            col("competency_name"),
            col("category"),
            col("category_name"),
        ]);
        let needs = self
            .scoped(scope)?
            .group_by([col("competency_id")])
            .agg([
                col("weighted_gap").sum().alias("total_weighted_gap"),
                col("gap")
                    .gt(lit(0.0))
                    .cast(DataType::UInt32)
                    .sum()
                    .alias("people_affected"),
                col("gap")
                    .filter(col("gap").gt(lit(0.0)))
                    .mean()
                    .alias("mean_gap_affected"),
                (col("required") * col("gap")).mean().alias("borich_score"),
            ])
            .left_join(names, col("competency_id"), col("competency_id"))
            .collect()?;
        Ok(rank(needs)?)
    }

    /// Per employee: the personal development list, gaps ordered by weighted gap.
    ///
    /// Columns: `competency_id, competency_name, category, required, weight,
    /// effective, gap, weighted_gap, provisional, unassessed`. Unassessed
    /// competencies come last, ordered by weight.
    pub fn development_list(&self, employee: &str) -> Result<DataFrame, AnalyticsError> {
        let names = self
            .competencies
            .clone()
            .lazy()
            .select([col("competency_id"), col("competency_name")]);
        Ok(self
            .pairs
            .clone()
            .lazy()
            .filter(col("employee_id").eq(lit(employee)))
            .filter(col("gap").gt(lit(0.0)).or(col("effective").is_null()))
            .left_join(names, col("competency_id"), col("competency_id"))
            .with_columns([col("effective").is_null().alias("unassessed")])
            .select([
                col("competency_id"),
                col("competency_name"),
                col("category"),
                col("required"),
                col("weight"),
                col("effective"),
                col("gap"),
                col("weighted_gap"),
                col("provisional"),
                col("unassessed"),
            ])
            .sort(
                ["unassessed", "weighted_gap", "weight", "competency_id"],
                SortMultipleOptions::default()
                    .with_order_descending_multi([false, true, true, false])
                    .with_nulls_last(true),
            )
            .collect()?)
    }
}

/// Ranks needs by total weighted gap (1 = largest) and by Borich score.
fn rank(needs: DataFrame) -> PolarsResult<DataFrame> {
    let by_borich = needs
        .clone()
        .lazy()
        .sort(
            ["borich_score", "competency_id"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .with_row_index("borich_rank0", None)
        .select([
            col("competency_id"),
            (col("borich_rank0") + lit(1u32)).alias("borich_rank"),
        ]);
    needs
        .lazy()
        .sort(
            ["total_weighted_gap", "competency_id"],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .with_row_index("rank0", None)
        .with_columns([(col("rank0") + lit(1u32)).alias("rank")])
        .left_join(by_borich, col("competency_id"), col("competency_id"))
        .select([
            col("rank"),
            col("competency_id"),
            col("competency_name"),
            col("category"),
            col("category_name"),
            col("total_weighted_gap"),
            col("people_affected"),
            col("mean_gap_affected"),
            col("borich_score"),
            col("borich_rank"),
        ])
        .sort(["rank"], SortMultipleOptions::default())
        .collect()
}

/// The courses that developed each competency, and their measured effect.
///
/// Columns: `competency_id, course_id, course_title, participants,
/// measured, mean_change`: participants are the employees who completed the
/// course for that competency; measured are those assessed both before and
/// after it; mean_change is their mean (after − before) assessed level.
/// Within `unit`, only the employees of its subtree count (where each works
/// as of the snapshot's date).
pub fn course_effects(
    snapshot: &Snapshot,
    unit: Option<&str>,
) -> Result<DataFrame, AnalyticsError> {
    let mut trainings = frames::trainings(snapshot)?.lazy();
    if let Some(u) = unit {
        let people: Vec<String> = people_in(snapshot, u).into_iter().collect();
        let people = df!("employee_id" => people)?;
        trainings = trainings.inner_join(people.lazy(), col("employee_id"), col("employee_id"));
    }
    Ok(trainings
        .group_by([col("competency_id"), col("course_id")])
        .agg([
            col("course_title").first(),
            col("employee_id")
                .n_unique()
                .cast(DataType::UInt32)
                .alias("participants"),
            col("change")
                .is_not_null()
                .cast(DataType::UInt32)
                .sum()
                .alias("measured"),
            col("change").mean().alias("mean_change"),
        ])
        .sort(
            ["competency_id", "participants", "course_id"],
            SortMultipleOptions::default().with_order_descending_multi([false, true, false]),
        )
        .collect()?)
}

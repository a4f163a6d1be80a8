//! The 9-box grid: latest performance × latest potential.

use polars::prelude::*;

use crate::{Analysis, AnalyticsError};

impl Analysis {
    /// Everyone in the unit's subtree (all when `None`) with both ratings, and their box.
    ///
    /// Columns: `employee_id, name, org_unit_id, performance, potential,
    /// performance_band, box`. Performance 1–2 is low, 3 medium, 4–5 high;
    /// `box` is `performance_band/potential`, e.g. `high/high`.
    pub fn nine_box_members(&self, unit: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let people = self.in_subtree(self.people.clone().lazy(), unit)?;
        let band = when(col("performance").lt_eq(lit(2u32)))
            .then(lit("low"))
            .when(col("performance").eq(lit(3u32)))
            .then(lit("medium"))
            .otherwise(lit("high"));
        Ok(people
            .filter(
                col("performance")
                    .is_not_null()
                    .and(col("potential").is_not_null()),
            )
            .with_columns([band.alias("performance_band")])
            .with_columns([(col("performance_band") + lit("/") + col("potential")).alias("box")])
            .select([
                col("employee_id"),
                col("name"),
                col("org_unit_id"),
                col("performance"),
                col("potential"),
                col("performance_band"),
                col("box"),
            ])
            .sort(["box", "employee_id"], SortMultipleOptions::default())
            .collect()?)
    }

    /// Counts per box in the unit's subtree: all nine boxes, empty ones at 0.
    ///
    /// Columns: `performance_band, potential, box, people`.
    pub fn nine_box(&self, unit: Option<&str>) -> Result<DataFrame, AnalyticsError> {
        let members = self.nine_box_members(unit)?;
        let bands = ["low", "medium", "high"];
        let (perf, pot): (Vec<&str>, Vec<&str>) = bands
            .iter()
            .flat_map(|p| bands.iter().map(move |q| (*p, *q)))
            .unzip();
        let grid = df!("performance_band" => perf, "potential" => pot)?
            .lazy()
            .with_columns([(col("performance_band") + lit("/") + col("potential")).alias("box")]);
        let counts = members
            .lazy()
            .group_by([col("box")])
            .agg([len().cast(DataType::UInt32).alias("people")]);
        Ok(grid
            .left_join(counts, col("box"), col("box"))
            .with_columns([col("people").fill_null(lit(0u32))])
            .collect()?)
    }
}

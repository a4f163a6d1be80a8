//! A generated organisation's snapshot, for the unit tests.

use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use cadre_synth::{generate, SynthConfig};

/// The snapshot at the end of June 2026 of `employees` generated with `seed`.
pub(crate) fn snapshot(employees: usize, seed: u64) -> Snapshot {
    let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date");
    let mut t = Timeline::new();
    let mut seq = 0;
    let config = SynthConfig {
        employees,
        seed,
        end,
    };
    generate(&config, &mut |e| {
        t.apply(seq, &e);
        seq += 1;
    });
    t.snapshot(
        end.and_hms_opt(23, 59, 59).expect("a time").and_utc(),
        &LevelPolicy::default(),
    )
}

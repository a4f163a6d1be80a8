//! Property: folding a random event stream, in any arrival order, gives the
//! same effective levels as a naive reference written straight from the
//! definition in `docs/metrics.md`.

use cadre_model::{
    AssessmentRecorded, AssessorType, DevelopedCompetency, EmployeeHired, Event, EventData,
    TrainingCompleted, TrainingMode,
};
use cadre_projection::{LevelPolicy, Timeline};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

const EMPLOYEES: [&str; 3] = ["e0", "e1", "e2"];
const COMPETENCIES: [&str; 2] = ["c0", "c1"];

/// One generated fact: who, which competency, what (0–3 an assessor type, 4 a training), level, when.
#[derive(Debug, Clone)]
struct Fact {
    employee: usize,
    competency: usize,
    kind: usize,
    level: u8,
    at: DateTime<Utc>,
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
}

fn assessor(kind: usize) -> AssessorType {
    [
        AssessorType::Manager,
        AssessorType::Panel,
        AssessorType::Peer,
        AssessorType::SelfAssessed,
    ][kind]
}

fn event(n: usize, f: &Fact) -> Event {
    let data = if f.kind < 4 {
        EventData::AssessmentRecorded(AssessmentRecorded {
            competency_id: COMPETENCIES[f.competency].into(),
            level: f.level,
            assessor_type: assessor(f.kind),
            assessor_id: "a".into(),
            evidence: None,
        })
    } else {
        EventData::TrainingCompleted(TrainingCompleted {
            course_id: "course".into(),
            course_title: None,
            mode: TrainingMode::Training,
            competencies: vec![DevelopedCompetency {
                competency_id: COMPETENCIES[f.competency].into(),
                target_level: f.level,
            }],
        })
    };
    Event {
        event_id: uuid::Uuid::from_u128(n as u128 + 1000),
        schema_version: 1,
        occurred_at: f.at,
        recorded_at: f.at,
        source: "prop".into(),
        subject: EMPLOYEES[f.employee].into(),
        data,
    }
}

/// The effective level straight from the definition; `facts` with their arrival positions.
fn reference(
    facts: &[(usize, &Fact)],
    emp: usize,
    comp: usize,
    as_of: DateTime<Utc>,
    p: &LevelPolicy,
) -> Option<(f64, bool)> {
    let since = as_of - Duration::days(p.window_days);
    let mine: Vec<&(usize, &Fact)> = facts
        .iter()
        .filter(|(_, f)| f.employee == emp && f.competency == comp && f.at > since && f.at <= as_of)
        .collect();
    let weights = [p.manager, p.panel, p.peer, p.self_assessed];
    let mut sum = 0.0;
    let mut total = 0.0;
    let mut last: Option<DateTime<Utc>> = None;
    for (kind, weight) in weights.iter().enumerate() {
        // the latest of this assessor type; a later arrival wins a tie
        let latest = mine
            .iter()
            .filter(|(_, f)| f.kind == kind)
            .max_by_key(|(seq, f)| (f.at, *seq));
        if let Some((_, f)) = latest {
            sum += weight * f64::from(f.level);
            total += weight;
            last = Some(last.map_or(f.at, |l: DateTime<Utc>| l.max(f.at)));
        }
    }
    // docs/metrics.md: the weighted mean is rounded to 9 decimal places
    let base = (total > 0.0).then(|| (sum / total * 1e9).round() / 1e9);
    let target = mine
        .iter()
        .filter(|(_, f)| f.kind == 4 && last.is_none_or(|l| f.at > l))
        .map(|(_, f)| f.level)
        .max();
    let raise = |level: f64, t: u8| {
        if f64::from(t) > level {
            (level + 1.0).min(f64::from(t))
        } else {
            level
        }
    };
    match (base, target) {
        (None, None) => None,
        (Some(l), None) => Some((l, true)),
        (Some(l), Some(t)) => Some((raise(l, t), true)),
        (None, Some(t)) => Some((raise(0.0, t), false)),
    }
}

fn fact() -> impl Strategy<Value = Fact> {
    (
        0..3usize,
        0..2usize,
        0..5usize,
        0..=5u8,
        0..1000i64,
        0..3i64,
    )
        .prop_map(|(employee, competency, kind, level, day, hour)| Fact {
            employee,
            competency,
            kind,
            level,
            at: base() + Duration::days(day) + Duration::hours(hour),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn projection_matches_the_reference(
        facts in prop::collection::vec(fact(), 0..60),
        order in any::<prop::sample::Index>(),
        as_of_days in prop::collection::vec(0..1100i64, 1..6),
    ) {
        let policy = LevelPolicy::default();
        // arrival order: a rotation of the generated order, so late events abound
        let n = facts.len();
        let start = if n == 0 { 0 } else { order.index(n) };
        let arrival: Vec<(usize, &Fact)> = (0..n).map(|i| (i, &facts[(start + i) % n.max(1)])).collect();

        let mut t = Timeline::new();
        for (i, name) in EMPLOYEES.iter().enumerate() {
            t.apply(i as u64, &Event {
                event_id: uuid::Uuid::from_u128(i as u128),
                schema_version: 1,
                occurred_at: base() - Duration::days(1),
                recorded_at: base(),
                source: "prop".into(),
                subject: (*name).into(),
                data: EventData::EmployeeHired(EmployeeHired { name: (*name).into() }),
            });
        }
        for (seq, f) in &arrival {
            t.apply(100 + *seq as u64, &event(*seq, f));
        }
        let with_seq: Vec<(usize, &Fact)> = arrival.iter().map(|(s, f)| (100 + *s, *f)).collect();
        for d in as_of_days {
            let as_of = base() + Duration::days(d) + Duration::hours(1);
            let snap = t.snapshot(as_of, &policy);
            for (ei, name) in EMPLOYEES.iter().enumerate() {
                let state = snap.employees.iter().find(|e| e.id == *name).expect("hired");
                for (ci, comp) in COMPETENCIES.iter().enumerate() {
                    let got = state.levels.get(comp).map(|l| (l.level, l.assessed()));
                    let want = reference(&with_seq, ei, ci, as_of, &policy);
                    match (got, want) {
                        (None, None) => {}
                        (Some((g, ga)), Some((w, wa))) => {
                            prop_assert!((g - w).abs() < 1e-12, "{name}/{comp} as of {as_of}: {g} vs {w}");
                            prop_assert_eq!(ga, wa, "{}/{} assessed flag", name, comp);
                        }
                        other => prop_assert!(false, "{name}/{comp} as of {as_of}: {other:?}"),
                    }
                }
            }
        }
    }
}

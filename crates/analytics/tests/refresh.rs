//! A kept `Prepared`, brought up to date event by event, answers every query
//! exactly as one made anew from the same timeline.

use cadre_analytics::{
    first_difference, run_prepared, AnalyticsConfig, Prepared, QueryKind, QueryRequest, Scope,
};
use cadre_model::Event;
use cadre_projection::{Changed, LevelPolicy, Timeline};
use cadre_synth::{generate, SynthConfig};
use chrono::NaiveDate;

const KINDS: [QueryKind; 4] = [
    QueryKind::Gaps,
    QueryKind::TrainingNeeds,
    QueryKind::Succession,
    QueryKind::NineBox,
];

fn events() -> Vec<Event> {
    let config = SynthConfig {
        employees: 300,
        seed: 7,
        end: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
    };
    let mut out = Vec::new();
    generate(&config, &mut |e| out.push(e));
    out
}

fn answers(p: &Prepared, t: &Timeline, policy: &LevelPolicy) -> Vec<serde_json::Value> {
    let cfg = AnalyticsConfig::default();
    KINDS
        .iter()
        .map(|&kind| {
            let q = QueryRequest {
                kind,
                scope: Scope::all(),
                as_of: p.as_of(),
                months: 12,
                employee: None,
                position: None,
            };
            run_prepared(p, t, policy, &cfg, &q).unwrap().to_json()
        })
        .collect()
}

#[test]
fn a_refreshed_prepared_equals_one_made_anew() {
    let events = events();
    let policy = LevelPolicy::default();
    let cfg = AnalyticsConfig::default();
    let as_of = NaiveDate::from_ymd_opt(2026, 6, 30)
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc();
    let tail = 400;
    let (head, rest) = events.split_at(events.len() - tail);
    let mut t = Timeline::new();
    for (i, e) in head.iter().enumerate() {
        t.apply(i as u64, e);
    }
    t.track_changes(64);
    let mut kept = Prepared::new(&t, &policy, &cfg, as_of).unwrap();
    let (mut by_employee, mut anew) = (0, 0);
    let mut seq = head.len() as u64;
    for (round, chunk) in rest.chunks(13).enumerate() {
        let before = t.applied();
        for e in chunk {
            t.apply(seq, e);
            seq += 1;
        }
        match t.changes_since(before) {
            Changed::Employees(ids) => {
                assert!(!ids.is_empty() && ids.len() <= chunk.len());
                by_employee += 1;
            }
            Changed::Other => anew += 1,
        }
        kept.refresh(&t, &policy, &cfg).unwrap();
        // comparing every round is slow in a debug build; every third is enough
        if round % 3 == 0 || round == rest.len() / 13 {
            let made = Prepared::new(&t, &policy, &cfg, as_of).unwrap();
            let (a, b) = (answers(&kept, &t, &policy), answers(&made, &t, &policy));
            if let Some(at) = first_difference(&a.into(), &b.into()) {
                panic!("round {round}: kept and anew differ at {at}");
            }
        }
    }
    assert!(
        by_employee > 0,
        "no round was refreshed employee by employee"
    );
    assert!(anew > 0, "no round touched anything but employees");
}

#[test]
fn changes_are_forgotten_beyond_the_cap_and_without_tracking() {
    let events = events();
    let mut t = Timeline::new();
    for (i, e) in events.iter().enumerate() {
        t.apply(i as u64, e);
    }
    // nothing since now; anything since earlier is unknown without tracking
    assert_eq!(
        t.changes_since(t.applied()),
        Changed::Employees(Default::default())
    );
    assert_eq!(t.changes_since(t.applied() - 1), Changed::Other);
    t.track_changes(2);
    let base = t.applied();
    let assessment = events
        .iter()
        .rev()
        .find(|e| e.data.event_type().as_str() == "assessment.recorded")
        .unwrap()
        .clone();
    for n in 0..3 {
        t.apply(base + n, &assessment);
    }
    let who = std::collections::BTreeSet::from([assessment.subject.clone()]);
    assert_eq!(t.changes_since(base + 1), Changed::Employees(who));
    // three events since `base`, two remembered
    assert_eq!(t.changes_since(base), Changed::Other);
}

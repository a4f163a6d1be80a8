//! Succession and the 9-box on a small county using the Kenyan framework, computed by hand.

use std::collections::BTreeSet;

use cadre_analytics::{Analysis, AnalyticsConfig, Succession, Table};
use cadre_model::Event;
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

const LI: &str = "kcps.leadership.leadership-and-integrity";
const SD: &str = "kcps.managerial.service-delivery";
const ACC: &str = "kcps.core.accountability";
const T0: &str = "2025-01-01T00:00:00Z";

fn ev(n: u32, ty: &str, subject: &str, at: &str, data: Value) -> Event {
    Event::from_value(json!({
        "event_id": format!("00000000-0000-4000-8000-{n:012}"),
        "type": ty, "schema_version": 1, "occurred_at": at, "recorded_at": at,
        "source": "test", "subject": subject, "data": data,
    }))
    .unwrap_or_else(|e| panic!("event {n}: {e}"))
}

fn assess(n: u32, who: &str, comp: &str, level: u8, at: &str) -> Event {
    ev(
        n,
        "assessment.recorded",
        who,
        at,
        json!({
            "competency_id": comp, "level": level, "assessor_type": "manager", "assessor_id": "m"
        }),
    )
}

fn timeline() -> Timeline {
    let framework: Value = serde_json::from_str(include_str!(
        "../../../frameworks/kenya-county-public-service.json"
    ))
    .unwrap();
    let mut e = vec![
        ev(
            1,
            "framework.published",
            "kenya-county-public-service",
            T0,
            framework,
        ),
        ev(
            2,
            "org_unit.defined",
            "county",
            T0,
            json!({"name": "County"}),
        ),
        ev(
            3,
            "org_unit.defined",
            "health",
            T0,
            json!({"name": "Health", "parent_id": "county"}),
        ),
        ev(
            4,
            "role_profile.defined",
            "director",
            T0,
            json!({
                "name": "County Director", "framework_id": "kenya-county-public-service",
                "requirements": [{"competency_id": LI, "level": 4, "weight": 2}, {"competency_id": SD, "level": 4}]
            }),
        ),
        ev(
            5,
            "role_profile.defined",
            "officer",
            T0,
            json!({
                "name": "Officer", "framework_id": "kenya-county-public-service",
                "requirements": [{"competency_id": ACC, "level": 3}]
            }),
        ),
        ev(
            6,
            "position.defined",
            "pos-dir",
            T0,
            json!({"title": "Director", "role_id": "director", "org_unit_id": "county", "critical": true}),
        ),
        ev(
            7,
            "position.defined",
            "pos-dep",
            T0,
            json!({"title": "Deputy", "role_id": "director", "org_unit_id": "health", "critical": true}),
        ),
    ];
    for (i, (emp, pos, unit)) in [
        ("D", "pos-dir", ""),
        ("X", "pos-off1", "health"),
        ("Y", "pos-off2", "health"),
        ("Z", "pos-off3", "health"),
    ]
    .iter()
    .enumerate()
    {
        let n = 10 + 3 * i as u32;
        if !unit.is_empty() {
            e.push(ev(
                n,
                "position.defined",
                pos,
                T0,
                json!({"title": "Officer", "role_id": "officer", "org_unit_id": unit}),
            ));
        }
        e.push(ev(
            n + 1,
            "employee.hired",
            emp,
            "2025-02-01T00:00:00Z",
            json!({"name": emp}),
        ));
        e.push(ev(
            n + 2,
            "employee.assigned",
            emp,
            "2025-02-01T00:00:00Z",
            json!({"position_id": pos}),
        ));
    }
    e.extend([
        assess(30, "X", LI, 4, "2026-05-20T09:00:00Z"),
        assess(31, "X", SD, 4, "2026-05-20T09:00:00Z"),
        assess(32, "Y", LI, 3, "2026-03-01T09:00:00Z"),
        assess(33, "Y", SD, 4, "2026-03-01T09:00:00Z"),
        assess(34, "Z", LI, 3, "2026-03-01T09:00:00Z"),
        ev(
            40,
            "performance.rated",
            "X",
            "2026-03-15T00:00:00Z",
            json!({"rating": 4, "period": "2025"}),
        ),
        ev(
            41,
            "performance.rated",
            "Y",
            "2026-03-15T00:00:00Z",
            json!({"rating": 2, "period": "2025"}),
        ),
        ev(
            42,
            "performance.rated",
            "Z",
            "2026-03-15T00:00:00Z",
            json!({"rating": 3, "period": "2025"}),
        ),
        ev(
            43,
            "performance.rated",
            "D",
            "2026-03-15T00:00:00Z",
            json!({"rating": 5, "period": "2025"}),
        ),
        ev(
            44,
            "potential.rated",
            "X",
            "2026-03-15T00:00:00Z",
            json!({"potential": "high"}),
        ),
        ev(
            45,
            "potential.rated",
            "Y",
            "2026-03-15T00:00:00Z",
            json!({"potential": "medium"}),
        ),
        ev(
            46,
            "potential.rated",
            "D",
            "2026-03-15T00:00:00Z",
            json!({"potential": "low"}),
        ),
        ev(
            50,
            "succession.nominated",
            "pos-dir",
            "2026-04-01T00:00:00Z",
            json!({"candidate_id": "X", "readiness": "ready_now"}),
        ),
        ev(
            51,
            "succession.nominated",
            "pos-dir",
            "2026-04-01T00:00:00Z",
            json!({"candidate_id": "Y", "readiness": "ready_1_2_years"}),
        ),
        ev(
            52,
            "succession.nominated",
            "pos-dep",
            "2026-04-01T00:00:00Z",
            json!({"candidate_id": "X", "readiness": "ready_now"}),
        ),
        ev(
            53,
            "succession.nominated",
            "pos-dep",
            "2026-04-01T00:00:00Z",
            json!({"candidate_id": "Z", "readiness": "ready_now"}),
        ),
        ev(
            60,
            "employee.left",
            "D",
            "2026-05-01T00:00:00Z",
            json!({"effective_on": "2026-09-30"}),
        ),
    ]);
    let mut t = Timeline::new();
    for (i, x) in e.iter().enumerate() {
        t.apply(i as u64, x);
    }
    t
}

fn snap(at: &str) -> Snapshot {
    let d: DateTime<Utc> = DateTime::parse_from_rfc3339(at)
        .unwrap()
        .with_timezone(&Utc);
    timeline().snapshot(d, &LevelPolicy::default())
}

fn rows(df: &cadre_analytics::DataFrame) -> Vec<serde_json::Map<String, Value>> {
    Table::from_frame(df).records()
}

fn find(
    rows: &[serde_json::Map<String, Value>],
    pairs: &[(&str, &str)],
) -> serde_json::Map<String, Value> {
    rows.iter()
        .find(|r| pairs.iter().all(|(k, v)| r[*k] == *v))
        .unwrap_or_else(|| panic!("no row {pairs:?}"))
        .clone()
}

#[test]
fn succession_once_the_pipeline_is_assessed() {
    let s = snap("2026-06-30T23:59:59Z");
    let cfg = AnalyticsConfig::default();
    let out = Succession::compute(&s, &cfg, None).unwrap();
    let cands = rows(&out.candidates);
    // Σ w·required = 2·4 + 1·4 = 12 for the director role
    let x = find(&cands, &[("position_id", "pos-dir"), ("candidate_id", "X")]);
    assert_eq!(x["role_fit"].as_f64().unwrap(), 1.0);
    assert_eq!(x["computed_readiness"], "ready_now");
    assert_eq!(x["disagreement"], false);
    let y = find(&cands, &[("position_id", "pos-dir"), ("candidate_id", "Y")]);
    assert!((y["role_fit"].as_f64().unwrap() - (1.0 - 2.0 / 12.0)).abs() < 1e-9);
    assert_eq!(
        y["computed_readiness"], "ready_3_plus_years",
        "0.83 is 1–2 years, performance 2 drops a band"
    );
    assert_eq!(y["disagreement"], true, "stated 1–2 years");
    let z = find(&cands, &[("position_id", "pos-dir"), ("candidate_id", "Z")]);
    assert_eq!(
        z["nominated"], false,
        "Z joins pos-dir as one of the best fits"
    );
    assert!(
        (z["role_fit"].as_f64().unwrap() - 0.5).abs() < 1e-9,
        "1 − (2·1 + 1·4)/12"
    );
    assert!(
        !cands
            .iter()
            .any(|r| r["position_id"] == "pos-dir" && r["candidate_id"] == "D"),
        "the incumbent is not their own successor"
    );
    assert!(
        !cands
            .iter()
            .any(|r| r["position_id"] == "pos-dep" && r["candidate_id"] == "D"),
        "D already holds the director role: a lateral move, not a successor"
    );
    let zd = find(&cands, &[("position_id", "pos-dep"), ("candidate_id", "Z")]);
    assert_eq!(zd["disagreement"], true, "stated ready now, computed 3+");

    let pos = rows(&out.positions);
    let dir = find(&pos, &[("position_id", "pos-dir")]);
    assert_eq!(
        (dir["ready_now"].clone(), dir["ready_3_plus_years"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(dir["bench_strength"], 1);
    assert_eq!(
        dir["discounted_bench"].as_f64().unwrap(),
        0.5,
        "X is a candidate for two positions"
    );
    assert_eq!(dir["risk"], "green");
    assert_eq!(dir["incumbent_leaving_on"], "2026-09-30");
    let dep = find(&pos, &[("position_id", "pos-dep")]);
    assert_eq!(dep["vacant"], true);
    assert_eq!(
        dep["candidates"], 3,
        "X and Z nominated, Y the best other fit"
    );
    assert_eq!(dep["not_ready"], 0);

    let sum = &out.summary;
    assert_eq!(
        (sum.critical_positions, sum.with_ready_now, sum.vacant),
        (2, 2, 1)
    );
    assert_eq!(sum.coverage, Some(1.0));
    assert_eq!(sum.mean_bench_strength, Some(1.0));
    assert!(sum.leaving_without_successor.is_empty());
    assert!(sum.over_nominated.is_empty());

    // a stricter threshold: nobody is ready now, X is ready in 1–2 years
    let strict = AnalyticsConfig {
        ready_now: 1.01,
        ..cfg
    };
    let out = Succession::compute(&s, &strict, None).unwrap();
    assert_eq!(out.summary.amber, 2);
    assert_eq!(out.summary.coverage, Some(0.0));

    // limited to the health subtree only the deputy position counts
    let health: BTreeSet<String> = ["health".to_string()].into();
    let out = Succession::compute(&s, &AnalyticsConfig::default(), Some(&health)).unwrap();
    assert_eq!(out.summary.critical_positions, 1);
}

#[test]
fn before_the_assessments_both_positions_are_red_and_a_leaver_has_no_successor() {
    let s = snap("2026-05-10T00:00:00Z");
    let out = Succession::compute(&s, &AnalyticsConfig::default(), None).unwrap();
    assert_eq!(out.summary.red, 2);
    assert_eq!(out.summary.coverage, Some(0.0));
    assert_eq!(
        out.summary.leaving_without_successor,
        vec!["pos-dir".to_string()]
    );
    let x = find(
        &rows(&out.candidates),
        &[("position_id", "pos-dir"), ("candidate_id", "X")],
    );
    assert_eq!(
        x["role_fit"].as_f64().unwrap(),
        0.0,
        "X not yet assessed: both competencies at 0"
    );
    // and before the nominations there were only suggested candidates
    let s = snap("2026-03-20T00:00:00Z");
    let out = Succession::compute(&s, &AnalyticsConfig::default(), None).unwrap();
    assert!(rows(&out.candidates)
        .iter()
        .all(|r| r["nominated"] == false));
}

#[test]
fn nine_box_counts_and_members() {
    let s = snap("2026-06-30T23:59:59Z");
    let g = Analysis::new(&s).unwrap();
    let all = rows(&g.nine_box(None).unwrap());
    assert_eq!(all.len(), 9, "every box, empty ones included");
    let count = |b: &str| find(&all, &[("box", b)])["people"].as_u64().unwrap();
    assert_eq!(count("high/high"), 1, "X: 4, high");
    assert_eq!(count("low/medium"), 1, "Y: 2, medium");
    assert_eq!(count("high/low"), 1, "D: 5, low");
    assert_eq!(
        all.iter()
            .map(|r| r["people"].as_u64().unwrap())
            .sum::<u64>(),
        3,
        "Z has no potential rating"
    );
    let health = rows(&g.nine_box(Some("health")).unwrap());
    assert_eq!(
        find(&health, &[("box", "high/low")])["people"],
        0,
        "D is not in health"
    );
    let members = rows(&g.nine_box_members(Some("health")).unwrap());
    let ids: Vec<&Value> = members.iter().map(|r| &r["employee_id"]).collect();
    assert_eq!(ids, [&json!("X"), &json!("Y")]);
}

#[test]
fn plan_history_shows_nominations_and_moving_readiness() {
    use cadre_analytics::plan_history;
    let t = timeline();
    let when = DateTime::parse_from_rfc3339("2026-06-30T23:59:59Z")
        .unwrap()
        .with_timezone(&Utc);
    let h = plan_history(
        &t,
        &LevelPolicy::default(),
        &AnalyticsConfig::default(),
        when,
        2,
        "pos-dir",
    )
    .unwrap();
    let events = rows(&h.events);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action"], "nominated");
    let r = rows(&h.readiness);
    let x = |month: &str| {
        find(&r, &[("as_of", month), ("candidate_id", "X")])["computed_readiness"].clone()
    };
    assert_eq!(
        x("2026-05-31T23:59:59+00:00"),
        "ready_now",
        "assessed on 20 May"
    );
    let r_apr = rows(
        &plan_history(
            &t,
            &LevelPolicy::default(),
            &AnalyticsConfig::default(),
            when,
            3,
            "pos-dir",
        )
        .unwrap()
        .readiness,
    );
    let x_apr = find(
        &r_apr,
        &[
            ("as_of", "2026-04-30T23:59:59+00:00"),
            ("candidate_id", "X"),
        ],
    );
    assert_eq!(
        x_apr["computed_readiness"], "not_ready",
        "before X was assessed"
    );
    assert!(plan_history(
        &t,
        &LevelPolicy::default(),
        &AnalyticsConfig::default(),
        when,
        1,
        "nowhere"
    )
    .is_err());
}

#[test]
fn gaps_on_the_kenyan_example() {
    use cadre_analytics::Scope;
    let s = snap("2026-06-30T23:59:59Z");
    let g = Analysis::new(&s).unwrap();
    let units = rows(&g.by_unit().unwrap());
    // officers X, Y, Z need accountability at 3 and nobody assessed it
    let health = find(&units, &[("unit_id", "health")]);
    assert_eq!(health["headcount"], 3);
    assert_eq!(health["required_pairs"], 3);
    assert_eq!(health["assessed_pairs"], 0);
    assert_eq!(health["coverage"].as_f64(), Some(0.0));
    assert_eq!(health["mean_gap"], Value::Null, "no levelled pair");
    assert_eq!(
        health["mean_role_fit"].as_f64(),
        Some(0.0),
        "1 − 3/3 for each officer"
    );
    // the county adds D, a director unassessed in both director competencies
    let county = find(&units, &[("unit_id", "county")]);
    assert_eq!(county["headcount"], 4);
    assert_eq!(county["required_pairs"], 5);
    let needs = rows(&g.training_needs(&Scope::all()).unwrap());
    assert!(
        needs.iter().all(|r| r["people_affected"] == 0),
        "unassessed pairs are a coverage gap, not a number"
    );
    let cats = rows(&g.by_category(&Scope::all()).unwrap());
    assert_eq!(
        find(&cats, &[("category", "leadership")])["required_pairs"],
        1
    );
    assert_eq!(find(&cats, &[("category", "core")])["required_pairs"], 3);
}

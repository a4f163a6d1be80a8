//! The worked example of `docs/metrics.md`, computed by hand there and by cadre here.

use cadre_analytics::{course_effects, Analysis, Scope, Table};
use cadre_model::Event;
use cadre_projection::{LevelPolicy, Timeline};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn ev(n: u32, ty: &str, subject: &str, at: &str, data: Value) -> Event {
    Event::from_value(json!({
        "event_id": format!("00000000-0000-4000-8000-{n:012}"),
        "type": ty,
        "schema_version": 1,
        "occurred_at": at,
        "recorded_at": at,
        "source": "test",
        "subject": subject,
        "data": data,
    }))
    .unwrap_or_else(|e| panic!("event {n} invalid: {e}"))
}

fn assess(n: u32, who: &str, comp: &str, level: u8, by: &str, at: &str) -> Event {
    ev(
        n,
        "assessment.recorded",
        who,
        at,
        json!({
            "competency_id": comp, "level": level, "assessor_type": by, "assessor_id": "x"
        }),
    )
}

const CF: &str = "ccc.staff.customer-focus";
const WWO: &str = "ccc.staff.working-with-others";

/// The organisation of the worked example, in arrival order.
fn events() -> Vec<Event> {
    let framework: Value = serde_json::from_str(include_str!(
        "../../../frameworks/cambridge-city-council.json"
    ))
    .unwrap();
    let mut e = vec![
        ev(
            1,
            "framework.published",
            "cambridge-city-council",
            "2025-01-01T00:00:00Z",
            framework,
        ),
        ev(
            2,
            "org_unit.defined",
            "org",
            "2025-01-01T00:00:00Z",
            json!({"name": "Council"}),
        ),
        ev(
            3,
            "org_unit.defined",
            "housing",
            "2025-01-01T00:00:00Z",
            json!({"name": "Housing", "parent_id": "org"}),
        ),
        ev(
            4,
            "org_unit.defined",
            "repairs",
            "2025-01-01T00:00:00Z",
            json!({"name": "Repairs", "parent_id": "housing"}),
        ),
        ev(
            5,
            "org_unit.defined",
            "finance",
            "2025-01-01T00:00:00Z",
            json!({"name": "Finance", "parent_id": "org"}),
        ),
    ];
    // the lead role asks the same as the officer role; officers are its pipeline
    for (n, id, name) in [(6, "officer", "Officer"), (7, "lead", "Lead officer")] {
        e.push(ev(
            n,
            "role_profile.defined",
            id,
            "2025-01-01T00:00:00Z",
            json!({
                "name": name, "framework_id": "cambridge-city-council",
                "requirements": [
                    {"competency_id": CF, "level": 3, "weight": 2},
                    {"competency_id": WWO, "level": 3}
                ]
            }),
        ));
    }
    for (i, (pos, unit)) in [("p1", "housing"), ("p2", "repairs"), ("p3", "finance")]
        .iter()
        .enumerate()
    {
        e.push(ev(
            10 + i as u32,
            "position.defined",
            pos,
            "2025-01-01T00:00:00Z",
            json!({"title": "Officer", "role_id": "officer", "org_unit_id": unit}),
        ));
    }
    for (i, (emp, pos)) in [("A", "p1"), ("B", "p2"), ("C", "p3")].iter().enumerate() {
        e.push(ev(
            20 + i as u32,
            "employee.hired",
            emp,
            "2025-02-01T00:00:00Z",
            json!({"name": emp}),
        ));
        e.push(ev(
            30 + i as u32,
            "employee.assigned",
            emp,
            "2025-02-01T01:00:00Z",
            json!({"position_id": pos}),
        ));
    }
    e.extend([
        assess(40, "A", CF, 2, "manager", "2026-03-01T09:00:00Z"),
        assess(41, "A", CF, 4, "self", "2026-03-02T09:00:00Z"),
        assess(42, "A", WWO, 3, "manager", "2026-03-01T09:00:00Z"),
        assess(43, "B", CF, 1, "panel", "2026-02-01T09:00:00Z"),
        ev(
            44,
            "training.completed",
            "B",
            "2026-04-01T09:00:00Z",
            json!({
                "course_id": "cf-101", "mode": "training",
                "competencies": [{"competency_id": CF, "target_level": 3}]
            }),
        ),
        // B is reassessed after the course: the course's measured effect
        assess(49, "B", CF, 3, "manager", "2026-06-01T09:00:00Z"),
        // C: a manager assessment too old to count on 2026-06-30, then a training
        assess(45, "C", CF, 4, "manager", "2024-01-01T09:00:00Z"),
        ev(
            46,
            "training.completed",
            "C",
            "2026-05-01T09:00:00Z",
            json!({
                "course_id": "cf-101", "mode": "coaching",
                "competencies": [{"competency_id": CF, "target_level": 2}]
            }),
        ),
        assess(47, "C", WWO, 3, "self", "2026-03-05T09:00:00Z"),
        // arrives last but happened before A's other assessments: a back-dated event
        assess(48, "A", CF, 4, "manager", "2026-02-15T09:00:00Z"),
        // a vacant critical position, and the ratings the 9-box needs
        ev(
            60,
            "position.defined",
            "p-lead",
            "2025-01-01T00:00:00Z",
            json!({"title": "Lead officer", "role_id": "lead", "org_unit_id": "org", "critical": true}),
        ),
        ev(61, "performance.rated", "A", "2026-03-31T00:00:00Z", json!({"rating": 4, "period": "2025"})),
        ev(62, "potential.rated", "A", "2026-03-31T00:00:00Z", json!({"potential": "high"})),
        ev(63, "performance.rated", "C", "2026-03-31T00:00:00Z", json!({"rating": 2, "period": "2025"})),
        ev(64, "potential.rated", "C", "2026-03-31T00:00:00Z", json!({"potential": "low"})),
    ]);
    e
}

fn timeline() -> Timeline {
    let mut t = Timeline::new();
    for (seq, e) in events().iter().enumerate() {
        t.apply(seq as u64, e);
    }
    t
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn row(t: &Table, key: &str, value: &str) -> serde_json::Map<String, Value> {
    t.records()
        .into_iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}"))
}

fn num(r: &serde_json::Map<String, Value>, k: &str) -> f64 {
    r[k].as_f64().unwrap_or_else(|| panic!("{k} is {:?}", r[k]))
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9, "{what}: got {a}, expected {b}");
}

#[test]
fn effective_levels_match_the_hand_computation() {
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let emp = |id: &str| s.employees.iter().find(|e| e.id == id).unwrap();
    close(
        emp("A").levels[CF].level,
        2.4,
        "A customer focus: (0.4*2 + 0.1*4) / 0.5",
    );
    close(emp("A").levels[WWO].level, 3.0, "A working with others");
    let b = &emp("B").levels[CF];
    close(
        b.level,
        2.0,
        "B: (0.4·1 + 0.4·3) / 0.8; the course came before the latest assessment",
    );
    assert!(!b.provisional() && b.assessed());
    // in May, before that reassessment, the course had raised panel 1 by one, provisionally
    let may = timeline().snapshot(at("2026-05-15T00:00:00Z"), &LevelPolicy::default());
    let b_may = &may.employees.iter().find(|e| e.id == "B").unwrap().levels[CF];
    close(b_may.level, 2.0, "B in May: min(1 + 1, 3)");
    assert!(b_may.provisional() && b_may.assessed());
    assert!(
        !emp("B").levels.contains_key(WWO),
        "B is unassessed in working with others"
    );
    let c = &emp("C").levels[CF];
    close(
        c.level,
        1.0,
        "C: the 2024 assessment is outside 730 days; training alone gives 1",
    );
    assert!(!c.assessed());
    assert!(emp("C").levels[WWO].self_only);
}

#[test]
fn unit_rollups_cover_whole_subtrees() {
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let g = Analysis::new(&s).unwrap();
    let units = Table::from_frame(&g.by_unit().unwrap());
    // (unit, headcount, required, assessed, levelled, meeting, coverage, meeting share, mean gap)
    let expected = [
        (
            "org",
            3,
            6,
            4,
            5,
            2,
            4.0 / 6.0,
            2.0 / 5.0,
            (0.6 + 0.0 + 1.0 + 2.0 + 0.0) / 5.0,
        ),
        (
            "housing",
            2,
            4,
            3,
            3,
            1,
            0.75,
            1.0 / 3.0,
            (0.6 + 0.0 + 1.0) / 3.0,
        ),
        ("repairs", 1, 2, 1, 1, 0, 0.5, 0.0, 1.0),
        ("finance", 1, 2, 1, 2, 1, 0.5, 0.5, 1.0),
    ];
    for (unit, head, req, ass, lev, meet, cov, share, gap) in expected {
        let r = row(&units, "unit_id", unit);
        assert_eq!(r["headcount"], head, "{unit} headcount");
        assert_eq!(r["required_pairs"], req, "{unit} required pairs");
        assert_eq!(r["assessed_pairs"], ass, "{unit} assessed pairs");
        assert_eq!(r["levelled_pairs"], lev, "{unit} levelled pairs");
        assert_eq!(r["meeting_pairs"], meet, "{unit} meeting pairs");
        close(num(&r, "coverage"), cov, &format!("{unit} coverage"));
        close(
            num(&r, "meeting_share"),
            share,
            &format!("{unit} meeting share"),
        );
        close(num(&r, "mean_gap"), gap, &format!("{unit} mean gap"));
    }
}

#[test]
fn competency_and_category_rollups() {
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let g = Analysis::new(&s).unwrap();
    let comps = Table::from_frame(&g.by_competency(&Scope::all()).unwrap());
    let cf = row(&comps, "competency_id", CF);
    assert_eq!(cf["required_pairs"], 3);
    assert_eq!(cf["assessed_pairs"], 2);
    assert_eq!(cf["meeting_pairs"], 0);
    close(
        num(&cf, "mean_gap"),
        (0.6 + 1.0 + 2.0) / 3.0,
        "customer focus mean gap",
    );
    assert_eq!(cf["category_name"], "Competencies for staff");
    let wwo = row(&comps, "competency_id", WWO);
    assert_eq!(wwo["levelled_pairs"], 2);
    close(
        num(&wwo, "meeting_share"),
        1.0,
        "working with others meeting share",
    );
    close(num(&wwo, "mean_gap"), 0.0, "working with others mean gap");

    let in_housing = Table::from_frame(&g.by_competency(&Scope::unit("housing")).unwrap());
    let cf = row(&in_housing, "competency_id", CF);
    close(
        num(&cf, "mean_gap"),
        (0.6 + 1.0) / 2.0,
        "customer focus in housing",
    );

    let cats = Table::from_frame(&g.by_category(&Scope::all()).unwrap());
    let staff = row(&cats, "category", "staff");
    assert_eq!(staff["required_pairs"], 6);
    close(num(&staff, "mean_gap"), 0.72, "staff category mean gap");

    let heat = Table::from_frame(&g.heatmap(Some("org")).unwrap());
    let cell = heat
        .records()
        .into_iter()
        .find(|r| r["unit_id"] == "housing" && r["competency_id"] == CF)
        .expect("housing × customer focus");
    close(
        num(&cell, "mean_gap"),
        0.8,
        "heatmap cell housing × customer focus",
    );
    assert!(g.heatmap(Some("nowhere")).is_err());
}

#[test]
fn back_dated_event_changes_history_as_of_its_date_only() {
    let t = timeline();
    let p = LevelPolicy::default();
    // on 20 February only the back-dated manager assessment (level 4) existed
    let feb = t.snapshot(at("2026-02-20T00:00:00Z"), &p);
    let a = feb.employees.iter().find(|e| e.id == "A").unwrap();
    close(a.levels[CF].level, 4.0, "A on 20 February");
    // on 1 March at noon the manager's level-2 assessment of that morning is the latest
    let mar = t.snapshot(at("2026-03-01T12:00:00Z"), &p);
    let a = mar.employees.iter().find(|e| e.id == "A").unwrap();
    close(a.levels[CF].level, 2.0, "A on 1 March");
    // and arrival order does not matter: the same events in reverse give the same state
    let mut rev = Timeline::new();
    let evs = events();
    for (i, e) in evs.iter().enumerate().rev() {
        rev.apply(i as u64, e);
    }
    let when = at("2026-06-30T23:59:59Z");
    assert_eq!(
        rev.snapshot(when, &p).employees,
        t.snapshot(when, &p).employees
    );
}

#[test]
fn before_anyone_was_hired_there_is_nobody() {
    let s = timeline().snapshot(at("2025-01-15T00:00:00Z"), &LevelPolicy::default());
    assert!(s.employees.is_empty());
    let g = Analysis::new(&s).unwrap();
    let units = Table::from_frame(&g.by_unit().unwrap());
    let org = row(&units, "unit_id", "org");
    assert_eq!(org["headcount"], 0);
    assert_eq!(
        org["coverage"],
        Value::Null,
        "no pairs: coverage is undefined, not zero"
    );
}

#[test]
fn role_fit_staleness_and_weighted_gaps() {
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let g = Analysis::new(&s).unwrap();
    // Σ w·required = 2·3 + 1·3 = 9 for every officer
    let people = Table::from_frame(&g.employees(None).unwrap());
    let fit = |id: &str| num(&row(&people, "employee_id", id), "role_fit");
    close(fit("A"), 1.0 - (2.0 * 0.6) / 9.0, "A: 1 − 1.2/9");
    close(
        fit("B"),
        1.0 - (2.0 * 1.0 + 3.0) / 9.0,
        "B: unassessed WWO counts at level 0",
    );
    close(fit("C"), 1.0 - (2.0 * 2.0) / 9.0, "C: 1 − 4/9");
    assert_eq!(row(&people, "employee_id", "B")["unassessed_pairs"], 1);
    close(
        num(&row(&people, "employee_id", "C"), "total_weighted_gap"),
        4.0,
        "C weighted gap",
    );

    let units = Table::from_frame(&g.by_unit().unwrap());
    let org = row(&units, "unit_id", "org");
    assert_eq!(
        org["ever_assessed_pairs"], 5,
        "all but B's WWO were assessed at some time"
    );
    assert_eq!(
        org["stale_pairs"], 1,
        "C's customer focus, last assessed in January 2024"
    );
    close(num(&org, "staleness"), 0.2, "org staleness");
    assert_eq!(org["self_only_pairs"], 1, "C's working with others");
    close(
        num(&org, "total_weighted_gap"),
        1.2 + 2.0 + 4.0,
        "org total weighted gap",
    );
    let mean_fit = (fit("A") + fit("B") + fit("C")) / 3.0;
    close(num(&org, "mean_role_fit"), mean_fit, "org mean role fit");
    let housing = row(&units, "unit_id", "housing");
    close(
        num(&housing, "mean_role_fit"),
        (fit("A") + fit("B")) / 2.0,
        "housing mean role fit",
    );
    close(num(&housing, "staleness"), 0.0, "housing staleness");

    // by category the mean fit still counts each person once
    let cats = Table::from_frame(&g.by_category(&Scope::all()).unwrap());
    let staff = row(&cats, "category", "staff");
    close(
        num(&staff, "mean_role_fit"),
        mean_fit,
        "staff mean role fit",
    );
    assert_eq!(staff["role_fit_people"], 3);

    let roles = Table::from_frame(&g.by_role(&Scope::all()).unwrap());
    let officer = row(&roles, "role_id", "officer");
    assert_eq!(officer["role_name"], "Officer");
    assert_eq!(officer["required_pairs"], 6);
    close(
        num(&officer, "mean_role_fit"),
        mean_fit,
        "officer mean role fit",
    );

    let dist = Table::from_frame(&g.level_distribution(&Scope::all()).unwrap());
    let cell = |comp: &str, level: i64| {
        dist.records()
            .into_iter()
            .find(|r| r["competency_id"] == comp && r["level"] == level)
            .map(|r| {
                (
                    r["people_at_level"].as_u64().unwrap(),
                    r["people_required_at_level"].as_u64().unwrap(),
                    r["unassessed"].as_u64().unwrap(),
                )
            })
    };
    assert_eq!(cell(CF, 1), Some((1, 0, 0)), "C at 1.0");
    assert_eq!(
        cell(CF, 2),
        Some((2, 0, 0)),
        "A at 2.4 and B at 2.0 count at 2"
    );
    assert_eq!(cell(CF, 3), Some((0, 3, 0)), "all three are required at 3");
    assert_eq!(cell(WWO, 3), Some((2, 3, 1)), "A and C at 3, B unassessed");
}

#[test]
fn training_needs_courses_and_development_lists() {
    let when = at("2026-06-30T23:59:59Z");
    let s = timeline().snapshot(when, &LevelPolicy::default());
    let g = Analysis::new(&s).unwrap();
    let needs = Table::from_frame(&g.training_needs(&Scope::all()).unwrap());
    let cf = row(&needs, "competency_id", CF);
    assert_eq!(cf["rank"], 1);
    close(
        num(&cf, "total_weighted_gap"),
        2.0 * 0.6 + 2.0 * 1.0 + 2.0 * 2.0,
        "CF total weighted gap",
    );
    assert_eq!(cf["people_affected"], 3);
    close(
        num(&cf, "mean_gap_affected"),
        (0.6 + 1.0 + 2.0) / 3.0,
        "CF mean gap among the affected",
    );
    close(
        num(&cf, "borich_score"),
        (3.0 * 0.6 + 3.0 * 1.0 + 3.0 * 2.0) / 3.0,
        "CF Borich score",
    );
    let wwo = row(&needs, "competency_id", WWO);
    assert_eq!(wwo["rank"], 2);
    assert_eq!(wwo["people_affected"], 0);
    assert_eq!(wwo["mean_gap_affected"], Value::Null);
    assert_eq!(wwo["borich_rank"], 2);

    // within finance only C counts
    let fin = Table::from_frame(&g.training_needs(&Scope::unit("finance")).unwrap());
    close(
        num(&row(&fin, "competency_id", CF), "total_weighted_gap"),
        4.0,
        "finance CF",
    );

    // cf-101: B (assessed 1 before, 2 after: +1) and C (no assessment in the window before)
    let courses = Table::from_frame(&course_effects(&s, None).unwrap());
    let c = row(&courses, "course_id", "cf-101");
    assert_eq!(c["participants"], 2);
    assert_eq!(c["measured"], 1);
    close(num(&c, "mean_change"), 1.0, "measured effect of cf-101");
    // within a unit, only its people: housing has B (measured), finance C (not)
    let housing = Table::from_frame(&course_effects(&s, Some("housing")).unwrap());
    let h = row(&housing, "course_id", "cf-101");
    assert_eq!(
        (h["participants"].clone(), h["measured"].clone()),
        (1.into(), 1.into())
    );
    close(num(&h, "mean_change"), 1.0, "cf-101 in housing");
    let finance = Table::from_frame(&course_effects(&s, Some("finance")).unwrap());
    let f = row(&finance, "course_id", "cf-101");
    assert_eq!(
        (f["participants"].clone(), f["measured"].clone()),
        (1.into(), 0.into())
    );
    assert_eq!(
        f["mean_change"],
        Value::Null,
        "nobody in finance was measured"
    );

    // B's own list: customer focus (weighted gap 2), then the unassessed competency
    let list = Table::from_frame(&g.development_list("B").unwrap());
    let order: Vec<&Value> = list.rows.iter().map(|r| &r[0]).collect();
    assert_eq!(order, [CF, WWO]);
    assert_eq!(list.records()[1]["unassessed"], true);
    let a = Table::from_frame(&g.development_list("A").unwrap());
    assert_eq!(a.rows.len(), 1, "A meets working with others");
}

#[test]
fn monthly_trends_are_computed_as_of_each_month_end() {
    use cadre_analytics::trends;
    let t = timeline();
    let df = trends(
        &t,
        &LevelPolicy::default(),
        &Default::default(),
        at("2026-06-30T23:59:59Z"),
        3,
        None,
    )
    .unwrap();
    let rows = Table::from_frame(&df).records();
    let when: Vec<&str> = rows.iter().map(|r| r["as_of"].as_str().unwrap()).collect();
    assert_eq!(
        when,
        [
            "2026-04-30T23:59:59+00:00",
            "2026-05-31T23:59:59+00:00",
            "2026-06-30T23:59:59+00:00"
        ]
    );
    // April: C's customer focus is unassessed (the 2024 assessment is outside the window)
    close(
        num(&rows[0], "mean_gap"),
        (0.6 + 0.0 + 1.0 + 0.0) / 4.0,
        "April mean gap",
    );
    // May: C's course of 1 May gives a provisional level 1, gap 2
    close(num(&rows[1], "mean_gap"), 0.72, "May mean gap");
    close(
        num(&rows[1], "mean_gap_change"),
        0.72 - 0.4,
        "change April → May",
    );
    close(num(&rows[2], "mean_gap_change"), 0.0, "change May → June");
    assert_eq!(rows[0]["mean_gap_change"], Value::Null);
    for r in &rows {
        close(num(r, "coverage"), 4.0 / 6.0, "coverage each month");
        close(num(r, "staleness"), 0.2, "staleness each month");
        assert_eq!(r["headcount"], 3);
        close(
            num(r, "succession_coverage"),
            0.0,
            "the lead position has nobody ready now",
        );
        close(num(r, "mean_bench_strength"), 1.0, "A, ready in 1–2 years");
        close(num(r, "positions_at_risk"), 0.0, "amber is not red");
    }
    let housing = trends(
        &t,
        &LevelPolicy::default(),
        &Default::default(),
        at("2026-06-30T23:59:59Z"),
        1,
        Some("housing"),
    )
    .unwrap();
    let h = Table::from_frame(&housing).records();
    close(
        num(&h[0], "mean_gap"),
        (0.6 + 0.0 + 1.0) / 3.0,
        "housing in June",
    );
    assert_eq!(h[0]["headcount"], 2);
}

#[test]
fn succession_and_nine_box_on_the_cambridge_example() {
    use cadre_analytics::{AnalyticsConfig, Succession};
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let out = Succession::compute(&s, &AnalyticsConfig::default(), None).unwrap();
    let cands = Table::from_frame(&out.candidates).records();
    let band = |id: &str| {
        cands
            .iter()
            .find(|r| r["candidate_id"] == id)
            .map(|r| {
                (
                    r["computed_readiness"].as_str().unwrap().to_string(),
                    r["role_fit"].as_f64().unwrap(),
                )
            })
            .unwrap_or_else(|| panic!("{id} is a candidate"))
    };
    // the three officers are the best fits for the lead officer role; nobody holds it
    let (a, fa) = band("A");
    assert_eq!(a, "ready_1_2_years", "fit 0.867 ≥ 0.75, performance 4");
    close(fa, 1.0 - 1.2 / 9.0, "A's fit for the lead role");
    assert_eq!(
        band("C").0,
        "not_ready",
        "fit 0.556 is 3+ years, performance 2 drops a band"
    );
    assert_eq!(band("B").0, "not_ready", "fit 0.444");
    let pos = Table::from_frame(&out.positions).records();
    assert_eq!(pos.len(), 1);
    assert_eq!(pos[0]["vacant"], true);
    assert_eq!(pos[0]["bench_strength"], 1);
    assert_eq!(pos[0]["discounted_bench"].as_f64().unwrap(), 1.0);
    assert_eq!(pos[0]["risk"], "amber");
    assert_eq!(out.summary.coverage, Some(0.0));
    assert_eq!(out.summary.amber, 1);

    let g = Analysis::new(&s).unwrap();
    let boxes = Table::from_frame(&g.nine_box(None).unwrap()).records();
    let count = |b: &str| {
        boxes.iter().find(|r| r["box"] == b).unwrap()["people"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("high/high"), 1, "A");
    assert_eq!(count("low/low"), 1, "C");
    assert_eq!(
        boxes
            .iter()
            .map(|r| r["people"].as_u64().unwrap())
            .sum::<u64>(),
        2,
        "B has no ratings"
    );
}

/// Sums of the partial-aggregate rows of several analyses, by their key columns.
fn summed(
    frames: &[Table],
    keys: &[&str],
) -> std::collections::BTreeMap<Vec<String>, serde_json::Map<String, Value>> {
    let mut out: std::collections::BTreeMap<Vec<String>, serde_json::Map<String, Value>> =
        Default::default();
    for t in frames {
        for r in t.records() {
            let key: Vec<String> = keys.iter().map(|k| r[*k].to_string()).collect();
            let acc = out.entry(key).or_default();
            for (k, v) in &r {
                if keys.contains(&k.as_str()) || k == "category" {
                    acc.insert(k.clone(), v.clone());
                } else {
                    let prev = acc.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                    acc.insert(k.clone(), json!(prev + v.as_f64().unwrap_or(0.0)));
                }
            }
        }
    }
    out
}

#[test]
fn partial_aggregates_match_the_hand_computation_and_add_up_across_any_split() {
    let s = timeline().snapshot(at("2026-06-30T23:59:59Z"), &LevelPolicy::default());
    let whole = Analysis::new(&s).unwrap();
    // by hand, housing (A and B): required 4, levelled 3 (A·CF 0.6, A·WWO 0, B·CF 1.0)
    let pp = Table::from_frame(&whole.pair_partials().unwrap());
    let housing: Vec<_> = pp
        .records()
        .into_iter()
        .filter(|r| r["unit_id"] == "housing")
        .collect();
    let total = |k: &str| housing.iter().map(|r| num(r, k)).sum::<f64>();
    close(total("required_pairs"), 4.0, "housing required pairs");
    close(total("levelled_pairs"), 3.0, "housing levelled pairs");
    close(total("gap_sum"), 0.6 + 0.0 + 1.0, "housing gap sum");
    close(total("affected_pairs"), 2.0, "housing pairs with a gap");
    close(
        total("borich_sum"),
        3.0 * 0.6 + 3.0 * 1.0,
        "housing Σ required × gap",
    );
    let people = Table::from_frame(&whole.people_partials().unwrap());
    let org = row(&people, "unit_id", "");
    close(num(&org, "headcount"), 3.0, "organisation headcount");
    close(
        num(&org, "people_with_requirements"),
        3.0,
        "people with requirements",
    );

    // every split of the employees: sums of the parts give the whole's roll-ups
    let ids: Vec<String> = s.employees.iter().map(|e| e.id.clone()).collect();
    for mask in 0..(1u32 << ids.len()) {
        let parts: Vec<Analysis> = [true, false]
            .iter()
            .map(|side| {
                let mut part = s.clone();
                part.employees.retain(|e| {
                    ((mask >> ids.iter().position(|i| *i == e.id).unwrap()) & 1 == 1) == *side
                });
                Analysis::new(&part).unwrap()
            })
            .collect();
        let pairs: Vec<Table> = parts
            .iter()
            .map(|a| Table::from_frame(&a.pair_partials().unwrap()))
            .collect();
        let people: Vec<Table> = parts
            .iter()
            .map(|a| Table::from_frame(&a.people_partials().unwrap()))
            .collect();
        let by_unit_comp = summed(&pairs, &["unit_id", "competency_id"]);
        let by_person = summed(&people, &["unit_id"]);
        let units = Table::from_frame(&whole.by_unit().unwrap());
        for r in units.records() {
            let unit = r["unit_id"].as_str().unwrap();
            let key = Value::String(unit.into()).to_string();
            let rows: Vec<_> = by_unit_comp
                .iter()
                .filter(|(k, _)| k[0] == key)
                .map(|(_, v)| v)
                .collect();
            let sum = |k: &str| rows.iter().map(|r| num(r, k)).sum::<f64>();
            let what = format!("split {mask:b}, unit {unit}");
            close(sum("required_pairs"), num(&r, "required_pairs"), &what);
            close(sum("assessed_pairs"), num(&r, "assessed_pairs"), &what);
            close(sum("meeting_pairs"), num(&r, "meeting_pairs"), &what);
            close(sum("stale_pairs"), num(&r, "stale_pairs"), &what);
            close(
                sum("weighted_gap_sum"),
                num(&r, "total_weighted_gap"),
                &what,
            );
            close(
                sum("assessed_pairs") / sum("required_pairs"),
                num(&r, "coverage"),
                &what,
            );
            close(
                sum("gap_sum") / sum("levelled_pairs"),
                num(&r, "mean_gap"),
                &what,
            );
            let p = &by_person[&vec![key.clone()]];
            close(num(p, "headcount"), num(&r, "headcount"), &what);
            close(
                num(p, "people_with_requirements"),
                num(&r, "people_with_requirements"),
                &what,
            );
            close(
                num(p, "role_fit_sum") / num(p, "role_fit_people"),
                num(&r, "mean_role_fit"),
                &what,
            );
        }
        // training needs from the organisation rows
        let needs = Table::from_frame(&whole.training_needs(&Scope::all()).unwrap());
        for n in needs.records() {
            let key = vec![
                Value::String(String::new()).to_string(),
                n["competency_id"].to_string(),
            ];
            let p = &by_unit_comp[&key];
            let what = format!("split {mask:b}, needs {}", n["competency_id"]);
            close(num(p, "affected_pairs"), num(&n, "people_affected"), &what);
            close(
                num(p, "weighted_gap_sum"),
                num(&n, "total_weighted_gap"),
                &what,
            );
            close(
                num(p, "borich_sum") / num(p, "levelled_pairs"),
                num(&n, "borich_score"),
                &what,
            );
        }
    }
}

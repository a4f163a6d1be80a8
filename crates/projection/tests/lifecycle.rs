//! Hires, moves and leavers, as of different dates.

use cadre_model::Event;
use cadre_projection::{LevelPolicy, Snapshot, Timeline};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn ev(n: u32, ty: &str, subject: &str, at: &str, data: Value) -> Event {
    Event::from_value(json!({
        "event_id": format!("00000000-0000-4000-8000-{n:012}"),
        "type": ty, "schema_version": 1,
        "occurred_at": at, "recorded_at": at,
        "source": "test", "subject": subject, "data": data,
    }))
    .unwrap_or_else(|e| panic!("event {n}: {e}"))
}

fn timeline() -> Timeline {
    let events = [
        ev(
            1,
            "org_unit.defined",
            "a",
            "2025-01-01T00:00:00Z",
            json!({"name": "A"}),
        ),
        ev(
            2,
            "org_unit.defined",
            "b",
            "2025-01-01T00:00:00Z",
            json!({"name": "B", "parent_id": "a"}),
        ),
        ev(
            3,
            "role_profile.defined",
            "r",
            "2025-01-01T00:00:00Z",
            json!({"name": "R", "framework_id": "f", "requirements": [{"competency_id": "c", "level": 2}]}),
        ),
        ev(
            4,
            "position.defined",
            "p1",
            "2025-01-01T00:00:00Z",
            json!({"title": "P1", "role_id": "r", "org_unit_id": "a"}),
        ),
        ev(
            5,
            "position.defined",
            "p2",
            "2025-01-01T00:00:00Z",
            json!({"title": "P2", "role_id": "r", "org_unit_id": "b", "critical": true}),
        ),
        ev(
            6,
            "employee.hired",
            "e",
            "2025-03-01T00:00:00Z",
            json!({"name": "E"}),
        ),
        ev(
            7,
            "employee.assigned",
            "e",
            "2025-03-01T00:00:00Z",
            json!({"position_id": "p1"}),
        ),
        ev(
            8,
            "employee.assigned",
            "e",
            "2025-09-01T00:00:00Z",
            json!({"position_id": "p2"}),
        ),
        // announced on 1 December, last day 31 January
        ev(
            9,
            "employee.left",
            "e",
            "2025-12-01T00:00:00Z",
            json!({"effective_on": "2026-01-31", "reason": "retirement"}),
        ),
        ev(
            10,
            "employee.hired",
            "g",
            "2025-03-01T00:00:00Z",
            json!({"name": "G"}),
        ),
        ev(11, "employee.left", "g", "2025-06-01T00:00:00Z", json!({})),
        ev(
            12,
            "succession.nominated",
            "p2",
            "2025-10-01T00:00:00Z",
            json!({"candidate_id": "g", "readiness": "ready_now"}),
        ),
        ev(
            13,
            "succession.withdrawn",
            "p2",
            "2025-11-01T00:00:00Z",
            json!({"candidate_id": "g"}),
        ),
    ];
    let mut t = Timeline::new();
    // arrival order shuffled on purpose: the projection orders by occurred_at
    for i in [12, 0, 3, 8, 1, 5, 2, 7, 4, 6, 9, 11, 10] {
        t.apply(i as u64, &events[i]);
    }
    t
}

fn at(s: &str) -> Snapshot {
    let d: DateTime<Utc> = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    timeline().snapshot(d, &LevelPolicy::default())
}

#[test]
fn an_employee_moves_between_units_over_time() {
    let s = at("2025-05-01T00:00:00Z");
    let e = s.employees.iter().find(|e| e.id == "e").unwrap();
    assert_eq!(e.org_unit_id.as_deref(), Some("a"));
    let s = at("2025-10-01T00:00:00Z");
    let e = s.employees.iter().find(|e| e.id == "e").unwrap();
    assert_eq!(e.position_id.as_deref(), Some("p2"));
    assert_eq!(e.org_unit_id.as_deref(), Some("b"));
    assert_eq!(s.unit_path("b"), vec!["a".to_string(), "b".to_string()]);
}

#[test]
fn an_announced_leaver_stays_active_until_the_last_day() {
    let s = at("2026-01-15T00:00:00Z");
    let e = s.employees.iter().find(|e| e.id == "e").unwrap();
    assert!(e.active);
    assert_eq!(
        e.leaving_on.map(|d| d.to_string()).as_deref(),
        Some("2026-01-31")
    );
    let s = at("2026-02-01T00:00:00Z");
    assert!(!s.employees.iter().find(|e| e.id == "e").unwrap().active);
}

#[test]
fn a_leaver_without_a_date_leaves_on_the_event_date() {
    assert!(at("2025-05-31T00:00:00Z")
        .employees
        .iter()
        .any(|e| e.id == "g" && e.active));
    assert!(at("2025-06-02T00:00:00Z")
        .employees
        .iter()
        .any(|e| e.id == "g" && !e.active));
    assert!(
        at("2025-02-01T00:00:00Z").employees.is_empty(),
        "nobody before the first hire"
    );
}

#[test]
fn nominations_stand_until_withdrawn() {
    assert!(at("2025-09-30T00:00:00Z").nominations.is_empty());
    let s = at("2025-10-15T00:00:00Z");
    assert_eq!(s.nominations.len(), 1);
    assert_eq!(s.nominations[0].candidate_id, "g");
    assert!(at("2025-11-02T00:00:00Z").nominations.is_empty());
}

/// An employee's assessments as the profile lists them: newest first, each
/// named by its competency, with its level and assessor type, and only
/// those up to the date asked.
#[test]
fn the_profile_lists_each_assessment_with_its_competency_up_to_the_date() {
    use cadre_model::AssessorType;
    let mut t = timeline();
    let assessed = [
        (
            20,
            "c",
            "2025-04-01T00:00:00Z",
            "manager",
            2,
            Some("led the audit"),
        ),
        (21, "d", "2025-05-01T00:00:00Z", "self", 4, None),
        (
            22,
            "c",
            "2025-06-01T00:00:00Z",
            "panel",
            3,
            Some("interview"),
        ),
    ];
    for (n, competency, at, by, level, evidence) in assessed {
        t.apply(
            u64::from(n),
            &ev(
                n,
                "assessment.recorded",
                "e",
                at,
                json!({"competency_id": competency, "level": level, "assessor_type": by,
                       "assessor_id": "m", "evidence": evidence}),
            ),
        );
    }
    let listed = |date: &str| -> Vec<(String, u8, AssessorType)> {
        t.assessments("e", date.parse::<DateTime<Utc>>().unwrap())
            .into_iter()
            .map(|a| (a.competency_id, a.level, a.assessor_type))
            .collect()
    };
    assert_eq!(
        listed("2025-12-31T00:00:00Z"),
        vec![
            ("c".to_string(), 3, AssessorType::Panel),
            ("d".to_string(), 4, AssessorType::SelfAssessed),
            ("c".to_string(), 2, AssessorType::Manager),
        ]
    );
    assert_eq!(
        listed("2025-04-15T00:00:00Z"),
        vec![("c".to_string(), 2, AssessorType::Manager)]
    );
    assert!(t.assessments("nobody", Utc::now()).is_empty());
}

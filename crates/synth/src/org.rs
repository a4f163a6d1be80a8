//! The shape of a generated organisation and a year of its history.

use cadre_model::{
    AssessmentRecorded, AssessorType, DevelopedCompetency, EmployeeAssigned, EmployeeHired,
    EmployeeLeft, EventData, Framework, OrgUnitDefined, PerformanceRated, PositionDefined,
    Potential, PotentialRated, Readiness, Requirement, RoleProfileDefined, SuccessionNominated,
    SuccessionWithdrawn, TrainingCompleted, TrainingMode,
};
use chrono::{DateTime, Datelike, Duration, Utc};
use rand::seq::IndexedRandom;
use rand::RngExt;

use crate::{seed_frameworks, Emitter, SynthConfig};

const DEPARTMENTS: &[&str] = &[
    "Housing",
    "Finance",
    "Environment",
    "Planning",
    "Customer Services",
    "Health",
    "Transport",
    "Digital and ICT",
    "Legal and Governance",
    "People and Culture",
    "Education",
    "Water and Sanitation",
];
const SECTIONS: &[&str] = &["Operations", "Strategy", "Services", "Projects"];
const FIRST: &[&str] = &[
    "Amina", "Brian", "Chloe", "David", "Esther", "Faith", "George", "Hannah", "Ian", "Joyce",
    "Kevin", "Lucy", "Mohammed", "Njeri", "Oliver", "Priya", "Quentin", "Rose", "Samuel", "Tom",
    "Wanjiru", "Yusuf", "Zara", "Otieno", "Grace", "Peter", "Akinyi", "Emma", "James", "Mary",
];
const LAST: &[&str] = &[
    "Smith", "Kamau", "Jones", "Odhiambo", "Taylor", "Wanjiku", "Brown", "Mwangi", "Williams",
    "Achieng", "Wilson", "Kiprop", "Evans", "Njoroge", "Patel", "Chebet", "Walker", "Omondi",
    "Hughes", "Muthoni", "Green", "Kariuki", "Hall", "Wekesa", "Clarke", "Barasa",
];

/// A role: id, name, framework, requirements as (competency, level, weight).
struct Role {
    id: &'static str,
    name: &'static str,
    framework: &'static str,
    requirements: Vec<(String, u8, f64)>,
}

fn ids_in(f: &Framework, category: &str) -> Vec<String> {
    f.competencies
        .iter()
        .filter(|c| c.category == category)
        .map(|c| c.id.clone())
        .collect()
}

fn reqs(
    ids: &[String],
    level: impl Fn(&str) -> u8,
    weight: impl Fn(&str) -> f64,
) -> Vec<(String, u8, f64)> {
    ids.iter()
        .map(|c| (c.clone(), level(c), weight(c)))
        .collect()
}

fn roles(cam: &Framework, ken: &Framework) -> Vec<Role> {
    let staff = ids_in(cam, "staff");
    let manager = ids_in(cam, "manager");
    let core: Vec<String> = ids_in(ken, "core").into_iter().take(4).collect();
    let technical = ids_in(ken, "technical");
    let leadership = ids_in(ken, "leadership");
    let managerial = ids_in(ken, "managerial");
    let heavy = |ids: &[&str]| {
        let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        move |c: &str| if ids.iter().any(|i| i == c) { 2.0 } else { 1.0 }
    };
    let mut technical_officer = reqs(&core, |_| 3, |_| 1.0);
    technical_officer.extend(reqs(&technical, |_| 3, |_| 2.0));
    let mut director = reqs(&leadership, |_| 4, |_| 2.0);
    director.extend(reqs(&managerial, |_| 4, |_| 1.5));
    director.extend(reqs(&core, |_| 3, |_| 1.0));
    vec![
        Role {
            id: "role.assistant",
            name: "Assistant",
            framework: "cambridge-city-council",
            requirements: reqs(&staff, |_| 2, |_| 1.0),
        },
        Role {
            id: "role.officer",
            name: "Officer",
            framework: "cambridge-city-council",
            requirements: reqs(&staff, |_| 3, heavy(&["ccc.staff.customer-focus"])),
        },
        Role {
            id: "role.senior-officer",
            name: "Senior Officer",
            framework: "cambridge-city-council",
            requirements: reqs(
                &staff,
                |c| {
                    if c.ends_with("customer-focus") || c.ends_with("managing-resources") {
                        4
                    } else {
                        3
                    }
                },
                heavy(&["ccc.staff.managing-resources"]),
            ),
        },
        Role {
            id: "role.technical-officer",
            name: "Technical Officer",
            framework: "kenya-county-public-service",
            requirements: technical_officer,
        },
        Role {
            id: "role.team-manager",
            name: "Team Manager",
            framework: "cambridge-city-council",
            requirements: reqs(
                &manager,
                |_| 3,
                heavy(&["ccc.manager.managing-and-developing-people-and-teams"]),
            ),
        },
        Role {
            id: "role.head-of-service",
            name: "Head of Service",
            framework: "cambridge-city-council",
            requirements: reqs(
                &manager,
                |_| 4,
                heavy(&["ccc.manager.corporate-and-strategic-focus"]),
            ),
        },
        Role {
            id: "role.director",
            name: "County Director",
            framework: "kenya-county-public-service",
            requirements: director,
        },
    ]
}

/// Indexes into the role list.
const ASSISTANT: usize = 0;
const TEAM_MANAGER: usize = 4;
const HEAD: usize = 5;
const DIRECTOR: usize = 6;

struct Position {
    id: String,
    role: usize,
    dept: usize,
    critical: bool,
}

fn between(em: &mut Emitter<'_>, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds().max(1);
    from + Duration::seconds(em.rng().random_range(0..span))
}

pub(crate) fn build(cfg: &SynthConfig, em: &mut Emitter<'_>) {
    let end = cfg.end.and_hms_opt(17, 0, 0).expect("valid time").and_utc();
    let start = end - Duration::days(365);
    let setup = start - Duration::days(400);

    let frameworks = seed_frameworks();
    let (cam, ken) = (&frameworks[0], &frameworks[1]);
    for f in &frameworks {
        em.emit(
            setup,
            &f.id,
            EventData::FrameworkPublished(Box::new(f.clone())),
        );
    }
    let roles = roles(cam, ken);
    for r in &roles {
        em.emit(
            setup,
            r.id,
            EventData::RoleProfileDefined(RoleProfileDefined {
                name: r.name.to_string(),
                framework_id: r.framework.to_string(),
                requirements: r
                    .requirements
                    .iter()
                    .map(|(c, l, w)| Requirement {
                        competency_id: c.clone(),
                        level: *l,
                        weight: *w,
                    })
                    .collect(),
            }),
        );
    }

    // the org tree: root, departments, sections, teams of about twelve
    let n = cfg.employees.max(1);
    let teams = n.div_ceil(12);
    let depts = (teams / 6).clamp(1, DEPARTMENTS.len());
    let sections_per = (teams / depts).clamp(1, SECTIONS.len());
    let unit = |em: &mut Emitter<'_>, id: &str, name: String, parent: Option<String>| {
        em.emit(
            setup,
            id,
            EventData::OrgUnitDefined(OrgUnitDefined {
                name,
                parent_id: parent,
            }),
        )
    };
    unit(em, "org", "Demo County Council".to_string(), None);
    let mut positions: Vec<Position> = Vec::new();
    let mut team_units: Vec<(String, usize)> = Vec::new();
    for (d, dept_name) in DEPARTMENTS.iter().enumerate().take(depts) {
        let did = format!("u{:02}", d + 1);
        unit(em, &did, dept_name.to_string(), Some("org".into()));
        positions.push(Position {
            id: format!("pos-{did}-director"),
            role: DIRECTOR,
            dept: d,
            critical: true,
        });
        for (s, section) in SECTIONS.iter().enumerate().take(sections_per) {
            let sid = format!("{did}-s{}", s + 1);
            unit(
                em,
                &sid,
                format!("{dept_name} {section}"),
                Some(did.clone()),
            );
            positions.push(Position {
                id: format!("pos-{sid}-head"),
                role: HEAD,
                dept: d,
                critical: true,
            });
        }
    }
    for t in 0..teams {
        let d = t % depts;
        let s = (t / depts) % sections_per;
        let sid = format!("u{:02}-s{}", d + 1, s + 1);
        let tid = format!("{sid}-t{}", t / (depts * sections_per) + 1);
        unit(em, &tid, format!("Team {}", tid.to_uppercase()), Some(sid));
        positions.push(Position {
            id: format!("pos-{tid}-manager"),
            role: TEAM_MANAGER,
            dept: d,
            critical: t % 4 == 0,
        });
        team_units.push((tid, d));
    }
    let leaders = positions.len();
    for i in 0..n.saturating_sub(leaders) {
        let (tid, d) = &team_units[i % team_units.len()];
        let roll = em.rng().random_range(0..100);
        let role = match roll {
            0..25 => ASSISTANT,
            25..60 => 1,
            60..75 => 2,
            _ => 3,
        };
        positions.push(Position {
            id: format!("pos-{tid}-{:03}", i / team_units.len() + 1),
            role,
            dept: *d,
            critical: false,
        });
    }
    // the org unit of each position
    for p in &positions {
        let unit_id = position_unit(&p.id);
        em.emit(
            setup,
            &p.id,
            EventData::PositionDefined(PositionDefined {
                title: roles[p.role].name.to_string(),
                role_id: roles[p.role].id.to_string(),
                org_unit_id: unit_id,
                critical: p.critical,
            }),
        );
    }

    // employees and their year
    let mut by_dept: Vec<Vec<String>> = vec![Vec::new(); depts];
    let mut next_id = 0usize;
    let mut vacated = Vec::new();
    for (i, p) in positions.iter().enumerate().take(n) {
        next_id += 1;
        let id = format!("emp-{next_id:06}");
        let hired = between(em, start - Duration::days(3650), start - Duration::days(30));
        let left = life(em, &id, p, &roles[p.role], hired, start, end);
        if let Some(when) = left {
            vacated.push((i, when));
        }
        by_dept[p.dept].push(id);
    }
    // about half of the vacancies are filled a month or two later
    for (i, when) in vacated {
        if !em.rng().random_bool(0.5) {
            continue;
        }
        let hired = when + Duration::days(em.rng().random_range(30..75));
        if hired >= end {
            continue;
        }
        next_id += 1;
        let id = format!("emp-{next_id:06}");
        let p = &positions[i];
        life(em, &id, p, &roles[p.role], hired, hired, end);
        by_dept[p.dept].push(id);
    }

    // succession plans for critical positions
    for p in positions.iter().filter(|p| p.critical) {
        let pool = &by_dept[p.dept];
        if pool.len() < 2 {
            continue;
        }
        let k = em.rng().random_range(1..=3);
        for _ in 0..k {
            let cand = pool.choose(em.rng()).expect("non-empty").clone();
            let readiness = *[
                Readiness::ReadyNow,
                Readiness::Ready1To2Years,
                Readiness::Ready1To2Years,
                Readiness::Ready3PlusYears,
                Readiness::NotReady,
            ]
            .choose(em.rng())
            .expect("non-empty");
            let at = between(em, start, end - Duration::days(60));
            em.emit(
                at,
                &p.id,
                EventData::SuccessionNominated(SuccessionNominated {
                    candidate_id: cand.clone(),
                    readiness,
                }),
            );
            if em.rng().random_bool(0.15) {
                let later = between(em, at, end);
                em.emit(
                    later,
                    &p.id,
                    EventData::SuccessionWithdrawn(SuccessionWithdrawn {
                        candidate_id: cand,
                        reason: Some("development plan changed".into()),
                    }),
                );
            }
        }
    }
}

/// A fixed tilt, -30..=30, of a department's ability in a competency (FNV-1a of the pair).
fn dept_shift(dept: usize, competency: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in dept.to_le_bytes().iter().chain(competency.as_bytes()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h % 61) as i32 - 30
}

/// The org unit a position id belongs to: the id minus its last dash-part.
fn position_unit(pos: &str) -> String {
    let inner = pos.strip_prefix("pos-").expect("generated position ids");
    inner[..inner.rfind('-').expect("generated position ids")].to_string()
}

/// One employee's history; returns when they left, if they did within the year.
fn life(
    em: &mut Emitter<'_>,
    id: &str,
    pos: &Position,
    role: &Role,
    hired: DateTime<Utc>,
    from: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let name = format!(
        "{} {}",
        FIRST.choose(em.rng()).expect("names"),
        LAST.choose(em.rng()).expect("names")
    );
    em.emit(hired, id, EventData::EmployeeHired(EmployeeHired { name }));
    em.emit(
        hired + Duration::hours(1),
        id,
        EventData::EmployeeAssigned(EmployeeAssigned {
            position_id: pos.id.clone(),
        }),
    );

    // true ability relative to the requirement; departments differ in their strengths
    let mut offsets = Vec::new();
    for (comp, required, _) in &role.requirements {
        let roll = em.rng().random_range(0..100) + dept_shift(pos.dept, comp);
        let offset: i32 = match roll {
            0..10 => -2,
            10..40 => -1,
            40..80 => 0,
            _ => 1,
        };
        offsets.push(offset);
        let ability = (i32::from(*required) + offset).clamp(0, 5);
        let noisy = |em: &mut Emitter<'_>, bias: i32| {
            let n = if em.rng().random_bool(0.3) {
                *[-1, 1].choose(em.rng()).expect("two")
            } else {
                0
            };
            (ability + n + bias).clamp(0, 5) as u8
        };
        // an older assessment, before the year, sometimes beyond the window
        if em.rng().random_bool(0.4) && hired < from - Duration::days(400) {
            let at = between(em, from - Duration::days(800), from - Duration::days(30));
            let level = noisy(em, -1);
            assess(em, id, comp, level, AssessorType::Manager, "mgr", at);
        }
        for (t, p, bias) in [
            (AssessorType::SelfAssessed, 0.7, 1),
            (AssessorType::Manager, 0.8, 0),
            (AssessorType::Peer, 0.15, 0),
            (
                AssessorType::Panel,
                if pos.critical { 0.3 } else { 0.03 },
                0,
            ),
        ] {
            if em.rng().random_bool(p) {
                let at = between(em, from.max(hired), end);
                let bias = if em.rng().random_bool(0.5) { bias } else { 0 };
                let level = noisy(em, bias);
                assess(
                    em,
                    id,
                    comp,
                    level,
                    t,
                    &format!("{}-of-{id}", t.as_str()),
                    at,
                );
            }
        }
    }

    // trainings aimed at the biggest gaps
    if em.rng().random_bool(0.35) {
        let worst = offsets
            .iter()
            .enumerate()
            .min_by_key(|(_, o)| **o)
            .map(|(i, _)| i)
            .unwrap_or(0);
        let (comp, required, _) = &role.requirements[worst];
        let mode = *[
            TrainingMode::Training,
            TrainingMode::Training,
            TrainingMode::Coaching,
            TrainingMode::Mentoring,
            TrainingMode::Experience,
            TrainingMode::Internship,
        ]
        .choose(em.rng())
        .expect("modes");
        let short = comp.rsplit('.').next().unwrap_or(comp);
        let at = between(em, from.max(hired), end);
        em.emit(
            at,
            id,
            EventData::TrainingCompleted(TrainingCompleted {
                course_id: format!("course-{short}"),
                course_title: Some(format!("Developing {}", short.replace('-', " "))),
                mode,
                competencies: vec![DevelopedCompetency {
                    competency_id: comp.clone(),
                    target_level: (*required).max(3),
                }],
            }),
        );
    }

    // ratings at the end of the year
    let mean = offsets.iter().sum::<i32>() as f64 / offsets.len().max(1) as f64;
    let jitter = em.rng().random_range(-1..=1);
    let rating = (3 + mean.round() as i32 + jitter).clamp(1, 5) as u8;
    let rated_at = end - Duration::days(20);
    if hired < rated_at {
        em.emit(
            rated_at,
            id,
            EventData::PerformanceRated(PerformanceRated {
                rating,
                period: end.year().to_string(),
            }),
        );
        if em.rng().random_bool(0.4) {
            let potential = *[
                Potential::Low,
                Potential::Medium,
                Potential::Medium,
                Potential::High,
            ]
            .choose(em.rng())
            .expect("potentials");
            em.emit(
                rated_at,
                id,
                EventData::PotentialRated(PotentialRated { potential }),
            );
        }
    }

    // some leave during the year, a few announce a leaving date after it
    let roll = em.rng().random_range(0..100);
    if roll < 3 {
        let at = between(em, from.max(hired), end);
        em.emit(
            at,
            id,
            EventData::EmployeeLeft(EmployeeLeft {
                effective_on: None,
                reason: Some("resigned".into()),
            }),
        );
        return Some(at);
    }
    if roll < 4 {
        let at = end - Duration::days(10);
        let last_day = (end + Duration::days(em.rng().random_range(20..90))).date_naive();
        em.emit(
            at,
            id,
            EventData::EmployeeLeft(EmployeeLeft {
                effective_on: Some(last_day),
                reason: Some("retirement".into()),
            }),
        );
    }
    None
}

fn assess(
    em: &mut Emitter<'_>,
    id: &str,
    comp: &str,
    level: u8,
    t: AssessorType,
    assessor: &str,
    at: DateTime<Utc>,
) {
    let assessor_id = if t == AssessorType::SelfAssessed {
        id.to_string()
    } else {
        assessor.to_string()
    };
    em.emit(
        at,
        id,
        EventData::AssessmentRecorded(AssessmentRecorded {
            competency_id: comp.to_string(),
            level,
            assessor_type: t,
            assessor_id,
            evidence: None,
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate;
    use chrono::NaiveDate;

    fn cfg(n: usize) -> SynthConfig {
        SynthConfig {
            employees: n,
            seed: 7,
            end: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        }
    }

    #[test]
    fn same_config_same_events() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        generate(&cfg(50), &mut |e| a.push(e.to_json()));
        generate(&cfg(50), &mut |e| b.push(e.to_json()));
        assert_eq!(a, b);
        let mut c = Vec::new();
        generate(&SynthConfig { seed: 8, ..cfg(50) }, &mut |e| {
            c.push(e.to_json())
        });
        assert_ne!(a, c);
    }

    #[test]
    fn hires_the_requested_headcount_and_valid_events() {
        let mut hires = 0;
        let mut ids = std::collections::HashSet::new();
        generate(&cfg(300), &mut |e| {
            // every generated event passes the model's own checks
            cadre_model::Event::from_json(&e.to_json()).expect("valid");
            assert!(ids.insert(e.event_id), "unique ids");
            if matches!(e.data, EventData::EmployeeHired(_)) {
                hires += 1;
            }
        });
        assert!(
            hires >= 300,
            "at least the initial headcount is hired, got {hires}"
        );
        assert!(hires < 330, "replacements stay a few percent, got {hires}");
    }

    #[test]
    fn position_unit_strips_the_slot() {
        assert_eq!(position_unit("pos-u01-s2-t3-004"), "u01-s2-t3");
        assert_eq!(position_unit("pos-u01-director"), "u01");
    }
}

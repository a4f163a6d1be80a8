//! Roll-ups count each person once, and average each person's role fit once.
//!
//! The roll-ups find a person's one row in a group by flags set while the
//! pairs are built (the person's first pair, and first pair in each
//! category) instead of grouping by person. These tests hold them to the
//! plain definition, computed here from the pairs table: per group, the
//! distinct employees, and the mean of their role fits.

use std::collections::{BTreeMap, BTreeSet};

use cadre_analytics::{Analysis, Scope, Table};
use cadre_projection::{LevelPolicy, Timeline};
use cadre_synth::{generate, SynthConfig};
use serde_json::{Map, Value};

fn analysis() -> Analysis {
    let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date");
    let mut t = Timeline::new();
    let mut seq = 0;
    let config = SynthConfig {
        employees: 400,
        seed: 11,
        end,
    };
    generate(&config, &mut |e| {
        t.apply(seq, &e);
        seq += 1;
    });
    let mut s = t.snapshot(
        end.and_hms_opt(23, 59, 59).expect("a time").and_utc(),
        &LevelPolicy::default(),
    );
    // the generated roles list their requirements category by category; a
    // published role may not, so they are dealt round the categories in turn
    let category_of = |id: &str| {
        s.competencies
            .get(id)
            .map_or(String::new(), |c| c.category.clone())
    };
    let mut dealt = BTreeMap::new();
    for (id, role) in &s.roles {
        let mut piles: BTreeMap<String, Vec<_>> = BTreeMap::new();
        for q in &role.requirements {
            piles
                .entry(category_of(&q.competency_id))
                .or_default()
                .push(q.clone());
        }
        let mut order = Vec::new();
        while piles.values().any(|p| !p.is_empty()) {
            for pile in piles.values_mut().filter(|p| !p.is_empty()) {
                order.push(pile.remove(0));
            }
        }
        dealt.insert(id.clone(), order);
    }
    for (id, order) in dealt {
        if let Some(role) = s.roles.get_mut(&id) {
            role.requirements = order;
        }
    }
    Analysis::new(&s).expect("analysis")
}

fn text(r: &Map<String, Value>, k: &str) -> String {
    r[k].as_str().unwrap_or_default().to_string()
}

/// Per group of `key`, over the pairs `keep` keeps: the distinct people and
/// the mean of their role fits, as the definition says.
fn by_hand(
    pairs: &[Map<String, Value>],
    key: impl Fn(&Map<String, Value>) -> String,
    keep: impl Fn(&Map<String, Value>) -> bool,
) -> BTreeMap<String, (usize, Option<f64>)> {
    let mut people: BTreeMap<String, BTreeMap<String, Option<f64>>> = BTreeMap::new();
    for p in pairs.iter().filter(|p| keep(p)) {
        people
            .entry(key(p))
            .or_default()
            .insert(text(p, "employee_id"), p["role_fit"].as_f64());
    }
    people
        .into_iter()
        .map(|(k, fits)| {
            let known: Vec<f64> = fits.values().flatten().copied().collect();
            let mean = (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64);
            (k, (fits.len(), mean))
        })
        .collect()
}

fn check(
    what: &str,
    table: &Table,
    key: impl Fn(&Map<String, Value>) -> String,
    expected: &BTreeMap<String, (usize, Option<f64>)>,
) {
    let rows = table.records();
    assert_eq!(rows.len(), expected.len(), "{what}: groups");
    for r in &rows {
        let k = key(r);
        let (people, mean) = expected
            .get(&k)
            .unwrap_or_else(|| panic!("{what}: unexpected group {k}"));
        assert_eq!(
            r["people_with_requirements"].as_u64(),
            Some(*people as u64),
            "{what} {k}: people"
        );
        match (r["mean_role_fit"].as_f64(), mean) {
            (Some(got), Some(want)) => assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{what} {k}: mean role fit {got} != {want}"
            ),
            (got, want) => assert_eq!(got, *want, "{what} {k}: mean role fit"),
        }
    }
}

/// How a roll-up's rows, or the pairs, are grouped.
type Key = fn(&Map<String, Value>) -> String;

fn competency(r: &Map<String, Value>) -> String {
    text(r, "competency_id")
}

fn category(r: &Map<String, Value>) -> String {
    text(r, "category")
}

fn role(r: &Map<String, Value>) -> String {
    text(r, "role_id")
}

fn everything(_: &Map<String, Value>) -> String {
    String::new()
}

/// Every roll-up that counts people, within `scope`, with its grouping.
fn roll_ups(a: &Analysis, scope: &Scope) -> Vec<(&'static str, Table, Key)> {
    let table = |df: Result<cadre_analytics::DataFrame, cadre_analytics::AnalyticsError>| {
        Table::from_frame(&df.expect("roll-up"))
    };
    vec![
        ("by competency", table(a.by_competency(scope)), competency),
        ("by category", table(a.by_category(scope)), category),
        ("by role", table(a.by_role(scope)), role),
        ("totals", table(a.totals(scope)), everything),
    ]
}

#[test]
fn every_roll_up_counts_each_person_once() {
    let a = analysis();
    let pairs = Table::from_frame(a.pairs()).records();
    // the test means something only if people hold pairs in several
    // categories, in an order where a category comes back after another
    let mut interleaved = 0;
    let mut by_person: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &pairs {
        by_person
            .entry(text(p, "employee_id"))
            .or_default()
            .push(text(p, "category"));
    }
    let mut several = 0;
    for cats in by_person.values() {
        let distinct: BTreeSet<&String> = cats.iter().collect();
        several += usize::from(distinct.len() > 1);
        let runs = 1 + cats.windows(2).filter(|w| w[0] != w[1]).count();
        interleaved += usize::from(runs > distinct.len());
    }
    assert!(several > 50, "people in several categories: {several}");
    assert!(
        interleaved > 50,
        "people whose pairs leave a category and come back to it: {interleaved}"
    );

    for (what, table, key) in roll_ups(&a, &Scope::all()) {
        check(what, &table, key, &by_hand(&pairs, key, |_| true));
    }
    // within one category a person's first pair may lie outside the scope
    let categories: BTreeSet<String> = pairs.iter().map(category).collect();
    assert!(categories.len() > 1, "categories: {categories:?}");
    for c in &categories {
        let scope = Scope {
            category: Some(c.clone()),
            ..Scope::default()
        };
        let inside = |r: &Map<String, Value>| text(r, "category") == *c;
        for (what, table, key) in roll_ups(&a, &scope) {
            check(
                &format!("{what} in {c}"),
                &table,
                key,
                &by_hand(&pairs, key, inside),
            );
        }
    }
}

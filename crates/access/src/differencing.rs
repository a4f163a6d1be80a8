//! Rules against subtracting one answer (or one part of an answer) from
//! another, row by row: the people a row leaves out must not be few.
//!
//! Each rule takes the rows a caller would see and, per row key (a
//! competency, a category), the count of people of the larger population
//! the rows are part of, and blanks rows until no difference isolates 1 to
//! k − 1 people.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::suppress_row;

fn text<'a>(r: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    r.get(key).and_then(Value::as_str)
}

fn size(r: &Map<String, Value>, count: &str) -> Option<usize> {
    r.get(count).and_then(Value::as_u64).map(|n| n as usize)
}

fn shown(r: &Map<String, Value>) -> bool {
    r.get("suppressed") != Some(&Value::Bool(true))
}

/// A filter's complement, per row: rows of a filtered answer (say, one
/// role's people) whose row of the unfiltered answer (`whole`, by the
/// row's `key`) counts 1 to k − 1 more people are blanked, since the
/// unfiltered figures minus these would describe those few. Returns how
/// many rows were blanked.
pub fn suppress_small_complements(
    rows: &mut [Map<String, Value>],
    whole: &HashMap<String, usize>,
    key: &str,
    count: &str,
    k: usize,
) -> usize {
    let mut blanked = 0;
    for r in rows.iter_mut().filter(|r| shown(r)) {
        let (Some(id), Some(n)) = (text(r, key), size(r, count)) else {
            continue;
        };
        let others = whole.get(id).copied().unwrap_or(n).saturating_sub(n);
        if (1..k).contains(&others) {
            suppress_row(r);
            blanked += 1;
        }
    }
    blanked
}

/// A parent's remainder, per row key: for each key (a competency of a
/// heatmap), the parent's count (`parent`) minus the counts of the shown
/// child rows with that key is what no child covers, and must be 0 or at
/// least k; while it is not, the smallest shown child row with that key is
/// blanked too (ties by position). Rows already blanked count as hidden.
/// Returns how many rows were blanked.
pub fn protect_remainders(
    rows: &mut [Map<String, Value>],
    parent: &HashMap<String, usize>,
    key: &str,
    count: &str,
    k: usize,
) -> usize {
    let small = |n: usize| (1..k).contains(&n);
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(id) = text(r, key) {
            by_key.entry(id.to_string()).or_default().push(i);
        }
    }
    let mut blanked = 0;
    for (id, at) in by_key {
        let Some(&total) = parent.get(&id) else {
            continue;
        };
        loop {
            let visible: Vec<usize> = at.iter().copied().filter(|&i| shown(&rows[i])).collect();
            let covered: usize = visible.iter().filter_map(|&i| size(&rows[i], count)).sum();
            if !small(total.saturating_sub(covered)) {
                break;
            }
            let Some(smallest) = visible
                .into_iter()
                .filter(|&i| size(&rows[i], count).is_some_and(|n| n > 0))
                .min_by_key(|&i| (size(&rows[i], count), i))
            else {
                break;
            };
            suppress_row(&mut rows[smallest]);
            blanked += 1;
        }
    }
    blanked
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Map<String, Value>> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    fn blanked(rows: &[Map<String, Value>]) -> Vec<bool> {
        rows.iter().map(|r| !shown(r)).collect()
    }

    #[test]
    fn a_filter_leaving_few_out_of_a_row_blanks_that_row() {
        // a department's competencies: 12 and 8 people; the role filter
        // keeps 9 of the first (3 outside: the County Director) and
        // all 8 of the second
        let whole: HashMap<String, usize> = [("c1".to_string(), 12), ("c2".to_string(), 8)].into();
        let mut r = rows(json!([
            {"competency_id": "c1", "people_with_requirements": 9, "mean_gap": 0.5},
            {"competency_id": "c2", "people_with_requirements": 8, "mean_gap": 0.2},
        ]));
        assert_eq!(
            suppress_small_complements(
                &mut r,
                &whole,
                "competency_id",
                "people_with_requirements",
                5
            ),
            1
        );
        assert_eq!(blanked(&r), [true, false]);
        assert_eq!(r[0]["mean_gap"], Value::Null);
        assert_eq!(r[0]["competency_id"], "c1", "labels stay");
        // 5 outside is enough
        let whole: HashMap<String, usize> = [("c1".to_string(), 14)].into();
        let mut r = rows(json!([{"competency_id": "c1", "people_with_requirements": 9}]));
        assert_eq!(
            suppress_small_complements(
                &mut r,
                &whole,
                "competency_id",
                "people_with_requirements",
                5
            ),
            0
        );
    }

    #[test]
    fn a_parents_cell_minus_its_childrens_never_isolates_few() {
        // competency c1: the parent has 21 people, children 10 + 10: one
        // person (the director) sits in the parent alone; the smaller child
        // cell (ties: the first) is blanked, leaving a remainder of 11.
        // c2: 20 = 10 + 10, nothing to hide.
        let parent: HashMap<String, usize> =
            [("c1".to_string(), 21), ("c2".to_string(), 20)].into();
        let mut r = rows(json!([
            {"unit_id": "a", "competency_id": "c1", "people_with_requirements": 10, "mean_gap": 1.0},
            {"unit_id": "b", "competency_id": "c1", "people_with_requirements": 10, "mean_gap": 2.0},
            {"unit_id": "a", "competency_id": "c2", "people_with_requirements": 10, "mean_gap": 1.0},
            {"unit_id": "b", "competency_id": "c2", "people_with_requirements": 10, "mean_gap": 2.0},
        ]));
        assert_eq!(
            protect_remainders(
                &mut r,
                &parent,
                "competency_id",
                "people_with_requirements",
                5
            ),
            1
        );
        assert_eq!(blanked(&r), [true, false, false, false]);
        // a child blanked already (small) counts as hidden: 12 = 9 + 3 (blanked)
        // leaves 3 uncovered, so the 9 goes too
        let parent: HashMap<String, usize> = [("c1".to_string(), 12)].into();
        let mut r = rows(json!([
            {"unit_id": "a", "competency_id": "c1", "people_with_requirements": 9},
            {"unit_id": "b", "competency_id": "c1", "people_with_requirements": null, "suppressed": true},
        ]));
        assert_eq!(
            protect_remainders(
                &mut r,
                &parent,
                "competency_id",
                "people_with_requirements",
                5
            ),
            1
        );
        assert_eq!(blanked(&r), [true, true]);
    }
}

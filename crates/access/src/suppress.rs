//! Small-group suppression for roles that may not see individuals.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

/// One org unit and how many people its figures are about (its whole subtree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCount {
    /// The unit.
    pub id: String,
    /// Its parent; none for a root.
    pub parent: Option<String>,
    /// People its figures are about, subtree included.
    pub people: usize,
}

/// The units whose figures are hidden from roles that may not see individuals.
///
/// Subtree figures nest, so a unit's figures minus those of its children give
/// away the people of the unit that no child covers. The rule, top down from
/// the roots (and from the organisation as a whole, the sum of the roots):
/// 1. a unit about 1..k-1 people is hidden;
/// 2. for every shown unit, the people no shown child covers (its
///    *remainder*, which anyone could compute by subtraction) must number
///    0 or at least k; while they do not, the smallest shown child is hidden
///    too;
/// 3. a hidden unit hides its whole subtree, so it cannot be rebuilt from
///    its descendants.
///
/// A unit whose parent is not among `units` (not defined yet, or defined
/// later than the date asked) counts as a root: its people are part of the
/// organisation as a whole like any other root's.
pub fn protected_units(units: &[UnitCount], k: usize) -> HashSet<String> {
    let known: HashSet<&str> = units.iter().map(|u| u.id.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&UnitCount>> = BTreeMap::new();
    for u in units {
        let parent = u.parent.as_deref().filter(|p| known.contains(p));
        children.entry(parent).or_default().push(u);
    }
    let small = |n: usize| (1..k).contains(&n);
    let mut hidden = HashSet::new();
    // (unit, its people); None is the organisation as a whole
    let total = children
        .get(&None)
        .map_or(0, |r| r.iter().map(|u| u.people).sum());
    let mut todo: Vec<(Option<&str>, usize)> = vec![(None, total)];
    while let Some((parent, people)) = todo.pop() {
        let kids = children.get(&parent).map(Vec::as_slice).unwrap_or_default();
        let mut shown: Vec<&UnitCount> =
            kids.iter().copied().filter(|c| !small(c.people)).collect();
        let mut remainder = people - shown.iter().map(|c| c.people).sum::<usize>().min(people);
        while small(remainder) {
            let Some(at) = (0..shown.len())
                .filter(|&i| shown[i].people > 0)
                .min_by_key(|&i| (shown[i].people, &shown[i].id))
            else {
                break;
            };
            remainder += shown.remove(at).people;
        }
        for c in kids {
            if shown.iter().any(|s| s.id == c.id) {
                todo.push((Some(c.id.as_str()), c.people));
            } else {
                hide_subtree(&children, c, &mut hidden);
            }
        }
    }
    hidden
}

fn hide_subtree(
    children: &BTreeMap<Option<&str>, Vec<&UnitCount>>,
    u: &UnitCount,
    hidden: &mut HashSet<String>,
) {
    let mut stack = vec![u];
    while let Some(u) = stack.pop() {
        if hidden.insert(u.id.clone()) {
            stack.extend(children.get(&Some(u.id.as_str())).into_iter().flatten());
        }
    }
}

/// Blanks every figure of rows that describe fewer than `k` people (but some).
///
/// `count` names the column holding the number of people a row is about.
/// In a suppressed row every numeric column other than `count` becomes null,
/// the count itself becomes null, and `suppressed` is set to true; text
/// (ids, names) stays so the row can still be labelled.
///
/// When exactly one row of a table is suppressed, the next smallest is
/// suppressed too: otherwise its figures could be recovered by subtracting
/// the others from a total shown elsewhere (complementary suppression). When
/// no other row is about anyone, a row of nobody is taken, or the lone
/// hidden row would be known to hold every one of the total.
/// Returns how many rows were suppressed.
pub fn suppress_small_groups(rows: &mut [Map<String, Value>], count: &str, k: usize) -> usize {
    let size = |r: &Map<String, Value>| r.get(count).and_then(Value::as_u64).unwrap_or(0) as usize;
    // a group of nobody reveals no one: only 1..k-1 is small
    let mut hidden: Vec<usize> = (0..rows.len())
        .filter(|&i| (1..k).contains(&size(&rows[i])))
        .collect();
    if hidden.len() == 1 && rows.len() > 1 {
        // the next smallest with people; failing that a row of nobody, so
        // that a lone hidden row is not known to hold everyone
        let next = (0..rows.len())
            .filter(|i| !hidden.contains(i))
            .min_by_key(|&i| (size(&rows[i]) == 0, size(&rows[i]), i));
        hidden.extend(next);
    }
    for r in rows.iter_mut() {
        r.insert("suppressed".into(), Value::Bool(false));
    }
    for &i in &hidden {
        suppress_row(&mut rows[i]);
    }
    hidden.len()
}

/// Figures computed from fewer people than their row is about, each with
/// the column counting the people it is computed from: a course's mean
/// change comes from the participants measured before and after, a mean gap
/// or meeting share from the pairs with an effective level (one per person
/// in a competency's row; in a category's or unit's row at least one per
/// person levelled, so a small count there means fewer people still), a
/// mean role fit from the people it was computed for.
pub const FIGURE_BASES: [(&str, &str); 4] = [
    ("mean_change", "measured"),
    ("mean_gap", "levelled_pairs"),
    ("meeting_share", "levelled_pairs"),
    ("mean_role_fit", "role_fit_people"),
];

/// Blanks the figures of a row that rest on 1..k-1 people although the row
/// itself is about more ([`FIGURE_BASES`]): a course with 5 participants of
/// whom 1 was measured shows no mean change. The blanked figures are listed
/// in `suppressed_figures`. Returns how many were blanked.
pub fn suppress_thin_figures(r: &mut Map<String, Value>, k: usize) -> usize {
    let mut blanked = Vec::new();
    for (figure, basis) in FIGURE_BASES {
        let thin = r
            .get(basis)
            .and_then(Value::as_u64)
            .is_some_and(|n| (1..k as u64).contains(&n));
        if thin && r.get(figure).is_some_and(|v| !v.is_null()) {
            r.insert(figure.into(), Value::Null);
            blanked.push(Value::String(figure.into()));
        }
    }
    let n = blanked.len();
    if n > 0 {
        r.insert("suppressed_figures".into(), Value::Array(blanked));
    }
    n
}

/// As [`suppress_small_groups`], within each group of rows sharing a
/// `group` value (the levels of one competency): the complementary row is
/// taken from the same group, since the group's total is shown elsewhere
/// (the competency's row). Counts in `small_counts` columns (`unassessed`)
/// that are 1..k-1 are blanked in every row. Returns how many rows were
/// suppressed.
pub fn suppress_small_groups_within(
    rows: &mut [Map<String, Value>],
    group: &str,
    count: &str,
    small_counts: &[&str],
    k: usize,
) -> usize {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let g = r.get(group).map(Value::to_string).unwrap_or_default();
        groups.entry(g).or_default().push(i);
    }
    let mut hidden = 0;
    for at in groups.values() {
        let mut part: Vec<Map<String, Value>> = at.iter().map(|&i| rows[i].clone()).collect();
        hidden += suppress_small_groups(&mut part, count, k);
        for (&i, r) in at.iter().zip(part) {
            rows[i] = r;
        }
    }
    for r in rows.iter_mut() {
        for c in small_counts {
            if r.get(*c)
                .and_then(Value::as_u64)
                .is_some_and(|n| (1..k as u64).contains(&n))
            {
                r.insert((*c).into(), Value::Null);
            }
        }
    }
    hidden
}

/// Blanks every number of a row and marks it `suppressed`; its text stays.
pub fn suppress_row(r: &mut Map<String, Value>) {
    for (_, v) in r.iter_mut() {
        if v.is_number() {
            *v = Value::Null;
        }
    }
    r.insert("suppressed".into(), Value::Bool(true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(sizes: &[u64]) -> Vec<Map<String, Value>> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                json!({"unit_id": format!("u{i}"), "headcount": n, "mean_gap": 0.5})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect()
    }

    #[test]
    fn small_groups_lose_their_figures_but_keep_their_labels() {
        let mut r = rows(&[12, 3, 2, 40]);
        assert_eq!(suppress_small_groups(&mut r, "headcount", 5), 2);
        assert_eq!(r[1]["mean_gap"], Value::Null);
        assert_eq!(r[1]["headcount"], Value::Null);
        assert_eq!(r[1]["unit_id"], "u1");
        assert_eq!(r[1]["suppressed"], true);
        assert_eq!(r[0]["mean_gap"], 0.5);
        assert_eq!(r[0]["suppressed"], false);
    }

    #[test]
    fn a_lone_suppressed_row_takes_the_next_smallest_with_it() {
        let mut r = rows(&[12, 3, 40, 9]);
        assert_eq!(suppress_small_groups(&mut r, "headcount", 5), 2);
        assert_eq!(
            r[3]["suppressed"], true,
            "9 is hidden so 3 cannot be derived from a total"
        );
        assert_eq!(r[0]["suppressed"], false);
    }

    fn units(spec: &[(&str, Option<&str>, usize)]) -> Vec<UnitCount> {
        spec.iter()
            .map(|(id, parent, people)| UnitCount {
                id: id.to_string(),
                parent: parent.map(str::to_string),
                people: *people,
            })
            .collect()
    }

    fn sorted(h: HashSet<String>) -> Vec<String> {
        let mut v: Vec<String> = h.into_iter().collect();
        v.sort();
        v
    }

    #[test]
    fn a_unit_close_to_its_parent_is_hidden_with_its_subtree() {
        // org 20 = a 12 (a1 6, a2 6) + b 8; a has no direct members
        let u = units(&[
            ("org", None, 20),
            ("a", Some("org"), 12),
            ("a1", Some("a"), 6),
            ("a2", Some("a"), 6),
            ("b", Some("org"), 8),
        ]);
        assert!(protected_units(&u, 5).is_empty(), "every remainder is 0");
        // now a has 2 direct members: a - a1 - a2 = 2 people, so a1 goes (the
        // smaller id of the two equal smallest), and a's remainder is 8
        let u = units(&[
            ("org", None, 22),
            ("a", Some("org"), 14),
            ("a1", Some("a"), 6),
            ("a2", Some("a"), 6),
            ("b", Some("org"), 8),
        ]);
        assert_eq!(sorted(protected_units(&u, 5)), ["a1"]);
    }

    #[test]
    fn small_units_hide_and_take_a_sibling_when_their_remainder_is_small() {
        // org 13 = a 10 + b 3: b is small; org - a = 3 would give b away, so a goes too
        let u = units(&[
            ("org", None, 13),
            ("a", Some("org"), 10),
            ("a1", Some("a"), 10),
            ("b", Some("org"), 3),
        ]);
        assert_eq!(sorted(protected_units(&u, 5)), ["a", "a1", "b"]);
        // with a third sibling the remainder 3 + 7 is large enough
        let u = units(&[
            ("org", None, 20),
            ("a", Some("org"), 10),
            ("b", Some("org"), 3),
            ("c", Some("org"), 7),
        ]);
        assert_eq!(sorted(protected_units(&u, 5)), ["b", "c"]);
        // people of nobody are no one's
        let u = units(&[
            ("org", None, 10),
            ("a", Some("org"), 10),
            ("z", Some("org"), 0),
        ]);
        assert!(protected_units(&u, 5).is_empty());
    }

    #[test]
    fn the_organisation_as_a_whole_is_a_parent_too() {
        // two roots, 9 and 2 people: the total 11 would give the 2 away
        let u = units(&[("x", None, 9), ("y", None, 2)]);
        assert_eq!(sorted(protected_units(&u, 5)), ["x", "y"]);
    }

    #[test]
    fn a_unit_whose_parent_is_not_defined_counts_as_a_root() {
        // org 20 and a unit of 3 under a parent nobody defined: the whole
        // organisation (23) minus org (20) would give the 3 away
        let u = units(&[
            ("org", None, 20),
            ("a", Some("org"), 10),
            ("b", Some("org"), 10),
            ("stray", Some("never-defined"), 3),
        ]);
        assert_eq!(sorted(protected_units(&u, 5)), ["a", "b", "org", "stray"]);
        // with 5 in it, it is a root like any other and nothing need hide
        let u = units(&[
            ("org", None, 20),
            ("a", Some("org"), 10),
            ("b", Some("org"), 10),
            ("stray", Some("never-defined"), 5),
        ]);
        assert!(protected_units(&u, 5).is_empty());
    }

    #[test]
    fn a_figure_resting_on_fewer_people_than_its_row_is_blanked() {
        // the course: 5 participants, 1 measured, mean change -0.8
        let mut course =
            json!({"course_id": "c1", "participants": 5, "measured": 1, "mean_change": -0.8})
                .as_object()
                .unwrap()
                .clone();
        assert_eq!(suppress_thin_figures(&mut course, 5), 1);
        assert_eq!(course["mean_change"], Value::Null);
        assert_eq!(course["participants"], 5, "the headcount stays");
        assert_eq!(course["suppressed_figures"], json!(["mean_change"]));
        // a competency of 6 people, 2 of them levelled: no mean gap, no share
        let mut comp = json!({"people_with_requirements": 6, "levelled_pairs": 2, "mean_gap": 1.5, "meeting_share": 0.5, "coverage": 0.33})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(suppress_thin_figures(&mut comp, 5), 2);
        assert_eq!(
            (comp["mean_gap"].clone(), comp["meeting_share"].clone()),
            (Value::Null, Value::Null)
        );
        assert_eq!(comp["coverage"], 0.33, "coverage rests on the row's people");
        // a role fit of 3 people in a row of 8
        let mut fit =
            json!({"people_with_requirements": 8, "role_fit_people": 3, "mean_role_fit": 0.859})
                .as_object()
                .unwrap()
                .clone();
        assert_eq!(suppress_thin_figures(&mut fit, 5), 1);
        assert_eq!(fit["mean_role_fit"], Value::Null);
        // nobody measured, or enough: nothing to blank
        for measured in [0, 5] {
            let mut c = json!({"participants": 9, "measured": measured, "mean_change": null})
                .as_object()
                .unwrap()
                .clone();
            c.insert("mean_change".into(), json!(0.4));
            let blanked = suppress_thin_figures(&mut c, 5);
            assert_eq!(blanked, 0, "measured {measured}");
            assert!(c.get("suppressed_figures").is_none());
        }
    }

    #[test]
    fn levels_are_suppressed_within_their_competency() {
        // c1: levels with 6, 2 and 7 people: the 2 goes and takes the 6 (the
        // next smallest of c1, not c2's 5); c2: 5 and 9, nothing; c1's 3
        // unassessed are blanked, c2's 6 stay
        let mut r: Vec<Map<String, Value>> = [
            ("c1", 1, 6, 3),
            ("c1", 2, 2, 3),
            ("c1", 3, 7, 3),
            ("c2", 1, 5, 6),
            ("c2", 2, 9, 6),
        ]
        .iter()
        .map(|(c, level, n, unassessed)| {
            json!({"competency_id": c, "level": level, "people_at_level": n, "unassessed": unassessed})
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
        assert_eq!(
            suppress_small_groups_within(
                &mut r,
                "competency_id",
                "people_at_level",
                &["unassessed"],
                5
            ),
            2
        );
        let hidden: Vec<bool> = r.iter().map(|x| x["suppressed"] == true).collect();
        assert_eq!(hidden, [true, true, false, false, false]);
        assert_eq!(
            r[2]["unassessed"],
            Value::Null,
            "3 unassessed is a small group"
        );
        assert_eq!(r[3]["unassessed"], 6);
    }

    #[test]
    fn nothing_to_hide() {
        let mut r = rows(&[5, 6, 0]);
        assert_eq!(suppress_small_groups(&mut r, "headcount", 5), 0);
    }
}

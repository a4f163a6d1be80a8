//! Small-group suppression for roles that may not see individuals.

use serde_json::{Map, Value};

/// Blanks every figure of rows that describe fewer than `k` people (but some).
///
/// `count` names the column holding the number of people a row is about.
/// In a suppressed row every numeric column other than `count` becomes null,
/// the count itself becomes null, and `suppressed` is set to true; text
/// (ids, names) stays so the row can still be labelled.
///
/// When exactly one row of a table is suppressed, the next smallest is
/// suppressed too: otherwise its figures could be recovered by subtracting
/// the others from a total shown elsewhere (complementary suppression).
/// Returns how many rows were suppressed.
pub fn suppress_small_groups(rows: &mut [Map<String, Value>], count: &str, k: usize) -> usize {
    let size = |r: &Map<String, Value>| r.get(count).and_then(Value::as_u64).unwrap_or(0) as usize;
    // a group of nobody reveals no one: only 1..k-1 is small
    let mut hidden: Vec<usize> = (0..rows.len())
        .filter(|&i| (1..k).contains(&size(&rows[i])))
        .collect();
    if hidden.len() == 1 && rows.len() > 1 {
        let next = (0..rows.len())
            .filter(|i| !hidden.contains(i) && size(&rows[*i]) > 0)
            .min_by_key(|&i| size(&rows[i]));
        hidden.extend(next);
    }
    for r in rows.iter_mut() {
        r.insert("suppressed".into(), Value::Bool(false));
    }
    for &i in &hidden {
        let r = &mut rows[i];
        for (_, v) in r.iter_mut() {
            if v.is_number() {
                *v = Value::Null;
            }
        }
        r.insert("suppressed".into(), Value::Bool(true));
    }
    hidden.len()
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

    #[test]
    fn nothing_to_hide() {
        let mut r = rows(&[5, 6, 0]);
        assert_eq!(suppress_small_groups(&mut r, "headcount", 5), 0);
    }
}

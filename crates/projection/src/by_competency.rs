//! A small map from competency id to a value, kept as one sorted vector.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// Values by competency id, in id order: an employee holds a few, so one
/// sorted vector (a binary search to find one) is lighter to build than a
/// tree and enough to look up.
#[derive(Debug, Clone, PartialEq)]
pub struct ByCompetency<V>(Vec<(Arc<str>, V)>);

impl<V> Default for ByCompetency<V> {
    fn default() -> Self {
        ByCompetency(Vec::new())
    }
}

impl<V> ByCompetency<V> {
    /// The value of competency `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(id))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Whether competency `id` has a value.
    pub fn contains_key(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// (competency id, value) in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// How many competencies have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V> FromIterator<(Arc<str>, V)> for ByCompetency<V> {
    /// Sorts by id; of two values for one id, the last is kept.
    fn from_iter<I: IntoIterator<Item = (Arc<str>, V)>>(iter: I) -> Self {
        let mut v: Vec<(Arc<str>, V)> = iter.into_iter().collect();
        // stable, so that among equal ids the last given comes last
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Arc<str>, V)> = Vec::with_capacity(v.len());
        for (k, val) in v {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = val,
                _ => out.push((k, val)),
            }
        }
        ByCompetency(out)
    }
}

impl<'a, V> IntoIterator for &'a ByCompetency<V> {
    type Item = (&'a Arc<str>, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, V)>,
        fn(&'a (Arc<str>, V)) -> (&'a Arc<str>, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V> std::ops::Index<&str> for ByCompetency<V> {
    type Output = V;

    /// Panics when `id` has no value, as a map's index does.
    fn index(&self, id: &str) -> &V {
        self.get(id)
            .unwrap_or_else(|| panic!("no value for competency {id}"))
    }
}

/// Serialises as a map in id order: the same JSON as a `BTreeMap`.
impl<V: Serialize> Serialize for ByCompetency<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(&**k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_iterates_in_order_keeps_the_last_and_prints_as_a_map() {
        let m: ByCompetency<u32> = [("b", 1), ("a", 2), ("c", 3), ("a", 4)]
            .into_iter()
            .map(|(k, v)| (Arc::from(k), v))
            .collect();
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("a"), Some(&4), "the last value given wins");
        assert_eq!(m["c"], 3);
        assert!(m.contains_key("b") && !m.contains_key("d"));
        let keys: Vec<&str> = m.iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"a":4,"b":1,"c":3}"#
        );
        assert!(ByCompetency::<u32>::default().is_empty());
    }
}

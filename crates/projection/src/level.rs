//! The effective level of an employee in one competency.

use cadre_model::AssessorType;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::timeline::{Assessed, History};

/// How assessments and trainings combine into an effective level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LevelPolicy {
    /// Assessments older than this many days no longer count.
    pub window_days: i64,
    /// Weight of the latest manager assessment.
    pub manager: f64,
    /// Weight of the latest panel assessment.
    pub panel: f64,
    /// Weight of the latest peer assessment.
    pub peer: f64,
    /// Weight of the latest self-assessment.
    pub self_assessed: f64,
}

impl Default for LevelPolicy {
    fn default() -> Self {
        LevelPolicy {
            window_days: 730,
            manager: 0.4,
            panel: 0.4,
            peer: 0.1,
            self_assessed: 0.1,
        }
    }
}

impl LevelPolicy {
    /// The weight of an assessor type.
    pub fn weight(&self, t: AssessorType) -> f64 {
        match t {
            AssessorType::Manager => self.manager,
            AssessorType::Panel => self.panel,
            AssessorType::Peer => self.peer,
            AssessorType::SelfAssessed => self.self_assessed,
        }
    }
}

/// Where an effective level comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelSource {
    /// Assessments only.
    Assessed,
    /// Assessments, raised by a later training (provisional until reassessed).
    AssessedAndTrained,
    /// A training only, with no assessment in the window (provisional).
    TrainedOnly,
}

/// An employee's level in a competency at a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectiveLevel {
    /// The level, possibly fractional (a weighted mean of assessor types).
    pub level: f64,
    /// Where it comes from.
    pub source: LevelSource,
    /// When the latest counted assessment happened.
    pub latest_assessment: Option<DateTime<Utc>>,
    /// Whether every counted assessment is a self-assessment.
    pub self_only: bool,
}

impl EffectiveLevel {
    /// Whether a training raised the level since the last assessment.
    pub fn provisional(&self) -> bool {
        self.source != LevelSource::Assessed
    }

    /// Whether an assessment inside the window stands behind the level.
    pub fn assessed(&self) -> bool {
        self.source != LevelSource::TrainedOnly
    }
}

/// Computes the effective level as of `as_of`, or `None` when unassessed.
pub(crate) fn effective_level(
    policy: &LevelPolicy,
    as_of: DateTime<Utc>,
    assessments: Option<&History<Assessed>>,
    trainings: Option<&History<(String, u8)>>,
) -> Option<EffectiveLevel> {
    let since = as_of - Duration::days(policy.window_days);
    let in_window = |at: DateTime<Utc>| at > since && at <= as_of;

    // latest assessment per assessor type inside the window
    let mut latest: [Option<(DateTime<Utc>, u8)>; 4] = [None; 4];
    if let Some(h) = assessments {
        for d in h.until(as_of).iter().rev() {
            if !in_window(d.at) {
                break;
            }
            let slot = &mut latest[type_index(d.value.assessor_type)];
            if slot.is_none() {
                *slot = Some((d.at, d.value.level));
            }
        }
    }
    let mut sum = 0.0;
    let mut weights = 0.0;
    let mut last_at: Option<DateTime<Utc>> = None;
    let mut self_only = true;
    for t in AssessorType::ALL.iter() {
        if let Some((at, level)) = latest[type_index(*t)] {
            let w = policy.weight(*t);
            sum += w * f64::from(level);
            weights += w;
            last_at = Some(last_at.map_or(at, |l| l.max(at)));
            if *t != AssessorType::SelfAssessed {
                self_only = false;
            }
        }
    }
    // rounded to 9 decimal places: a weighted mean of whole levels must not
    // fall a rounding error short of a whole level (0.4·3 + 0.1·3) / 0.5 and
    // so fail to meet a requirement, or show a gap of 4e-16
    let base = (weights > 0.0).then(|| (sum / weights * 1e9).round() / 1e9);

    // the highest target among trainings after the latest assessment
    let target = trainings.and_then(|h| {
        h.until(as_of)
            .iter()
            .filter(|d| in_window(d.at) && last_at.is_none_or(|l| d.at > l))
            .map(|d| d.value.1)
            .max()
    });

    match (base, target) {
        (None, None) => None,
        (Some(level), None) => Some(EffectiveLevel {
            level,
            source: LevelSource::Assessed,
            latest_assessment: last_at,
            self_only,
        }),
        (Some(level), Some(t)) => {
            let raised = raise(level, t);
            Some(EffectiveLevel {
                level: raised,
                source: if raised > level {
                    LevelSource::AssessedAndTrained
                } else {
                    LevelSource::Assessed
                },
                latest_assessment: last_at,
                self_only,
            })
        }
        (None, Some(t)) => Some(EffectiveLevel {
            level: raise(0.0, t),
            source: LevelSource::TrainedOnly,
            latest_assessment: None,
            self_only: false,
        }),
    }
}

/// A training raises a level by at most 1, and never above its target.
fn raise(level: f64, target: u8) -> f64 {
    let t = f64::from(target);
    if t > level {
        (level + 1.0).min(t)
    } else {
        level
    }
}

fn type_index(t: AssessorType) -> usize {
    match t {
        AssessorType::Manager => 0,
        AssessorType::Panel => 1,
        AssessorType::Peer => 2,
        AssessorType::SelfAssessed => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 12, 0, 0).unwrap()
    }

    fn assessment(t: AssessorType, level: u8) -> Assessed {
        Assessed {
            level,
            assessor_type: t,
        }
    }

    #[test]
    fn weights_latest_per_type_renormalised() {
        let mut h = History::default();
        h.insert(day(1), 0, assessment(AssessorType::Manager, 1));
        h.insert(day(2), 1, assessment(AssessorType::Manager, 3)); // replaces the first
        h.insert(day(3), 2, assessment(AssessorType::SelfAssessed, 4));
        let l = effective_level(&LevelPolicy::default(), day(20), Some(&h), None).unwrap();
        // (0.4*3 + 0.1*4) / 0.5 = 3.2
        assert!((l.level - 3.2).abs() < 1e-12, "{}", l.level);
        assert_eq!(l.source, LevelSource::Assessed);
        assert!(!l.self_only);
    }

    #[test]
    fn training_raises_by_at_most_one_up_to_target() {
        let mut a = History::default();
        a.insert(day(1), 0, assessment(AssessorType::Manager, 2));
        let mut t = History::default();
        t.insert(day(5), 1, ("course".to_string(), 5u8));
        let l = effective_level(&LevelPolicy::default(), day(20), Some(&a), Some(&t)).unwrap();
        assert_eq!(l.level, 3.0);
        assert!(l.provisional());
        // a target of 2.5-ish below the level changes nothing
        let mut t2 = History::default();
        t2.insert(day(5), 1, ("course".to_string(), 2u8));
        let l = effective_level(&LevelPolicy::default(), day(20), Some(&a), Some(&t2)).unwrap();
        assert_eq!(l.level, 2.0);
        assert!(!l.provisional());
    }

    #[test]
    fn training_before_the_assessment_does_not_count() {
        let mut a = History::default();
        a.insert(day(10), 0, assessment(AssessorType::Manager, 2));
        let mut t = History::default();
        t.insert(day(5), 1, ("course".to_string(), 5u8));
        let l = effective_level(&LevelPolicy::default(), day(20), Some(&a), Some(&t)).unwrap();
        assert_eq!(l.level, 2.0);
    }

    #[test]
    fn assessments_outside_the_window_are_ignored() {
        let mut a = History::default();
        a.insert(day(1), 0, assessment(AssessorType::Manager, 2));
        let later = day(1) + Duration::days(730);
        assert!(effective_level(&LevelPolicy::default(), later, Some(&a), None).is_none());
        let just_inside = later - Duration::seconds(1);
        assert!(effective_level(&LevelPolicy::default(), just_inside, Some(&a), None).is_some());
    }

    #[test]
    fn self_only_evidence_is_flagged() {
        let mut a = History::default();
        a.insert(day(1), 0, assessment(AssessorType::SelfAssessed, 4));
        let l = effective_level(&LevelPolicy::default(), day(2), Some(&a), None).unwrap();
        assert!(l.self_only);
        assert_eq!(l.level, 4.0);
    }

    #[test]
    fn training_alone_gives_a_provisional_level_one() {
        let mut t = History::default();
        t.insert(day(5), 1, ("course".to_string(), 3u8));
        let l = effective_level(&LevelPolicy::default(), day(20), None, Some(&t)).unwrap();
        assert_eq!(l.level, 1.0);
        assert!(!l.assessed());
    }
}

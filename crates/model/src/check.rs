//! The rules one value obeys on its own, beyond what serde reads: the
//! limits of ids, names and texts, levels within any scale, and each
//! payload's own rules ([`Check`]). Every payload type in the event table
//! must implement [`Check`], so a new type cannot be added without its rules.

use crate::payload::{
    AssessmentRecorded, EmployeeAssigned, EmployeeHired, EmployeeLeft, OrgUnitDefined,
    PerformanceRated, PositionDefined, PotentialRated, RoleProfileDefined, SuccessionNominated,
    SuccessionWithdrawn, TrainingCompleted,
};

/// Longest identifier accepted (employee, position, competency, ...).
pub const MAX_ID_LEN: usize = 128;
/// Longest display name accepted.
pub const MAX_NAME_LEN: usize = 256;
/// Longest free text accepted (evidence, reasons, descriptions).
pub const MAX_TEXT_LEN: usize = 4000;
/// Highest level any proficiency scale may have.
pub const MAX_SCALE_LEVEL: u8 = 10;

/// Why a JSON value is not a valid event: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct DecodeError {
    /// JSON pointer to the offending value (`""` for the whole document).
    pub path: String,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl DecodeError {
    /// A decode error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        DecodeError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn serde(path: &str, e: &serde_json::Error) -> Self {
        DecodeError::new(path, e.to_string())
    }
}

pub(crate) fn non_empty(path: &str, s: &str) -> Result<(), DecodeError> {
    bounded(path, s, MAX_ID_LEN)
}

/// Whether `s` has more than `max` characters; counted only when its bytes
/// are more (a character is at least one byte), which ids and names rarely are.
pub(crate) fn longer_than(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

pub(crate) fn bounded(path: &str, s: &str, max: usize) -> Result<(), DecodeError> {
    if s.trim().is_empty() {
        return Err(DecodeError::new(path, "must not be empty"));
    }
    if longer_than(s, max) {
        return Err(DecodeError::new(
            path,
            format!("longer than {max} characters"),
        ));
    }
    Ok(())
}

pub(crate) fn text(path: &str, s: &Option<String>) -> Result<(), DecodeError> {
    match s {
        Some(s) if longer_than(s, MAX_TEXT_LEN) => Err(DecodeError::new(
            path,
            format!("longer than {MAX_TEXT_LEN} characters"),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn level(path: &str, l: u8) -> Result<(), DecodeError> {
    if l > MAX_SCALE_LEVEL {
        return Err(DecodeError::new(
            path,
            format!("level must be at most {MAX_SCALE_LEVEL}"),
        ));
    }
    Ok(())
}

/// A payload's own rules, given its event's subject.
pub(crate) trait Check {
    /// Why the payload is not valid, if it is not.
    fn check(&self, subject: &str) -> Result<(), DecodeError>;
}

impl<T: Check> Check for Box<T> {
    fn check(&self, subject: &str) -> Result<(), DecodeError> {
        (**self).check(subject)
    }
}

impl Check for OrgUnitDefined {
    fn check(&self, subject: &str) -> Result<(), DecodeError> {
        bounded("/data/name", &self.name, MAX_NAME_LEN)?;
        if let Some(p) = &self.parent_id {
            non_empty("/data/parent_id", p)?;
            if p == subject {
                return Err(DecodeError::new(
                    "/data/parent_id",
                    "a unit cannot be its own parent",
                ));
            }
        }

        Ok(())
    }
}

impl Check for RoleProfileDefined {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        bounded("/data/name", &self.name, MAX_NAME_LEN)?;
        non_empty("/data/framework_id", &self.framework_id)?;
        if self.requirements.is_empty() {
            return Err(DecodeError::new(
                "/data/requirements",
                "a role needs at least one requirement",
            ));
        }
        for (i, q) in self.requirements.iter().enumerate() {
            non_empty(
                &format!("/data/requirements/{i}/competency_id"),
                &q.competency_id,
            )?;
            level(&format!("/data/requirements/{i}/level"), q.level)?;
            if !(q.weight > 0.0 && q.weight <= 100.0) {
                return Err(DecodeError::new(
                    format!("/data/requirements/{i}/weight"),
                    "weight must be greater than 0 and at most 100",
                ));
            }
        }

        Ok(())
    }
}

impl Check for PositionDefined {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        bounded("/data/title", &self.title, MAX_NAME_LEN)?;
        non_empty("/data/role_id", &self.role_id)?;
        non_empty("/data/org_unit_id", &self.org_unit_id)?;

        Ok(())
    }
}

impl Check for EmployeeHired {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        bounded("/data/name", &self.name, MAX_NAME_LEN)
    }
}

impl Check for EmployeeAssigned {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        non_empty("/data/position_id", &self.position_id)
    }
}

impl Check for EmployeeLeft {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        text("/data/reason", &self.reason)
    }
}

impl Check for AssessmentRecorded {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        non_empty("/data/competency_id", &self.competency_id)?;
        level("/data/level", self.level)?;
        non_empty("/data/assessor_id", &self.assessor_id)?;
        text("/data/evidence", &self.evidence)?;

        Ok(())
    }
}

impl Check for TrainingCompleted {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        non_empty("/data/course_id", &self.course_id)?;
        if let Some(title) = &self.course_title {
            bounded("/data/course_title", title, MAX_NAME_LEN)?;
        }
        if self.competencies.is_empty() {
            return Err(DecodeError::new(
                "/data/competencies",
                "a training must develop at least one competency",
            ));
        }
        for (i, c) in self.competencies.iter().enumerate() {
            non_empty(
                &format!("/data/competencies/{i}/competency_id"),
                &c.competency_id,
            )?;
            level(
                &format!("/data/competencies/{i}/target_level"),
                c.target_level,
            )?;
        }

        Ok(())
    }
}

impl Check for PerformanceRated {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        if !(1..=5).contains(&self.rating) {
            return Err(DecodeError::new(
                "/data/rating",
                "rating must be between 1 and 5",
            ));
        }
        non_empty("/data/period", &self.period)?;

        Ok(())
    }
}

impl Check for PotentialRated {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        Ok(())
    }
}

impl Check for SuccessionNominated {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        non_empty("/data/candidate_id", &self.candidate_id)
    }
}

impl Check for SuccessionWithdrawn {
    fn check(&self, _subject: &str) -> Result<(), DecodeError> {
        non_empty("/data/candidate_id", &self.candidate_id)?;
        text("/data/reason", &self.reason)?;

        Ok(())
    }
}

//! The competency framework: scale, categories, competencies, indicators.

use serde::{Deserialize, Serialize};

use crate::check::{non_empty, Check, DecodeError};

/// One level of a proficiency scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleLevel {
    /// The integer level, from 0 upwards.
    pub level: u8,
    /// What the level is called, e.g. "Proficient".
    pub label: String,
}

/// An integer proficiency scale from 0 to `max`, with a label per level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProficiencyScale {
    /// Levels 0..=max, in order, each exactly once.
    pub levels: Vec<ScaleLevel>,
}

impl Default for ProficiencyScale {
    fn default() -> Self {
        let labels = [
            "Not demonstrated",
            "Awareness",
            "Basic",
            "Proficient",
            "Advanced",
            "Expert",
        ];
        ProficiencyScale {
            levels: labels
                .iter()
                .enumerate()
                .map(|(i, l)| ScaleLevel {
                    level: i as u8,
                    label: (*l).to_string(),
                })
                .collect(),
        }
    }
}

impl ProficiencyScale {
    /// The highest level of the scale.
    pub fn max(&self) -> u8 {
        self.levels.last().map(|l| l.level).unwrap_or(0)
    }

    /// The label of a level, if the scale has it.
    pub fn label(&self, level: u8) -> Option<&str> {
        self.levels.get(level as usize).map(|l| l.label.as_str())
    }

    fn check(&self) -> Result<(), DecodeError> {
        if self.levels.len() < 2 {
            return Err(DecodeError::new(
                "/data/scale/levels",
                "a scale needs at least two levels",
            ));
        }
        for (i, l) in self.levels.iter().enumerate() {
            if l.level as usize != i {
                return Err(DecodeError::new(
                    format!("/data/scale/levels/{i}/level"),
                    format!(
                        "levels must run 0, 1, 2, ... in order; expected {i}, found {}",
                        l.level
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A group of competencies, such as core, leadership, managerial, technical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Identifier, unique within the framework.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the category covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A competency and the behaviours that show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    /// Identifier, unique across the frameworks an organisation publishes.
    pub id: String,
    /// The category this competency belongs to.
    pub category: String,
    /// Display name.
    pub name: String,
    /// A sentence or two on what the competency is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Behavioural indicators: what someone with the competency does.
    #[serde(default)]
    pub indicators: Vec<String>,
}

/// A value the framework asks every employee to hold (e.g. integrity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkValue {
    /// Identifier, unique within the framework.
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the value means in practice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A published competency framework: the payload of `framework.published`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Stable identifier, e.g. `cambridge-city-council`.
    pub id: String,
    /// Version number; a later publication with a higher version replaces it.
    pub version: u32,
    /// Display name.
    pub name: String,
    /// Who publishes the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Year of publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u16>,
    /// The proficiency scale; the 0..=5 default when omitted.
    #[serde(default)]
    pub scale: ProficiencyScale,
    /// Categories of competencies.
    pub categories: Vec<Category>,
    /// The competencies.
    pub competencies: Vec<Competency>,
    /// Values the framework names beside its competencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<FrameworkValue>,
}

impl Framework {
    /// Parses a framework file (the bare framework, not an event).
    pub fn from_json(text: &str) -> Result<Framework, DecodeError> {
        let f: Framework = serde_json::from_str(text).map_err(|e| DecodeError::serde("", &e))?;
        f.check()?;
        Ok(f)
    }

    /// Finds a competency by id.
    pub fn competency(&self, id: &str) -> Option<&Competency> {
        self.competencies.iter().find(|c| c.id == id)
    }

    /// Checks the rules a framework must obey on its own.
    pub(crate) fn check(&self) -> Result<(), DecodeError> {
        non_empty("/data/id", &self.id)?;
        self.scale.check()?;
        if self.categories.is_empty() {
            return Err(DecodeError::new(
                "/data/categories",
                "a framework needs at least one category",
            ));
        }
        if self.competencies.is_empty() {
            return Err(DecodeError::new(
                "/data/competencies",
                "a framework needs at least one competency",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.competencies.iter().enumerate() {
            non_empty(&format!("/data/competencies/{i}/id"), &c.id)?;
            if !seen.insert(c.id.as_str()) {
                return Err(DecodeError::new(
                    format!("/data/competencies/{i}/id"),
                    format!("competency id {:?} appears twice", c.id),
                ));
            }
            if !self.categories.iter().any(|k| k.id == c.category) {
                return Err(DecodeError::new(
                    format!("/data/competencies/{i}/category"),
                    format!(
                        "category {:?} is not one of the framework's categories",
                        c.category
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The framework of a `framework.published` event: its own rules, and its id is the subject.
impl Check for Framework {
    fn check(&self, subject: &str) -> Result<(), DecodeError> {
        self.check()?;
        if self.id != subject {
            return Err(DecodeError::new(
                "/data/id",
                "must equal the event's subject (the framework id)",
            ));
        }

        Ok(())
    }
}

//! Why an item was refused, in the words the dead-letter store and the API give back.

use serde::Serialize;

/// Why an item was refused: the JSON pointer of the offending value and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// JSON pointer into the event (`""` for the whole item).
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

impl Rejection {
    /// A rejection at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejection {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

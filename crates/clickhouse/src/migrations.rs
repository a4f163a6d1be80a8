//! Versioned schema migrations, applied in order and recorded in ClickHouse.

/// One migration: a version, a name and its SQL (several statements).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Applied in increasing order; never reused.
    pub version: u32,
    /// What it does.
    pub name: &'static str,
    /// The statements, separated by `;`.
    pub sql: &'static str,
}

/// Every migration in the repository, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "tables",
        sql: include_str!("../migrations/0001_tables.sql"),
    },
    Migration {
        version: 2,
        name: "views",
        sql: include_str!("../migrations/0002_views.sql"),
    },
];

impl Migration {
    /// The statements, comments dropped.
    pub fn statements(&self) -> Vec<String> {
        let text: String = self
            .sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .map(|l| format!("{l}\n"))
            .collect();
        text.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Words of ClickHouse SQL that 18.16 lacks or has only behind an experimental
/// setting; the migrations avoid them so that they run there and on current
/// releases.
pub const NOT_PORTABLE: &[&str] = &[
    // types added after 18.16
    "LowCardinality",
    "Bool",
    "Map(",
    "JSON",
    "Object(",
    "DateTime64",
    "Int128",
    "Int256",
    "UInt128",
    "UInt256",
    "Decimal256",
    "IPv4",
    "IPv6",
    "SimpleAggregateFunction",
    "Variant(",
    "Dynamic",
    // clauses added after 18.16
    "TTL",
    "CODEC",
    "EPHEMERAL",
    "LIVE VIEW",
    "WINDOW VIEW",
    "PROJECTION",
    "INDEX ",
    "CONSTRAINT",
    "COMMENT",
    "OVER (",
    "WITH FILL",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_names_match_files() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].version < w[1].version);
        }
        for m in MIGRATIONS {
            assert!(!m.statements().is_empty(), "{} has statements", m.name);
        }
    }

    #[test]
    fn definitions_avoid_features_newer_than_clickhouse_18_16() {
        for m in MIGRATIONS {
            for st in m.statements() {
                for word in NOT_PORTABLE {
                    assert!(
                        !st.contains(word),
                        "migration {} uses {word}, which ClickHouse 18.16 lacks: {st}",
                        m.version
                    );
                }
                // the pre-2018 engine syntax MergeTree(date, key, granularity)
                // is refused by current releases
                for engine in ["MergeTree(", "ReplacingMergeTree("] {
                    if let Some(i) = st.find(engine) {
                        let rest = &st[i + engine.len()..];
                        assert!(
                            rest.starts_with(')'),
                            "migration {}: old-style engine parameters: {st}",
                            m.version
                        );
                    }
                }
                if st.contains("ENGINE") {
                    assert!(
                        st.contains("ORDER BY"),
                        "every table declares ORDER BY: {st}"
                    );
                }
                if st.starts_with("CREATE") {
                    assert!(st.contains("IF NOT EXISTS"), "re-runnable: {st}");
                }
                // joins need an explicit strictness on 18.16, and one join per SELECT
                for (i, _) in st.match_indices("JOIN") {
                    let before = &st[..i];
                    assert!(
                        before.ends_with("ANY LEFT ") || before.ends_with("ALL LEFT "),
                        "migration {}: joins are ANY/ALL LEFT JOIN: {st}",
                        m.version
                    );
                }
            }
        }
    }
}

-- cadre's tables. Written to run unchanged on ClickHouse 18.16 and on current
-- releases: MergeTree family with PARTITION BY / ORDER BY clauses, plain
-- types (String, UIntN, Float64, Nullable, DateTime('UTC')); no LowCardinality,
-- TTL, codecs, Bool, Map, JSON or DateTime64 (see tests in src/migrations.rs).
--
-- Raw events: one row per event id. A re-sent or replayed event is inserted
-- again and collapses into one row when parts merge; read with FINAL (or
-- uniqExact(event_id)) for exact counts before a merge.
CREATE TABLE IF NOT EXISTS cadre_events (
    event_id String,
    type String,
    schema_version UInt32,
    occurred_at DateTime('UTC'),
    occurred_at_iso String,
    recorded_at DateTime('UTC'),
    source String,
    subject String,
    data String,
    shard String,
    seq UInt64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY event_id;

-- Every other table holds exports: the analytics of one shard (one instance's
-- share of the employees) at one moment, under an export id. An export is
-- visible only once its row in cadre_exports exists, and that row is written
-- after every other table of the export: a failed or repeated export is never
-- read, and readers take the latest complete export of each shard.
CREATE TABLE IF NOT EXISTS cadre_exports (
    shard String,
    export_id UInt64,
    as_of DateTime('UTC'),
    events UInt64,
    employees UInt32,
    with_succession UInt8,
    exported_at DateTime('UTC')
) ENGINE = ReplacingMergeTree()
ORDER BY (shard, export_id);

CREATE TABLE IF NOT EXISTS cadre_units (
    shard String,
    export_id UInt64,
    unit_id String,
    unit_name String,
    parent_id Nullable(String),
    depth UInt32
) ENGINE = MergeTree()
ORDER BY (shard, export_id, unit_id);

CREATE TABLE IF NOT EXISTS cadre_competencies (
    shard String,
    export_id UInt64,
    competency_id String,
    competency_name String,
    category String,
    category_name String,
    framework_id String
) ENGINE = MergeTree()
ORDER BY (shard, export_id, competency_id);

CREATE TABLE IF NOT EXISTS cadre_employees (
    shard String,
    export_id UInt64,
    employee_id String,
    name String,
    org_unit_id Nullable(String),
    position_id Nullable(String),
    role_id Nullable(String),
    required_pairs UInt32,
    unassessed_pairs UInt32,
    total_weighted_gap Float64,
    role_fit Nullable(Float64)
) ENGINE = MergeTree()
ORDER BY (shard, export_id, employee_id);

CREATE TABLE IF NOT EXISTS cadre_effective_levels (
    shard String,
    export_id UInt64,
    employee_id String,
    competency_id String,
    level Float64,
    assessed UInt8,
    provisional UInt8,
    self_only UInt8,
    latest_assessment Nullable(DateTime('UTC'))
) ENGINE = MergeTree()
ORDER BY (shard, export_id, employee_id, competency_id);

CREATE TABLE IF NOT EXISTS cadre_gaps (
    shard String,
    export_id UInt64,
    employee_id String,
    org_unit_id Nullable(String),
    role_id Nullable(String),
    competency_id String,
    category String,
    required Float64,
    weight Float64,
    effective Nullable(Float64),
    assessed Nullable(UInt8),
    provisional Nullable(UInt8),
    gap Nullable(Float64),
    weighted_gap Nullable(Float64),
    meets Nullable(UInt8),
    stale Nullable(UInt8),
    self_only Nullable(UInt8)
) ENGINE = MergeTree()
ORDER BY (shard, export_id, employee_id, competency_id);

-- Partial aggregates: sums and counts per unit subtree (unit_id '' is the
-- whole organisation) and competency. Shards add up; every mean is a ratio of
-- two sums (docs/metrics.md, "Partial aggregates").
CREATE TABLE IF NOT EXISTS cadre_gap_partials (
    shard String,
    export_id UInt64,
    unit_id String,
    competency_id String,
    category String,
    required_pairs UInt32,
    assessed_pairs UInt32,
    levelled_pairs UInt32,
    meeting_pairs UInt32,
    ever_assessed_pairs UInt32,
    stale_pairs UInt32,
    self_only_pairs UInt32,
    gap_sum Float64,
    weighted_gap_sum Float64,
    affected_pairs UInt32,
    affected_gap_sum Float64,
    borich_sum Float64
) ENGINE = MergeTree()
ORDER BY (shard, export_id, unit_id, competency_id);

CREATE TABLE IF NOT EXISTS cadre_people_partials (
    shard String,
    export_id UInt64,
    unit_id String,
    headcount UInt32,
    people_with_requirements UInt32,
    role_fit_sum Float64,
    role_fit_people UInt32
) ENGINE = MergeTree()
ORDER BY (shard, export_id, unit_id);

CREATE TABLE IF NOT EXISTS cadre_trend_partials (
    shard String,
    export_id UInt64,
    month_end DateTime('UTC'),
    unit_id String,
    headcount UInt32,
    required_pairs UInt32,
    assessed_pairs UInt32,
    levelled_pairs UInt32,
    ever_assessed_pairs UInt32,
    stale_pairs UInt32,
    gap_sum Float64
) ENGINE = MergeTree()
ORDER BY (shard, export_id, month_end, unit_id);

-- Succession needs every employee: written only by the instance configured
-- with succession = true.
CREATE TABLE IF NOT EXISTS cadre_succession_positions (
    shard String,
    export_id UInt64,
    position_id String,
    title String,
    org_unit_id String,
    role_id String,
    incumbent_id Nullable(String),
    incumbent_name Nullable(String),
    incumbent_leaving_on Nullable(String),
    vacant UInt8,
    candidates UInt32,
    ready_now UInt32,
    ready_1_2_years UInt32,
    ready_3_plus_years UInt32,
    not_ready UInt32,
    bench_strength Float64,
    discounted_bench Float64,
    risk String
) ENGINE = MergeTree()
ORDER BY (shard, export_id, position_id);

CREATE TABLE IF NOT EXISTS cadre_succession_candidates (
    shard String,
    export_id UInt64,
    position_id String,
    candidate_id String,
    name String,
    nominated UInt8,
    stated_readiness Nullable(String),
    role_fit Float64,
    computed_readiness String,
    performance Nullable(UInt8),
    disagreement UInt8,
    candidacies UInt32
) ENGINE = MergeTree()
ORDER BY (shard, export_id, position_id, candidate_id);

CREATE TABLE IF NOT EXISTS cadre_succession_months (
    shard String,
    export_id UInt64,
    month_end DateTime('UTC'),
    critical_positions UInt32,
    with_ready_now UInt32,
    red UInt32,
    amber UInt32,
    vacant UInt32,
    bench_strength_sum Float64
) ENGINE = MergeTree()
ORDER BY (shard, export_id, month_end);

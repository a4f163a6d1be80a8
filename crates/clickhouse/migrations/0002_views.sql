-- Views that read the latest complete export of every shard and add the
-- shards up. Grafana panels and ad-hoc SQL read these. ANY LEFT JOIN ... USING
-- and one join per SELECT keep them valid on ClickHouse 18.16 and current.
CREATE VIEW IF NOT EXISTS cadre_latest_exports AS
SELECT shard, max(export_id) AS export_id, max(as_of) AS as_of, sum(events) AS events
FROM cadre_exports
GROUP BY shard;

CREATE VIEW IF NOT EXISTS cadre_current_units AS
SELECT unit_id, any(unit_name) AS unit_name, any(parent_id) AS parent_id, any(depth) AS depth
FROM cadre_units
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports)
GROUP BY unit_id;

CREATE VIEW IF NOT EXISTS cadre_current_competencies AS
SELECT competency_id, any(competency_name) AS competency_name, any(category) AS category,
       any(category_name) AS category_name
FROM cadre_competencies
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports)
GROUP BY competency_id;

CREATE VIEW IF NOT EXISTS cadre_current_gaps AS
SELECT *
FROM cadre_gaps
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports);

CREATE VIEW IF NOT EXISTS cadre_current_employees AS
SELECT *
FROM cadre_employees
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports);

-- Sums per unit subtree and competency over every shard's latest export.
CREATE VIEW IF NOT EXISTS cadre_unit_competency_sums AS
SELECT unit_id, competency_id, any(category) AS category,
       sum(required_pairs) AS required_pairs, sum(assessed_pairs) AS assessed_pairs,
       sum(levelled_pairs) AS levelled_pairs, sum(meeting_pairs) AS meeting_pairs,
       sum(ever_assessed_pairs) AS ever_assessed_pairs, sum(stale_pairs) AS stale_pairs,
       sum(self_only_pairs) AS self_only_pairs, sum(gap_sum) AS gap_sum,
       sum(weighted_gap_sum) AS weighted_gap_sum, sum(affected_pairs) AS affected_pairs,
       sum(affected_gap_sum) AS affected_gap_sum, sum(borich_sum) AS borich_sum
FROM cadre_gap_partials
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports)
GROUP BY unit_id, competency_id;

-- The gap roll-up of every unit over its whole subtree (docs/metrics.md, "Roll-ups").
CREATE VIEW IF NOT EXISTS cadre_rollup_by_unit AS
SELECT unit_id, unit_name, parent_id, headcount, people_with_requirements,
       required_pairs, assessed_pairs, levelled_pairs, meeting_pairs,
       ever_assessed_pairs, stale_pairs, self_only_pairs,
       if(required_pairs > 0, assessed_pairs / required_pairs, NULL) AS coverage,
       if(ever_assessed_pairs > 0, stale_pairs / ever_assessed_pairs, NULL) AS staleness,
       if(levelled_pairs > 0, meeting_pairs / levelled_pairs, NULL) AS meeting_share,
       if(levelled_pairs > 0, gap_sum / levelled_pairs, NULL) AS mean_gap,
       weighted_gap_sum AS total_weighted_gap,
       if(role_fit_people > 0, role_fit_sum / role_fit_people, NULL) AS mean_role_fit,
       role_fit_people
FROM (
    SELECT *
    FROM cadre_current_units
    ANY LEFT JOIN (
        SELECT unit_id, sum(headcount) AS headcount,
               sum(people_with_requirements) AS people_with_requirements,
               sum(role_fit_sum) AS role_fit_sum, sum(role_fit_people) AS role_fit_people
        FROM cadre_people_partials
        WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports)
        GROUP BY unit_id
    ) USING unit_id
)
ANY LEFT JOIN (
    SELECT unit_id, sum(required_pairs) AS required_pairs, sum(assessed_pairs) AS assessed_pairs,
           sum(levelled_pairs) AS levelled_pairs, sum(meeting_pairs) AS meeting_pairs,
           sum(ever_assessed_pairs) AS ever_assessed_pairs, sum(stale_pairs) AS stale_pairs,
           sum(self_only_pairs) AS self_only_pairs, sum(gap_sum) AS gap_sum,
           sum(weighted_gap_sum) AS weighted_gap_sum
    FROM cadre_unit_competency_sums
    GROUP BY unit_id
) USING unit_id;

-- The gap roll-up per competency within each unit subtree ('' = organisation).
CREATE VIEW IF NOT EXISTS cadre_rollup_by_competency AS
SELECT unit_id, competency_id, competency_name, category, category_name,
       required_pairs, assessed_pairs, levelled_pairs, meeting_pairs,
       ever_assessed_pairs, stale_pairs, self_only_pairs,
       if(required_pairs > 0, assessed_pairs / required_pairs, NULL) AS coverage,
       if(ever_assessed_pairs > 0, stale_pairs / ever_assessed_pairs, NULL) AS staleness,
       if(levelled_pairs > 0, meeting_pairs / levelled_pairs, NULL) AS meeting_share,
       if(levelled_pairs > 0, gap_sum / levelled_pairs, NULL) AS mean_gap,
       weighted_gap_sum AS total_weighted_gap
FROM cadre_unit_competency_sums
ANY LEFT JOIN (
    SELECT competency_id, competency_name, category_name FROM cadre_current_competencies
) USING competency_id;

-- Training needs within each unit subtree (docs/metrics.md, "Training needs").
CREATE VIEW IF NOT EXISTS cadre_training_needs AS
SELECT unit_id, competency_id, competency_name, category, category_name,
       weighted_gap_sum AS total_weighted_gap,
       affected_pairs AS people_affected,
       if(affected_pairs > 0, affected_gap_sum / affected_pairs, NULL) AS mean_gap_affected,
       if(levelled_pairs > 0, borich_sum / levelled_pairs, NULL) AS borich_score
FROM cadre_unit_competency_sums
ANY LEFT JOIN (
    SELECT competency_id, competency_name, category_name FROM cadre_current_competencies
) USING competency_id;

-- Monthly figures of the organisation and each unit subtree.
CREATE VIEW IF NOT EXISTS cadre_trends AS
SELECT month_end, unit_id, sum(headcount) AS headcount,
       if(sum(required_pairs) > 0, sum(assessed_pairs) / sum(required_pairs), NULL) AS coverage,
       if(sum(ever_assessed_pairs) > 0, sum(stale_pairs) / sum(ever_assessed_pairs), NULL) AS staleness,
       if(sum(levelled_pairs) > 0, sum(gap_sum) / sum(levelled_pairs), NULL) AS mean_gap
FROM cadre_trend_partials
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports)
GROUP BY month_end, unit_id;

CREATE VIEW IF NOT EXISTS cadre_current_succession_positions AS
SELECT *
FROM cadre_succession_positions
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports);

CREATE VIEW IF NOT EXISTS cadre_current_succession_candidates AS
SELECT *
FROM cadre_succession_candidates
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports);

CREATE VIEW IF NOT EXISTS cadre_succession_trends AS
SELECT month_end, critical_positions, with_ready_now, red, amber, vacant,
       if(critical_positions > 0, with_ready_now / critical_positions, NULL) AS coverage,
       if(critical_positions > 0, bench_strength_sum / critical_positions, NULL) AS mean_bench_strength
FROM cadre_succession_months
WHERE (shard, export_id) IN (SELECT shard, export_id FROM cadre_latest_exports);

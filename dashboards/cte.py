"""SQL building blocks (CTEs) that several dashboards share, so a hazard or a dispute case means the
same thing on every panel. Each is the body of a `WITH name AS (...)` and may use Grafana macros.

- `scored`: entities with their decayed score and level at the end of the time range (the
  database's entity_scores_at, docs/contract.md §4), their building, type, and main category (the category
  with the most points among the entity's contributions up to then), filtered by the building,
  category and level variables.
- `hazards`: one row per `attributes.hazard_id` as of the end of the range: found, due, rectified
  and reopened times, category, place; open = not rectified, or reopened after the last rectification.
- `cases`: one row per dispute `attributes.case_id`: reported, resolved, escalated/referred,
  mediated, parties (pseudonymous ids only).
"""

from __future__ import annotations

from dashboards.common import in_building

SCORED = f"""scored AS (
  SELECT s.entity, s.score::float8 AS score, s.level, e.type, e.building, mc.category
  FROM entity_scores_at($__timeTo()::timestamptz) s
  JOIN entities e ON e.ref = s.entity
  CROSS JOIN LATERAL (
    SELECT c.category FROM contributions c
    WHERE c.entity = s.entity AND c.fired_at <= $__timeTo()::timestamptz
    GROUP BY c.category ORDER BY sum(c.points) DESC, c.category LIMIT 1
  ) mc
  WHERE {in_building('e.building')}
    AND s.level IN ($level)
    AND EXISTS (SELECT 1 FROM contributions c2 WHERE c2.entity = s.entity AND c2.category IN ($category))
)"""

HAZARDS = """hazards AS (
  SELECT e.doc->'attributes'->>'hazard_id' AS hazard_id,
         min(e.occurred_at) FILTER (WHERE e.type = 'found') AS found_at,
         min((e.doc->'attributes'->>'due_at')::timestamptz) FILTER (WHERE e.type = 'found') AS due_at,
         max(e.occurred_at) FILTER (WHERE e.type = 'rectified') AS rectified_at,
         max(e.occurred_at) FILTER (WHERE e.type = 'reopened') AS reopened_at,
         min(e.doc->'attributes'->>'category') FILTER (WHERE e.type = 'found') AS category,
         min(e.building) FILTER (WHERE e.type = 'found') AS building,
         min(e.location_id) FILTER (WHERE e.type = 'found') AS location_id
  FROM events e
  WHERE e.kind = 'hazard' AND e.occurred_at <= $__timeTo()::timestamptz
    AND e.doc->'attributes' ? 'hazard_id'
  GROUP BY 1
), hz AS (
  SELECT h.*, (h.rectified_at IS NULL OR COALESCE(h.reopened_at > h.rectified_at, false)) AS is_open,
         (h.rectified_at IS NULL OR COALESCE(h.reopened_at > h.rectified_at, false))
           AND COALESCE(h.due_at < $__timeTo()::timestamptz, false) AS is_overdue
  FROM hazards h
  WHERE h.found_at IS NOT NULL AND """ + in_building("h.building") + """
)"""

CASES = """cases AS (
  SELECT e.doc->'attributes'->>'case_id' AS case_id,
         min(e.occurred_at) FILTER (WHERE e.type = 'reported') AS reported_at,
         max(e.occurred_at) FILTER (WHERE e.type = 'resolved') AS resolved_at,
         bool_or(e.type IN ('escalated', 'referred')) AS escalated,
         bool_or(e.type = 'mediation_held') AS mediated,
         min(e.building) FILTER (WHERE e.type = 'reported') AS building
  FROM events e
  WHERE e.kind = 'dispute' AND e.occurred_at <= $__timeTo()::timestamptz
    AND e.doc->'attributes' ? 'case_id'
  GROUP BY 1
), cs AS (
  SELECT c.*, CASE WHEN c.resolved_at IS NOT NULL THEN '已化解'
                   WHEN c.escalated THEN '已升级'
                   WHEN c.mediated THEN '调解中'
                   ELSE '已报告' END AS status,
         (SELECT string_agg(DISTINCT p->>'id', ', ' ORDER BY p->>'id')
            FROM events e2, jsonb_array_elements(e2.doc->'subjects') p
           WHERE e2.kind = 'dispute' AND e2.doc->'attributes'->>'case_id' = c.case_id
             AND p->>'type' = 'person') AS parties
  FROM cases c
  WHERE c.reported_at IS NOT NULL AND """ + in_building("c.building") + """
)"""

DISPUTE_STATUSES = ("已报告", "调解中", "已升级", "已化解")

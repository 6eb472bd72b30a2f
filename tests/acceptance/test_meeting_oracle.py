"""docs/contract.md §8 against an independent reading: a simulated three weeks of hazards and disputes under
the default rules, replayed into a database; the last week's brief is compared with cases derived here from
the events file and from `riskwatch replay --json` (alerts, and scores at as_of), field by field."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from tests.acceptance.kit import cli, sqlite_db

WEEK, AS_OF = "2024-W47", datetime(2024, 11, 24, 16, tzinfo=UTC)
WEEK_START = AS_OF - timedelta(days=7)
BUILDING_LEADER = {"1": "L01", "2": "L02"}
CATEGORY_LEADER = {"dispute": "L04"}
PERSON_LEADER = {"P-0101": "L04"}
ACK = {"medium": timedelta(hours=24), "high": timedelta(hours=4), "critical": timedelta(minutes=30)}
HAZARD = {"found": "open", "rectified": "rectified", "verified": "closed", "reopened": "open"}
DISPUTE = {"reported": "open", "mediation_held": "in_progress", "escalated": "referred", "referred": "referred",
           "resolved": "closed"}


def z(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def days_over(open_: bool, due: datetime | None, rectified: bool = False) -> int:
    if not open_ or due is None or rectified or AS_OF <= due:
        return 0
    return math.floor((AS_OF - due).total_seconds() / 86400)


def owner(building: str | None, kind: str) -> str:
    return BUILDING_LEADER.get(building or "") or CATEGORY_LEADER.get(kind) or "L10"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("oracle")
    sim = tmp / "sim.jsonl"
    assert cli("simulate", "--days", "21", "--seed", "7", "--to", sim).code == 0
    kept = []
    for line in sim.read_text(encoding="utf-8").splitlines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and doc.get("kind") in ("hazard", "dispute"):
            kept.append(line)
    path = tmp / "cases.jsonl"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    db = sqlite_db(tmp)
    assert cli("replay", path, "--db", db).code == 0
    got = json.loads(cli("meeting", "brief", "--week", WEEK, "--db", db, "--json").stdout)
    # scores at as_of: the same engine over what happened before it, the clock brought to as_of
    before = tmp / "before.jsonl"
    lines = cli("replay", path, "--json", "--until", z(AS_OF) or "").json_lines()
    before.write_text("\n".join(x for x in kept if datetime.fromisoformat(json.loads(x)["occurred_at"]) < AS_OF) + "\n",
                      encoding="utf-8")
    at_as_of = cli("replay", before, "--json", "--until", z(AS_OF) or "").json_lines()
    rejected = {r["line"] for r in lines if r["type"] == "reject"}
    events = [json.loads(x) for i, x in enumerate(kept, 1) if i not in rejected]
    return {"brief": got, "events": events, "replay": at_as_of}


def expected_event_cases(events: list[dict]) -> dict[str, dict]:
    cases: dict[str, dict] = {}
    for e in sorted(events, key=lambda e: datetime.fromisoformat(e["occurred_at"])):
        t = datetime.fromisoformat(e["occurred_at"])
        if t >= AS_OF:
            continue
        kind = e["kind"]
        key = e["attributes"].get("hazard_id" if kind == "hazard" else "case_id")
        ref = f"{kind}:{key}"
        table = HAZARD if kind == "hazard" else DISPUTE
        opening = "found" if kind == "hazard" else "reported"
        if ref not in cases:
            if e["type"] != opening:
                continue
            building = (e.get("location") or {}).get("building")
            due = e["attributes"].get("due_at")
            cases[ref] = {"kind": kind, "state": "open", "opened_at": t, "building": building,
                          "leader": owner(building, kind), "due": datetime.fromisoformat(due) if due else None,
                          "closed_at": None, "last": t}
            continue
        case = cases[ref]
        if e["type"] == opening:
            continue
        was_open = case["state"] != "closed"
        case["state"] = table[e["type"]]
        case["last"] = t
        if kind == "dispute" and e["attributes"].get("due_at"):
            case["due"] = datetime.fromisoformat(e["attributes"]["due_at"])
        if was_open and case["state"] == "closed":
            case["closed_at"] = t
    return cases


def test_hazard_and_dispute_cases_of_the_last_week(world: dict) -> None:
    cases = expected_event_cases(world["events"])
    got = {c["ref"]: c for c in world["brief"]["open_cases"] if c["kind"] in ("hazard", "dispute")}
    expected_open = {ref for ref, c in cases.items() if c["state"] != "closed"}
    assert set(got) == expected_open
    assert len(expected_open) >= 3 and any(c["days_overdue"] > 0 for c in got.values())
    scores = {e["entity"]: (e["score"], e["level"]) for e in world["replay"] if e["type"] == "entity"}
    for ref in expected_open:
        c, g = cases[ref], got[ref]
        want = {"kind": c["kind"], "state": c["state"], "leader": c["leader"], "building": c["building"],
                "opened_at": z(c["opened_at"]), "due": z(c["due"]), "last_action_at": z(c["last"]),
                "days_overdue": days_over(True, c["due"], c["state"] == "rectified")}
        assert {k: g[k] for k in want} == want, ref
        if c["kind"] == "dispute":
            assert (g["score"], g["level"]) == (None, None)
    for ref, g in got.items():
        if g["kind"] == "hazard" and g["score"] is not None:
            location = next(e["location"]["id"] for e in world["events"] if e["kind"] == "hazard"
                            and e["attributes"]["hazard_id"] == ref.split(":", 1)[1] and e["type"] == "found")
            assert (g["score"], g["level"]) == scores.get(f"location:{location}", (0.0, "low")), ref
    new = {r for r, c in cases.items() if WEEK_START <= c["opened_at"] < AS_OF}
    closed = {r for r, c in cases.items() if c["state"] == "closed" and c["closed_at"] and WEEK_START <= c["closed_at"]}
    assert {r for r in world["brief"]["new"] if r.split(":")[0] in ("hazard", "dispute")} == new
    assert {r for r in world["brief"]["closed"] if r.split(":")[0] in ("hazard", "dispute")} == closed


def test_alert_and_person_cases_of_the_last_week(world: dict) -> None:
    """Replay never acknowledges: every alert raised before as_of is open, with its level at as_of."""
    alerts: dict[str, dict] = {}
    for line in world["replay"]:
        if line["type"] != "alert":
            continue
        t = datetime.fromisoformat(line["at"].replace("Z", "+00:00"))
        first = alerts.setdefault(line["entity"], {"opened_at": t, "leader": line["assignee"]})
        first["level"] = line["level"]
    scores = {e["entity"]: (e["score"], e["level"]) for e in world["replay"] if e["type"] == "entity"}
    want_alerts = sorted((z(a["opened_at"]), a["leader"], z(a["opened_at"] + ACK[a["level"]]),
                          days_over(True, a["opened_at"] + ACK[a["level"]]), scores[entity])
                         for entity, a in alerts.items())
    got_alerts = sorted((c["opened_at"], c["leader"], c["due"], c["days_overdue"], (c["score"], c["level"]))
                        for c in world["brief"]["open_cases"] if c["kind"] == "alert")
    assert got_alerts == want_alerts and want_alerts
    persons = {e.split(":", 1)[1]: a for e, a in alerts.items() if e.startswith("person:")}
    got_persons = {c["ref"]: c for c in world["brief"]["open_cases"] if c["kind"] == "person"}
    assert set(got_persons) == {f"person:{p}" for p in persons}
    for person, a in persons.items():
        g = got_persons[f"person:{person}"]
        assert (g["opened_at"], g["due"], g["days_overdue"]) == (z(a["opened_at"]), None, 0)
        assert (g["score"], g["level"]) == scores[f"person:{person}"]
        if person in PERSON_LEADER:
            assert g["leader"] == PERSON_LEADER[person]


def test_ordering_and_by_leader(world: dict) -> None:
    cases = world["brief"]["open_cases"]
    keys = [(c["days_overdue"], c["score"] if c["score"] is not None else -1.0) for c in cases]
    assert keys == sorted(keys, reverse=True)
    tally: dict[str, dict[str, int]] = {}
    for c in cases:
        row = tally.setdefault(c["leader"], {"open": 0, "overdue": 0})
        row["open"] += 1
        due = datetime.fromisoformat(c["due"].replace("Z", "+00:00")) if c["due"] else None
        row["overdue"] += due is not None and AS_OF > due and c["state"] != "rectified"
    assert world["brief"]["by_leader"] == tally

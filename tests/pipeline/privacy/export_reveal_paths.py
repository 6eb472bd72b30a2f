"""Every export that can reveal persons, run once for the audit-completeness test."""

from __future__ import annotations

import json

import openpyxl
from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.privacy.privacy_testkit import PURPOSE


def exercise_export_reveals(url: str, token: str, tmp_path) -> None:
    events = tmp_path / "dispute.jsonl"
    lines = [{"event_id": f"d-{i}", "kind": "dispute", "type": t, "occurred_at": f"2024-11-0{5 + i}T10:00:00+08:00",
              "source": "mediation", "subjects": [{"type": "person", "id": "P-0007", "role": "party"}],
              "attributes": {"case_id": "MD-T-1"}} for i, t in enumerate(("reported", "mediation_held"))]
    events.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["replay", str(events), "--db", url]).exit_code == 0
    out = tmp_path / "reveal-out"
    res = runner.invoke(app, ["export", "weekly", "--week", "2024-W45", "--db", url, "--out", str(out),
                              "--reveal", "--token", token, "--purpose", PURPOSE])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out / "weekly-review-2024-W45-revealed.xlsx")
    assert any("王建国" in str(r[4]) for r in wb["矛盾纠纷"].iter_rows(min_row=3, values_only=True))

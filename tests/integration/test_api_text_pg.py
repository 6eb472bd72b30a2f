"""On PostgreSQL, which refuses NUL in text and cannot encode lone surrogates: NUL bytes and lone
surrogates in the query, the path, a JSON body or a page form give 422, never a 500 with a traceback,
and nothing is written."""

from __future__ import annotations

import logging
import warnings

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pipeline.auth import create_token
from pipeline.storage import db
from tests.integration import pgkit
from tests.pipeline.notify import alertkit as kit
from tests.pipeline.web.pagekit import SECRET

pytestmark = pytest.mark.integration


def test_nul_and_surrogates_are_422_on_postgresql(pg_url, caplog):
    from pipeline.api.app import create_app
    from pipeline.configset import load_config
    from pipeline.web.links import Keys
    from pipeline.web.pages import mount

    config = load_config()
    with pgkit.scratch_database(pg_url, "text") as url:
        engine = db.make_engine(url)
        try:
            kit.raise_alert(engine, "a1", "location:HD-1-1203", "L01", kit.T0)
            app = create_app(engine, config.assignments, lambda: kit.T0)
            pages = mount(app, config, Keys.from_secret(SECRET), public_url="http://testserver")
            client = TestClient(app, raise_server_exceptions=False)
            bearer = {"Authorization": f"Bearer {create_token(engine, 'admin-1', 'admin')}"}
            json_headers = {**bearer, "Content-Type": "application/json"}
            before = kit.snapshot(engine)
            with caplog.at_level(logging.ERROR):
                answers = [
                    client.get("/alerts?building=%00", headers=bearer),
                    client.get("/alerts?building=%ED%A0%80", headers=bearer),
                    client.get("/alerts/a%00", headers=bearer),
                    client.post("/alerts/a1/ack", content='{"note": "\\u0000"}', headers=json_headers),
                    client.post("/alerts/a1/ack", content='{"note": "\\ud800"}', headers=json_headers),
                    client.post("/alerts/a1/close", content='{"reason": "ok\\u0000"}', headers=json_headers),
                    client.post("/cases/alert:a1/notes", content='{"text": "\\ud800"}', headers=json_headers),
                ]
                token = pages.signer.issue("a1", "L01")
                page = client.get(f"/a/a1?t={token}").text
                csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                answers.append(client.post("/a/a1/ack", data={"t": token, "csrf": csrf, "note": "x\x00"}))
            assert [r.status_code for r in answers] == [422] * len(answers), [(r.request.url, r.text[:100])
                                                                             for r in answers]
            assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert kit.snapshot(engine) == before
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT status FROM alerts WHERE alert_id = 'a1'")).scalar_one() == "open"
        finally:
            engine.dispose()

"""Links are revocable per leader without rotating the secret: once every
token of L05 is revoked, or `riskwatch links revoke --leader L05` ran, L05's links issued before
refuse to open or act (the same message as any invalid link) and change nothing; links issued
afterwards work; other leaders' links are untouched."""

from __future__ import annotations

from datetime import timedelta

from pipeline import audit
from pipeline.alerting.records import get_alert
from pipeline.auth import create_token, revoke
from pipeline.web.revocation import revoke_links
from tests.pipeline.web.pagekit import kit
from tests.pipeline.web.test_pages import form_value


def test_revoking_every_token_of_a_leader_revokes_their_links(site, world, clock):
    client, pages = site
    l05 = create_token(world, "leader-L05", "leader", leader_id="L05")
    link = pages.signer.issue("a1", "L05")                       # L05 answers for a1 (on L01's chain)
    l01_link = pages.signer.issue("a1", "L01")
    page = client.get(f"/a/a1?t={link}")
    assert page.status_code == 200
    csrf = form_value(page.text, "csrf")
    revoke(world, l05)
    before = kit.snapshot(world)
    refused = client.get(f"/a/a1?t={link}")
    assert refused.status_code == 403 and "链接无效" in refused.text
    ack = client.post("/a/a1/ack", data={"t": link, "csrf": csrf})
    assert ack.status_code == 403 and get_alert(world.connect(), "a1").status == "open"
    assert kit.snapshot(world) == before
    assert client.get(f"/a/a1?t={l01_link}").status_code == 200          # another leader's link still works


def test_links_revoke_command_and_new_links_after_it(site, world, clock):
    client, pages = site
    old = pages.signer.issue("a1", "L05", now=clock.now - timedelta(minutes=5))
    assert client.get(f"/a/a1?t={old}").status_code == 200
    revoke_links(world, "L05", "admin-1", now=clock.now - timedelta(minutes=1))
    assert client.get(f"/a/a1?t={old}").status_code == 403
    fresh = pages.signer.issue("a1", "L05")                              # issued after the revocation
    page = client.get(f"/a/a1?t={fresh}")
    assert page.status_code == 200
    ack = client.post("/a/a1/ack", data={"t": fresh, "csrf": form_value(page.text, "csrf")})
    assert ack.status_code == 200 and get_alert(world.connect(), "a1").status == "acknowledged"
    [record] = audit.list_records(world, action="link_revoke")
    assert (record.actor, record.detail) == ("admin-1", {"leader_id": "L05"})


def test_links_revoke_cli(world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipeline.cli import app

    url = str(world.url)
    result = CliRunner().invoke(app, ["links", "revoke", "--leader", "L05", "--db", url])
    assert result.exit_code == 0, result.output
    assert "L05" in result.stdout
    unknown = CliRunner().invoke(app, ["links", "revoke", "--leader", "L99", "--db", url])
    assert unknown.exit_code == 2 and "L99" in unknown.stderr
    assert [r.detail for r in audit.list_records(world, action="link_revoke")] == [{"leader_id": "L05"}]

"""Link tokens: HMAC over (alert id, leader id, issued, expiry, nonce); refused when forged, altered,
for another alert, expired or malformed; the secret is required and must not be guessable; purpose
keys differ; CSRF tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.web import security
from pipeline.web.links import Keys, LinkRefused, LinkSecretMissing, LinkSigner, b64d, b64e

SECRET = "k3y-for-link-tests-0123456789abcdefXYZ"
OTHER = "another-secret-9876543210-zyxwvutsrqpo"
T = datetime(2024, 11, 5, 1, 30, tzinfo=UTC)


@pytest.fixture
def signer():
    return LinkSigner(Keys.from_secret(SECRET), "https://rw.example.invalid/", 72 * 3600, clock=lambda: T)


def refused(signer, alert_id, token, now=T) -> str:
    with pytest.raises(LinkRefused) as exc:
        signer.verify(alert_id, token, now)
    return exc.value.reason


def test_issue_and_verify(signer):
    token = signer.issue("a1", "L01")
    claim = signer.verify("a1", token, T + timedelta(hours=71))
    assert (claim.alert_id, claim.leader_id) == ("a1", "L01")
    assert claim.expires_at == T + timedelta(hours=72) and claim.issued_at == T
    assert len(token) < 130 and token.startswith("2.")
    assert signer.issue("a1", "L01") != token            # a fresh nonce every time
    url = signer.url("a1", "L01")
    assert url.startswith("https://rw.example.invalid/a/a1?t=2.")


def test_expired_and_forged_tokens_are_refused(signer):
    token = signer.issue("a1", "L01")
    assert refused(signer, "a1", token, T + timedelta(hours=72)) == "expired"
    version, leader, issued, expiry, nonce, sig = token.split(".")
    # another alert, another leader, a later issue time or expiry, another nonce, a changed signature
    assert refused(signer, "a2", token) == "invalid"
    assert refused(signer, "a1", ".".join([version, b64e(b"L10"), issued, expiry, nonce, sig])) == "invalid"
    assert refused(signer, "a1", ".".join([version, leader, str(int(issued) + 60), expiry, nonce, sig])) == "invalid"
    assert refused(signer, "a1", ".".join([version, leader, issued, str(int(expiry) + 3600), nonce, sig])) == "invalid"
    assert refused(signer, "a1", ".".join([version, leader, issued, expiry, b64e(b"x" * 16), sig])) == "invalid"
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert refused(signer, "a1", ".".join([version, leader, issued, expiry, nonce, flipped])) == "invalid"
    # a forged token with a past expiry is "invalid", not "expired": nothing is believed before the signature
    assert refused(signer, "a1", ".".join([version, leader, issued, "1", nonce, sig])) == "invalid"
    # signed with another secret
    other = LinkSigner(Keys.from_secret(OTHER), "https://x", 3600, clock=lambda: T)
    assert refused(signer, "a1", other.issue("a1", "L01")) == "invalid"
    for junk in ("", "1", "2......", "1." + token[2:], token + "x", "x" * 500, token.replace(".", "|")):
        assert refused(signer, "a1", junk) == "invalid"
    assert b64d(leader) == b"L01"


def test_secret_is_required_and_long_enough():
    for secret in (None, "", "   "):
        with pytest.raises(LinkSecretMissing, match="RISKWATCH_LINK_SECRET is not set"):
            Keys.from_secret(secret)
    with pytest.raises(LinkSecretMissing, match="too short") as exc:
        Keys.from_secret("short-secret")
    assert "short-secret" not in str(exc.value) and "\n" not in str(exc.value)
    keys = Keys.from_secret(SECRET)
    assert len({keys.link, keys.csrf, SECRET.encode()}) == 3


def test_guessable_secrets_are_refused():
    for secret in ("a" * 32, "a" * 64, "abcd" * 8, "0123456789" * 4):
        with pytest.raises(LinkSecretMissing, match="too easy to guess") as exc:
            Keys.from_secret(secret)
        assert secret not in str(exc.value)
    import secrets

    for _ in range(50):
        Keys.from_secret(secrets.token_hex(16))      # what `openssl rand -hex 16` gives is accepted
        Keys.from_secret(secrets.token_urlsafe(32))


def test_settings_hold_the_secret_masked(monkeypatch):
    from pipeline.settings import load_settings

    monkeypatch.setenv("RISKWATCH_LINK_SECRET", SECRET)
    monkeypatch.setenv("RISKWATCH_LINK_TTL", "2h")
    settings = load_settings()
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert settings.link_ttl_seconds == 7200 and settings.session_ttl_seconds == 12 * 3600
    signer = LinkSigner.from_settings(settings, clock=lambda: T)
    assert signer.verify("a1", signer.issue("a1", "L01")).expires_at == T + timedelta(hours=2)
    monkeypatch.delenv("RISKWATCH_LINK_SECRET")
    assert load_settings().link_secret is None


def test_csrf_tokens_are_bound_to_binding_scope_and_age():
    key = Keys.from_secret(SECRET).csrf
    now = T.timestamp()
    token = security.csrf_token(key, "link:n1", "a1", now)
    assert security.csrf_ok(key, token, "link:n1", "a1", now + 60)
    assert not security.csrf_ok(key, token, "link:n2", "a1", now)            # another link / session
    assert not security.csrf_ok(key, token, "link:n1", "a2", now)            # another alert's form
    assert not security.csrf_ok(key, token, "link:n1", "a1", now + 13 * 3600)  # too old
    assert not security.csrf_ok(Keys.from_secret(OTHER).csrf, token, "link:n1", "a1", now)
    for junk in (None, "", "x", "1.", "abc.def", token + "x"):
        assert not security.csrf_ok(key, junk, "link:n1", "a1", now)


def test_cross_site_requests_are_recognised():
    own = "http://testserver"
    assert not security.cross_site({}, own)
    assert not security.cross_site({"sec-fetch-site": "same-origin", "origin": "null"}, own)
    assert not security.cross_site({"origin": "http://testserver"}, own)
    assert security.cross_site({"sec-fetch-site": "cross-site"}, own)
    assert security.cross_site({"origin": "https://evil.example"}, own)


def test_log_redaction_blanks_link_tokens():
    import logging

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/a/a1?t=1.TDAx.1.abc.def&x=1", "1.1", 200), None)
    security.RedactLinkTokens().filter(record)
    assert "TDAx" not in record.getMessage() and "/a/a1?t=…&x=1" in record.getMessage()

"""Signed, expiring, revocable per-leader per-alert links to the alert page (the phone
flow).

A notification to leader L about alert A carries `{public_url}/a/{A}?t=<token>`:

    token = "2." b64url(L) "." issued "." expiry "." nonce "." b64url(HMAC-SHA256(link_key, message))
    message = "riskwatch-alert-link/2" NUL A NUL L NUL issued NUL expiry NUL nonce

`issued` and `expiry` are Unix seconds (expiry = issued + `link_ttl`, default 72 h), `nonce` 16
random bytes (b64url). The alert id is not in the token: it is the URL's path and part of the
signed message, so a token opens only its own alert (its case). The signature is compared in
constant time (hmac.compare_digest) and is checked before anything else is believed (a forged token
with a past expiry is "invalid", not "expired").

A link acts as its leader on its alert for as long as the link has not expired, is not revoked, and
the alert is still the leader's (acknowledge, notes, close: the phone flow). Revocation is per
leader and needs no new secret: every link of a leader issued at or before the leader's revocation
time refuses to act (pipeline/web/revocation.py: `riskwatch links revoke --leader L05`, and the
revocation of any of the leader's API tokens).

Keys: the secret (setting `link_secret`, RISKWATCH_LINK_SECRET, at least 32 characters and not
guessable: see `weak_secret`) is never used directly; each purpose gets its own key derived from it
(links, forms' CSRF tokens), so a value signed for one purpose is worthless for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from pipeline.errors import LinkRefused, LinkSecretMissing

MIN_SECRET_CHARS = 32
MIN_SECRET_BITS = 96
VERSION = "2"
_DOMAIN = b"riskwatch-alert-link/2"
_TOKEN = re.compile(r"^2\.([A-Za-z0-9_-]{1,100})\.([0-9]{1,12})\.([0-9]{1,12})\.([A-Za-z0-9_-]{22})"
                    r"\.([A-Za-z0-9_-]{43})$")
MAX_TOKEN_CHARS = 240

__all__ = ["Keys", "LinkClaim", "LinkRefused", "LinkSecretMissing", "LinkSigner", "alert_link_hook", "weak_secret"]


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token grants: acting on `alert_id` as `leader_id` until `expires_at`, unless the
    leader's links were revoked after `issued_at` (the caller asks the database)."""

    alert_id: str
    leader_id: str
    issued_at: datetime
    expires_at: datetime
    nonce: str


def weak_secret(secret: str) -> bool:
    """True for a secret an attacker could guess: a short pattern repeated ('0123456789' × 4), or its
    characters' empirical entropy times its length under MIN_SECRET_BITS (32 × 'a' is 0 bits,
    'abcd' × 8 is 64; 32 random hex digits about 115)."""
    n = len(secret)
    if any(secret == (secret[:p] * (n // p + 1))[:n] for p in range(1, n // 2 + 1)):
        return True
    counts = [secret.count(c) for c in set(secret)]
    per_char = -sum(k / n * math.log2(k / n) for k in counts) if n else 0.0
    return per_char * n < MIN_SECRET_BITS


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Keys:
    """Purpose keys derived from the one secret: HMAC-SHA256(secret, purpose)."""

    link: bytes
    csrf: bytes

    @classmethod
    def from_secret(cls, secret: str | None) -> Keys:
        if secret is None or not secret.strip():
            raise LinkSecretMissing(
                "RISKWATCH_LINK_SECRET is not set: the alert pages need it to sign links, forms and logins "
                "(set it to a random value of at least 32 characters, e.g. `openssl rand -hex 32`)")
        if len(secret) < MIN_SECRET_CHARS:
            raise LinkSecretMissing(
                f"RISKWATCH_LINK_SECRET is too short ({len(secret)} characters): use at least {MIN_SECRET_CHARS} "
                "(e.g. `openssl rand -hex 32`)")
        if weak_secret(secret):
            raise LinkSecretMissing(
                "RISKWATCH_LINK_SECRET is too easy to guess (too few different characters): use a random value "
                "(e.g. `openssl rand -hex 32`)")
        raw = secret.encode("utf-8")

        def derive(purpose: bytes) -> bytes:
            return hmac.new(raw, b"riskwatch key/" + purpose, hashlib.sha256).digest()

        return cls(derive(b"link"), derive(b"csrf"))

    @classmethod
    def from_settings(cls, settings) -> Keys:
        secret = settings.link_secret.get_secret_value() if settings.link_secret is not None else None
        return cls.from_secret(secret)


def _message(alert_id: str, leader_id: str, issued: int, expiry: int, nonce: str) -> bytes:
    return b"\x00".join((_DOMAIN, alert_id.encode("utf-8"), leader_id.encode("utf-8"), str(issued).encode(),
                         str(expiry).encode(), nonce.encode("ascii")))


class LinkSigner:
    """Issues and checks link tokens; `url(alert_id, leader_id)` is the notifier's `alert_link` hook."""

    def __init__(self, keys: Keys, public_url: str, ttl_seconds: float = 72 * 3600,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        if ttl_seconds <= 0:
            raise ValueError("link_ttl must be positive")
        self.keys, self.public_url, self.ttl, self.clock = keys, public_url.rstrip("/"), ttl_seconds, clock

    @classmethod
    def from_settings(cls, settings, clock: Callable[[], datetime] | None = None) -> LinkSigner:
        kwargs = {"clock": clock} if clock is not None else {}
        return cls(Keys.from_settings(settings), settings.public_url, settings.link_ttl_seconds, **kwargs)

    def _sign(self, alert_id: str, leader_id: str, issued: int, expiry: int, nonce: str) -> str:
        message = _message(alert_id, leader_id, issued, expiry, nonce)
        return b64e(hmac.new(self.keys.link, message, hashlib.sha256).digest())

    def issue(self, alert_id: str, leader_id: str, now: datetime | None = None) -> str:
        now = now or self.clock()
        issued = int(now.timestamp())
        expiry = int(now.timestamp() + self.ttl)
        nonce = b64e(secrets.token_bytes(16))
        signature = self._sign(alert_id, leader_id, issued, expiry, nonce)
        return f"{VERSION}.{b64e(leader_id.encode('utf-8'))}.{issued}.{expiry}.{nonce}.{signature}"

    def url(self, alert_id: str, leader_id: str) -> str:
        """The link a notice to `leader_id` about `alert_id` carries."""
        return f"{self.public_url}/a/{quote(alert_id, safe='')}?t={self.issue(alert_id, leader_id)}"

    def verify(self, alert_id: str, token: str | None, now: datetime | None = None) -> LinkClaim:
        """The claim of a genuine, unexpired token for this alert; LinkRefused otherwise.
        (Whether the leader's links were revoked is the database's to say: revocation.py.)"""
        invalid = LinkRefused("invalid", "link token invalid")
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise invalid
        match = _TOKEN.match(token)
        if match is None:
            raise invalid
        leader_b64, issued_text, expiry_text, nonce, signature = match.groups()
        try:
            leader_id = b64d(leader_b64).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise invalid from None
        issued, expiry = int(issued_text), int(expiry_text)
        expected = self._sign(alert_id, leader_id, issued, expiry, nonce)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii")):
            raise invalid
        now = now or self.clock()
        if now.timestamp() >= expiry:
            raise LinkRefused("expired", "link expired")
        return LinkClaim(alert_id, leader_id, datetime.fromtimestamp(issued, UTC), datetime.fromtimestamp(expiry, UTC),
                         nonce)


def alert_link_hook(settings, log=None) -> Callable[[str, str], str] | None:
    """The notifier's `alert_link` from settings: signed links when `link_secret` is set, else None
    (notices then carry only the Grafana link, and `log` gets one warning saying why)."""
    try:
        return LinkSigner.from_settings(settings).url
    except LinkSecretMissing as exc:
        if log is not None:
            log.warning("notices go out without the alert page link: %s", exc)
        return None

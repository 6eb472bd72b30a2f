"""Registry keys from the environment, with rotation (Fernet / MultiFernet from `cryptography`).

RISKWATCH_REGISTRY_KEYS holds one or more Fernet keys separated by commas, the newest first: the first
encrypts, every one decrypts. To rotate: put a new key in front (`riskwatch persons keygen`), run
`riskwatch persons rotate` (re-encrypts every row under the new key), then drop the old key.
Keys never touch the database or the settings file (`riskwatch settings` prints settings).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet

from pipeline.errors import RegistryKeyError

KEYS_ENV = "RISKWATCH_REGISTRY_KEYS"


def key_id(key: bytes | str) -> str:
    """A short, non-secret name of a key: the first 8 hex digits of its sha256."""
    raw = key.encode("ascii") if isinstance(key, str) else key
    return hashlib.sha256(raw).hexdigest()[:8]


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


@dataclass(frozen=True)
class Keyring:
    fernet: MultiFernet
    primary_id: str
    ids: tuple[str, ...]


def load_keyring(value: str | None = None) -> Keyring:
    """The keys in `value` (default: the environment variable), newest first."""
    text = os.environ.get(KEYS_ENV, "") if value is None else value
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys:
        raise RegistryKeyError(f"{KEYS_ENV} is not set: generate a key with `riskwatch persons keygen`")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise RegistryKeyError(
                f"{KEYS_ENV}: key {position} is not a Fernet key (32 url-safe base64-encoded bytes)") from None
    return Keyring(MultiFernet(fernets), key_id(keys[0]), tuple(key_id(k) for k in keys))

"""HTTP Digest authentication of callers (RFC 7616, `qop=auth`).

Nonces are stateless: a timestamp signed with a key, valid for five minutes, so any process
holding the key checks them without shared storage. The key is `<PREFIX>_DIGEST_SECRET` (the
same value for every worker and replica), else one drawn when the process starts, which is
right for a single process only. The response must be for this very request (method and
target), which keeps a captured header from opening another resource.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

from ...expr.templating import render
from ...model import InboundAuth
from ...settings import Settings
from .scheme import GRANTED, REFUSED, Credential, InboundScheme, Presented, Verdict, required

NONCE_LIFETIME = 300.0
PROCESS_KEY = secrets.token_bytes(32)
_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"SHA-256": hashlib.sha256, "MD5": hashlib.md5}


@dataclass(frozen=True, slots=True)
class DigestCredential:
    username: str
    password: str
    realm: str
    key: bytes  # what nonces are signed with
    place: str = "authorization"

    async def verdict(self, presented: Presented) -> Verdict:
        authorization = presented.header("authorization") or ""
        valid = verify(
            authorization,
            presented.method,
            presented.target,
            self.realm,
            self.username,
            self.password,
            self.key,
        )
        return GRANTED if valid else REFUSED

    def challenge(self, realm: str, presented: Presented, verdict: Verdict) -> str:
        return f'Digest realm="{realm}", qop="auth", algorithm=SHA-256, nonce="{_nonce(self.key)}"'

    def openapi(self) -> tuple[str, dict[str, Any], list[str]]:
        return "digest", {"type": "http", "scheme": "digest"}, []


def _credential(auth: InboundAuth, settings: Settings, realm: str) -> Credential:
    scope = settings.binds.scope
    user, password = render(auth.username or "", scope), render(auth.password or "", scope)
    return DigestCredential(
        user, required(password if user else "", realm), realm, nonce_key(settings.digest_secret)
    )


SCHEME: Final[InboundScheme[Literal["digest"]]] = InboundScheme("digest", _credential)


def nonce_key(secret: str) -> bytes:
    """The key nonces are signed with: from the shared secret, else this process's own."""
    return (
        hashlib.sha256(b"capgen digest nonce\0" + secret.encode()).digest()
        if secret
        else PROCESS_KEY
    )


def verify(
    authorization: str,
    method: str,
    target: str,
    realm: str,
    username: str,
    password: str,
    key: bytes,
) -> bool:
    """Whether `authorization` (the header's value, scheme included) answers our challenge."""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() != "digest":
        return False
    fields = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
    digest = _HASHES.get(fields.get("algorithm", "MD5").upper())
    needed = ("username", "realm", "nonce", "uri", "response", "nc", "cnonce")
    if digest is None or fields.get("qop") != "auth" or not all(fields.get(k) for k in needed):
        return False
    if fields["realm"] != realm or fields["uri"] != target or not _fresh(fields["nonce"], key):
        return False

    def h(text: str) -> str:
        return digest(text.encode()).hexdigest()

    ha1 = h(f"{username}:{realm}:{password}")
    ha2 = h(f"{method}:{fields['uri']}")
    expected = h(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:auth:{ha2}")
    same_user = hmac.compare_digest(fields["username"].encode(), username.encode())
    return hmac.compare_digest(fields["response"].encode(), expected.encode()) and same_user


def _nonce(key: bytes, stamp: str | None = None) -> str:
    stamp = stamp or f"{time.time():.3f}"
    return f"{stamp}.{hmac.new(key, stamp.encode(), hashlib.sha256).hexdigest()[:32]}"


def _fresh(nonce: str, key: bytes) -> bool:
    stamp, _, _ = nonce.rpartition(".")
    try:
        age = time.time() - float(stamp)
    except ValueError:
        return False
    return hmac.compare_digest(nonce, _nonce(key, stamp)) and 0 <= age <= NONCE_LIFETIME

"""Forged, altered and misused JWTs, built from a genuine one.

Each entry of ``tampered(token)`` is a token the API must refuse with 401:
none of them is both well signed with the project's key and valid now
for its purpose.
"""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
from django.conf import settings

KINDS = [
    "altered_signature",
    "truncated_signature",
    "no_signature",
    "alg_none",
    "alg_none_uppercase",
    "alg_none_kept_signature",
    "hs512",
    "hs384",
    "other_key",
    "empty_key",
    "edited_user_id",
    "edited_token_type",
    "expired",
    "expired_within_a_second",
    "not_yet_valid",
    "issued_in_the_future",
    "missing_exp",
    "missing_jti",
    "missing_user_id",
    "unknown_user",
    "kid_injection",
    "jku_header",
    "wrong_purpose",
    "malformed",
    "two_segments",
    "four_segments",
    "non_base64",
    "non_json_payload",
    "empty",
    "huge",
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _json(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data, separators=(",", ":")).encode())


def _key() -> str:
    return str(settings.SIMPLE_JWT["SIGNING_KEY"])


def _sign(claims: dict[str, Any], headers: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, _key(), algorithm="HS256", headers=headers)


def tampered(token: str, *, wrong_purpose: str) -> dict[str, str]:
    """Every kind of bad token derived from ``token`` (access or refresh).

    ``wrong_purpose`` is a genuine token of the other type for the same
    user: a refresh token where an access token belongs, or the reverse.
    """
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    iat = int(claims["iat"])
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    lifetime = timedelta(days=1).total_seconds()
    without = {name: {k: v for k, v in claims.items() if k != name} for name in claims}
    return {
        "altered_signature": f"{header}.{payload}.{flipped}",
        "truncated_signature": f"{header}.{payload}.{signature[:-4]}",
        "no_signature": f"{header}.{payload}.",
        "alg_none": f"{_json({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg_none_uppercase": f"{_json({'alg': 'NONE', 'typ': 'JWT'})}.{payload}.",
        "alg_none_kept_signature": (
            f"{_json({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"
        ),
        "hs512": jwt.encode(claims, _key(), algorithm="HS512"),
        "hs384": jwt.encode(claims, _key(), algorithm="HS384"),
        "other_key": jwt.encode(claims, "another-key-" + "k" * 52, algorithm="HS256"),
        "empty_key": _hmac_with_empty_key(claims),
        "edited_user_id": f"{header}.{_json({**claims, 'user_id': '1'})}.{signature}",
        "edited_token_type": (
            f"{header}.{_json({**claims, 'token_type': 'other'})}.{signature}"
        ),
        "expired": _sign({**claims, "exp": iat - 60}),
        "expired_within_a_second": _sign({**claims, "exp": iat - 1}),
        "not_yet_valid": _sign({**claims, "nbf": iat + 3600}),
        "issued_in_the_future": _sign(
            {**claims, "iat": iat + 3600, "nbf": iat + 3600, "exp": iat + lifetime}
        ),
        "missing_exp": _sign(without["exp"]),
        "missing_jti": _sign(without["jti"]),
        "missing_user_id": _sign(without["user_id"]),
        "unknown_user": _sign({**claims, "user_id": "987654321"}),
        # A key id pointing at an empty file, signed with that empty key.
        "kid_injection": _hmac_with_empty_key(claims, kid="../../../../dev/null"),
        "jku_header": jwt.encode(
            claims,
            "another-key-" + "k" * 52,
            algorithm="HS256",
            headers={"jku": "http://127.0.0.1:9/keys.json"},
        ),
        "wrong_purpose": wrong_purpose,
        "malformed": "not.a.jwt",
        "two_segments": f"{header}.{payload}",
        "four_segments": f"{header}.{payload}.{signature}.{signature}",
        "non_base64": f"{header}.%%%%.{signature}",
        "non_json_payload": f"{header}.{_b64(b'not json')}.{signature}",
        "empty": "",
        "huge": f"{header}.{_b64(b'x' * 6000)}.{signature}",
    }


def _hmac_with_empty_key(claims: dict[str, Any], kid: str | None = None) -> str:
    # PyJWT refuses an empty HMAC key, so this one is signed by hand.
    extra = {"kid": kid} if kid else {}
    head = _json({"alg": "HS256", "typ": "JWT", **extra})
    body = _json(claims)
    mac = hmac.new(b"", f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"

"""Access tokens that must be refused: one with a changed payload, one signed by another key."""

import base64
import json

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(token: str) -> dict:
    """The payload of a JWT, unverified."""
    return json.loads(_b64decode(token.split(".")[1]))


def tampered(token: str, **changes) -> str:
    """`token` with its claims changed and its header and signature kept."""
    header, _, signature = token.split(".")
    payload = {**claims(token), **changes}
    return ".".join([header, _b64encode(json.dumps(payload).encode()), signature])


def forged(token: str) -> str:
    """The same claims and key id, signed RS256 by a key sigil never had."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(token).get("kid")
    return jwt.encode(claims(token), key, algorithm="RS256", headers={"kid": kid})

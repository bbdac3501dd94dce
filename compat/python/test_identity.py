"""The SDK's authenticator and identity client (sync and async) against sigil: the environment
token from `POST /auth/vendor/`, the public key from `GET /identity/resources/configurations/v1/`
(sent with `x-access-token`), and local RS256 validation of a sigil user's access token."""

import base64

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from frontegg.common import (
    FronteggAsyncAuthenticator,
    FronteggAuthenticator,
    IdentityAsyncClientMixin,
    IdentityClientMixin,
)
from frontegg.common.clients.types import AuthHeaderType
from frontegg.helpers.exceptions import UnauthenticatedException, UnauthorizedException
from frontegg.helpers.frontegg_urls import frontegg_urls

import tokens


def _b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_the_authenticator_gets_an_environment_token_and_refreshes_it(sigil):
    authenticator = FronteggAuthenticator(sigil.client_id, sigil.secret)
    first = authenticator.access_token
    assert first and first.count(".") == 2, "a JWT"
    assert authenticator.should_refresh_vendor_token is False, "expiresIn was read"

    authenticator.refresh_vendor_token()
    assert authenticator.access_token
    assert authenticator.vendor_session_request.headers["x-access-token"] == authenticator.access_token


def test_the_authenticator_is_refused_a_wrong_secret(sigil):
    with pytest.raises(requests.HTTPError) as refused:
        FronteggAuthenticator(sigil.client_id, "not-the-secret")
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["errors"]


def test_the_identity_client_fetches_the_key_that_signs_user_tokens(sigil):
    client = IdentityClientMixin(FronteggAuthenticator(sigil.client_id, sigil.secret))
    pem = client.get_public_key()
    assert pem and pem.startswith("-----BEGIN PUBLIC KEY-----")

    # The same key that sigil publishes as the first of its JWKS.
    numbers = load_pem_public_key(pem.encode()).public_numbers()
    jwks = requests.get(f"{sigil.url}/.well-known/jwks.json", timeout=10).json()
    assert (numbers.n, numbers.e) == (_b64url_int(jwks["keys"][0]["n"]), _b64url_int(jwks["keys"][0]["e"]))


def test_the_identity_client_validates_a_sigil_user_token(sigil, signed_in, tenant):
    authenticator = FronteggAuthenticator(sigil.client_id, sigil.secret)
    client = IdentityClientMixin(authenticator)
    entity = client.validate_identity_on_token(f"Bearer {signed_in.token}")
    assert entity["sub"] == signed_in.user["id"]
    assert entity["type"] == "userToken"
    assert entity["tenantId"] == tenant
    assert entity["tenantIds"] == [tenant]
    assert entity["email"] == signed_in.user["email"]
    assert entity["name"] == "Ann Example"
    assert entity["profilePictureUrl"] == "https://example.com/ann.png"
    assert entity["metadata"] == {"plan": "pro"}
    # The tenant's first member is its admin.
    assert entity["roles"] == ["Admin"]
    assert "fe.secure.read.users" in entity["permissions"]
    # One application per environment, named by the environment's id.
    configuration = authenticator.vendor_session_request.get(
        frontegg_urls.identity_service["vendor_config"], timeout=10
    )
    assert entity["applicationId"] == configuration.json()["id"]

    decoded = client.decode_jwt(f"Bearer {signed_in.token}")
    assert decoded == entity


def test_the_identity_client_refuses_tampered_and_forged_tokens(sigil, signed_in):
    client = IdentityClientMixin(FronteggAuthenticator(sigil.client_id, sigil.secret))
    for bad in (
        tokens.tampered(signed_in.token, sub="someone-else"),
        tokens.tampered(signed_in.token, tenantId="another-tenant"),
        tokens.forged(signed_in.token),
    ):
        with pytest.raises(UnauthenticatedException):
            client.validate_identity_on_token(bad)
        with pytest.raises(jwt.InvalidSignatureError):
            client.decode_jwt(bad)


def test_the_identity_client_checks_roles_and_permissions_from_the_token(sigil, signed_in):
    client = IdentityClientMixin(FronteggAuthenticator(sigil.client_id, sigil.secret))
    # The token carries the user's roles and permissions; the SDK checks them (at least one of each).
    client.validate_identity_on_token(signed_in.token, {"roles": ["Admin", "Other"], "permissions": None})
    client.validate_identity_on_token(
        signed_in.token, {"roles": None, "permissions": ["fe.secure.write.roles"]}
    )
    with pytest.raises(UnauthorizedException):
        client.validate_identity_on_token(signed_in.token, {"roles": ["admin"], "permissions": None})
    with pytest.raises(UnauthorizedException):
        client.validate_identity_on_token(
            signed_in.token, {"roles": None, "permissions": ["billing.write"]}
        )


def test_a_user_token_is_not_an_api_access_token(sigil, signed_in):
    client = IdentityClientMixin(FronteggAuthenticator(sigil.client_id, sigil.secret))
    # As `x-api-key`: the signature holds, but a userToken is not an access token.
    with pytest.raises(Exception) as refused:
        client.validate_identity_on_token(signed_in.token, None, AuthHeaderType.AccessToken.value)
    assert refused.type is Exception, "the SDK's refusal of a wrong token type, not a failed call"


def test_the_async_identity_client_validates_and_refuses(sigil, signed_in, run_async):
    async def scenario():
        authenticator = FronteggAsyncAuthenticator(sigil.client_id, sigil.secret)
        await authenticator.refresh_vendor_token()
        assert authenticator.access_token
        client = IdentityAsyncClientMixin(authenticator)
        assert (await client.get_public_key()).startswith("-----BEGIN PUBLIC KEY-----")

        entity = await client.validate_identity_on_token(signed_in.token)
        assert entity["sub"] == signed_in.user["id"]
        assert entity["applicationId"]

        with pytest.raises(UnauthenticatedException):
            await client.validate_identity_on_token(tokens.tampered(signed_in.token, sub="someone-else"))
        with pytest.raises(UnauthenticatedException):
            await client.validate_identity_on_token(tokens.forged(signed_in.token))

    run_async(scenario)

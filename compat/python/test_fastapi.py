"""A FastAPI app protected by the SDK's `FronteggSecurity` dependency (fastapi_app.py) accepts
sigil's user tokens as the SDK's `User` model and refuses others. The app runs in the session's
TestClient (conftest.py), whose event loop serves every async call of the SDK."""

import pytest
from frontegg.fastapi import frontegg

import tokens
from helpers import create_user, sign_in


@pytest.fixture
def app(fastapi_client):
    return fastapi_client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_sigil_user_token_becomes_the_sdk_user(app, signed_in, tenant):
    response = app.get("/me", headers=bearer(signed_in.token))
    assert response.status_code == 200, response.text
    user = response.json()
    claims = tokens.claims(signed_in.token)
    assert user == {
        "id": signed_in.user["id"],
        "sub": signed_in.user["id"],
        "tenant_id": tenant,
        "tenant_ids": [tenant],
        "application_id": claims["applicationId"],
        "token_type": "userToken",
        "email": signed_in.user["email"],
        "email_verified": claims["email_verified"],
        "name": "Ann Example",
        "profile_picture_url": "https://example.com/ann.png",
        "metadata": {"plan": "pro"},
        # The tenant's first member is its admin: the built-in Admin role and what it grants.
        "roles": ["Admin"],
        "permissions": claims["permissions"],
        "access_token": signed_in.token,
    }
    assert "fe.secure.write.roles" in user["permissions"]
    assert user["application_id"], "sigil names the application"


def test_a_missing_tampered_or_forged_token_gets_401(app, signed_in):
    assert app.get("/me").status_code == 401
    assert app.get("/me", headers=bearer("not-a-jwt")).status_code == 401
    assert app.get("/me", headers=bearer(tokens.tampered(signed_in.token, sub="admin"))).status_code == 401
    assert app.get("/me", headers=bearer(tokens.forged(signed_in.token))).status_code == 401
    assert app.get("/me", headers={"x-api-key": signed_in.token}).status_code == 401
    # The app's own environment token is no user either.
    assert app.get("/me", headers=bearer(frontegg.access_token)).status_code == 401


def test_a_role_or_permission_the_token_lacks_gets_403(app, signed_in):
    assert app.get("/admin", headers=bearer(signed_in.token)).status_code == 403
    assert app.get("/reports", headers=bearer(signed_in.token)).status_code == 403
    claimed = tokens.tampered(signed_in.token, roles=["admin"])
    assert app.get("/admin", headers=bearer(claimed)).status_code == 401


def test_without_auto_error_an_anonymous_caller_gets_no_user(app, signed_in):
    assert app.get("/maybe").json() == {"user": None}
    assert app.get("/maybe", headers=bearer(tokens.forged(signed_in.token))).json() == {"user": None}
    assert app.get("/maybe", headers=bearer(signed_in.token)).json() == {"user": signed_in.user["id"]}


def test_a_user_with_only_an_email_is_a_user_too(app, sigil, identity_api, tenant):
    user = create_user(identity_api, tenant)
    token = sign_in(sigil, user["email"])
    assert tokens.claims(token)["profilePictureUrl"] is None
    response = app.get("/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == user["id"]
    assert response.json()["profile_picture_url"] is None
    assert response.json()["metadata"] == {}

"""A Flask app protected by the SDK's `with_authentication` decorator, set up as the SDK's README
says (`frontegg.init_app(client_id, api_key)`), accepts sigil's user tokens and refuses others."""

import pytest
from flask import Flask, g, jsonify
from frontegg.flask import frontegg
from frontegg.flask.secure_access import with_authentication

import tokens


@pytest.fixture(scope="module")
def app(sigil):
    frontegg.init_app(sigil.client_id, sigil.secret)
    app = Flask("sigil_compat")

    @app.get("/me")
    @with_authentication()
    def me():
        return jsonify(g.user)

    @app.get("/admin")
    @with_authentication(role_keys=["admin"])
    def admin():
        return jsonify(g.user)

    @app.get("/reports")
    @with_authentication(permission_keys=["reports.read"])
    def reports():
        return jsonify(g.user)

    return app.test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_sigil_user_token_passes_and_becomes_g_user(app, signed_in, tenant):
    response = app.get("/me", headers=bearer(signed_in.token))
    assert response.status_code == 200, response.text
    user = response.get_json()
    assert user["sub"] == signed_in.user["id"]
    assert user["email"] == signed_in.user["email"]
    assert user["tenantId"] == tenant
    assert user["type"] == "userToken"


def test_a_missing_tampered_or_forged_token_gets_401(app, signed_in):
    assert app.get("/me").status_code == 401
    assert app.get("/me", headers=bearer("")).status_code == 401
    assert app.get("/me", headers=bearer("not-a-jwt")).status_code == 401
    assert app.get("/me", headers=bearer(tokens.tampered(signed_in.token, sub="admin"))).status_code == 401
    assert app.get("/me", headers=bearer(tokens.forged(signed_in.token))).status_code == 401
    # A user token sent as an API key is the wrong kind of token.
    assert app.get("/me", headers={"x-api-key": signed_in.token}).status_code == 401


def test_the_environment_token_is_not_a_user(app):
    environment_token = frontegg.access_token
    assert tokens.claims(environment_token)["type"] == "environment"
    assert app.get("/me", headers=bearer(environment_token)).status_code == 401


def test_a_role_or_permission_the_token_lacks_gets_403(app, signed_in):
    assert app.get("/admin", headers=bearer(signed_in.token)).status_code == 403
    assert app.get("/reports", headers=bearer(signed_in.token)).status_code == 403
    # Claiming the role breaks the signature: unauthenticated, not merely unauthorized.
    claimed = tokens.tampered(signed_in.token, roles=["admin"])
    assert app.get("/admin", headers=bearer(claimed)).status_code == 401

"""Setup no test is about: tenants and users made through the SDK's own HttpClient, as a Frontegg
backend calls the management API, and a password sign-in, the browser's call, made with plain HTTP
because the Python SDK has none."""

import uuid
from dataclasses import dataclass

import requests
from frontegg.common.clients import HttpClient

PASSWORD = "Correct-horse-battery-7"


@dataclass(frozen=True)
class Sigil:
    """The running sigil and the bootstrap credentials of its environment."""

    url: str
    client_id: str
    secret: str


@dataclass(frozen=True)
class SignedIn:
    """A user as sigil created it, and an access token from its sign-in."""

    user: dict
    token: str


def create_tenant(tenants_api: HttpClient, name: str) -> str:
    tenant_id = f"{name.lower()}-{uuid.uuid4().hex[:8]}"
    response = tenants_api.post(data={"tenantId": tenant_id, "name": name}, url="resources/tenants/v1")
    assert response.status_code == 201, response.text
    return tenant_id


def create_user(identity_api: HttpClient, tenant_id: str, **fields) -> dict:
    """An active user of `tenant_id` with PASSWORD, and the other fields given."""
    body = {
        "email": f"user-{uuid.uuid4().hex[:10]}@example.com",
        "password": PASSWORD,
        **fields,
    }
    response = identity_api.post(data=body, url="resources/users/v1", tenant_id=tenant_id)
    assert response.status_code == 201, response.text
    return response.json()


def sign_in(sigil: Sigil, email: str, password: str = PASSWORD) -> str:
    """The access token of a password sign-in at Frontegg's path."""
    response = requests.post(
        f"{sigil.url}/identity/resources/auth/v1/user",
        json={"email": email, "password": password},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["accessToken"]

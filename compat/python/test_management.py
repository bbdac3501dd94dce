"""Tenant and user management through the SDK's own HTTP clients. The Python SDK wraps no
management operation (only audits, which sigil does not serve): a backend calls the API with
`HttpClient`/`HttpAsyncClient`, which sign in with the environment's credentials, send the
environment token as `x-access-token` and the tenant as `frontegg-tenant-id`."""

import json
import uuid

import requests
from frontegg.common.clients import HttpAsyncClient
from frontegg.helpers.frontegg_urls import frontegg_urls

from helpers import PASSWORD, create_tenant, create_user, sign_in


def emails(page: dict) -> list:
    return sorted(user["email"] for user in page["items"])


def test_tenants_are_created_read_listed_updated_and_deleted(tenants_api):
    tenant_id = create_tenant(tenants_api, "Globex")

    got = tenants_api.get(url=f"resources/tenants/v1/{tenant_id}")
    assert got.status_code == 200, got.text
    assert [t["tenantId"] for t in got.json()] == [tenant_id]
    assert got.json()[0]["name"] == "Globex"

    listed = tenants_api.get(url="resources/tenants/v1")
    assert listed.status_code == 200
    assert tenant_id in [t["tenantId"] for t in listed.json()]

    updated = tenants_api.put(data={"name": "Globex Corp"}, url=f"resources/tenants/v1/{tenant_id}")
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Globex Corp"

    with_metadata = tenants_api.post(
        data={"metadata": {"tier": "gold"}}, url=f"resources/tenants/v1/{tenant_id}/metadata"
    )
    assert with_metadata.status_code in (200, 201), with_metadata.text
    # Read back as Frontegg does: a string holding the JSON.
    metadata = tenants_api.get(url=f"resources/tenants/v1/{tenant_id}").json()[0]["metadata"]
    assert json.loads(metadata) == {"tier": "gold"}

    assert tenants_api.delete(url=f"resources/tenants/v1/{tenant_id}").status_code == 200
    gone = tenants_api.get(url=f"resources/tenants/v1/{tenant_id}")
    assert gone.status_code == 404 or gone.json() == []


def test_users_are_created_in_a_tenant_found_listed_and_deleted(sigil, identity_api, tenants_api):
    tenant_id = create_tenant(tenants_api, "Initech")
    other_id = create_tenant(tenants_api, "Hooli")
    peter = create_user(identity_api, tenant_id, name="Peter Gibbons")
    create_user(identity_api, tenant_id, name="Samir Nagheenanajar")
    create_user(identity_api, other_id, name="Gavin Belson")
    assert peter["name"] == "Peter Gibbons"

    got = identity_api.get(url=f"resources/users/v1/{peter['id']}", tenant_id=tenant_id)
    assert got.status_code == 200, got.text
    assert got.json()["email"] == peter["email"]
    assert got.json()["tenantId"] == tenant_id

    vendor = identity_api.get(url=f"resources/vendor-only/users/v1/{peter['id']}")
    assert vendor.status_code == 200, vendor.text
    assert [t["tenantId"] for t in vendor.json()["tenants"]] == [tenant_id]

    by_email = identity_api.get(url="resources/users/v1/email", params={"email": peter["email"]})
    assert by_email.status_code == 200, by_email.text
    assert by_email.json()["id"] == peter["id"]

    page = identity_api.get(url="resources/users/v1", params={"_limit": 1, "_offset": 0}, tenant_id=tenant_id)
    assert page.status_code == 200, page.text
    assert len(page.json()["items"]) == 1
    assert page.json()["_metadata"] == {"totalItems": 2, "totalPages": 2}

    found = identity_api.get(
        url="resources/users/v1/query/phrase", params={"_phraseSearchContains": "gibbons"}
    )
    assert found.status_code == 200, found.text
    assert emails(found.json()) == [peter["email"]]

    # The user signs in until deleted.
    assert sign_in(sigil, peter["email"])
    assert identity_api.delete(url=f"resources/users/v1/{peter['id']}").status_code == 200
    assert identity_api.get(url=f"resources/vendor-only/users/v1/{peter['id']}").status_code == 404
    refused = requests.post(
        f"{sigil.url}/identity/resources/auth/v1/user",
        json={"email": peter["email"], "password": PASSWORD},
        timeout=10,
    )
    assert refused.status_code == 401


def test_a_wrong_tenant_or_missing_header_is_refused_with_the_contract_error_body(identity_api):
    email = f"x-{uuid.uuid4().hex[:6]}@example.com"
    no_tenant = identity_api.post(data={"email": email}, url="resources/users/v1")
    assert no_tenant.status_code == 400
    assert no_tenant.json()["errors"] and no_tenant.json()["errorCode"]
    missing = identity_api.post(
        data={"email": email}, url="resources/users/v1", tenant_id="no-such-tenant"
    )
    assert missing.status_code == 404
    assert missing.json()["errors"] and missing.json()["errorCode"]


def test_the_async_client_manages_users(sigil, tenant, run_async):
    async def scenario():
        base_url = frontegg_urls.identity_service["base_url"]
        client = HttpAsyncClient(sigil.client_id, sigil.secret, base_url=base_url)
        email = f"async-{uuid.uuid4().hex[:8]}@example.com"
        created = await client.post(
            data={"email": email, "name": "Async User"}, url="resources/users/v1", tenant_id=tenant
        )
        assert created.status_code == 201, created.text
        user_id = created.json()["id"]

        listed = await client.get(url="resources/users/v1", params={"_email": email}, tenant_id=tenant)
        assert listed.status_code == 200, listed.text
        assert [u["id"] for u in listed.json()["items"]] == [user_id]

        deleted = await client.delete(url=f"resources/users/v1/{user_id}")
        assert deleted.status_code == 200, deleted.text
        await client.client.aclose()

    run_async(scenario)

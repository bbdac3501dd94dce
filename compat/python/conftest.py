"""What the tests share: the sigil that run.sh started, a tenant, a signed-in user, the SDK's HTTP
clients, and the FastAPI app whose event loop runs every async call of the SDK."""

import os
from urllib.parse import urljoin

import pytest

if not os.environ.get("SIGIL_URL") or not os.environ.get("FRONTEGG_API_GATEWAY_URL"):
    raise pytest.UsageError("run through compat/python/run.sh, which starts sigil and points the SDK at it")

# Imported only now: the SDK reads FRONTEGG_API_GATEWAY_URL when its modules load.
from fastapi.testclient import TestClient  # noqa: E402
from frontegg.common.clients import HttpClient  # noqa: E402
from frontegg.helpers.frontegg_urls import frontegg_urls  # noqa: E402

import fastapi_app  # noqa: E402
from helpers import Sigil, SignedIn, create_tenant, create_user, sign_in  # noqa: E402


@pytest.fixture(scope="session")
def sigil() -> Sigil:
    return Sigil(
        url=os.environ["SIGIL_URL"].rstrip("/"),
        client_id=os.environ["SIGIL_CLIENT_ID"],
        secret=os.environ["SIGIL_SECRET"],
    )


@pytest.fixture(scope="session")
def identity_api(sigil: Sigil) -> HttpClient:
    """The SDK's HTTP client for the identity service, as its README sets one up."""
    return HttpClient(sigil.client_id, sigil.secret, base_url=frontegg_urls.identity_service["base_url"])


@pytest.fixture(scope="session")
def tenants_api(sigil: Sigil) -> HttpClient:
    """The SDK's HTTP client for the tenants service (no URL helper in the SDK names it)."""
    return HttpClient(sigil.client_id, sigil.secret, base_url=urljoin(frontegg_urls.base_url, "tenants/"))


@pytest.fixture(scope="session")
def tenant(tenants_api: HttpClient) -> str:
    return create_tenant(tenants_api, "Acme")


@pytest.fixture(scope="session")
def signed_in(sigil: Sigil, identity_api: HttpClient, tenant: str) -> SignedIn:
    """A user with a name, a picture and metadata, signed in."""
    user = create_user(
        identity_api,
        tenant,
        name="Ann Example",
        profilePictureUrl="https://example.com/ann.png",
        metadata={"plan": "pro"},
    )
    return SignedIn(user=user, token=sign_in(sigil, user["email"]))


@pytest.fixture(scope="session")
def fastapi_client(sigil):
    """The FastAPI app of fastapi_app.py, started (its lifespan has run `init_app`)."""
    with TestClient(fastapi_app.build(sigil.client_id, sigil.secret)) as client:
        yield client


@pytest.fixture(scope="session")
def run_async(fastapi_client):
    """Runs an async function on the event loop that serves the FastAPI app, and returns its result.

    The SDK's async half keeps one httpx client per process (a class attribute of
    FronteggAsyncAuthenticator), and pooled connections belong to the event loop that opened
    them: as in a real app, every async call of the SDK must run on the one loop of the app.
    """
    return fastapi_client.portal.call

"""The FastAPI app of the tests, protected by the SDK's `FronteggSecurity` dependency and
initialised at start-up (`await frontegg.init_app(...)`, in a lifespan: FastAPI no longer has the
`add_event_handler` that the SDK's README shows)."""

from contextlib import asynccontextmanager
from typing import Optional

from fastapi import Depends, FastAPI
from frontegg.fastapi import frontegg
from frontegg.fastapi.secure_access import FronteggSecurity, User


def user_json(user: User) -> dict:
    return {
        "id": user.id,
        "sub": user.sub,
        "tenant_id": user.tenant_id,
        "tenant_ids": user.tenant_ids,
        "application_id": user.application_id,
        "token_type": user.token_type.value,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "profile_picture_url": user.profile_picture_url,
        "metadata": user.metadata,
        "roles": user.roles,
        "permissions": user.permissions,
        "access_token": user.access_token,
    }


def build(client_id: str, api_key: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await frontegg.init_app(client_id=client_id, api_key=api_key)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/me")
    def me(user: User = Depends(FronteggSecurity())) -> dict:
        return user_json(user)

    @app.get("/admin")
    def admin(user: User = Depends(FronteggSecurity(roles=["admin"]))) -> dict:
        return user_json(user)

    @app.get("/reports")
    def reports(user: User = Depends(FronteggSecurity(permissions=["reports.read"]))) -> dict:
        return user_json(user)

    @app.get("/maybe")
    def maybe(user: Optional[User] = Depends(FronteggSecurity(auto_error=False))) -> dict:
        return {"user": user.sub if user else None}

    return app

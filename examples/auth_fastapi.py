"""A FastAPI app with the endpoints a Channels app serves: channel auth, user auth, webhooks.

The routes match the Flask example: ``/pusher/auth``, ``/pusher/user-auth`` and
``/pusher/webhook``. The endpoints read the raw body, because the SDK parses the form
that pusher-js posts and checks the webhook signature over the exact bytes received.
The SDK calls are pure functions, so they run in the event loop without blocking it.

Run it with any ASGI server, for example
``PUSHER_URL=http://KEY:SECRET@HOST/apps/APP_ID uvicorn examples.auth_fastapi:app``.
FastAPI is not a dependency of the SDK: ``pip install fastapi``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from pusher_core import (
    Config,
    ConfigurationError,
    ValidationError,
    Webhook,
    WebhookEvent,
    authenticate_user_form,
    authorize_channel_form,
)

logger = logging.getLogger("examples.auth_fastapi")

# Returns the signed-in user as {"id": ..., "user_info": {...}}, or None.
UserLoader = Callable[[Request], Mapping[str, Any] | None]
EventHandler = Callable[[WebhookEvent], None]


def _signed(sign: Callable[[], dict[str, str]]) -> JSONResponse:
    try:
        return JSONResponse(sign())
    except ConfigurationError:
        # A missing master key is the server's fault, not the client's: let it be a 500.
        raise
    except ValidationError as exc:
        logger.info("rejected auth request: %s", exc)
        return JSONResponse({"error": str(exc)}, status_code=400)


def create_app(
    config: Config,
    load_user: UserLoader,
    on_event: EventHandler | None = None,
) -> FastAPI:
    """Build the FastAPI app.

    Args:
        config: The Channels app configuration.
        load_user: Returns the user of the current request, such as the one in your
            session, or None to deny.
        on_event: Called with each event of a valid webhook.

    Returns:
        The app with ``/pusher/auth``, ``/pusher/user-auth`` and ``/pusher/webhook``.
    """
    app = FastAPI()

    @app.post("/pusher/auth")
    async def channel_auth(request: Request) -> JSONResponse:
        user = load_user(request)
        if user is None:
            return JSONResponse({"error": "sign in first"}, status_code=403)
        body = await request.body()

        def member(socket_id: str, channel: str) -> Mapping[str, Any] | None:
            # Check here whether this user may join this channel, and raise to deny.
            if not channel.startswith("presence-"):
                return None
            return {"user_id": user["id"], "user_info": user.get("user_info", {})}

        return _signed(lambda: authorize_channel_form(config, body, member))

    @app.post("/pusher/user-auth")
    async def user_auth(request: Request) -> JSONResponse:
        user = load_user(request)
        if user is None:
            return JSONResponse({"error": "sign in first"}, status_code=403)
        body = await request.body()
        return _signed(lambda: authenticate_user_form(config, body, user))

    @app.post("/pusher/webhook")
    async def webhook(request: Request) -> JSONResponse:
        hook = Webhook(config, request.headers.raw, await request.body(), max_age=300)
        if not hook.is_valid():
            logger.warning("rejected webhook: key=%s reason=%s", hook.key, hook.reason)
            return JSONResponse({"error": "invalid webhook"}, status_code=401)
        for event in hook.events:
            if on_event is not None:
                on_event(event)
        return JSONResponse({"ok": True})

    return app


def _demo_user(request: Request) -> Mapping[str, Any] | None:
    # Demo only: every caller is the same user. Read your session instead.
    return {"id": "demo-user", "user_info": {"name": "Demo"}}


# Built only when PUSHER_URL is set, so importing this module for tests needs no setup.
app = create_app(Config.from_env(), _demo_user) if os.environ.get("PUSHER_URL") else None

"""A single-file Django project with the endpoints a Channels app serves.

The settings, the views and the URLs are all here: ``pusher/auth`` for channel auth,
``pusher/user-auth`` for user auth and ``pusher/webhook`` for webhooks, as in the Flask
example. In a real project the views go into an app's ``views.py``, the patterns into
``urls.py``, and ``load_user`` reads ``request.user``.

Run it with
``PUSHER_URL=http://KEY:SECRET@HOST/apps/APP_ID python examples/auth_django.py runserver``.
Django is not a dependency of the SDK: ``pip install django``.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    # Minimal settings: no database, no sessions, and this module as the URL conf.
    settings.configure(
        DEBUG=False,
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(32),
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
    )
    django.setup()

# Importing these modules before the settings exist would fail, so they come second.
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pusher_core import (
    Config,
    ConfigurationError,
    ValidationError,
    Webhook,
    WebhookEvent,
    authenticate_user_form,
    authorize_channel_form,
)

logger = logging.getLogger("examples.auth_django")

# Returns the signed-in user as {"id": ..., "user_info": {...}}, or None.
UserLoader = Callable[[HttpRequest], Mapping[str, Any] | None]
EventHandler = Callable[[WebhookEvent], None]


def _signed(sign: Callable[[], dict[str, str]]) -> JsonResponse:
    try:
        return JsonResponse(sign())
    except ConfigurationError:
        # A missing master key is the server's fault, not the client's: let it be a 500.
        raise
    except ValidationError as exc:
        logger.info("rejected auth request: %s", exc)
        return JsonResponse({"error": str(exc)}, status=400)


def create_urlpatterns(
    config: Config,
    load_user: UserLoader,
    on_event: EventHandler | None = None,
) -> list[URLPattern]:
    """Build the URL patterns of the three endpoints.

    With Django's CSRF middleware on, pusher-js must send the token: give it
    ``channelAuthorization: {headers: {"X-CSRFToken": token}}`` and the same under
    ``userAuthentication``. The webhook view is exempt, because Channels sends no token
    and the signature check protects it instead.

    Args:
        config: The Channels app configuration.
        load_user: Returns the user of the current request, or None to deny.
        on_event: Called with each event of a valid webhook.

    Returns:
        The patterns for ``pusher/auth``, ``pusher/user-auth`` and ``pusher/webhook``.
    """

    @require_POST
    def channel_auth(request: HttpRequest) -> JsonResponse:
        user = load_user(request)
        if user is None:
            return JsonResponse({"error": "sign in first"}, status=403)

        def member(socket_id: str, channel: str) -> Mapping[str, Any] | None:
            # Check here whether this user may join this channel, and raise to deny.
            if not channel.startswith("presence-"):
                return None
            return {"user_id": user["id"], "user_info": user.get("user_info", {})}

        return _signed(lambda: authorize_channel_form(config, request.body, member))

    @require_POST
    def user_auth(request: HttpRequest) -> JsonResponse:
        user = load_user(request)
        if user is None:
            return JsonResponse({"error": "sign in first"}, status=403)
        return _signed(lambda: authenticate_user_form(config, request.body, user))

    @csrf_exempt
    @require_POST
    def webhook(request: HttpRequest) -> JsonResponse:
        hook = Webhook(config, request.headers.items(), request.body, max_age=300)
        if not hook.is_valid():
            logger.warning("rejected webhook: key=%s reason=%s", hook.key, hook.reason)
            return JsonResponse({"error": "invalid webhook"}, status=401)
        for event in hook.events:
            if on_event is not None:
                on_event(event)
        return JsonResponse({"ok": True})

    return [
        path("pusher/auth", channel_auth),
        path("pusher/user-auth", user_auth),
        path("pusher/webhook", webhook),
    ]


def _demo_user(request: HttpRequest) -> Mapping[str, Any] | None:
    # Demo only: every caller is the same user. Read request.user instead.
    return {"id": "demo-user", "user_info": {"name": "Demo"}}


# Built only when PUSHER_URL is set, so importing this module for tests needs no setup.
urlpatterns = (
    create_urlpatterns(Config.from_env(), _demo_user) if os.environ.get("PUSHER_URL") else []
)

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    logging.basicConfig(level=logging.INFO)
    execute_from_command_line(sys.argv)

"""A Flask app with the endpoints a Channels app serves: channel auth, user auth, webhooks.

pusher-js posts ``socket_id=...&channel_name=...`` to ``/pusher/auth`` and
``socket_id=...`` to ``/pusher/user-auth``; Channels posts webhooks to
``/pusher/webhook``. Point pusher-js at the first two with its ``channelAuthorization``
and ``userAuthentication`` options.

Run it with ``PUSHER_URL=http://KEY:SECRET@HOST/apps/APP_ID python examples/auth_flask.py``.
Flask is not a dependency of the SDK: ``pip install flask``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Request, jsonify, request
from flask.typing import ResponseReturnValue

from pusher_core import (
    Config,
    ConfigurationError,
    ValidationError,
    Webhook,
    WebhookEvent,
    authenticate_user_form,
    authorize_channel_form,
)

logger = logging.getLogger("examples.auth_flask")

# Returns the signed-in user as {"id": ..., "user_info": {...}}, or None.
UserLoader = Callable[[Request], Mapping[str, Any] | None]
EventHandler = Callable[[WebhookEvent], None]


def create_app(
    config: Config,
    load_user: UserLoader,
    on_event: EventHandler | None = None,
) -> Flask:
    """Build the Flask app.

    Args:
        config: The Channels app configuration.
        load_user: Returns the user of the current request, such as the one in your
            login session, or None to deny.
        on_event: Called with each event of a valid webhook.

    Returns:
        The Flask app with ``/pusher/auth``, ``/pusher/user-auth`` and
        ``/pusher/webhook``.
    """
    app = Flask(__name__)

    @app.post("/pusher/auth")
    def channel_auth() -> ResponseReturnValue:
        user = load_user(request)
        if user is None:
            return jsonify(error="sign in first"), 403

        def member(socket_id: str, channel: str) -> Mapping[str, Any] | None:
            # Check here whether this user may join this channel, and raise to deny.
            if not channel.startswith("presence-"):
                return None
            return {"user_id": user["id"], "user_info": user.get("user_info", {})}

        return _signed(lambda: authorize_channel_form(config, request.get_data(), member))

    @app.post("/pusher/user-auth")
    def user_auth() -> ResponseReturnValue:
        user = load_user(request)
        if user is None:
            return jsonify(error="sign in first"), 403
        return _signed(lambda: authenticate_user_form(config, request.get_data(), user))

    @app.post("/pusher/webhook")
    def webhook() -> ResponseReturnValue:
        hook = Webhook(config, request.headers.items(), request.get_data(), max_age=300)
        if not hook.is_valid():
            logger.warning("rejected webhook: key=%s reason=%s", hook.key, hook.reason)
            return jsonify(error="invalid webhook"), 401
        for event in hook.events:
            if on_event is not None:
                on_event(event)
        return jsonify(ok=True)

    return app


def _signed(sign: Callable[[], dict[str, str]]) -> ResponseReturnValue:
    try:
        return jsonify(sign())
    except ConfigurationError:
        # A missing master key is the server's fault, not the client's: let it be a 500.
        raise
    except ValidationError as exc:
        logger.info("rejected auth request: %s", exc)
        return jsonify(error=str(exc)), 400


def _demo_user(req: Request) -> Mapping[str, Any] | None:
    # Demo only: every caller is the same user. Read your login session instead.
    return {"id": "demo-user", "user_info": {"name": "Demo"}}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    create_app(Config.from_env(), _demo_user).run(host="127.0.0.1", port=5000)

"""The clients expose the same methods, and the pure ones give the core's results."""

from __future__ import annotations

import inspect

import pytest

from pusher_core import Config, authenticate_user, authorize_channel, sign_webhook
from pusher_core.retry import RetryPolicy
from pusher_transports import AsyncClient, Client

MASTER_KEY = "AP9/gMOp4pyT8J+Oif4BEICQoLDA0ODw/ty6mHZUMhA="
CONFIG = Config(app_id="1", key="key", secret="secret", encryption_master_key_base64=MASTER_KEY)


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, callable) if not name.startswith("_")}


def test_clients_have_the_same_methods() -> None:
    sync_only = {"close"}
    assert public_methods(Client) - sync_only == public_methods(AsyncClient) - sync_only


@pytest.mark.parametrize("name", sorted(public_methods(Client) - {"close", "for_url", "from_env"}))
def test_signatures_match(name: str) -> None:
    assert inspect.signature(getattr(Client, name)) == inspect.signature(getattr(AsyncClient, name))


def test_pure_methods_match_core() -> None:
    with Client(CONFIG) as client:
        assert client.authorize_channel("1.2", "private-a") == authorize_channel(
            CONFIG, "1.2", "private-a"
        )
        user = {"id": "u1", "user_info": {"name": "Zoë"}}
        assert client.authenticate_user("1.2", user) == authenticate_user(CONFIG, "1.2", user)
        form = client.authorize_channel_form(b"socket_id=1.2&channel_name=private-a")
        assert form == authorize_channel(CONFIG, "1.2", "private-a")
        headers, body = sign_webhook(CONFIG, [{"name": "channel_occupied", "channel": "a"}], 1)
        assert client.webhook(headers, body).is_valid()
        sealed = client.builder.trigger("private-encrypted-a", "e", {"n": 1})
        assert sealed.body
        secret = client.channel_shared_secret("private-encrypted-a")
        assert client.authorize_channel("1.2", "private-encrypted-a")["shared_secret"] == secret


async def test_async_client_pure_methods() -> None:
    async with AsyncClient(CONFIG) as client:
        assert client.authorize_channel("1.2", "private-a") == authorize_channel(
            CONFIG, "1.2", "private-a"
        )
        assert repr(client) == "<AsyncClient app_id='1' transport=AiohttpTransport>"
        assert "secret" not in repr(client)


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_from_env_passes_client_and_config_keywords(
    client_class: type[Client] | type[AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHER_URL", "http://key:secret@127.0.0.1:6001/apps/5")
    policy = RetryPolicy(max_attempts=2)

    client = client_class.from_env(retry=policy, clock=lambda: 7.9, timeout=2.5)

    assert client.retry is policy
    assert client.config.timeout == 2.5
    assert dict(client.builder.get("/channels").query)["auth_timestamp"] == "7"


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_for_url_refuses_unknown_keyword(client_class: type[Client] | type[AsyncClient]) -> None:
    # As for `Config` itself, an unknown keyword is a TypeError naming it.
    with pytest.raises(TypeError, match="colour"):
        client_class.for_url("http://key:secret@127.0.0.1/apps/5", colour="red")

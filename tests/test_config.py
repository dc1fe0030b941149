"""Tests for building and validating `Config`."""

from __future__ import annotations

import json

import attrs
import pytest

from pusher_core import Config, ConfigurationError

SECRET = "s3cr3t-value-never-shown"


def make(**overrides: object) -> Config:
    options: dict[str, object] = {"app_id": "123", "key": "key", "secret": SECRET}
    options.update(overrides)
    return Config(**options)  # type: ignore[arg-type]


def test_defaults() -> None:
    config = make()
    assert config.host == "api-mt1.pusher.com"
    assert config.port == 443
    assert config.tls is True
    assert config.scheme == "https"
    assert config.base_path == ""
    assert config.timeout == 10.0
    assert config.payload_limit == 10240


def test_cluster_sets_host() -> None:
    assert Config.for_cluster("eu", app_id="1", key="k", secret="s").host == "api-eu.pusher.com"


def test_explicit_host_wins_over_cluster() -> None:
    assert make(cluster="eu", host="example.test").host == "example.test"


def test_port_follows_scheme() -> None:
    assert make(tls=False).port == 80
    assert make(tls=False, port=6001).port == 6001


def test_for_url_keeps_port_and_scheme() -> None:
    config = Config.for_url("http://the-key:the-secret@127.0.0.1:6001/apps/app-id")
    assert config.app_id == "app-id"
    assert config.key == "the-key"
    assert config.secret == "the-secret"
    assert config.host == "127.0.0.1"
    assert config.port == 6001
    assert config.tls is False


def test_for_url_https_default_port() -> None:
    config = Config.for_url("https://k:s@api-eu.pusher.com/apps/42")
    assert config.port == 443
    assert config.tls is True


def test_for_url_base_path() -> None:
    config = Config.for_url("https://k:s@proxy.test/ws/apps/42")
    assert config.base_path == "/ws"
    assert config.app_id == "42"


def test_for_url_decodes_escaped_secret() -> None:
    assert Config.for_url("https://k:a%2Fb%40c@host.test/apps/1").secret == "a/b@c"


def test_for_url_ipv6_host() -> None:
    config = Config.for_url("http://k:s@[::1]:6001/apps/1")
    assert config.host == "[::1]"


def test_for_url_extra_options() -> None:
    assert Config.for_url("https://k:s@host.test/apps/1", timeout=3).timeout == 3


@pytest.mark.parametrize(
    "url",
    [
        f"https://k:{SECRET}@host.test/apps/",
        f"https://k:{SECRET}@host.test/channels/1",
        f"ftp://k:{SECRET}@host.test/apps/1",
        f"https://k:{SECRET}@host.test:99999/apps/1",
        f"https://k:{SECRET}@host.test:port/apps/1",
        "https://host.test/apps/1",
        f"https://:{SECRET}@host.test/apps/1",
        f"https://k:{SECRET}@host.test/apps/1?x=1",
        "not a url",
    ],
)
def test_for_url_rejects_malformed(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Config.for_url(url)
    assert caught.value.field == "url"
    assert SECRET not in str(caught.value)


def test_from_env() -> None:
    environ = {"PUSHER_URL": "http://k:s@127.0.0.1:6001/apps/7"}
    assert Config.from_env(environ=environ).app_id == "7"


def test_from_env_missing() -> None:
    with pytest.raises(ConfigurationError, match="PUSHER_URL"):
        Config.from_env(environ={})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": " key"}, "key"),
        ({"key": "key\n"}, "key"),
        ({"secret": ""}, "secret"),
        ({"secret": SECRET + " "}, "secret"),
        ({"secret": "\t" + SECRET}, "secret"),
        ({"secret": 12}, "secret"),
        ({"app_id": ""}, "app_id"),
        ({"app_id": "a/b"}, "app_id"),
        ({"app_id": "a b"}, "app_id"),
        ({"port": 0}, "port"),
        ({"port": 65536}, "port"),
        ({"port": True}, "port"),
        ({"port": "443"}, "port"),
        ({"host": "https://api.test"}, "host"),
        ({"host": "api .test"}, "host"),
        ({"host": "api.test:443"}, "host"),
        ({"host": "api.test/path"}, "host"),
        ({"host": ""}, "host"),
        ({"cluster": "eu west"}, "cluster"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"base_path": "ws"}, "base_path"),
        ({"base_path": "/ws/"}, "base_path"),
        ({"base_path": "/w s"}, "base_path"),
        ({"payload_limit": 0}, "payload_limit"),
        ({"payload_limit": -5}, "payload_limit"),
        ({"tls": "yes"}, "tls"),
        ({"json_encoder": json.dumps}, "json_encoder"),
        ({"encryption_master_key_base64": "c2hvcnQ="}, "encryption_master_key_base64"),
    ],
)
def test_invalid_values_name_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(**overrides)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert SECRET not in str(caught.value)


def test_unknown_keyword_rejected() -> None:
    with pytest.raises(TypeError, match="colour"):
        make(colour="red")


def test_repr_hides_secret_and_master_key() -> None:
    master = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    config = make(encryption_master_key_base64=master)
    assert SECRET not in repr(config)
    assert master not in repr(config)
    assert "key='key'" in repr(config)


def test_config_is_frozen() -> None:
    config = make()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.secret = "other"  # type: ignore[misc]


def test_master_key_decodes_32_bytes() -> None:
    master = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    assert make(encryption_master_key_base64=master).encryption_master_key == bytes(range(32))


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", "got 31"),
        ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", "not valid"),
        ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_-", "not valid"),
    ],
)
def test_master_key_strict(value: str, detail: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make(encryption_master_key_base64=value)
    assert detail in str(caught.value)
    assert value.strip() not in str(caught.value)

"""Building the app `Config` from ``PUSHER_URL``, ``--url`` and the single-field options.

A URL (``--url``, else ``PUSHER_URL``) gives the base settings, and each option given on
the command line replaces one field of it. Without a URL, ``--app-id``, ``--key`` and
one secret source are required. No message here quotes a secret or a URL, because a
URL carries the secret.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import attrs

from pusher_core.config import Config
from pusher_core.errors import ConfigurationError
from pusher_transports.cli._inputs import Inputs, strip_line_ending

URL_VARIABLE = "PUSHER_URL"
MASTER_KEY_VARIABLE = "PUSHER_ENCRYPTION_MASTER_KEY"

# Option attribute -> Config field, for the options that copy a value unchanged.
_PLAIN_FIELDS = {
    "app_id": "app_id",
    "key": "key",
    "host": "host",
    "port": "port",
    "cluster": "cluster",
    "tls": "tls",
    "base_path": "base_path",
    "timeout": "timeout",
}
_SECRET_OPTIONS = ("--secret", "--secret-file", "--secret-stdin")
_PLACEHOLDER = "unused"
_REQUIRED_WITHOUT_URL = {"app_id": "--app-id", "key": "--key", "secret": "--secret"}


def load_config(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    inputs: Inputs,
    *,
    app_required: bool = True,
) -> Config:
    """Build the configuration the options and the environment describe.

    Args:
        args: The parsed options.
        environ: The environment, for ``PUSHER_URL`` and the master key.
        inputs: The reader for secret files and standard input.
        app_required: False for commands that need only the master key. Without any
            app setting, they get a placeholder app that is never sent anywhere.

    Raises:
        ConfigurationError: A setting is missing, invalid or given twice.
        ValidationError: A secret file cannot be read.
    """
    fields = _option_fields(args, inputs)
    master_key = _master_key(args, environ, inputs)
    if master_key is not None:
        fields["encryption_master_key_base64"] = master_key

    url = getattr(args, "url", None) or environ.get(URL_VARIABLE) or None
    if url is not None:
        return _config_from_url(url, fields)
    if not app_required and not (fields.keys() & _REQUIRED_WITHOUT_URL.keys()):
        # decrypt uses only the master key, so the app fields are placeholders.
        return Config(app_id=_PLACEHOLDER, key=_PLACEHOLDER, secret=_PLACEHOLDER, **fields)
    _require_app_fields(fields)
    return Config(**fields)


def _option_fields(args: argparse.Namespace, inputs: Inputs) -> dict[str, Any]:
    fields = {
        name: getattr(args, option)
        for option, name in _PLAIN_FIELDS.items()
        if getattr(args, option, None) is not None
    }
    secret = _secret(args, inputs)
    if secret is not None:
        fields["secret"] = secret
    return fields


def _secret(args: argparse.Namespace, inputs: Inputs) -> str | None:
    options_given = [
        option
        for option in _SECRET_OPTIONS
        if getattr(args, option[2:].replace("-", "_"), None) not in (None, False)
    ]
    if len(options_given) > 1:
        raise ConfigurationError("secret", f"give only one of {', '.join(options_given)}")
    if getattr(args, "secret_file", None) is not None:
        return inputs.read_line_value("--secret-file", args.secret_file)
    if getattr(args, "secret_stdin", False):
        return strip_line_ending(inputs.read_text("--secret-stdin", "-"))
    secret: str | None = getattr(args, "secret", None)
    return secret


def _master_key(args: argparse.Namespace, environ: Mapping[str, str], inputs: Inputs) -> str | None:
    path = getattr(args, "master_key_file", None)
    if path is not None:
        return inputs.read_line_value("--master-key-file", path)
    return environ.get(MASTER_KEY_VARIABLE) or None


def _config_from_url(url: str, fields: dict[str, Any]) -> Config:
    if "cluster" in fields and "host" not in fields:
        # The URL fixes the host, so a cluster alone would be silently ignored.
        raise ConfigurationError(
            "cluster", "cannot be combined with a URL, because the URL sets the host; use --host"
        )
    # evolve runs the field validators again, so an invalid option still fails here.
    # The port is kept as the URL gave it, even when --tls or --no-tls changes the scheme.
    return attrs.evolve(Config.for_url(url), **fields)


def _require_app_fields(fields: Mapping[str, Any]) -> None:
    missing = [option for name, option in _REQUIRED_WITHOUT_URL.items() if name not in fields]
    if not missing:
        return
    raise ConfigurationError(
        "configuration",
        f"missing {', '.join(missing)}: set {URL_VARIABLE}, pass --url, "
        "or pass --app-id, --key and a secret (--secret, --secret-file or --secret-stdin)",
    )

"""Pytest wiring for the contract suite: options, parametrisation over transports, fixtures.

By default every case runs against every transport in `contract_tests.transports`.
``--transport=MODULE:FACTORY`` and ``--async-transport=MODULE:FACTORY`` replace that
registry with the named factories, so the authors of another adapter can run the suite
against it without editing this repository.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from contract_tests.harness import Subject
from contract_tests.server import ContractServer, Handler
from contract_tests.transports import ASYNC_TRANSPORTS, SYNC_TRANSPORTS, TAGS

_Entry = tuple[str, Callable[..., Any], bool]
_COMMAND_LINE_ENTRIES = pytest.StashKey[list[_Entry]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pusher-contract", "Pusher transport contract suite")
    group.addoption(
        "--transport",
        action="append",
        default=[],
        metavar="MODULE:FACTORY",
        help=(
            "run the contract suite against a sync transport: FACTORY(options) must return "
            "a new transport. Replaces the registered transports; repeat for several."
        ),
    )
    group.addoption(
        "--async-transport",
        action="append",
        default=[],
        metavar="MODULE:FACTORY",
        help="as --transport, for an asyncio transport",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "transport_tags(*tags): run only for transports tagged with every one of the tags",
    )
    config.addinivalue_line(
        "markers",
        "without_transport_tags(*tags): run only for transports tagged with none of the tags",
    )
    config.addinivalue_line(
        "markers", "transport_kind(kind): run only for 'sync' or only for 'async' transports"
    )
    config.addinivalue_line(
        "markers",
        "registered_only: tests of this repository's adapters, skipped under --transport",
    )
    # Loading here turns a bad MODULE:FACTORY into one usage error before collection.
    sync_specs, async_specs = _command_line_specs(config)
    config.stash[_COMMAND_LINE_ENTRIES] = [
        (spec, _load_factory(spec), False) for spec in sync_specs
    ] + [(spec, _load_factory(spec), True) for spec in async_specs]


def _load_factory(spec: str) -> Callable[..., Any]:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise pytest.UsageError(f"invalid transport factory {spec!r}: expected MODULE:FACTORY")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise pytest.UsageError(f"cannot import {module_name!r} for {spec!r}: {exc}") from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise pytest.UsageError(f"{spec!r}: {attribute!r} is not a callable in {module_name!r}")
    return factory  # type: ignore[no-any-return]


def _command_line_specs(config: pytest.Config) -> tuple[list[str], list[str]]:
    return config.getoption("transport"), config.getoption("async_transport")


def _entries(config: pytest.Config) -> list[_Entry]:
    given = config.stash[_COMMAND_LINE_ENTRIES]
    if given:
        return given
    return [(name, factory, False) for name, factory in SYNC_TRANSPORTS.items()] + [
        (name, factory, True) for name, factory in ASYNC_TRANSPORTS.items()
    ]


def _selected(entry: _Entry, definition: pytest.Function | Any) -> bool:
    name, _, is_async = entry
    kind = definition.get_closest_marker("transport_kind")
    if kind is not None and kind.args[0] != ("async" if is_async else "sync"):
        return False
    tagged = TAGS.get(name, frozenset())
    excluded = definition.get_closest_marker("without_transport_tags")
    if excluded is not None and tagged & set(excluded.args):
        return False
    tags = definition.get_closest_marker("transport_tags")
    return tags is None or set(tags.args) <= tagged


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "transport_entry" not in metafunc.fixturenames:
        return
    entries = [
        pytest.param(entry, id=entry[0])
        for entry in _entries(metafunc.config)
        if _selected(entry, metafunc.definition)
    ]
    metafunc.parametrize("transport_entry", entries)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("registered_only") and item.config.stash[_COMMAND_LINE_ENTRIES]:
        pytest.skip("tests this repository's own adapters, not the one given on the command line")


@pytest.fixture
async def subject(transport_entry: _Entry) -> AsyncIterator[Subject]:
    """The transport under test, closed after the case."""
    name, factory, is_async = transport_entry
    built = Subject(name, factory, is_async, tags=TAGS.get(name, frozenset()))
    yield built
    await built.close()


@pytest.fixture
def start_server() -> Iterator[Callable[..., ContractServer]]:
    """Factory that starts a loopback `ContractServer` and stops it after the case."""
    servers: list[ContractServer] = []

    def start(handler: Handler | None = None) -> ContractServer:
        server = ContractServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()

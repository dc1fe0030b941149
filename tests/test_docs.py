"""Run every code block of README.md and docs/*.md, so that the guide cannot drift from the code.

Each ``python`` and ``sh`` block is one test, with the id ``PAGE:LINE``. The blocks of one
page run in page order. Its ``python`` blocks share one namespace, and all its blocks run
in one temporary working folder, so a block may use the names and files that the blocks
above it made. Running one block alone (``-k``) runs the blocks above it first.

A block runs against the session's local soketi once its page talks to a server:

- a ``sh`` block always gets ``PUSHER_URL`` set to soketi's app URL, and ``.venv/bin``
  first on ``PATH``, so ``pusher-channels`` and ``python`` are this checkout's;
- a ``python`` block gets ``PUSHER_URL`` set from the first block of its page that
  mentions ``from_env`` or ``PUSHER_URL`` on, and unset before that, so a developer's
  own ``PUSHER_URL`` is never used.

Such blocks are marked ``e2e``. A block that must not run is preceded by an HTML comment
``<!-- not run: REASON -->``, which shows in the page source next to the block. Every
fence declares its language, so a code block cannot escape these tests by omitting it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pusher_core
from tests.support.peers import SoketiServer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

RUNNABLE = frozenset({"python", "sh"})
# Fence languages of output, data or code in other languages, which the tests do not run.
NOT_CODE = frozenset({"text", "json", "jsonl", "http", "javascript"})

# Seconds one shell block may take. The slowest documented command sends a few events.
SHELL_TIMEOUT = 120

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>.*)$")
_NOT_RUN = re.compile(r"^<!-- not run: (?P<reason>\S.*\S) -->$")
_SERVER_HINTS = ("from_env", "PUSHER_URL")


class Block:
    """One fenced code block of a page."""

    def __init__(self, page: Path, line: int, language: str, source: str, skip_reason: str | None):
        self.page = page
        self.line = line
        self.language = language
        self.source = source
        self.skip_reason = skip_reason
        self.needs_server = False

    @property
    def name(self) -> str:
        """The test id: the page relative to the checkout, and the line of the fence."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        """Whether the tests run this block."""
        return self.language in RUNNABLE and self.skip_reason is None


def parse_blocks(page: Path) -> list[Block]:
    """Return the fenced blocks of a Markdown page, in order, with their not-run markers."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        end = _closing_fence(lines, index, match["fence"])
        body = textwrap.dedent("\n".join(lines[index + 1 : end]))
        language = match["info"].strip()
        blocks.append(Block(page, index + 1, language, body + "\n", _skip_reason(lines, index)))
        index = end + 1
    _mark_server_blocks(blocks)
    return blocks


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    for index in range(start + 1, len(lines)):
        if lines[index].strip() == fence:
            return index
    raise ValueError(f"unclosed code fence at line {start + 1}")


def _skip_reason(lines: list[str], fence_index: int) -> str | None:
    # The marker is the last non-blank line above the fence.
    for index in range(fence_index - 1, -1, -1):
        text = lines[index].strip()
        if text:
            match = _NOT_RUN.match(text)
            return None if match is None else match["reason"]
    return None


def _mark_server_blocks(blocks: list[Block]) -> None:
    talks_to_server = False
    for block in blocks:
        if block.language == "python" and any(hint in block.source for hint in _SERVER_HINTS):
            talks_to_server = True
        block.needs_server = block.language == "sh" or talks_to_server


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]


def _params() -> list[object]:
    params = []
    for block in ALL_BLOCKS:
        if block.runs:
            marks = [pytest.mark.e2e] if block.needs_server else []
            params.append(pytest.param(block, id=block.name, marks=marks))
    return params


class PageRun:
    """The state shared by the blocks of one page: the namespace, the folder and progress."""

    def __init__(self, page: Path, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.namespace: dict[str, object] = {"__name__": "__docs__"}
        self.done: set[int] = set()
        self.failed_at: str | None = None


_runs: dict[Path, PageRun] = {}


@pytest.fixture
def page_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> PageRun:
    """Return the run of the current block's page, created on its first block."""
    block: Block = request.node.callspec.params["block"]
    if block.page not in _runs:
        folder = tmp_path_factory.mktemp(block.page.stem)
        _runs[block.page] = PageRun(block.page, folder)
    return _runs[block.page]


@pytest.mark.parametrize("block", _params())
def test_block(
    block: Block,
    page_run: PageRun,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = request.getfixturevalue("soketi") if block.needs_server else None
    for earlier in ALL_BLOCKS:
        if earlier.page == block.page and earlier.line < block.line and earlier.runs:
            _run_once(earlier, page_run, server, monkeypatch)
    _run_once(block, page_run, server, monkeypatch)


def _run_once(
    block: Block, run: PageRun, server: SoketiServer | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if block.line in run.done:
        return
    if run.failed_at is not None:
        pytest.fail(f"{run.failed_at} failed, and this block depends on the blocks above it")
    if block.needs_server and server is None:
        pytest.fail(f"{block.name} needs soketi, which was not started for this test")
    try:
        if block.language == "python":
            _run_python(block, run, server, monkeypatch)
        else:
            assert server is not None
            _run_shell(block, run, server)
    except BaseException:
        run.failed_at = block.name
        raise
    run.done.add(block.line)


def _run_python(
    block: Block, run: PageRun, server: SoketiServer | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.chdir(run.folder)
        patch.delenv("PUSHER_ENCRYPTION_MASTER_KEY", raising=False)
        if server is None:
            patch.delenv("PUSHER_URL", raising=False)
        else:
            patch.setenv("PUSHER_URL", server.url)
        # Leading blank lines keep the line numbers of a traceback equal to the page's.
        padded = "\n" * block.line + block.source
        exec(compile(padded, str(block.page), "exec"), run.namespace)


def _run_shell(block: Block, run: PageRun, server: SoketiServer) -> None:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.source],
        cwd=run.folder,
        env=_shell_environment(server),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SHELL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block.name} exited with status {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )


def _shell_environment(server: SoketiServer) -> dict[str, str]:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("PUSHER_")
    }
    bin_folder = str(Path(sys.executable).parent)
    environment["PATH"] = f"{bin_folder}{os.pathsep}{environment.get('PATH', '')}"
    environment["PUSHER_URL"] = server.url
    return environment


def test_every_fence_declares_a_language() -> None:
    unlabelled = [block.name for block in ALL_BLOCKS if not block.language]
    unknown = [
        f"{block.name} ({block.language})"
        for block in ALL_BLOCKS
        if block.language and block.language not in RUNNABLE | NOT_CODE
    ]

    assert unlabelled == []
    assert unknown == []


def test_not_run_markers_precede_code() -> None:
    misplaced = [
        block.name
        for block in ALL_BLOCKS
        if block.skip_reason is not None and block.language not in RUNNABLE
    ]

    assert misplaced == []


def test_pages_have_runnable_blocks() -> None:
    # Guards the parser: a broken fence pattern would otherwise collect nothing and pass.
    runnable = {block.page.name for block in ALL_BLOCKS if block.runs}

    assert "README.md" in runnable
    assert "cli.md" in runnable
    assert len([block for block in ALL_BLOCKS if block.runs]) >= 40


def test_parser_reads_markers_and_languages(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n"
        "<!-- not run: installs packages -->\n"
        "```sh\npip install x\n```\n\n"
        "```python\nfrom pusher_core import Config\nConfig.from_env()\n```\n\n"
        "- item\n\n  ```python\n  x = 1\n  ```\n",
        encoding="utf-8",
    )

    blocks = parse_blocks(page)

    assert [(block.line, block.language) for block in blocks] == [
        (4, "sh"),
        (8, "python"),
        (15, "python"),
    ]
    assert blocks[0].skip_reason == "installs packages"
    assert blocks[1].skip_reason is None
    assert blocks[2].source == "x = 1\n"
    assert [block.needs_server for block in blocks] == [True, True, True]


def test_changelog_heads_with_current_version() -> None:
    # A release sets __version__ and adds its changelog section together.
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.MULTILINE)

    assert "## [Unreleased]" in text
    assert released[0] == pusher_core.__version__

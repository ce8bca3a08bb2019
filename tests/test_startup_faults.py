"""Start-up faults: the chat's exit codes, no terminal, a data folder that cannot be written."""

from __future__ import annotations

import errno
import os
import pty
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from ui_helpers import build_services, ready, wait_idle, wait_until

from tokenopt_tui.store.db import unwritable_reason
from tokenopt_tui.ui.app import TokenoptApp
from tokenopt_tui.ui.widgets.message import ErrorMessage

SIZE = (120, 40)
NOT_SQLITE = b"these are my notes, not a database\n" * 20


# -- the chat's exit code -------------------------------------------------------------

async def test_chat_on_an_unusable_database_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(NOT_SQLITE)
    app = TokenoptApp(build_services(tmp_path, db_path=bad))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.chat.query(ErrorMessage), what="the error")
        await wait_idle(pilot)
        assert app.failure_code == 2
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 2
    assert bad.read_bytes() == NOT_SQLITE


async def test_chat_that_opened_its_database_exits_0(tmp_path: Path) -> None:
    app = TokenoptApp(build_services(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


def _strip_escapes(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return re.sub(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)", "", text)


def test_cli_chat_on_an_unusable_database_returns_2(xdg_env: dict[str, str]) -> None:
    """End to end on a pseudo-terminal: the error shows, Ctrl+Q quits, exit code 2."""
    data = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt"
    data.mkdir(parents=True)
    (data / "tokenopt.db").write_bytes(NOT_SQLITE)
    env = {**xdg_env, "TERM": "xterm-256color", "TOKENOPT_DISCOVERY_PORTS": "off"}
    controller, terminal = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "tokenopt_tui", "chat"], env=env, cwd=REPO,
                            stdin=terminal, stdout=terminal, stderr=terminal,
                            start_new_session=True)
    os.close(terminal)
    screen = bytearray()

    def drain() -> None:  # keep reading, or the app blocks writing to a full pty
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while "not a tokenopt database" not in _strip_escapes(bytes(screen)):
            assert proc.poll() is None, _strip_escapes(bytes(screen))[-2000:]
            assert time.monotonic() < deadline, _strip_escapes(bytes(screen))[-2000:]
            time.sleep(0.1)
        time.sleep(0.5)
        os.write(controller, b"\x11")  # Ctrl+Q
        assert proc.wait(timeout=30) == 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)
    assert (data / "tokenopt.db").read_bytes() == NOT_SQLITE


@pytest.mark.parametrize("stdin", ["devnull", "pipe"])
def test_chat_without_a_terminal_exits_2_at_once(xdg_env: dict[str, str], stdin: str) -> None:
    started = time.monotonic()
    feed = {"stdin": subprocess.DEVNULL} if stdin == "devnull" else {"input": "hello\n"}
    result = run_cli(["chat"], xdg_env, timeout=60, **feed)
    assert result.returncode == 2
    assert "tokenopt chat needs a terminal; use `tokenopt ask` for scripts" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30  # it used to spin at 99% CPU forever
    assert not (Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db").exists()


# -- a data folder that cannot be written ---------------------------------------------

@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "(read-only file system)"), (errno.EACCES, "permission denied)"),
     (errno.EPERM, "(read-only: writes not permitted")],
)
def test_unwritable_errors_are_explained_with_the_path(code: int, words: str) -> None:
    folder = Path("/srv/data/tokenopt")
    reason = unwritable_reason(folder, OSError(code, os.strerror(code)))
    assert reason is not None and reason.startswith(f"the folder {folder} is not writable (")
    assert words in reason
    file_reason = unwritable_reason(folder / "t.db", OSError(code, "x"), folder=False)
    assert file_reason is not None
    assert file_reason.startswith(f"the file {folder / 't.db'} is not writable (")
    # Other errors keep their own words (a full disk is not "read-only").
    assert unwritable_reason(folder, OSError(errno.ENOSPC, "No space left")) is None


@pytest.fixture
def lock() -> Iterator[Callable[[Path], None]]:
    """Make folders immutable (`chattr +i`: not writable even by root), or skip saying why;
    unlocked afterwards so the temp folder can be removed."""
    chattr = shutil.which("chattr")
    locked: list[Path] = []

    def make(folder: Path) -> None:
        if chattr is None:
            pytest.skip("chattr is not installed: no way to make a folder read-only for root")
        made = subprocess.run([chattr, "+i", str(folder)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"this file system cannot make a folder immutable: "
                        f"{made.stderr.strip()}")
        locked.append(folder)
        try:
            (folder / "probe").write_text("x")
        except OSError:
            return
        (folder / "probe").unlink()
        pytest.skip("an immutable folder is still writable here")

    yield make
    for folder in locked:
        subprocess.run([chattr or "chattr", "-i", str(folder)], check=False)


@pytest.mark.parametrize("where", ["data folder", "its parent", "folder of a database"])
def test_a_read_only_data_folder_says_so(xdg_env: dict[str, str], tmp_path: Path,
                                         lock: Callable[[Path], None], where: str) -> None:
    data_home = tmp_path / "share"
    data = data_home / "tokenopt"
    data.mkdir(parents=True)
    env = {**xdg_env, "XDG_DATA_HOME": str(data_home)}
    locked = data_home if where == "its parent" else data
    if where == "its parent":
        data.rmdir()  # tokenopt must create it, inside a folder it cannot write
    if where == "folder of a database":  # a database that exists, in a folder locked since
        made = run_cli(["stats"], env, timeout=60)
        assert made.returncode == 0 and (data / "tokenopt.db").exists(), made.stderr
        for extra in data.glob("tokenopt.db-*"):
            extra.unlink()  # as after a clean close: WAL must create them again
    lock(locked)
    result = run_cli(["ask", "hello"], env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"the folder {locked} is not writable (read-only" in result.stderr, result.stderr
    assert "unable to open database file" not in result.stderr

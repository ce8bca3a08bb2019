"""Cold start to first paint: a bare Textual app against TokenoptApp.

Part 2 times the real commands in a pseudo-terminal, as a user starts them:
`python -m tokenopt_tui` (config, OpenBLAS re-exec, app) against a bare hello-world
script, from spawn until the first screen's text reaches the terminal.

Each sample is a fresh `python -c` subprocess running headless that exits at its
first paint (`call_after_refresh(self.exit)` from on_mount). Two figures per run:
wall time of the whole subprocess (interpreter start to exit), and in-process
time from the first line of the snippet to first paint. TokenoptApp runs on real
services in a temp dir; tier 1 gets a stub provider so that a warm-up scheduled
after the first paint cannot start converting the embedded model.

    .venv/bin/python benchmarks/bench_startup.py [-n 10]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BARE = """
import time
t0 = time.perf_counter()
from textual.app import App, ComposeResult
from textual.widgets import Static

class Hello(App):
    def compose(self) -> ComposeResult:
        yield Static("Hello, world")

    def on_mount(self) -> None:
        self.call_after_refresh(self.painted)

    def painted(self) -> None:
        print(f"paint {time.perf_counter() - t0:.6f}")
        self.exit()

Hello().run(headless=True)
"""

OURS = """
import time
t0 = time.perf_counter()
import sys
from pathlib import Path
from tokenopt_tui.config import load_config
from tokenopt_tui.paths import Paths
from tokenopt_tui.wiring import make_services
from tokenopt_tui.ui.app import TokenoptApp

class Stub:
    kind, model, endpoint = "stub", "stub", "stub://"
    def availability(self):
        return True, "ready"
    async def prepare(self):
        return
        yield
    async def stream(self, messages, max_tokens):
        return
        yield

class FirstPaint(TokenoptApp):
    def on_mount(self) -> None:
        self.call_after_refresh(self.painted)

    def painted(self) -> None:
        print(f"paint {time.perf_counter() - t0:.6f}")
        heavy = [m for m in ("mlx", "mlx_lm", "openai", "tiktoken") if m in sys.modules]
        print(f"heavy {','.join(heavy) or '-'}")
        self.exit()

root = Path(sys.argv[1])
paths = Paths(root / "config" / "config.toml", root / "data", root / "cache")
services = make_services(load_config(paths, {}), paths, {})
services.set_provider(1, Stub())
FirstPaint(services).run(headless=True)
"""


def sample(code: str, *args: str) -> tuple[float, float, str]:
    """(wall seconds, in-process seconds to first paint, heavy modules loaded)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=60, check=True)
    wall = time.perf_counter() - started
    fields = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    return wall, float(fields["paint"]), fields.get("heavy", "-")


BARE_TTY = """
from textual.app import App, ComposeResult
from textual.widgets import Static

class Hello(App):
    def compose(self) -> ComposeResult:
        yield Static("Hello, world")

Hello().run()
"""


def tty_first_paint(argv: list[str], marker: bytes, env: dict[str, str]) -> float:
    """Seconds from spawning `argv` on a 120x40 pty until `marker` is written to it."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=env,
                            cwd=REPO, start_new_session=True)
    os.close(follower)
    seen = b""
    try:
        while marker not in seen:
            if time.perf_counter() - started > 30:
                raise TimeoutError(f"{argv} did not paint {marker!r} within 30 s")
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                seen = seen[-4096:] + os.read(leader, 65536)
        return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(leader)


def tty_samples(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm-256color",
               "XDG_CONFIG_HOME": f"{tmp}/config", "XDG_DATA_HOME": f"{tmp}/data",
               "XDG_CACHE_HOME": f"{tmp}/cache"}
        bare_cmd = [sys.executable, "-c", BARE_TTY]
        ours_cmd = [sys.executable, "-m", "tokenopt_tui"]
        tty_first_paint(bare_cmd, b"Hello, world", env)
        tty_first_paint(ours_cmd, b"Budget", env)
        bare, ours = [], []
        for _ in range(n):
            bare.append(tty_first_paint(bare_cmd, b"Hello, world", env))
            ours.append(tty_first_paint(ours_cmd, b"Budget", env))
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"{'real command on a pty':<26} bare {b * 1000:6.0f} ms   tokenopt {o * 1000:6.0f} ms   "
          f"ratio {o / b:.2f}  (spawn to first screen text, OpenBLAS re-exec included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="samples per app")
    args = parser.parse_args()
    bare: list[tuple[float, float]] = []
    ours: list[tuple[float, float]] = []
    heavy: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        sample(BARE)  # warm the OS file cache for both before timing
        sample(OURS, tmp)
        for _ in range(args.n):  # interleaved, so drift affects both alike
            bare.append(sample(BARE)[:2])
            wall, paint, loaded = sample(OURS, tmp)
            ours.append((wall, paint))
            heavy.add(loaded)
    for label, index in (("wall time of the process", 0), ("first paint, in-process", 1)):
        b = statistics.median(s[index] for s in bare)
        o = statistics.median(s[index] for s in ours)
        print(f"{label:<26} bare {b * 1000:6.0f} ms   tokenopt {o * 1000:6.0f} ms   "
              f"ratio {o / b:.2f}")
    print(f"median of {args.n} runs each; heavy modules loaded by first paint: "
          f"{', '.join(sorted(heavy))}")
    tty_samples(args.n)


if __name__ == "__main__":
    main()

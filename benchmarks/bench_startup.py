"""Cold start to first paint: a bare Textual app against TokenoptApp.

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
import os
import statistics
import subprocess
import sys
import tempfile
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
from tokenopt_tui.services import make_services
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


if __name__ == "__main__":
    main()

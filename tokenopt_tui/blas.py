"""Use Debian's OpenBLAS for MLX on Linux CPUs, through LD_PRELOAD.

The mlx CPU wheel links the reference BLAS; preloading OpenBLAS's `libblas.so.3`
makes a 1024³ f32 matmul ~60× faster and local prefill ~40× faster. The preload
must be in place before the process starts, so the CLI re-executes itself once.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Mapping, MutableMapping

CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3",
)
DISABLE_VAR = "TOKENOPT_OPENBLAS"
#: Set by `early_reexec` to the LD_PRELOAD it replaced, so the config can still say no.
EARLY_VAR = "TOKENOPT_PRELOAD_BEFORE"
HINT = "install Debian's libopenblas0-pthread for much faster local inference"


def find_openblas() -> str | None:
    """Path of an installed OpenBLAS `libblas.so.3`, or None."""
    for path in (*CANDIDATES, *glob.glob("/usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3")):
        if os.path.exists(path):
            return path
    return None


def loaded_openblas() -> str | None:
    """The OpenBLAS library mapped into this process, if any (Linux only)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                if "openblas" in line:
                    return line.split()[-1]
    except OSError:
        return None
    return None


def preload_env(env: Mapping[str, str], enabled: bool = True) -> dict[str, str] | None:
    """The environment to re-exec with, or None when no re-exec is needed or possible."""
    if not enabled or env.get(DISABLE_VAR) == "0" or not sys.platform.startswith("linux"):
        return None
    library = find_openblas()
    if library is None or library in env.get("LD_PRELOAD", ""):
        return None
    new = dict(env)
    new["LD_PRELOAD"] = " ".join(p for p in (library, env.get("LD_PRELOAD", "")) if p)
    new[DISABLE_VAR] = "0"  # never loop, even if the preload is refused
    return new


def status(env: Mapping[str, str] | None = None, enabled: bool = True) -> str:
    """One line for `tokenopt doctor` (which itself runs no model, so never preloads)."""
    env = os.environ if env is None else env
    loaded = loaded_openblas()
    if loaded:
        return f"in use ({loaded})"
    found = find_openblas()
    if found is None:
        return f"not installed: {HINT} (apt-get install libopenblas0-pthread)"
    if not enabled or env.get(DISABLE_VAR) == "0":
        return (f"installed at {found} but disabled (local.openblas = false or "
                f"{DISABLE_VAR}=0)")
    return f"installed at {found}: preloaded by chat, ask and model prepare"


def early_reexec(argv: list[str], env: MutableMapping[str, str] | None = None) -> None:
    """Preload OpenBLAS before the config is read (no return on success).

    The config's `local.openblas = false` is honoured afterwards by `reexec_with_openblas`,
    which restores the environment this replaced.
    """
    env = os.environ if env is None else env
    new = preload_env(env)
    if new is None:
        return
    new[EARLY_VAR] = env.get("LD_PRELOAD", "")
    _execute(argv, new)


def undo_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """The environment from before `early_reexec`, or None when it did not run."""
    if EARLY_VAR not in env:
        return None
    new = dict(env)
    previous = new.pop(EARLY_VAR)
    if previous:
        new["LD_PRELOAD"] = previous
    else:
        new.pop("LD_PRELOAD", None)
    return new


def reexec_with_openblas(argv: list[str], env: MutableMapping[str, str] | None = None,
                         enabled: bool = True) -> None:
    """Replace this process with one that has OpenBLAS preloaded (no return on success);
    when not `enabled` and `early_reexec` preloaded it, with one that has it no more."""
    env = os.environ if env is None else env
    new = preload_env(env, enabled) if enabled else undo_env(env)
    if new is None:
        return
    _execute(argv, new)


def _execute(argv: list[str], new: dict[str, str]) -> None:
    try:
        os.execve(sys.executable, [sys.executable, "-m", "tokenopt_tui", *argv], new)
    except OSError:
        return  # carry on with the reference BLAS: slower, still correct

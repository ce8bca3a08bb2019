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


def reexec_with_openblas(argv: list[str], env: MutableMapping[str, str] | None = None,
                         enabled: bool = True) -> None:
    """Replace this process with one that has OpenBLAS preloaded (no return on success)."""
    new = preload_env(os.environ if env is None else env, enabled)
    if new is None:
        return
    try:
        os.execve(sys.executable, [sys.executable, "-m", "tokenopt_tui", *argv], new)
    except OSError:
        return  # carry on with the reference BLAS: slower, still correct

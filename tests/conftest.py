"""Shared fixtures: isolated XDG folders, one prepared embedded model per run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenopt_tui.config import load_config
from tokenopt_tui.core.providers.model_prep import EMBEDDED_MODEL_NAME, prepare_embedded_model
from tokenopt_tui.paths import Paths

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(scope="session")
def prepared_model(shared_cache: Path) -> Path:
    """The embedded model, converted once per test run into the shared cache."""
    return prepare_embedded_model(shared_cache / "tokenopt" / "models" / EMBEDDED_MODEL_NAME)


@pytest.fixture
def xdg_env(tmp_path: Path, shared_cache: Path) -> dict[str, str]:
    """An environment whose config and data live in tmp_path; the model cache is shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENOPT")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(shared_cache),
        TOKENOPT__LOCAL__MAX_TOKENS="24",
        TOKENOPT__MAX_TOKENS="16",
        # Greedy decoding, so a real-model test sees the same reply every run (with
        # sampling the 270M model now and then ends a reply on its first token).
        TOKENOPT__LOCAL__TEMPERATURE="0",
    )
    env.pop("OPENROUTER_API_KEY", None)
    return env


@pytest.fixture
def paths(xdg_env: dict[str, str]) -> Paths:
    return Paths.from_env(xdg_env)


@pytest.fixture
def config(paths: Paths, xdg_env: dict[str, str]):
    return load_config(paths, xdg_env)


def write_config(env: dict[str, str], text: str) -> Path:
    file = Path(env["XDG_CONFIG_HOME"]) / "tokenopt" / "config.toml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


def loopback_tiers(url: str, model: str, key_env: str | None = None) -> str:
    """Config text: tier 1 the embedded model, tier 2 an OpenAI-compatible server at `url`."""
    key = f', api_key_env = "{key_env}"' if key_env else ""
    return (
        '[[tiers]]\nname = "local"\nendpoints = [{kind = "mlx", model = "embedded"}]\n'
        f'[[tiers]]\nname = "loopback"\nendpoints = [{{kind = "openai", base_url = "{url}", '
        f'model = "{model}", timeout_s = 60{key}}}]\n'
    )


def run_cli(args: list[str], env: dict[str, str], timeout: float = 240,
            **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokenopt_tui", *args], env=env, text=True,
                          capture_output=True, timeout=timeout, cwd=REPO, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mlx_server(prepared_model: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """A real OpenAI-compatible server (mlx_lm.server) on loopback; yields its /v1 URL.

    Its Hugging Face cache is an empty folder of the test run's: with no cache folder
    its /v1/models answers 200 with an empty body, and the user's cache stays untouched.
    """
    from tokenopt_tui.cli.bench_live import serve

    with serve(prepared_model, tmp_path_factory.mktemp("hf-hub-cache")) as url:
        yield url

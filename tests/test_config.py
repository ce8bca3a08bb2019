"""Config: defaults from the plan, overrides, and errors that name file and key."""

from __future__ import annotations

import pytest
from conftest import run_cli, write_config

from tokenopt_tui.config import ConfigError, load_config
from tokenopt_tui.paths import Paths


def test_defaults_mirror_the_plan(config) -> None:
    names = [t.name for t in config.tiers]
    assert names == ["local", "trinity", "qwen3-coder", "kimi"]
    assert config.tiers[0].endpoints[0].kind == "mlx"
    models = [e.model for t in config.tiers[1:3] for e in t.endpoints]
    assert models == ["arcee-ai/trinity-mini:free", "qwen/qwen3-coder:free",
                      "tngtech/deepseek-r1t2-chimera:free"]
    assert config.tiers[3].paid and config.tiers[3].endpoints[0].model == "moonshotai/kimi-k2"
    assert not config.paid_enabled
    assert dict(config.budgets) == {"direct_chat": 10_000, "cron_job": 20_000, "sub_agent": 30_000}
    t, c = config.thresholds, config.compression
    assert (t.warn_percent, t.compress_percent, t.halt_percent) == (80, 90, 100)
    assert (c.summarize_over_tokens, c.compress_over_turns, c.reference_over_tokens) == (
        50_000, 20, 5_000)
    assert c.summarizer == "extractive"


def test_file_and_environment_overrides(xdg_env, paths: Paths) -> None:
    write_config(xdg_env, 'theme = "tokenopt-light"\n[paid]\nenabled = true\n'
                          '[local]\nmodel = "/m/qwen3"\n')
    env = {**xdg_env, "TOKENOPT__BUDGETS__DIRECT_CHAT": "5000"}
    config = load_config(paths, env)
    assert config.theme == "tokenopt-light" and config.paid_enabled
    assert config.budgets["direct_chat"] == 5000
    assert config.tiers[0].endpoints[0].model == "/m/qwen3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[local\nmodel = 1", "not valid TOML"),
        ("[local]\nmax_tokns = 5\n", "unknown key 'local.max_tokns'"),
        ("[local]\nmax_tokens = 'many'\n", "key 'local.max_tokens': expected an integer"),
        ("[budgets]\ndirect_chat = -1\n", "key 'budgets.direct_chat'"),
        ("[budgets]\ncron_job = 99\n", "key 'budgets.cron_job': 99 is out of range"),
        ("[thresholds]\nwarn_percent = 0\n", "key 'thresholds.warn_percent': 0 is out of range"),
        ("[thresholds]\ncompress_percent = 101\n", "key 'thresholds.compress_percent'"),
        ("[thresholds]\nwarn_percent = 95\n",
         "key 'thresholds.warn_percent': 95 must be below 'thresholds.compress_percent'"),
        ("[thresholds]\nhalt_percent = 85\n",
         "key 'thresholds.compress_percent': 90 must not exceed 'thresholds.halt_percent'"),
        ("[compression]\nsummarize_over_tokens = 10\n",
         "key 'compression.summarize_over_tokens': 10 is out of range"),
        ("[compression]\ncompress_over_turns = 3\n", "key 'compression.keep_last'"),
        ("[compression]\nreference_over_tokens = 'big'\n",
         "key 'compression.reference_over_tokens': expected an integer"),
        ("[compression]\nsummarizer = 'gpt'\n", "key 'compression.summarizer': expected one of"),
        ("[[tiers]]\nname = 'x'\nendpoints = [{kind = 'openai', model = 'm'}]\n",
         "key 'tiers[0].endpoints[0].base_url' is required"),
    ],
)
def test_bad_file_names_file_and_key(xdg_env, paths: Paths, text: str, expected: str) -> None:
    file = write_config(xdg_env, text)
    with pytest.raises(ConfigError) as caught:
        load_config(paths, xdg_env)
    assert str(file) in str(caught.value) and expected in str(caught.value)


def test_bad_environment_override_names_the_variable(xdg_env, paths: Paths) -> None:
    with pytest.raises(ConfigError, match=r"TOKENOPT__PAID__ENABLED.*paid\.enabled"):
        load_config(paths, {**xdg_env, "TOKENOPT__PAID__ENABLED": "maybe"})


def test_cli_reports_config_error_with_exit_2_and_no_traceback(xdg_env) -> None:
    file = write_config(xdg_env, "[paid]\nenabled = 'yes'\n")
    for command in (["doctor"], ["ask", "hi"]):
        result = run_cli(command, xdg_env, timeout=60)
        assert result.returncode == 2
        assert str(file) in result.stderr and "paid.enabled" in result.stderr
        assert "Traceback" not in result.stderr


def test_doctor_shows_paths_and_tier_availability(xdg_env) -> None:
    result = run_cli(["doctor"], xdg_env, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert xdg_env["XDG_DATA_HOME"] in out and "not created yet" in out
    assert "openblas" in out
    assert "key missing: set OPENROUTER_API_KEY" in out  # unavailable, not an error
    assert "paid use is off" in out
    with_key = run_cli(["doctor"], {**xdg_env, "OPENROUTER_API_KEY": "sk-test"}, timeout=60)
    assert "arcee-ai/trinity-mini:free" in with_key.stdout
    assert with_key.stdout.count("key missing") == 0
    assert "sk-test" not in with_key.stdout  # secrets are never printed


def test_a_paid_model_in_a_free_tier_is_rejected_at_load(xdg_env) -> None:
    file = write_config(xdg_env, (
        '[[tiers]]\nname = "free"\nendpoints = [{kind = "openai", '
        'base_url = "https://openrouter.ai/api/v1", model = "moonshotai/kimi-k2"}]\n'))
    result = run_cli(["doctor"], xdg_env, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(file) in result.stderr and "tiers[0].endpoints[0].model" in result.stderr


def test_openblas_status_says_what_the_model_commands_will_do() -> None:
    from tokenopt_tui import blas

    found = blas.find_openblas()
    enabled = blas.status(env={}, enabled=True)
    disabled = blas.status(env={blas.DISABLE_VAR: "0"}, enabled=True)
    if blas.loaded_openblas():
        assert enabled.startswith("in use")
    elif found:
        assert "preloaded by chat, ask and model prepare" in enabled
        assert "disabled" in disabled and found in disabled
    else:
        assert enabled.startswith("not installed") and "libopenblas0-pthread" in enabled

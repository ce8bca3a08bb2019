"""Config: defaults from the plan, overrides, and errors that name file and key."""

from __future__ import annotations

import pytest
from conftest import loopback_tiers, run_cli, write_config

from tokenopt_tui.config import ConfigError, load_config
from tokenopt_tui.config_edit import add_local_server
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


def test_a_config_without_a_file_is_the_dataclass_defaults(xdg_env, paths: Paths) -> None:
    # Defaults are written once, on the dataclasses: loading adds only the tier chain.
    from dataclasses import replace

    from tokenopt_tui.config import ENV_PREFIX, Config

    env = {k: v for k, v in xdg_env.items() if not k.startswith(ENV_PREFIX)}  # the tests' own
    config = load_config(paths, env)
    assert config == replace(Config(), source="defaults", tiers=config.tiers)
    assert (config.max_tokens, config.request_timeout_s, config.daily_cap_usd,
            config.theme) == (1024, 600.0, 0.50, "tokenopt-dark")


def test_a_partial_budgets_table_keeps_the_other_defaults(xdg_env, paths: Paths) -> None:
    write_config(xdg_env, "[budgets]\ncron_job = 500\n[paid]\ndaily_cap_usd = 2\n")
    config = load_config(paths, xdg_env)
    assert dict(config.budgets) == {"direct_chat": 10_000, "cron_job": 500, "sub_agent": 30_000}
    assert config.daily_cap_usd == 2.0 and not config.paid_enabled


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
        ("[cache]\nprovider_response_cache = 'yes'\n", "key 'cache.provider_response_cache'"),
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


@pytest.mark.parametrize(
    ("var", "value", "key"),
    [
        # Cross-field checks in _build: found after the merge, still the variable's fault.
        ("TOKENOPT__THRESHOLDS__WARN_PERCENT", "95", "thresholds.warn_percent"),
        ("TOKENOPT__THRESHOLDS__HALT_PERCENT", "85", "thresholds.compress_percent"),
        ("TOKENOPT__COMPRESSION__KEEP_LAST", "60", "compression.keep_last"),
        ("TOKENOPT__TIERS", "3", "tiers"),
        ("TOKENOPT__PRICES", "3", "prices"),
        ("TOKENOPT__LOCAL_SERVERS", "[{model = 'm'}]", "local_servers[0].base_url"),
        # Per-key checks and unknown keys.
        ("TOKENOPT__LOCAL__TOP_P", "2", "local.top_p"),
        ("TOKENOPT__NO__SUCH", "1", "unknown key 'no'"),
        ("TOKENOPT__LOCAL__NO_SUCH", "1", "unknown key 'local.no_such'"),
    ],
)
def test_every_error_from_an_environment_value_names_the_variable(
        xdg_env, paths: Paths, var: str, value: str, key: str) -> None:
    file = write_config(xdg_env, 'theme = "tokenopt-dark"\n')  # a valid file exists
    with pytest.raises(ConfigError) as caught:
        load_config(paths, {**xdg_env, var: value})
    message = str(caught.value)
    assert message.startswith(f"environment variable {var}"), message
    assert key in message
    assert str(file) not in message  # the file is fine: it is not blamed


def test_an_env_value_clashing_with_the_file_names_both(xdg_env, paths: Paths) -> None:
    file = write_config(xdg_env, "[thresholds]\ncompress_percent = 90\n")
    var = "TOKENOPT__THRESHOLDS__WARN_PERCENT"
    with pytest.raises(ConfigError) as caught:
        load_config(paths, {**xdg_env, var: "95"})
    message = str(caught.value)
    assert message.startswith(f"environment variable {var} (with {file})"), message
    assert "must be below 'thresholds.compress_percent' (90)" in message


def test_an_env_value_duplicating_an_endpoint_is_blamed_on_the_variable(
        xdg_env, paths: Paths) -> None:
    """`local.model` rewrites tier 1: the clash names no key the variable set, yet the
    file alone is valid, so the variable is named."""
    file = write_config(xdg_env, '[[tiers]]\nname = "local"\nendpoints = [{kind = "mlx", '
                                 'model = "embedded"}, {kind = "mlx", model = "/m/qwen"}]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, {**xdg_env, "TOKENOPT__LOCAL__MODEL": "/m/qwen"})
    message = str(caught.value)
    # Only that variable (the other TOKENOPT__ values of xdg_env are innocent), and the
    # file, whose tier it clashes with.
    assert message.startswith(f"environment variable TOKENOPT__LOCAL__MODEL (with {file}): ")
    assert "same endpoint" in message


def test_a_missing_tokenopt_config_file_is_an_error(xdg_env, tmp_path) -> None:
    missing = tmp_path / "nowhere" / "tokenopt.toml"
    env = {**xdg_env, "TOKENOPT_CONFIG": str(missing)}
    with pytest.raises(ConfigError) as caught:
        load_config(Paths.from_env(env), env)
    assert "TOKENOPT_CONFIG" in str(caught.value) and str(missing) in str(caught.value)
    assert "does not exist" in str(caught.value)
    result = run_cli(["doctor"], env, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "TOKENOPT_CONFIG" in result.stderr and str(missing) in result.stderr
    # The default path missing is still fine (defaults), and an existing file is read.
    assert load_config(Paths.from_env(xdg_env), xdg_env).source == "defaults"
    missing.parent.mkdir()
    missing.write_text('theme = "tokenopt-light"\n')
    assert load_config(Paths.from_env(env), env).theme == "tokenopt-light"


def test_cli_names_the_environment_variable_of_a_cross_field_error(xdg_env) -> None:
    file = write_config(xdg_env, 'theme = "tokenopt-dark"\n')
    env = {**xdg_env, "TOKENOPT__THRESHOLDS__WARN_PERCENT": "95"}
    result = run_cli(["doctor"], env, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "environment variable TOKENOPT__THRESHOLDS__WARN_PERCENT" in result.stderr
    assert str(file) not in result.stderr


def test_local_servers_join_tier_one_after_its_own_endpoints(xdg_env, paths: Paths) -> None:
    write_config(xdg_env, '[[local_servers]]\nbase_url = "http://127.0.0.1:8080/v1"\n'
                          'model = "qwen3"\n[[local_servers]]\nbase_url = '
                          '"http://127.0.0.1:11434/v1"\nmodel = "llama3"\ntimeout_s = 20\n')
    config = load_config(paths, xdg_env)
    first = config.tiers[0].endpoints
    assert [(e.kind, e.model) for e in first] == [
        ("mlx", "embedded"), ("openai", "qwen3"), ("openai", "llama3")]
    assert first[1].base_url == "http://127.0.0.1:8080/v1" and first[1].api_key_env is None
    assert first[2].timeout_s == 20
    assert [t.name for t in config.tiers] == ["local", "trinity", "qwen3-coder", "kimi"]


def test_a_local_server_already_in_the_chain_is_skipped(xdg_env, paths: Paths) -> None:
    write_config(xdg_env, loopback_tiers("http://127.0.0.1:8080/v1", "qwen3")
                 + '[[local_servers]]\nbase_url = "http://127.0.0.1:8080/v1/"\n'
                   'model = "qwen3"\n')
    config = load_config(paths, xdg_env)
    assert len(config.tiers[0].endpoints) == 1  # no duplicate, no error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local_servers = 3\n", "key 'local_servers': expected an array"),
        ('[[local_servers]]\nmodel = "m"\n', "key 'local_servers[0].base_url' is required"),
        ('[[local_servers]]\nbase_url = "http://x/v1"\n', "'local_servers[0].model'"),
        ('[[local_servers]]\nkind = "mlx"\nbase_url = "http://x/v1"\nmodel = "m"\n',
         "unknown key 'local_servers[0].kind'"),
        ('[[local_servers]]\nbase_url = "https://openrouter.ai/api/v1"\nmodel = "x/paid"\n',
         "key 'local_servers[0].model': 'x/paid' is a paid model"),
    ],
)
def test_bad_local_servers_name_file_and_key(xdg_env, paths: Paths, text: str,
                                             expected: str) -> None:
    file = write_config(xdg_env, text)
    with pytest.raises(ConfigError) as caught:
        load_config(paths, xdg_env)
    assert str(caught.value).startswith(str(file)) and expected in str(caught.value)


def test_adding_a_local_server_keeps_the_file_and_survives_hostile_names(
        xdg_env, paths: Paths) -> None:
    original = '# my settings\ntheme = "tokenopt-light"\n[paid]\nenabled = false'  # no \n
    file = write_config(xdg_env, original)
    model = 'evil"model\\\x1b]52;c;AAAA\x07\x9b\n[paid]\nenabled = true'
    add_local_server(file, "http://127.0.0.1:8080/v1", model, note="found at first start")
    text = file.read_text()
    assert text.startswith(original + "\n")
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    config = load_config(paths, xdg_env)
    assert config.theme == "tokenopt-light" and not config.paid_enabled
    assert config.tiers[0].endpoints[-1].model == model  # the exact id, round-tripped


def test_adding_a_local_server_refuses_to_break_the_file(xdg_env) -> None:
    original = 'local_servers = []\n'  # an inline array: a [[local_servers]] would clash
    file = write_config(xdg_env, original)
    with pytest.raises(ConfigError, match="was not added"):
        add_local_server(file, "http://127.0.0.1:8080/v1", "m")
    assert file.read_text() == original


def test_early_openblas_reexec_is_undone_when_the_config_turns_it_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`tokenopt` preloads OpenBLAS before reading the config; `local.openblas = false`
    then re-executes once more with the user's own LD_PRELOAD, and never loops."""
    from tokenopt_tui import blas
    from tokenopt_tui.cli import guess_command

    if blas.find_openblas() is None:
        pytest.skip("OpenBLAS is not installed here")
    execs: list[dict[str, str]] = []

    def fake_execve(path: str, args: list[str], env: dict[str, str]) -> None:
        execs.append(env)

    monkeypatch.setattr(blas.os, "execve", fake_execve)
    assert [guess_command(a) for a in (["--tier", "2"], ["ask", "doctor"], ["stats"])] == [
        "chat", "ask", "stats"]
    blas.early_reexec(["ask", "hi"], env={"LD_PRELOAD": "libmine.so"})
    early = execs[-1]
    assert blas.find_openblas() in early["LD_PRELOAD"] and "libmine.so" in early["LD_PRELOAD"]
    blas.reexec_with_openblas(["ask", "hi"], env=dict(early), enabled=True)
    assert len(execs) == 1  # already preloaded: nothing to do
    blas.reexec_with_openblas(["ask", "hi"], env=dict(early), enabled=False)
    undone = execs[-1]
    assert undone["LD_PRELOAD"] == "libmine.so" and blas.EARLY_VAR not in undone
    blas.early_reexec(["ask", "hi"], env=dict(undone))
    blas.reexec_with_openblas(["ask", "hi"], env=dict(undone), enabled=False)
    assert len(execs) == 2  # the undone process is left alone

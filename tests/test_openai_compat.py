"""Hosted tiers through a real OpenAI-compatible server on loopback (mlx_lm.server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import free_port, loopback_tiers, run_cli, write_config

from tokenopt_tui.config import Endpoint
from tokenopt_tui.core.events import ErrorOccurred, ReplyCompleted, UsageRecorded
from tokenopt_tui.core.providers.base import ChatMessage, ProviderError, Usage
from tokenopt_tui.core.providers.openai_compat import OpenAICompatProvider, usage_from_chunk
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.wiring import make_services


def test_usage_chunk_keeps_openrouter_cost_and_details() -> None:
    from openai.types import CompletionUsage

    usage = CompletionUsage.model_validate({
        "prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "cost": 0.00042,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 2},
    })
    assert usage_from_chunk(usage) == Usage(12, 5, cached_tokens=4, reasoning_tokens=2,
                                            cost_usd=0.00042)


def test_missing_key_makes_an_endpoint_unavailable_not_an_error() -> None:
    endpoint = Endpoint("openai", "m:free", "http://127.0.0.1:9/v1", api_key_env="NO_SUCH_KEY")
    assert OpenAICompatProvider(endpoint, env={}).availability() == (
        False, "key missing: set NO_SUCH_KEY")
    assert OpenAICompatProvider(endpoint, env={"NO_SUCH_KEY": "k"}).availability()[0]


@pytest.mark.server
async def test_provider_streams_with_usage_from_a_real_server(mlx_server, prepared_model) -> None:
    provider = OpenAICompatProvider(Endpoint("openai", str(prepared_model), mlx_server), env={})
    try:
        items = [i async for i in provider.stream([ChatMessage("user", "Say hello.")], 12)]
    finally:
        await provider.aclose()
    usage = items[-1]
    assert isinstance(usage, Usage) and not usage.estimated  # the server's usage chunk arrived
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 12
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 1


@pytest.mark.server
def test_headless_ask_on_a_hosted_tier(xdg_env, mlx_server, prepared_model) -> None:
    write_config(xdg_env, loopback_tiers(mlx_server, str(prepared_model), key_env="LOOPBACK_KEY"))
    xdg_env = {**xdg_env, "LOOPBACK_KEY": "sk-secret-4242"}
    result = run_cli(["ask", "--json", "--tier", "2", "hello"], xdg_env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["tier"] == 2 and answer["tier_name"] == "loopback"
    assert answer["completion_tokens"] > 0 and not answer["estimated"]
    plain = run_cli(["ask", "--tier", "2", "Say hi."], xdg_env)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip()  # streamed as plain text
    data_dir = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt"
    for file in data_dir.iterdir():  # the DB and its WAL: the key is never written
        assert b"sk-secret-4242" not in file.read_bytes(), file
    assert "sk-secret-4242" not in result.stdout + result.stderr + plain.stderr


async def test_unreachable_endpoint_gives_one_clear_error_event(xdg_env, paths) -> None:
    from tokenopt_tui.config import load_config

    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    write_config(xdg_env, loopback_tiers(url, "some-model"))
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    await services.open_store()
    try:
        session = await ChatSession.start(services, tier=2)
        events = [e async for e in session.send("hello?")]
        errors = [e for e in events if isinstance(e, ErrorOccurred)]
        assert len(errors) == 1 and errors[0].where == url and url in errors[0].message
        assert not any(isinstance(e, ReplyCompleted) for e in events)
        usage = [e for e in events if isinstance(e, UsageRecorded)]
        assert usage and usage[0].completion_tokens == 0
        calls = await services.store.session_events(session.session_id)
        assert "ErrorOccurred" in {c.kind for c in calls}
    finally:
        await services.aclose()


async def test_provider_error_names_the_endpoint() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    provider = OpenAICompatProvider(Endpoint("openai", "m", url, timeout_s=5), env={})
    with pytest.raises(ProviderError) as caught:
        async for _ in provider.stream([ChatMessage("user", "x")], 5):
            pass
    assert caught.value.endpoint == url and "cannot reach" in str(caught.value)
    await provider.aclose()


@pytest.mark.server
async def test_fallback_from_a_failing_endpoint_to_the_real_server(xdg_env, paths, mlx_server,
                                                                   prepared_model) -> None:
    from fault_server import FaultServer

    from tokenopt_tui.config import load_config
    from tokenopt_tui.core.events import TierChosen, TierFailed

    async with FaultServer(lifetime_s=120.0) as faults:
        write_config(xdg_env, (
            '[[tiers]]\nname = "flaky"\nendpoints = [{kind = "openai", base_url = "'
            f'{faults.url}", model = "rate_limit/x", timeout_s = 5}}]\n'
            '[[tiers]]\nname = "mlx-server"\nendpoints = [{kind = "openai", base_url = "'
            f'{mlx_server}", model = "{prepared_model}", timeout_s = 120}}]\n'))
        services = make_services(load_config(paths, xdg_env), paths, xdg_env)
        await services.open_store()
        try:
            session = await ChatSession.start(services)
            events = [e async for e in session.send("hello")]
        finally:
            await services.aclose()
    [failed] = [e for e in events if isinstance(e, TierFailed)]
    assert failed.fault == "rate_limit" and failed.tier == 1
    assert [e.tier for e in events if isinstance(e, TierChosen)] == [1, 2]
    reply = next(e for e in events if isinstance(e, ReplyCompleted))
    usage = [e for e in events if isinstance(e, UsageRecorded)][-1]
    assert reply.tier == 2 and not reply.interrupted and reply.text
    assert usage.completion_tokens > 0 and not usage.estimated

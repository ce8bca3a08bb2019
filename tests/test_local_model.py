"""Tier 1 through the real embedded model: preparation, streaming, storage, headless ask."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import pytest_asyncio
from conftest import run_cli

from tokenopt_tui.config import LocalSettings
from tokenopt_tui.core.events import (
    PromptCompared,
    ReplyCompleted,
    TierChosen,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.providers.mlx_local import MlxLocalProvider, StopScanner
from tokenopt_tui.core.providers.model_prep import hf_name, is_prepared
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.wiring import make_services

pytestmark = pytest.mark.model
module_loop = pytest.mark.asyncio(loop_scope="module")


def test_prepared_folder_has_weights_config_and_tokenizer(prepared_model: Path) -> None:
    import sentencepiece

    assert is_prepared(prepared_model)
    config = json.loads((prepared_model / "config.json").read_text())
    assert config["model_type"] == "gemma3_text" and config["num_hidden_layers"] == 18
    tokenizer = sentencepiece.SentencePieceProcessor(
        model_file=str(prepared_model / "tokenizer.model"))
    assert tokenizer.encode("Hello world") == [9259, 1902]  # with BOS: [2, 9259, 1902]
    assert not list(prepared_model.glob("*.gguf"))  # the 240 MB intermediate is removed


def test_tensor_names_map_to_hugging_face_names() -> None:
    assert hf_name("token_embd.weight") == "model.embed_tokens.weight"
    assert hf_name("blk.7.ffn_down.weight") == "model.layers.7.mlp.down_proj.weight"
    assert hf_name("blk.0.post_ffw_norm.weight") == (
        "model.layers.0.post_feedforward_layernorm.weight")
    assert hf_name("rope_freqs.weight") is None


def test_stop_scanner_cuts_at_the_stop_string_across_fragments() -> None:
    scanner = StopScanner("\nUser:")
    out = "".join(scanner.feed(t) for t in ["Paris is", " nice.\n", "Us", "er: more"])
    assert out == "Paris is nice." and scanner.stopped
    scanner = StopScanner("\nUser:")
    assert scanner.feed("a\nUs") == "a" and scanner.feed("ual") == "\nUsual"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def local_provider(prepared_model: Path):
    # Greedy decoding: the same text every run (sampling can end on the first token).
    provider = MlxLocalProvider("embedded", LocalSettings(max_tokens=24, temperature=0.0),
                                prepared_model.parent)
    stages = [event.stage async for event in provider.prepare()]
    assert stages == ["load", "load"]  # already prepared: only the load step
    yield provider
    provider.close()


@module_loop
async def test_provider_streams_text_then_usage(local_provider) -> None:
    from tokenopt_tui.core.providers.base import ChatMessage, Usage

    items = [i async for i in local_provider.stream([ChatMessage("user", "Name a colour.")], 24)]
    texts = [i for i in items if isinstance(i, str)]
    usage = items[-1]
    assert isinstance(usage, Usage) and not usage.estimated
    assert "".join(texts).strip(), "the model produced no text"
    assert usage.prompt_tokens > 5 and 1 <= usage.completion_tokens <= 24
    assert usage.cost_usd == 0.0


@module_loop
async def test_session_streams_and_stores_the_exchange(local_provider, config, paths) -> None:
    services = make_services(config, paths)
    services.set_provider(1, local_provider)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send("What is the capital of France?")]
        kinds = [type(e) for e in events]
        # First how the prompt compares with the last one (for /why), then the route.
        assert kinds[:2] == [PromptCompared, TierChosen] and TokenReceived in kinds
        usage = next(e for e in events if isinstance(e, UsageRecorded))
        reply = next(e for e in events if isinstance(e, ReplyCompleted))
        assert usage.completion_tokens > 0 and usage.session_tokens == session.tokens_used
        rows = await services.store.session_messages(session.session_id)
        assert [r.role for r in rows] == ["user", "assistant"]
        assert rows[1].content == reply.text and rows[1].content
        assert rows[1].completion_tokens == usage.completion_tokens and not rows[1].interrupted
        stored = await services.store.session_events(session.session_id)
        assert {"SessionStarted", "TierChosen", "UsageRecorded", "ReplyCompleted"} <= {
            e.kind for e in stored}
    finally:
        services._providers.clear()  # the module fixture owns the provider
        await services.aclose()


@module_loop
async def test_closing_the_stream_early_keeps_the_partial_reply(local_provider, config,
                                                                 paths) -> None:
    services = make_services(config, paths)
    services.set_provider(1, local_provider)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        stream = session.send("Tell me a long story about a dragon.")
        seen = ""
        async for event in stream:
            if isinstance(event, TokenReceived):
                seen += event.text
                if len(seen) > 3:
                    break
        await stream.aclose()
        rows = await services.store.session_messages(session.session_id)
        assert rows[-1].role == "assistant" and rows[-1].interrupted
        assert rows[-1].content == seen
    finally:
        services._providers.clear()
        await services.aclose()


def test_headless_ask_json_streams_from_the_embedded_model(xdg_env, prepared_model) -> None:
    result = run_cli(["ask", "--json", "hello"], xdg_env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["tier"] == 1 and answer["model"] == "gemma-3-270m"
    assert answer["answer"] and answer["completion_tokens"] > 0 and answer["prompt_tokens"] > 0
    assert answer["cost_usd"] == 0 and answer["error"] is None
    assert {e["kind"] for e in answer["events"]} >= {"TierChosen", "UsageRecorded"}
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT role, content, completion_tokens FROM messages "
                            "WHERE session_id = ? ORDER BY id", (answer["session_id"],)).fetchall()
        calls = conn.execute("SELECT prompt_tokens, completion_tokens, provider FROM model_calls"
                             ).fetchall()
    assert rows == [("user", "hello", None), ("assistant", answer["answer"],
                                              answer["completion_tokens"])]
    assert calls == [(answer["prompt_tokens"], answer["completion_tokens"], "mlx")]


def test_cancelled_preparation_leaves_nothing_behind(tmp_path: Path) -> None:
    import threading

    from tokenopt_tui.core.providers.model_prep import PrepareCancelled, prepare_embedded_model

    cancel = threading.Event()
    seen = []

    def progress(step) -> None:
        seen.append(step)
        if step.stage == "convert":
            cancel.set()

    target = tmp_path / "models" / "gemma"
    with pytest.raises(PrepareCancelled):
        prepare_embedded_model(target, progress, cancel)
    assert [s.stage for s in seen][:3] == ["assemble", "assemble", "convert"]
    assert not target.exists() and list((tmp_path / "models").iterdir()) == []


def test_work_folders_of_a_killed_preparation_are_removed(tmp_path: Path) -> None:
    import os
    import time

    from tokenopt_tui.core.providers.model_prep import remove_stale_work_dirs

    stale, fresh = tmp_path / ".prepare-old", tmp_path / ".prepare-new"
    for folder in (stale, fresh):
        folder.mkdir()
        (folder / "model.gguf").write_bytes(b"x" * 1000)
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert remove_stale_work_dirs(tmp_path) == [stale]
    assert not stale.exists() and fresh.exists()  # a preparation may still own it

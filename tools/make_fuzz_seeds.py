#!/usr/bin/env python3
"""Writes the safetensors test fixtures and fuzz seeds with the reference
`safetensors` library, so vidi's reader is checked against files it did not
write itself.

    python3 tools/make_fuzz_seeds.py      # from the repository root

Outputs (committed; each file is tiny and deterministic):
  tests/fixtures/safetensors/   files whose values tests/test_safetensors.c knows exactly
  tests/fuzz/corpus/fuzz_safetensors/   valid seeds for tests/fuzz/fuzz_safetensors.c
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from safetensors.numpy import save as np_save
from safetensors.torch import save as torch_save

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "safetensors")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_safetensors")

# Every value is exactly representable in its dtype, so the C test compares
# with ==. test_safetensors.c repeats these numbers; change both together.
F16_VALUES = [0.0, 1.0, -2.0, 0.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08, -0.0]
BF16_VALUES = [1.0, -1.5, 3.140625, 0.0078125, -256.0, 2.0 ** 100, 2.0 ** -100, 0.0]
F32_VALUES = [0.1, -1.0, 3.5, 1e-30, 1e30, -0.0]


def sorted_metadata(data):
    """The reference writer emits __metadata__ in hash order; sort it so
    regenerating leaves the committed files unchanged."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    if "__metadata__" in header:
        header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    assert len(text) == n, "re-serialised header changed length"
    return data[:8] + text + data[8 + n:]


def write(path, data):
    data = sorted_metadata(data)
    if len(data) >= 2048:
        sys.exit(f"{path}: {len(data)} bytes, seeds and fixtures must stay under 2 KB")
    with open(path, "wb") as f:
        f.write(data)
    print(f"{os.path.relpath(path, ROOT)}: {len(data)} bytes")


def f16(values, shape):
    return np.array(values, dtype=np.float16).reshape(shape)


def bf16(values, shape):
    return torch.tensor(values, dtype=torch.bfloat16).reshape(shape)


def f32(values, shape):
    return np.array(values, dtype=np.float32).reshape(shape)


def main():
    os.makedirs(FIXTURES, exist_ok=True)
    os.makedirs(CORPUS, exist_ok=True)

    write(os.path.join(FIXTURES, "f16.safetensors"),
          np_save({"w": f16(F16_VALUES, (2, 4))}, metadata={"format": "np", "dtype": "f16"}))
    write(os.path.join(FIXTURES, "bf16.safetensors"),
          torch_save({"w": bf16(BF16_VALUES, (4, 2)), "b": bf16([0.25, -4.0], (2,))},
                     metadata={"format": "pt"}))
    write(os.path.join(FIXTURES, "f32.safetensors"),
          np_save({"x": f32(F32_VALUES, (3, 2)), "scalar": f32([7.0], ()),
                   "empty": f32([], (0, 3))}))

    seeds = {
        "f32": np_save({"a": f32(F32_VALUES, (2, 3)), "b": f32([1, 2], (2,))}),
        "f16": np_save({"h": f16(F16_VALUES, (8,))}),
        "bf16": torch_save({"g": bf16(BF16_VALUES, (2, 2, 2))}),
        "metadata": np_save({"m": f32([1.0], (1,))},
                            metadata={"format": "vidi", "model": "vivit-2", "empty": ""}),
        "scalar": np_save({"s": f32([2.5], ())}),
        "empty_tensor": np_save({"e": f32([], (0,)), "f": f32([], (2, 0, 3)),
                                 "x": f32([1.0], (1,))}),
        "mixed": torch_save({"a": torch.ones(2, 3, dtype=torch.float32),
                             "b": torch.full((3,), 0.5, dtype=torch.float16),
                             "c": torch.arange(4, dtype=torch.bfloat16).reshape(1, 1, 1, 2, 2),
                             "pos": torch.arange(3, dtype=torch.int64)},
                            metadata={"format": "pt"}),
        "no_tensors": np_save({}, metadata={"k": "v"}),
    }
    for name, data in seeds.items():
        write(os.path.join(CORPUS, name + ".safetensors"), data)


if __name__ == "__main__":
    main()

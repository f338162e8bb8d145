#!/usr/bin/env python3
"""Writes python.safetensors and python_expected.json for the Go tests.

Run from this directory with a Python that has `safetensors` and `numpy`:

    python3 -m venv /tmp/stvenv && /tmp/stvenv/bin/pip install safetensors numpy
    /tmp/stvenv/bin/python make_py_fixture.py

The expected float values are recorded as float32 bit patterns (so NaN and
+-Inf survive JSON), computed by numpy (F16/F64 -> float32 via astype) or, for
BF16, which numpy lacks, by the definition (bits << 16).
"""
import json
import os
import warnings

import numpy as np
import safetensors
from safetensors import TensorSpec, serialize_file

HERE = os.path.dirname(os.path.abspath(__file__))

f32 = np.array(
    [[1.5, -0.0, np.pi, 1e-40], [3.4028235e38, -np.inf, np.nan, -7.25]],
    dtype=np.float32,
)
f16 = np.array(
    [
        0x0000, 0x8000, 0x0001, 0x8001,  # +0, -0, min subnormal, -min subnormal
        0x03FF, 0x0400, 0x3C00, 0xC000,  # max subnormal, min normal, 1, -2
        0x7BFF, 0x7C00, 0xFC00, 0x7E00,  # max (65504), +inf, -inf, NaN
        0x3555, 0xFE01,                  # ~1/3, NaN with sign and payload
    ],
    dtype=np.uint16,
).view(np.float16).reshape(2, 7)
bf16_bits = np.array(
    [0x3F80, 0xC049, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x7F7F, 0x8000],
    dtype=np.uint16,
)
f64 = np.array([0.1, 1e300, -1e-50, 123456789.123], dtype=np.float64)
i64 = np.array([[-(2**63), 2**63 - 1], [0, -1]], dtype=np.int64)
i32 = np.array([-(2**31), 2**31 - 1, 7], dtype=np.int32)
i16 = np.array([-32768, 32767], dtype=np.int16)
i8 = np.array([-128, 127, 0], dtype=np.int8)
u8 = np.array([0, 255, 128], dtype=np.uint8)
bools = np.array([True, False, True, True, False], dtype=np.bool_)
scalar = np.array(42.0, dtype=np.float32)
empty = np.zeros((0, 3), dtype=np.float32)

arrays = {
    "f32": f32, "f16": f16, "bf16": bf16_bits, "f64": f64,
    "i64": i64, "i32": i32, "i16": i16, "i8": i8, "u8": u8,
    "bool": bools, "scalar": scalar, "empty": empty,
}
np_dtype_names = {"bf16": "bfloat16"}
metadata = {"format": "np", "source": "make_py_fixture.py", "unicode": "h\u00e9llo \u2713"}

specs = {}
for name, a in arrays.items():
    a = np.require(a, requirements="C")  # ascontiguousarray would make 0-d arrays 1-d
    arrays[name] = a
    specs[name] = TensorSpec(
        dtype=np_dtype_names.get(name, a.dtype.name),
        shape=list(a.shape),
        data_ptr=a.ctypes.data,
        data_len=a.nbytes,
    )
out = os.path.join(HERE, "python.safetensors")
serialize_file(specs, out, metadata=metadata)
os.chmod(out, 0o644)


def f32_bits(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 1e300 -> inf overflows on purpose
        return [int(b) for b in np.asarray(x).astype(np.float32).reshape(-1).view(np.uint32)]


expected = {"safetensors_version": safetensors.__version__, "metadata": metadata, "tensors": {}}
st_dtype = {
    "f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64", "i64": "I64",
    "i32": "I32", "i16": "I16", "i8": "I8", "u8": "U8", "bool": "BOOL",
    "scalar": "F32", "empty": "F32",
}
for name, a in arrays.items():
    e = {"dtype": st_dtype[name], "shape": list(a.shape)}
    if name == "bf16":
        e["f32_bits"] = [int(b) << 16 for b in a]
    elif a.dtype.kind == "f":
        e["f32_bits"] = f32_bits(a)
    else:
        e["ints"] = [int(v) for v in a.reshape(-1)]
    expected["tensors"][name] = e

with open(os.path.join(HERE, "python_expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1, sort_keys=True)
    fh.write("\n")

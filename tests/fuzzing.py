"""A seeded mutation fuzzer for tt's command-line tools (tests/test_fuzz.py, bench/fuzz.py).

Every case is one tool run on inputs made by mutating a valid seed: bytes flipped, deleted,
duplicated or truncated; lines deleted, duplicated or swapped; tokens swapped; numbers, shapes
and attributes edited; npz archives with wrong keys, shapes, dtypes or damaged bytes; JSON scheme
files and CSV buffer lists with edited fields; option values out of range; a TFLite flatbuffer
(tests/data/tiny.tflite) with damaged bytes or edited numbers (shapes, strides, quantization,
operator codes, tensor indices: every 32-bit word is a candidate). Each case runs in a
forked child of this process (the tools are imported once), in a fresh folder, with a timeout.

A case fails when the tool prints a Python traceback or an "internal error", hangs, dies on a
signal, exits with a status other than 0, 1 or 2, exits 0 without valid outputs (bad input
accepted), or exits non-zero and leaves anything behind in its folder. A mutation that is still
valid input may succeed; its outputs must then be complete and readable.
"""

from __future__ import annotations

import faulthandler
import json
import os
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 30.0


@dataclass
class Case:
    """One tool run: its argv (paths relative to its folder), input files and declared outputs."""

    tool: str
    argv: list[str]
    files: dict[str, bytes]
    outputs: list[str]
    mutation: str
    timeout: float = TIMEOUT_S  # seconds before the case counts as a hang
    generator: str = ""  # the GENERATORS key that made it


@dataclass
class Outcome:
    case: Case
    status: int | None = None
    signal: int | None = None
    timed_out: bool = False
    stderr: str = ""
    leftovers: list[str] = field(default_factory=list)
    invalid_outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def failures(self) -> list[str]:
        found = []
        if "Traceback (most recent call last)" in self.stderr:
            found.append("traceback")
        if "internal error" in self.stderr:
            found.append("internal error")
        if self.timed_out:
            found.append("hang")
        if self.signal is not None:
            found.append(f"signal {self.signal}")
        if self.status not in (0, 1, 2) and not self.timed_out and self.signal is None:
            found.append(f"exit status {self.status}")
        if self.status == 0 and self.invalid_outputs:
            found.append(f"exit 0 without valid outputs {self.invalid_outputs}")
        if self.status not in (0, None) and self.leftovers:
            found.append(f"left behind {self.leftovers}")
        return found


# ----------------------------------------------------------------------- running a case


def _tools() -> dict[str, Callable[[list[str]], None]]:
    from tt.tools import tt_compile, tt_import, tt_opt, tt_plan_memory, tt_run, tt_search_scheme, tt_train

    return {
        "tt-opt": tt_opt.main,
        "tt-run": tt_run.main,
        "tt-import": tt_import.main,
        "tt-compile": tt_compile.main,
        "tt-plan-memory": tt_plan_memory.main,
        "tt-train": tt_train.main,
        "tt-search-scheme": tt_search_scheme.main,
    }


def _child(main: Callable[[list[str]], None], argv: list[str], folder: Path) -> None:
    """In the forked child: run the tool as its console script would, then exit."""
    code = 0
    faulthandler.disable()  # pytest's handler writes to the terminal, not to the case's stderr
    try:
        os.chdir(folder)
        with open(folder.parent / "stdout", "wb") as out, open(folder.parent / "stderr", "wb") as err:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
        sys.stdout = os.fdopen(1, "w", closefd=False)
        sys.stderr = os.fdopen(2, "w", closefd=False)
        main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _output_is_valid(path: Path) -> bool:
    from ttdialect.errors import TTError
    from ttdialect.ir_io import load_module, read_npz

    try:
        if path.is_dir():
            return (path / ".tt-made.json").is_file()
        if path.suffix == ".mlir":
            load_module(path)
        elif path.suffix == ".npz":
            read_npz(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        return path.stat().st_size > 0
    except (TTError, OSError, ValueError):
        return False


def run_case(
    case: Case, tools: dict[str, Callable[[list[str]], None]], timeout: float = TIMEOUT_S
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="tt-fuzz-") as tmp:
        folder = Path(tmp) / "case"
        folder.mkdir()
        for name, data in case.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        before = _snapshot(folder)
        outcome = Outcome(case)
        start = time.perf_counter()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(tools[case.tool], case.argv, folder)
        status = 0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() - start > timeout:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                outcome.timed_out = True
                break
            time.sleep(0.005)
        outcome.seconds = time.perf_counter() - start
        if not outcome.timed_out:
            if os.WIFSIGNALED(status):
                outcome.signal = os.WTERMSIG(status)
            else:
                outcome.status = os.WEXITSTATUS(status)
        outcome.stderr = (
            (Path(tmp) / "stderr").read_text(errors="replace") if (Path(tmp) / "stderr").exists() else ""
        )
        outcome.leftovers = sorted(_snapshot(folder) - before)
        if outcome.status == 0:
            outcome.invalid_outputs = [o for o in case.outputs if not _output_is_valid(folder / o)]
        return outcome


# ----------------------------------------------------------------------- mutators


def mutate_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    data = bytearray(data)
    kind = rng.choice(["flip", "delete", "duplicate", "truncate", "insert", "zero"])
    at = rng.randrange(max(len(data), 1))
    span = rng.randint(1, 64)
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == "delete":
        del data[at : at + span]
    elif kind == "duplicate":
        data[at:at] = data[at : at + span]
    elif kind == "truncate":
        del data[at:]
    elif kind == "insert":
        data[at:at] = bytes(rng.randrange(256) for _ in range(span))
    else:
        data[at : at + span] = bytes(min(span, len(data) - at))
    return bytes(data), f"bytes:{kind}@{at}"


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[+-]?\d+)?")
_SHAPE = re.compile(r"(tensor|qtensor)<([0-9x]+)")
_ATTRIBUTE = re.compile(
    r"\b(stride|padding|groups|act_min|act_max|kernel|channels|power|channel_axis) = ([^,}]+)"
)
_NASTY_ATTRIBUTES = [
    "array<i64: 0, 0>", "array<i64: -1, 2>", "array<i64: 1>", "0 : i64", "-5 : i64", "300 : i64",
    "array<i64>", "array<i64: 99, 99>", "1.5 : f32", '"x"',
]  # fmt: skip
_SCALE = re.compile(r"(qtensor<[0-9x]+), ([^:>]+)")
_NASTY_SCALES = ["0.0", "-1.0", "nan", "inf", "1e-45", "3.4e38"]
_NASTY_NUMBERS = [
    "0",
    "-1",
    "1",
    "2147483648",
    "-2147483649",
    "99999999999999999999",
    "1e39",
    "nan",
    "inf",
    "-0.0",
]


def mutate_text(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    kind = rng.choice(
        ["line-delete", "line-duplicate", "line-swap", "token-swap", "number", "shape", "quote"]
    )
    if not lines:
        return text + '"', "append-quote"
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if kind == "line-delete":
        del lines[i]
    elif kind == "line-duplicate":
        lines.insert(i, lines[i])
    elif kind == "line-swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "token-swap":
        tokens = re.split(r"(\s+)", lines[i])
        words = [k for k, t in enumerate(tokens) if t.strip()]
        if len(words) >= 2:
            a, b = rng.sample(words, 2)
            tokens[a], tokens[b] = tokens[b], tokens[a]
        lines[i] = "".join(tokens)
    elif kind == "number":
        matches = list(_NUMBER.finditer(lines[i]))
        if matches:
            m = rng.choice(matches)
            lines[i] = lines[i][: m.start()] + rng.choice(_NASTY_NUMBERS) + lines[i][m.end() :]
    elif kind == "shape":
        matches = list(_SHAPE.finditer(text))
        if matches:
            m = rng.choice(matches)
            dims = m.group(2).split("x")
            k = rng.randrange(len(dims))
            dims[k] = rng.choice(["0", "1", "3", "65536", str(int(dims[k] or 1) + 1)])
            text = text[: m.start(2)] + "x".join(dims) + text[m.end(2) :]
            return text, f"text:shape@{m.start()}"
    elif kind in ("attribute", "scale"):
        pattern = _ATTRIBUTE if kind == "attribute" else _SCALE
        matches = list(pattern.finditer(text))
        if matches:
            m = rng.choice(matches)
            value = rng.choice(_NASTY_ATTRIBUTES if kind == "attribute" else _NASTY_SCALES)
            return text[: m.start(2)] + value + text[m.end(2) :], f"text:{kind}@{m.group(1)}"
    else:
        at = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:at] + '"' + lines[i][at:]
    return "".join(lines), f"text:{kind}@line{i + 1}"


def mutate_json(rng: random.Random, value: object) -> tuple[object, str]:
    """Replace a random leaf, drop a key, or change a container's type."""
    nasty = [None, -1, 0, 1.5, 1e39, "x", [], {}, [-1], [0.5, 2], True, 10**12]
    if isinstance(value, dict) and value and rng.random() < 0.5:
        key = rng.choice(sorted(value))
        if rng.random() < 0.3:
            return {k: v for k, v in value.items() if k != key}, f"json:drop {key}"
        inner, what = mutate_json(rng, value[key])
        return {**value, key: inner}, f"json:{key}/{what}"
    if isinstance(value, list) and value and rng.random() < 0.6:
        k = rng.randrange(len(value))
        inner, what = mutate_json(rng, value[k])
        return value[:k] + [inner] + value[k + 1 :], f"json:[{k}]/{what}"
    choice = rng.choice(nasty)
    return choice, f"json:={choice!r}"


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    from ttdialect.outputs import npz_bytes as pack

    return pack(arrays)


def mutate_arrays(rng: random.Random, arrays: dict[str, np.ndarray]) -> tuple[bytes, str]:
    kind = rng.choice(["drop", "rename", "shape", "dtype", "bytes", "extra", "scalar", "huge"])
    arrays = dict(arrays)
    key = rng.choice(sorted(arrays))
    if kind == "drop":
        del arrays[key]
    elif kind == "rename":
        arrays[key + "_"] = arrays.pop(key)
    elif kind == "shape":
        flat = arrays[key].ravel()
        arrays[key] = flat[: max(len(flat) - 1, 0)]
    elif kind == "dtype":
        arrays[key] = arrays[key].astype(rng.choice([np.float64, np.int64, np.uint8, np.bool_, np.complex64]))
    elif kind == "bytes":
        return mutate_bytes(rng, npz_bytes(arrays))[0], f"npz:bytes {key}"
    elif kind == "extra":
        arrays["extra"] = np.zeros(3)
    elif kind == "scalar":
        arrays[key] = np.array(7)
    else:
        arrays[key] = np.full(arrays[key].shape, 10**6 if arrays[key].dtype.kind in "iu" else np.nan).astype(
            np.int64 if arrays[key].dtype.kind in "iu" else np.float32
        )
    return npz_bytes(arrays), f"npz:{kind} {key}"


# ----------------------------------------------------------------------- the corpus


@dataclass
class Corpus:
    """Valid seed inputs, built once: IR files, a planned training step, npz inputs, a scheme,
    samples, a buffer list, and the zoo model file when ../shared/models has it."""

    ir: dict[str, str]
    weights: dict[str, bytes]
    step_inputs: dict[str, np.ndarray]
    forward_inputs: dict[str, np.ndarray]
    scheme: dict
    samples: dict[str, np.ndarray]
    csv: str
    zoo_pkl: bytes | None
    zoo_json: str | None
    tflite: bytes = b""

    @staticmethod
    def build() -> Corpus:
        from passes import apply_pipeline
        from ttdialect.bundled import copy_model, new_task
        from ttdialect.importers.tiny_training import default_zoo_dir
        from ttdialect.ir_io import load_module, module_text

        with tempfile.TemporaryDirectory() as tmp:
            source = copy_model(Path(tmp))
            weights_file = next(Path(tmp).glob("*.weights.npz"))
            forward = source.read_text()
            step = load_module(source)
            apply_pipeline(step, "tt-training-pipeline{scheme=last-3}", Path(tmp))
            planned = module_text(step)
            weights = {weights_file.name: weights_file.read_bytes()}
        task = new_task()
        zoo = default_zoo_dir()
        pkl, arch = zoo / "mcunet-5fps.pkl", zoo / "mcunet-5fps.json"
        ir = {
            "forward.mlir": forward,
            "step.mlir": planned,
            "tiny.mlir": (REPO / "examples" / "tiny_classifier.mlir").read_text(),
        }
        for path in sorted((REPO / "tests" / "filecheck" / "dialect").glob("[!i]*.mlir"))[:6]:
            ir[path.name] = path.read_text()
        return Corpus(
            ir=ir,
            weights=weights,
            step_inputs={"arg0": task.train_x[:1], "arg1": task.train_y[:1].astype(np.int32)},
            forward_inputs={"arg0": task.test_x[:1]},
            scheme={"n_bias_update": 2, "manual_weight_idx": [4, 6], "weight_update_ratio": [0.5, 1]},
            samples={
                "train_x": task.train_x[:4],
                "train_y": task.train_y[:4],
                "test_x": task.test_x[:2],
                "test_y": task.test_y[:2],
            },
            csv="id,lower,upper,size\na,0,2,64\nb,1,3,128\nc,3,4,32\n",
            zoo_pkl=pkl.read_bytes() if pkl.is_file() else None,
            zoo_json=arch.read_text() if arch.is_file() else None,
            tflite=(REPO / "tests" / "data" / "tiny.tflite").read_bytes(),
        )


def _tt_opt(rng: random.Random, corpus: Corpus) -> Case:
    name = rng.choice(sorted(corpus.ir))
    text, what = mutate_text(rng, corpus.ir[name])
    files = {"in.mlir": text.encode(), **corpus.weights}
    argv = ["in.mlir", "-o", "out.mlir"]
    action = rng.choice(["verify", "pipeline", "memory", "c", "split"])
    if action == "pipeline":
        argv += ["-p", "tt-training-pipeline{scheme=last-3}"]
    elif action == "memory":
        argv = ["in.mlir", "-t", "memory-report{format=json}", "-o", "out.json"]
    elif action == "c":
        argv = ["in.mlir", "-t", "c{model=m dir=gen}"]
    elif action == "split":
        argv += ["--split-input-file"]
    outputs = {
        "verify": ["out.mlir"],
        "pipeline": ["out.mlir"],
        "memory": ["out.json"],
        "c": [],
        "split": ["out.mlir"],
    }
    return Case("tt-opt", argv, files, outputs[action], f"{name} {what} ({action})")


def _tt_run(rng: random.Random, corpus: Corpus) -> Case:
    train = rng.random() < 0.6
    arrays = corpus.step_inputs if train else corpus.forward_inputs
    files: dict[str, bytes] = {"step.mlir": corpus.ir["step.mlir"].encode(), **corpus.weights}
    if rng.random() < 0.5:
        files["in.npz"], what = mutate_arrays(rng, arrays)
    else:
        files["in.npz"] = npz_bytes(arrays)
        files["step.mlir"], what = mutate_text(rng, corpus.ir["step.mlir"])[0].encode(), "ir"
    argv = [
        "step.mlir",
        "--func",
        "train_step" if train else "forward",
        "--inputs",
        "in.npz",
        "--outputs",
        "out.npz",
    ]
    outputs = ["out.npz"]
    if train and rng.random() < 0.5:
        argv += ["--save-params", "params.npz"]
        outputs.append("params.npz")
    return Case("tt-run", argv, files, outputs, what)


def _tt_compile(rng: random.Random, corpus: Corpus) -> Case:
    files: dict[str, bytes] = {}
    argv = ["bundled", "--target", "host", "--out", "project"]
    kind = rng.choice(["scheme", "samples", "ir", "options"])
    if kind == "scheme":
        scheme, what = mutate_json(rng, corpus.scheme)
        files["scheme.json"] = json.dumps(scheme).encode()
        argv += ["--scheme", "scheme.json"]
    elif kind == "samples":
        files["samples.npz"], what = mutate_arrays(rng, corpus.samples)
        argv += ["--samples", "samples.npz"]
    elif kind == "ir":
        files = {"model.mlir": mutate_text(rng, corpus.ir["forward.mlir"])[0].encode(), **corpus.weights}
        argv[0], what = "model.mlir", "ir"
    else:
        option = rng.choice(["--lr", "--steps", "--num-classes", "--name", "--scheme", "--rounding"])
        value = rng.choice(["0", "-1", "1e39", "nan", "", "x y", "3", "1e-5", "main", "last-999", "full"])
        argv += [option, value]
        what = f"{option} {value!r}"
    argv += ["--report", "report.json"] if rng.random() < 0.3 else []
    outputs = ["project"] + (["report.json"] if "--report" in argv else [])
    return Case("tt-compile", argv, files, outputs, what)


def _tt_import(rng: random.Random, corpus: Corpus) -> Case:
    if corpus.zoo_pkl is None or corpus.zoo_json is None:
        return _tt_plan_memory(rng, corpus)
    files = {"zoo/mcunet-5fps.pkl": corpus.zoo_pkl, "zoo/mcunet-5fps.json": corpus.zoo_json.encode()}
    kind = rng.choice(["pkl", "json", "options"])
    argv = ["--zoo", "mcunet-5fps", "--zoo-dir", "zoo", "-o", "m.mlir"]
    if kind == "pkl":
        files["zoo/mcunet-5fps.pkl"], what = mutate_bytes(rng, corpus.zoo_pkl)
    elif kind == "json":
        value, what = mutate_json(rng, json.loads(corpus.zoo_json))
        files["zoo/mcunet-5fps.json"] = json.dumps(value).encode()
    else:
        option = rng.choice(["--num-classes", "--seed"])
        value = rng.choice(["0", "-1", "1001", "x", "1e3", "10"])
        argv += [option, value] + (["--new-head"] if rng.random() < 0.5 else [])
        what = f"{option} {value}"
    return Case("tt-import", argv, files, ["m.mlir"], what)


def mutate_flatbuffer(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Damaged bytes, or one aligned 32-bit word (an offset, length, index, shape, stride, scale
    or option of the flatbuffer) set to a nasty value."""
    if rng.random() < 0.4 or len(data) < 8:
        return mutate_bytes(rng, data)
    data = bytearray(data)
    at = rng.randrange(len(data) // 4) * 4
    nasty = [0, 1, 2, 3, 4, 7, 8, 9, 17, 255, 65535, 2**31 - 1, 2**31, 2**32 - 1, 0x7F800000, 0x3F800000]
    value = rng.choice([*nasty, rng.randrange(2**32), int.from_bytes(data[at : at + 4], "little") + 1])
    data[at : at + 4] = (value % 2**32).to_bytes(4, "little")
    return bytes(data), f"flatbuffer:word@{at}={value}"


def _tt_import_tflite(rng: random.Random, corpus: Corpus) -> Case:
    files = {"m.tflite": corpus.tflite}
    argv = ["--tflite", "m.tflite", "-o", "m.mlir"]
    if rng.random() < 0.85:
        files["m.tflite"], what = mutate_flatbuffer(rng, corpus.tflite)
    else:
        option = rng.choice(["--num-classes", "--new-head", "--input-shape", "-o", "--tflite"])
        value = rng.choice(["3", "x", "m.tflite", "m.weights.npz", "out.txt", "missing.tflite", ""])
        argv = ["--tflite", "m.tflite", "-o", "m.mlir", option] + ([] if option == "--new-head" else [value])
        what = f"{option} {value!r}"
    return Case("tt-import", argv, files, ["m.mlir"], what)


def _tt_plan_memory(rng: random.Random, corpus: Corpus) -> Case:
    text, what = mutate_text(rng, corpus.csv)
    return Case("tt-plan-memory", ["buffers.csv"], {"buffers.csv": text.encode()}, [], what)


def _tt_train(rng: random.Random, corpus: Corpus) -> Case:
    """Small runs of the bundled model on mutated samples archives or odd options."""
    argv = ["bundled", "--train", "8", "--test", "8"]
    files: dict[str, bytes] = {}
    if rng.random() < 0.6:
        files["samples.npz"], what = mutate_arrays(rng, corpus.samples)
        argv += ["--data", "samples.npz"]
    else:
        option = rng.choice(["--lr", "--epochs", "--schedule", "--seed", "--scheme", "--rounding"])
        value = rng.choice(["0", "-1", "1e39", "nan", "", "cosine", "3", "last-99", "full", "x"])
        argv += [option, value]
        what = f"{option} {value!r}"
    return Case("tt-train", argv, files, [], what)


def _tt_search_scheme(rng: random.Random, corpus: Corpus) -> Case:
    """Budgets, options and scheme outputs a search must refuse or honour (tiny searches)."""
    argv = ["bundled", "--data", "samples.npz", "--train", "4", "--validation", "2", "--weight-convs", "1"]
    argv += ["--finalist-epochs", "1", "--finalist-seeds", "1"]  # quick (a later option overrides)
    files = {"samples.npz": npz_bytes(corpus.samples)}
    option = rng.choice(
        [
            "--budget",
            "--budget-kind",
            "-o",
            "--workers",
            "--epochs",
            "--data",
            "--finalists",
            "--finalist-epochs",
            "--finalist-seeds",
            "--schedule",
        ]
    )
    value = rng.choice(
        [
            "256KB",
            "0",
            "-5KB",
            "1e99",
            "KB",
            "x",
            "arena",
            "out.txt",
            "samples.npz",
            "nope.npz",
            "2",
            "cosine",
        ]
    )
    budget = value if option == "--budget" else "64KB"
    output = value if option == "-o" else "scheme.json"
    argv += ["--budget", budget, "-o", output]
    if option not in ("--budget", "-o"):
        argv += [option, value]
    outputs = [output] if output.endswith(".json") else []
    return Case("tt-search-scheme", argv, files, outputs, f"{option} {value!r}", timeout=300.0)


GENERATORS: dict[str, tuple[str, Callable[[random.Random, Corpus], Case]]] = {
    # name: (the tool its cases run, generator)
    "tt-opt": ("tt-opt", _tt_opt),
    "tt-run": ("tt-run", _tt_run),
    "tt-compile": ("tt-compile", _tt_compile),
    "tt-import": ("tt-import", _tt_import),
    "tt-import --tflite": ("tt-import", _tt_import_tflite),
    "tt-plan-memory": ("tt-plan-memory", _tt_plan_memory),
    "tt-train": ("tt-train", _tt_train),
    "tt-search-scheme": ("tt-search-scheme", _tt_search_scheme),
}


def cases(
    corpus: Corpus,
    seed: int,
    per_tool: int,
    only: str | None = None,
    per_generator: dict[str, int] | None = None,
) -> Iterator[Case]:
    """`per_tool` cases of each generator (or of `only`; `per_generator` overrides the count of
    some); a generator falling back to another tool (the zoo import without the zoo) gives none."""
    rng = random.Random(seed)
    for name, (tool, generate) in GENERATORS.items():
        if only is not None and name != only:
            continue
        for _ in range((per_generator or {}).get(name, per_tool)):
            case = generate(rng, corpus)
            if case.tool == tool:
                yield replace(case, generator=name)


def fuzz(
    seed: int,
    per_tool: int,
    on_outcome: Callable[[Outcome], None] | None = None,
    only: str | None = None,
    per_generator: dict[str, int] | None = None,
) -> list[Outcome]:
    """Run the cases of `cases` (per_tool of every generator, or of `only`, a GENERATORS key;
    `per_generator` overrides some counts); every outcome (failures() says what went wrong)."""
    import torch

    torch.set_num_threads(1)  # no thread pools to inherit across fork
    tools, corpus = _tools(), Corpus.build()
    outcomes = []
    for case in cases(corpus, seed, per_tool, only, per_generator):
        outcomes.append(run_case(case, tools, case.timeout))
        if on_outcome is not None:
            on_outcome(outcomes[-1])
    return outcomes


def keep(outcome: Outcome, folder: Path) -> Path:
    """Write a failing case's files and argv into `folder` to replay it by hand."""
    target = folder / f"{outcome.case.tool}-{abs(hash(outcome.case.mutation)) % 10**8}"
    target.mkdir(parents=True, exist_ok=True)
    for name, data in outcome.case.files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)
    (target / "argv.txt").write_text(" ".join([outcome.case.tool, *outcome.case.argv]) + "\n")
    (target / "stderr.txt").write_text(outcome.stderr)
    return target

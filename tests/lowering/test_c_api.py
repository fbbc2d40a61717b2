"""The generated C API under misuse and the power-fail-safe parameter store (issue 12, items 3
and 4), on the bundled model built for the host under ASan + UBSan.

c_api_misuse.c: every bad argument returns its documented code and changes nothing; a blob of
another model, version or with a flipped byte is refused; a diverging run raises the saturation
status. c_checkpoint_faults.c: power cut at every erase/program call of a save, four ways each
(torn writes inside a page included): load gives the old or the new parameters exactly, and the
next save succeeds. The C programs check themselves; this test builds, runs and reads them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lowering_harness import SANITIZE, TRAINING_PASSES, compiled, write

from lowering.app import Samples
from ttdialect.bundled import copy_model, new_task

HERE = Path(__file__).resolve().parent
WARNINGS = "-std=c99 -Wall -Wextra -Werror -pedantic -ffp-contract=off"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    work = tmp_path_factory.mktemp("c_api")
    task = new_task()
    samples = Samples(task.train_x[:20], task.train_y[:20], task.test_x[:0], task.test_y[:0], 1)
    module = compiled(copy_model(work), TRAINING_PASSES.format(scheme="last-3", lr=0.05))
    write("host", module, work, samples, work / "host")
    return work / "host"


def build_and_run(project: Path, source: str) -> str:
    program = project / Path(source).stem
    sources = ["model.c", "model_data.c", "samples.c", *map(str, (project / "runtime" / "src").glob("*.c"))]
    command = ["gcc", *WARNINGS.split(), *SANITIZE.split(), "-I.", "-Iruntime/include", str(HERE / source),
               *sources, "-lm", "-o", str(program)]  # fmt: skip
    subprocess.run(command, cwd=project, check=True, capture_output=True, text=True)
    done = subprocess.run([str(program)], cwd=project, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_bad_arguments_return_their_codes_and_change_nothing(project: Path) -> None:
    text = build_and_run(project, "c_api_misuse.c")
    assert "all cases passed" in text
    cases = dict(re.findall(r"^case (.+) -> (-?\d+)$", text, re.M))
    assert len(cases) >= 35
    print("\n".join(f"{name}: {code}" for name, code in cases.items()))  # the error table (pytest -s)


def test_checkpoints_survive_a_power_cut_at_every_flash_call(project: Path) -> None:
    text = build_and_run(project, "c_checkpoint_faults.c")
    calls, faults, failures = map(
        int, re.search(r"calls per save (\d+), faults injected (\d+), failures (\d+)", text).groups()
    )
    assert failures == 0
    assert calls >= 4 and faults == 3 * 4 * calls  # three rounds, four ways at every call
    print(text.strip())

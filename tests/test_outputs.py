"""tt never deletes or overwrites what it did not create (ttdialect/outputs.py, issue 12 item 1).

Every tool that writes is run against folders and files it must not touch; the oracle is a byte
for byte snapshot of the tree taken before the run.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tt.tools import tt_compile, tt_import, tt_opt, tt_run
from ttdialect.bundled import copy_model
from ttdialect.outputs import MANIFEST, OutputError, Outputs

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tiny_classifier.mlir"


def snapshot(root: Path) -> dict[str, object]:
    """Every entry under `root`: file bytes, link targets, folders (links are not followed)."""
    entries: dict[str, object] = {}
    for directory, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(directory) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                entries[key] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[key] = "folder"
            else:
                entries[key] = path.read_bytes()
    return entries


def run_tool(main: Callable[[list[str]], None], *args: str) -> tuple[int, str]:
    """Run a tool's main in-process: (exit status, stderr is captured by the caller)."""
    try:
        main(list(args))
    except SystemExit as stop:
        return int(stop.code or 0), ""
    return 0, ""


def user_folder(root: Path) -> Path:
    folder = root / "user"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "sub" / "data.bin").write_bytes(bytes(range(256)))
    return folder


def compile_bundled(out: Path, *extra: str) -> int:
    status, _ = run_tool(tt_compile.main, "bundled", "--target", "host", "--out", str(out), *extra)
    return status


# ----------------------------------------------------------------------- project folders


def test_non_empty_folder_survives_byte_for_byte(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = user_folder(tmp_path)
    before = snapshot(tmp_path)
    assert compile_bundled(folder) == 1
    assert "is not empty and is not a tt project folder" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_current_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    assert compile_bundled(Path(".")) == 1
    assert "is the current folder" in capsys.readouterr().err
    assert compile_bundled(Path("sub/..")) == 1
    assert snapshot(tmp_path) == before


def test_folder_above_the_current_one_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inner").mkdir()
    monkeypatch.chdir(tmp_path / "inner")
    before = snapshot(tmp_path)
    assert compile_bundled(Path("..")) == 1
    assert snapshot(tmp_path) == before


def test_root_and_home_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for folder in (Path("/"), tmp_path, Path("~").expanduser()):
        with pytest.raises(OutputError):
            Outputs().check_folder(folder)


def test_folder_holding_the_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(EXAMPLE, models / "net.mlir")
    before = snapshot(tmp_path)
    status, _ = run_tool(tt_compile.main, str(models / "net.mlir"), "--target", "host", "--out", str(models))
    assert status == 1
    assert "holds an input of this run" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_symlink_to_an_outside_folder_is_refused(tmp_path: Path) -> None:
    outside = user_folder(tmp_path)
    (tmp_path / "link").symlink_to(outside)
    before = snapshot(tmp_path)
    assert compile_bundled(tmp_path / "link") == 1
    assert snapshot(tmp_path) == before


def test_link_planted_in_a_project_is_never_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    assert compile_bundled(project) == 0
    outside = user_folder(tmp_path)
    shutil.rmtree(project / "runtime")
    (project / "runtime").symlink_to(outside)
    before = snapshot(tmp_path)
    assert compile_bundled(project) == 1
    assert "not a folder tt made" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_rerun_replaces_only_tt_made_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert compile_bundled(project, "--target", "qemu-m7") == 0
    assert (project / "board").is_dir()
    (project / "mine.txt").write_text("kept\n")
    (project / "runtime" / "extra.h").write_text("kept too\n")
    assert compile_bundled(project, "--target", "host", "--steps", "3") == 0
    assert (project / "mine.txt").read_text() == "kept\n"
    assert (project / "runtime" / "extra.h").read_text() == "kept too\n"
    assert not (project / "board").exists(), "tt-made files no longer generated are removed"
    assert "#define SAMPLES_DEFAULT_STEPS 3" in (project / "samples.h").read_text()
    manifest = json.loads((project / MANIFEST).read_text())
    assert manifest["project"] == "tt-compile host"
    assert "mine.txt" not in manifest["files"]


def test_an_edited_tt_file_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    assert compile_bundled(project) == 0
    (project / "main.c").write_text("/* my edits */\n")
    before = snapshot(tmp_path)
    assert compile_bundled(project) == 1
    assert "main.c" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_empty_folder_is_fine(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert compile_bundled(tmp_path / "empty") == 0
    assert (tmp_path / "empty" / "main.c").is_file()


def test_failing_report_leaves_no_project(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("the user's\n")
    before = snapshot(tmp_path)
    assert compile_bundled(tmp_path / "project", "--report", str(tmp_path / "report.json")) == 1
    assert compile_bundled(tmp_path / "project", "--report", str(tmp_path / "nodir" / "r.json")) == 1
    assert compile_bundled(tmp_path / "project", "--report", str(tmp_path)) == 1
    assert snapshot(tmp_path) == before


# ----------------------------------------------------------------------- single files


def test_tt_opt_output_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, "net.mlir")
    Path("user.mlir").write_text("// mine\n")
    before = snapshot(tmp_path)
    assert run_tool(tt_opt.main, "net.mlir", "-o", "net.mlir")[0] == 1  # the input itself
    assert run_tool(tt_opt.main, "net.mlir", "-o", "user.mlir")[0] == 1
    assert run_tool(tt_opt.main, "net.mlir", "-o", ".")[0] == 1
    assert snapshot(tmp_path) == before
    assert run_tool(tt_opt.main, "net.mlir", "-o", "out.mlir")[0] == 0
    assert run_tool(tt_opt.main, "net.mlir", "-o", "out.mlir")[0] == 0  # tt's own file: replaced
    Path("out.mlir").write_text("// edited by the user\n")
    assert run_tool(tt_opt.main, "net.mlir", "-o", "out.mlir")[0] == 1
    assert Path("out.mlir").read_text() == "// edited by the user\n"


def planned_example(folder: Path) -> Path:
    """The bundled model's planned training step, written by tt-opt into `folder`."""
    source = copy_model(folder)
    pipeline = "tt-training-pipeline{scheme=last-3}"
    assert run_tool(tt_opt.main, str(source), "-p", pipeline, "-o", str(folder / "step.mlir"))[0] == 0
    return folder / "step.mlir"


def test_c_target_dir_never_overwrites_user_files(tmp_path: Path) -> None:
    step = planned_example(tmp_path)
    gen = tmp_path / "gen"
    target = f"c{{model=net dir={gen}}}"
    assert run_tool(tt_opt.main, str(step), "-t", f"c{{model=net dir={tmp_path / 'new' / 'gen'}}}")[0] == 0
    assert run_tool(tt_opt.main, str(step), "-t", target)[0] == 0
    assert run_tool(tt_opt.main, str(step), "-t", target)[0] == 0
    (gen / "net_data.c").write_text("/* mine */\n")
    before = snapshot(tmp_path)
    assert run_tool(tt_opt.main, str(step), "-t", target)[0] == 1
    assert snapshot(tmp_path) == before, "no file of the set is written when one is refused"


def test_memory_report_png_never_overwrites(tmp_path: Path) -> None:
    step = planned_example(tmp_path)
    (tmp_path / "life.png").write_bytes(b"not tt's")
    before = snapshot(tmp_path)
    target = f"memory-report{{png={tmp_path / 'life.png'}}}"
    assert run_tool(tt_opt.main, str(step), "-t", target)[0] == 1
    assert snapshot(tmp_path) == before


def test_tt_run_writes_both_outputs_or_neither(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    step = planned_example(tmp_path)
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "in.npz", arg0=rng.integers(-128, 128, (1, 16, 16, 1), dtype=np.int8), arg1=np.array([1])
    )
    (tmp_path / "params.npz").write_bytes(b"the user's")
    before = snapshot(tmp_path)
    args = [str(step), "--func", "train_step", "--inputs", str(tmp_path / "in.npz")]
    assert (
        run_tool(
            tt_run.main,
            *args,
            "--outputs",
            str(tmp_path / "out.npz"),
            "--save-params",
            str(tmp_path / "params.npz"),
        )[0]
        == 1
    )
    assert (
        run_tool(
            tt_run.main,
            *args,
            "--outputs",
            str(tmp_path / "out.npz"),
            "--save-params",
            str(tmp_path / "nodir" / "p.npz"),
        )[0]
        == 1
    )
    assert run_tool(tt_run.main, *args, "--outputs", str(tmp_path / "in.npz"))[0] == 1
    weights = [p for p in tmp_path.glob("*.weights.npz")]
    for path in weights:  # the model's own weights file is an input, even though tt made it
        assert (
            run_tool(tt_run.main, *args, "--outputs", str(tmp_path / "o.npz"), "--save-params", str(path))[0]
            == 1
        )
    assert weights, "the bundled model keeps its weights in a file"
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 + len(weights)
    assert all(("tt did not write it" in e or "does not exist" in e or "is an input" in e) for e in errors)
    assert snapshot(tmp_path) == before
    outputs = [str(tmp_path / "out.npz"), "--save-params", str(tmp_path / "trained.npz")]
    assert run_tool(tt_run.main, *args, "--outputs", *outputs)[0] == 0
    assert (tmp_path / "out.npz").is_file() and (tmp_path / "trained.npz").is_file()


def test_tt_import_refuses_the_weights_file_beside_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "net.weights.npz").write_bytes(b"the user's")
    (tmp_path / "small.mlir").write_text("// mine\n")
    before = snapshot(tmp_path)
    for output in ("net.mlir", "small.mlir"):
        status, _ = run_tool(
            tt_import.main, "--zoo", "mcunet-5fps", "--num-classes", "10", "-o", str(tmp_path / output)
        )
        assert status == 1
        assert "exists and tt did not write it" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_dev_null_is_written_not_replaced(tmp_path: Path) -> None:
    before = os.stat("/dev/null")
    assert run_tool(tt_opt.main, str(EXAMPLE), "-o", "/dev/null")[0] == 0
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode, before.st_rdev)

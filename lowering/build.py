"""Build and run a generated project (host or QEMU) and read what its main.c printed.

With `trace=True` the program prints every step's loss exactly (%a), the logits of the
held-out samples and the trained parameters (hex); with `profile=True` (-DTT_PROFILE) the
instructions of every op of the train step; `AppRun` holds them parsed.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ttdialect.errors import TTError

TIMEOUT_S = 1800


class BuildError(TTError):
    """A generated project failed to build or run (the message carries the tool's output)."""


@dataclass(frozen=True)
class ProfiledOp:
    """One op of a -DTT_PROFILE run: its MACs and the instructions it took over all steps."""

    index: int
    macs: int
    instructions: int
    op: str
    kind: str


@dataclass
class AppRun:
    """What one run of the training application printed."""

    text: str
    losses: list[float] = field(default_factory=list)
    logits: list[list[int]] = field(default_factory=list)
    params: bytes = b""
    instructions_per_step: int | None = None
    linked: dict[str, int] = field(default_factory=dict)
    profile: list[ProfiledOp] = field(default_factory=list)
    profile_steps: int = 0


def _run(command: list[str], cwd: Path, what: str) -> str:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except FileNotFoundError as error:
        raise BuildError(f"{what}: {error.filename} not found (is it installed?)") from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what}: no result after {TIMEOUT_S} s") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()[-30:]
        raise BuildError(f"{what} failed (exit {done.returncode}):\n" + "\n".join(output))
    return done.stdout


def build_and_run(
    project: Path,
    backend: str,
    steps: int | None = None,
    trace: bool = False,
    extra_cflags: str = "",
    profile: bool = False,
) -> AppRun:
    """`make run` in a host or qemu-m7 project folder, with optional step count, trace and profile."""
    flags = extra_cflags
    if steps is not None:
        flags += f" -DAPP_STEPS={steps}"
    if trace:
        flags += " -DTT_APP_TRACE"
    if profile:
        flags += " -DTT_PROFILE"
    _run(["make", "-s", "clean"], project, "make clean")
    output = _run(["make", "-s", "run", f"EXTRA_CFLAGS={flags.strip()}"], project, f"{backend} build/run")
    return parse_output(output)


def parse_output(text: str) -> AppRun:
    run = AppRun(text)
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] == "loss" and len(words) == 3:
            run.losses.append(float.fromhex(words[2]))
        elif words[0] == "logits":
            run.logits.append([int(w) for w in words[1:]])
        elif words[0] == "params" and len(words) >= 2:
            run.params = bytes.fromhex(words[2]) if len(words) == 3 else b""
        elif line.startswith("instructions per training step:"):
            run.instructions_per_step = int(words[-1])
        elif words[:2] == ["profile", "op"] and len(words) >= 6:
            index, macs, instructions = (int(w) for w in words[2:5])
            run.profile.append(ProfiledOp(index, macs, instructions, words[5], " ".join(words[6:])))
        elif words[:2] == ["profile", "steps"]:
            run.profile_steps = int(words[2])
        elif line.startswith("linked image:"):
            numbers = re.findall(r"(flash|SRAM|data|bss|stacks|used) (\d+)", line)
            run.linked = {name: int(value) for name, value in numbers}
    return run

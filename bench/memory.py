"""Memory of the planned training step for each zoo model and scheme, vs the published figures.

For mbv2-w0.35, proxyless-w0.3 and mcunet-5fps at 1x3x128x128, batch 1: full update, bias-only
and the five published presets, each through `tt-training-pipeline` (autodiff, sparse update,
QAS, fused updates, reordering, memory planning). Prints a table and writes the `memory`
section of docs/benchmarks.md; also measures one float PyTorch training step (full update) of
the same model for its peak RSS, in a child process.

Targets (issue 5): arena <= 1.01 x lower bound everywhere; sparse presets arena <= 0.7 x the
published sparse+reorder peak (141 / 135 / 173 KB); full update arena <= 0.7 x the published
full-update peak; total SRAM <= 256 KB for every preset.

Usage: python -m bench.memory [--models NAME ...] [--no-torch]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import machine, markdown_table, write_section
from passes import apply_pipeline
from passes.memory.report import memory_report
from passes.schemes import PRESETS
from ttdialect.importers.tiny_training import ZOO_NAMES, HeadChoice, default_zoo_dir, import_zoo
from ttdialect.ir_io import load_module

KB = 1024
PUBLISHED_SPARSE_REORDER_KB = {"mbv2-w0.35": 141, "proxyless-w0.3": 135, "mcunet-5fps": 173}
PUBLISHED_FULL_KB = {"mbv2-w0.35": 2939, "proxyless-w0.3": 2745, "mcunet-5fps": 3650}
SRAM_BUDGET = 256 * KB

TORCH_STEP = """
import resource, sys, torch, torch.nn.functional as F
from ttdialect.importers.tiny_training import default_zoo_dir, load_model_file
name = sys.argv[1]
model = load_model_file(default_zoo_dir() / f"{name}.pkl")
def conv(c):
    p = c["params"]; w = torch.tensor(p["weight"].astype("float32") * p["w_scales"][:, None, None, None])
    k, g = w.shape[2], c["groups"]
    layer = torch.nn.Conv2d(w.shape[1] * g, w.shape[0], k, c["stride"], (k - 1) // 2, groups=g)
    layer.weight.data = w
    return layer
layers = [conv(model["first_conv"]), torch.nn.ReLU6()]
for b in model["blocks"]:
    for part in ("pointwise1", "depthwise", "pointwise2"):
        if b[part] is not None:
            layers += [conv(b[part]), torch.nn.ReLU6()]
net = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.LazyLinear(10))
torch.set_num_threads(1)
x = torch.randn(1, 3, 128, 128)
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss = F.cross_entropy(net(x), torch.tensor([1])); loss.backward(); opt.step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def schemes(name: str) -> list[str]:
    presets = [key for key in PRESETS if key.startswith(f"{name}/")]
    return ["full", "bias-only", *presets]


def measure(name: str, scheme: str, folder: Path) -> dict:
    module = load_module(folder / f"{name}.mlir")
    start = time.perf_counter()
    apply_pipeline(module, f"tt-training-pipeline{{scheme={scheme}}}", folder)
    seconds = time.perf_counter() - start
    report = memory_report(module)
    return {"name": name, "scheme": scheme, "report": report, "seconds": seconds}


def torch_peak_rss_mb(name: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", TORCH_STEP, name], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def verdicts(row: dict) -> str:
    report, name, scheme = row["report"], row["name"], row["scheme"]
    notes = []
    if report.arena_bytes > 1.01 * report.lower_bound_bytes:
        notes.append("slack > 1.01")
    if scheme == "full":
        target = 0.7 * PUBLISHED_FULL_KB[name] * KB
        notes.append("full target met" if report.arena_bytes <= target else "full target missed")
    elif "/" in scheme:
        target = 0.7 * PUBLISHED_SPARSE_REORDER_KB[name] * KB
        notes.append("arena target met" if report.arena_bytes <= target else "arena target missed")
        if report.total_sram_bytes > SRAM_BUDGET:
            notes.append("total > 256 KB")
    return ", ".join(notes)


def table(rows: list[dict]) -> tuple[list[str], list[list[str]]]:
    headers = [
        "model",
        "scheme",
        "arena KB",
        "lower bound KB",
        "slack",
        "trainable KB",
        "total SRAM KB",
        "flash KB",
        "peak at",
        "compile s",
        "vs targets",
    ]
    body = []
    for row in rows:
        r = row["report"]
        body.append(
            [
                row["name"],
                row["scheme"],
                f"{r.arena_bytes / KB:.1f}",
                f"{r.lower_bound_bytes / KB:.1f}",
                f"{r.arena_bytes / max(r.lower_bound_bytes, 1):.4f}",
                f"{r.trainable_sram_bytes / KB:.1f}",
                f"{r.total_sram_bytes / KB:.1f}",
                f"{r.flash_bytes / KB:.1f}",
                r.peak_op,
                f"{row['seconds']:.1f}",
                verdicts(row),
            ]
        )
    return headers, body


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="*", default=list(ZOO_NAMES), choices=ZOO_NAMES)
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peak-RSS measurement")
    args = parser.parse_args()
    if not default_zoo_dir().is_dir():
        sys.exit(f"memory: zoo folder {default_zoo_dir()} not found")
    rows: list[dict] = []
    torch_rss: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.models:
            import_zoo(name, folder / f"{name}.mlir", head=HeadChoice(10))
            for scheme in schemes(name):
                rows.append(measure(name, scheme, folder))
                print(
                    f"  {name} {scheme}: arena {rows[-1]['report'].arena_bytes / KB:.1f} KB", file=sys.stderr
                )
            if not args.no_torch:
                torch_rss[name] = torch_peak_rss_mb(name)
    headers, body = table(rows)
    text = markdown_table(headers, body)
    print(text)
    lines = [
        "## Memory of the planned training step (bench/memory.py)",
        "",
        f"Machine: {machine()}. 1x3x128x128, batch 1, 10-class head, `tt-training-pipeline{{scheme=S}}`;",
        "arena = planned arena of @train_step (comparable to the published peak, which excludes the",
        "trainable parameters); total SRAM = arena + trainable slices + runtime state (stack not",
        "included until the linked image reports it). Published sparse+reorder peaks: 141 / 135 / 173 KB",
        "(targets: 0.7x = 99 / 95 / 121 KB); published full-update peaks 2939 / 2745 / 3650 KB.",
        "",
        text,
        "",
        "Frozen inverted bottlenecks run row-streamed (`tt-stream-frozen`: `tt.bottleneck` keeps",
        "KH rows of the expanded tensor and one depthwise row instead of both intermediates); the",
        "strided stem conv is streamed into the first block as its expand stage, so its 64x64x16",
        "output never exists. Where the backward reads a saved int8 output only for its clamp",
        "gradient, a 1-bit mask taken in the forward replaces it (`tt-clamp-masks`); a same-shape",
        "depthwise input gradient overwrites its own input, and a depthwise input gradient followed",
        "by the expand conv's mask, bias update and 1x1 input gradient runs one channel plane at a",
        "time (`tt-fuse-expand-grad`), so that expanded float gradient never exists. The forward",
        "floor is now 84 KB: the 128x128x3 input image (48 KB) next to the first block's 64x64x8",
        "output (32 KB) and its row buffers; the presets above it peak in the backward, at an input",
        "gradient of an updated block.",
    ]
    if torch_rss:
        lines.append("")
        for name, rss in torch_rss.items():
            full = next(r["report"] for r in rows if r["name"] == name and r["scheme"] == "full")
            lines.append(
                f"- {name}: one float PyTorch CPU training step (full update) peaks at {rss:.1f} MB RSS; "
                f"tt's full-update arena is {full.arena_bytes / KB:.0f} KB "
                f"({rss * KB / (full.arena_bytes / KB):.0f}x less)."
            )
    write_section("memory", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Checks the machine before `make install` / `make demo` download or build anything.

- Python must be 3.11 (the pinned xdsl and the CPU torch 2.13.0 wheel are for 3.11; another
  version would download gigabytes before failing).
- With --toolchain: the Debian packages the demo needs (gcc, make, the Arm toolchain and newlib,
  QEMU). When some are missing they are installed with apt-get if this runs as root on a Debian
  system; otherwise it stops with the exact command to run.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

PYTHON = (3, 11)
PACKAGES = {  # command -> Debian package
    "gcc": "gcc",
    "make": "make",
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
}
NEWLIB = "libnewlib-arm-none-eabi"
NEWLIB_HEADER = "/usr/lib/arm-none-eabi/include/stdio.h"


def check_python() -> bool:
    if sys.version_info[:2] == PYTHON:
        return True
    found = ".".join(map(str, sys.version_info[:3]))
    print(
        f"check: tt needs Python {PYTHON[0]}.{PYTHON[1]} (found {found} at {sys.executable}); run make with "
        f"PYTHON=python{PYTHON[0]}.{PYTHON[1]}",
        file=sys.stderr,
    )
    return False


def missing_packages() -> list[str]:
    missing = [package for command, package in PACKAGES.items() if shutil.which(command) is None]
    if not os.path.exists(NEWLIB_HEADER):
        missing.append(NEWLIB)
    return missing


def check_toolchain() -> bool:
    missing = missing_packages()
    if not missing:
        return True
    command = ["apt-get", "install", "-y", *missing]
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"check: installing {' '.join(missing)}: {' '.join(command)}", file=sys.stderr, flush=True)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "update", "-qq"], env=environment).returncode == 0:
            if subprocess.run(command, env=environment).returncode == 0 and not missing_packages():
                return True
        print("check: apt-get could not install them; see its messages above", file=sys.stderr)
        return False
    print(
        f"check: the demo needs Debian packages that are missing: {' '.join(missing)}\n"
        f"       install them first:  sudo {' '.join(command)}",
        file=sys.stderr,
    )
    return False


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--toolchain", action="store_true", help="also check (or install) the demo's packages"
    )
    args = parser.parse_args()
    ok = check_python() and (not args.toolchain or check_toolchain())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Lowering of planned tt IR to C and the project writers (host, QEMU Cortex-M7, STM32CubeIDE)."""

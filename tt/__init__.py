"""tt: compile the training step of an int8 CNN for a microcontroller, from Python.

    import tt
    model = tt.load("bundled")
    step = model.training_step("last-3")
    print(step.memory_report().arena_bytes)
    step.write_project("digits-m7", target="qemu-m7")

See tt/api.py and docs/api.md. Errors are tt.TTError (and subclasses). The command-line tools
(tt.tools: tt-opt, tt-import, tt-compile, tt-train, tt-run, tt-plan-memory) are built on this.
"""

__all__ = [
    "BUNDLED",
    "Model",
    "PassError",
    "TTError",
    "TrainingStep",
    "default_learning_rate",
    "load",
    "load_torch",
    "search_scheme",
    "synthetic_samples",
]


def __getattr__(name: str) -> object:
    """The API is imported on first use, so `import tt.tools.x` (each tool's --help) stays fast."""
    if name == "TTError":
        from ttdialect.errors import TTError

        return TTError
    if name == "search_scheme":
        from tt.search import search_scheme

        return search_scheme
    if name in __all__:
        from tt import api

        return getattr(api, name)
    raise AttributeError(f"module 'tt' has no attribute {name!r}")

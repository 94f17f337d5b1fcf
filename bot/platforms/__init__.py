"""Per-platform wiring for ``minime run``: each module exposes ``open_adapter(runtime, http)``."""

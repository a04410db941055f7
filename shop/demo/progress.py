"""Progress bars for the seeding command (silent when none is given)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

SEED = 2026  # the demo's random choices are the same on every run
Progress = Callable[[str, int], AbstractContextManager]


class _Silent:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def update(self, n_steps: int, current_item=None) -> None:
        pass


def progress_bar(progress: Progress | None, label: str, total: int) -> AbstractContextManager:
    return progress(label, total) if progress else _Silent()

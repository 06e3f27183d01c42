"""Key bindings as data: which keys, the line the help overlay shows for them, and what they do.

A window lists its `Binding`s once; the shell dispatches key presses (and left clicks) through that list, and the
help overlay is drawn from the same list, so the help never names a key the window does not have. A binding with
no keys and no click (the held arrow keys of a driving window, handled as held keys) is a help line only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pygame

PLUS_KEYS = (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS)
MINUS_KEYS = (pygame.K_MINUS, pygame.K_KP_MINUS, pygame.K_UNDERSCORE)


@dataclass(frozen=True)
class Binding:
    """One entry of a window's keys.

    `label` names the keys in the help ("Space", "+ / -"), `help` says what they do. `action` runs on a press of
    any of `keys` (with no argument), or, for a `click` binding, on a left click with the click's position.
    """

    label: str
    help: str
    action: Callable[..., None] | None = None
    keys: tuple[int, ...] = ()
    click: bool = False


class KeyBindings:
    """A window's bindings in help order; `press` and `click` run the matching action."""

    def __init__(self, bindings: Iterable[Binding] = ()) -> None:
        self.bindings: list[Binding] = list(bindings)

    def __iter__(self):
        return iter(self.bindings)

    def __len__(self) -> int:
        return len(self.bindings)

    def labels(self) -> list[str]:
        """The key labels, in help order."""
        return [binding.label for binding in self.bindings]

    def help_lines(self) -> list[tuple[str, str]]:
        """(keys, what they do) for the help overlay."""
        return [(binding.label, binding.help) for binding in self.bindings]

    def binding_for(self, key: int) -> Binding | None:
        """The binding that owns `key` (the first one listed), or None."""
        return next((binding for binding in self.bindings if key in binding.keys), None)

    def press(self, key: int) -> bool:
        """Run the action bound to `key`; returns False if no binding has it."""
        binding = self.binding_for(key)
        if binding is None or binding.action is None:
            return False
        binding.action()
        return True

    def click(self, position: tuple[int, int]) -> bool:
        """Run the click binding with the click's position; returns False if the window has none."""
        binding = next((binding for binding in self.bindings if binding.click), None)
        if binding is None or binding.action is None:
            return False
        binding.action(position)
        return True

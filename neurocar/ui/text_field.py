"""A one-line text field (the editor's rename): the text, the caret, and whether all of it is selected.

It opens with the whole text selected, so typing replaces it and Enter keeps it unchanged: the field never appends
to the old text by surprise. Keys are pygame key codes with their modifiers and the text they typed.
"""

from __future__ import annotations

import pygame

CTRL = pygame.KMOD_CTRL | pygame.KMOD_META


class TextField:
    """A one-line text field: it opens with the whole text selected, so typing replaces it and Enter keeps it.

    Arrow keys, Home and End move the caret (and drop the selection), Backspace and Delete remove the selection or a
    character, Ctrl+A selects everything again, Ctrl+Backspace clears the field."""

    def __init__(self, text: str, limit: int) -> None:
        self.text = text
        self.caret = len(text)
        self.all_selected = bool(text)
        self.limit = limit

    def key(self, key: int, modifiers: int, typed: str) -> str | None:
        """Handle one key press; returns 'keep' (Enter), 'cancel' (Esc) or None (still typing)."""
        control = bool(modifiers & CTRL)
        if key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            return "keep"
        if key == pygame.K_ESCAPE:
            return "cancel"
        if key == pygame.K_a and control:
            self.all_selected = bool(self.text)
            self.caret = len(self.text)
        elif key == pygame.K_BACKSPACE and (control or self.all_selected):
            self._replace_all("")
        elif key == pygame.K_BACKSPACE:
            if self.caret:
                self.text = self.text[: self.caret - 1] + self.text[self.caret :]
                self.caret -= 1
        elif key == pygame.K_DELETE:
            if self.all_selected:
                self._replace_all("")
            else:
                self.text = self.text[: self.caret] + self.text[self.caret + 1 :]
        elif key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_HOME, pygame.K_END):
            if self.all_selected:
                self.caret = 0 if key in (pygame.K_LEFT, pygame.K_HOME) else len(self.text)
            elif key == pygame.K_LEFT:
                self.caret = max(0, self.caret - 1)
            elif key == pygame.K_RIGHT:
                self.caret = min(len(self.text), self.caret + 1)
            else:
                self.caret = 0 if key == pygame.K_HOME else len(self.text)
            self.all_selected = False
        elif typed and not control:
            self.type(typed)
        return None

    def type(self, typed: str) -> None:
        """Insert printable text at the caret (replacing the selection), up to the length limit."""
        typed = "".join(character for character in typed if character.isprintable())
        if not typed:
            return
        if self.all_selected:
            self._replace_all("")
        room = self.limit - len(self.text)
        typed = typed[: max(0, room)]
        self.text = self.text[: self.caret] + typed + self.text[self.caret :]
        self.caret += len(typed)

    def _replace_all(self, text: str) -> None:
        self.text = text
        self.caret = len(text)
        self.all_selected = False

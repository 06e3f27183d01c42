"""The arrow keys as a driver: steering keys are held (down until up), and held keys become the action.

Used by every window a person drives in (`neurocar drive`, `neurocar race`).
"""

from __future__ import annotations

import pygame

from neurocar.sim.car import STEER_LEFT, STEER_RIGHT, STRAIGHT

STEERING_KEYS = {pygame.K_LEFT: STEER_LEFT, pygame.K_RIGHT: STEER_RIGHT}


def keys_to_action(left: bool, right: bool) -> int:
    """The action for the steering keys held: one arrow steers that way, none or both go straight."""
    if left and not right:
        return STEER_LEFT
    if right and not left:
        return STEER_RIGHT
    return STRAIGHT


def action_to_keys(action: int) -> tuple[bool, bool]:
    """The keys (left, right) a driver holds to choose an action (how the autopilot 'presses' keys)."""
    return action == STEER_LEFT, action == STEER_RIGHT


class SteeringKeys:
    """Which steering keys are held; `handle(event)` consumes the events that concern them."""

    def __init__(self) -> None:
        self.held = {STEER_LEFT: False, STEER_RIGHT: False}

    def handle(self, event: pygame.event.Event) -> bool:
        """Update the held keys from one event; returns True if the event was a steering one (consumed)."""
        if event.type in (pygame.KEYDOWN, pygame.KEYUP) and event.key in STEERING_KEYS:
            self.held[STEERING_KEYS[event.key]] = event.type == pygame.KEYDOWN
            return True
        if event.type == pygame.WINDOWFOCUSLOST:
            # The key-up may never arrive while another window has the focus.
            self.release()
        return False

    def release(self) -> None:
        """Let go of every key."""
        self.held = {STEER_LEFT: False, STEER_RIGHT: False}

    @property
    def pressing(self) -> bool:
        """A steering key is held."""
        return self.held[STEER_LEFT] or self.held[STEER_RIGHT]

    @property
    def action(self) -> int:
        """The action the held keys choose."""
        return keys_to_action(self.held[STEER_LEFT], self.held[STEER_RIGHT])

"""The scrolling conversation: follows new text, and parks what is far from view.

Following: the list is anchored, so it sticks to the bottom while the user is
there and stops following as soon as they scroll up (Textual's anchor).

Parking: every layout walks every widget on the screen, and a long Markdown
reply is thousands of widgets. Sealed reply chunks further than
PARK_MARGIN_SCREENS viewport heights from the viewport are parked (their blocks
hidden behind a blank of the same height, see reply.ChunkSlot) and brought back
as the viewport nears them, so layout cost stays flat however long the
conversation grows, while streaming and while scrolling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.containers import VerticalScroll
from textual.message import Message

from tokenopt_tui.ui.widgets.message import MessageView

if TYPE_CHECKING:  # reply.py (and Markdown) is imported on first use, not at start-up
    from tokenopt_tui.ui.widgets.reply import ChunkSlot


class MessageList(VerticalScroll):
    """The conversation; see the module docstring."""

    PARK_MARGIN_SCREENS = 1.0

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._width = 0
        self._parking_due = False

    def on_mount(self) -> None:
        self.anchor()
        self.watch(self, "scroll_y", self._scrolled, init=False)

    def add(self, message: MessageView) -> MessageView:
        self.mount(message)
        return message

    def slots(self) -> list[ChunkSlot]:
        return [slot for message in self.children for slot in _slots(message)]

    def update_parking(self) -> tuple[int, int]:
        """Park chunks far from the viewport, bring back those near it: (parked, back)."""
        self._parking_due = False
        view = self.region
        if not view:
            return 0, 0
        margin = int(view.height * self.PARK_MARGIN_SCREENS)
        near_top, near_bottom = view.y - margin, view.bottom + margin
        parked = back = 0
        for slot in self.slots():
            area = slot.region  # screen coordinates, also for slots out of view
            if area.bottom < near_top or area.y > near_bottom:
                parked += slot.park()
            elif slot.parked:
                slot.unpark()
                back += 1
        return parked, back

    def unpark_all(self) -> None:
        for slot in self.slots():
            slot.unpark()

    def _schedule_parking(self) -> None:
        """Update parking once after the next refresh (positions are known then)."""
        if not self._parking_due:
            self._parking_due = True
            self.call_after_refresh(self.update_parking)

    def on_assistant_message_grew(self, _message: Message) -> None:
        self._schedule_parking()

    def _scrolled(self, _old: float, _new: float) -> None:
        self._schedule_parking()

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:  # parked heights were for the old width
            self._width = event.size.width
            self.unpark_all()
        self._schedule_parking()


def _slots(message: object) -> list[ChunkSlot]:
    """The chunk slots of a reply (AssistantMessage.slots); none for other messages."""
    slots: list[ChunkSlot] = getattr(message, "slots", [])
    return slots

"""A keyboard-driven table that renders only visible rows, fetching them by page.

Holds only the list of row keys; cells come from a `fetch` callable a page at a time, so a
queue of 100,000 sources costs one list of ints and the rows on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

PAGE = 200
MIN_FLEX = 20
Cells = tuple[str, ...]
Fetch = Callable[[list[int]], dict[int, Cells]]


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its label and width (0 = take the remaining width)."""

    label: str
    width: int = 0
    optional: bool = False
    """Hidden when the flexible column would be left narrower than `MIN_FLEX`."""


def _fit(text: str, width: int, collapse: bool = True) -> str:
    """Cut or pad `text` to exactly `width` cells, with an ellipsis when cut; `collapse`
    makes runs of spaces and line breaks one space (a cell's text, not a padded line)."""
    if collapse:
        text = " ".join(text.split())
    if text.isascii():
        if len(text) <= width:
            return text + " " * (width - len(text))
        return text[: max(width - 1, 0)] + "…" if width > 0 else ""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    out, used = [], 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…" + " " * (width - used - 1)


class VirtualTable(ScrollView, can_focus=True, inherit_bindings=False):
    """A table of keyed rows, fetched lazily, with a highlighted cursor row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("pagedown,ctrl+f", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("home,g", "first", "First", show=False, id="table.first"),
        Binding("end,G", "last", "Last", show=False, id="table.last"),
        Binding("enter", "select", "Open", id="table.select"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--pending",
        "virtual-table--dim",
    }
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .virtual-table--header { text-style: bold; color: $text-accent; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-blurred-background; }
    VirtualTable:focus > .virtual-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold;
    }
    VirtualTable > .virtual-table--pending { color: $text-warning; }
    VirtualTable > .virtual-table--dim { color: $text-muted; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to a row."""

        def __init__(self, table: VirtualTable, key: int | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class Selected(Message):
        """Enter was pressed (or a row clicked) on a row."""

        def __init__(self, table: VirtualTable, key: int) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        fetch: Fetch,
        *,
        empty_text: str = "Nothing here.",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.columns = list(columns)
        self._fetch = fetch
        self._keys: list[int] = []
        self._cache: dict[int, Cells] = {}
        self.empty_text = empty_text
        self.row_style: Callable[[int, Cells], str | None] = lambda key, cells: None

    @property
    def keys(self) -> list[int]:
        return self._keys

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def current_key(self) -> int | None:
        if 0 <= self.cursor < len(self._keys):
            return self._keys[self.cursor]
        return None

    def set_keys(self, keys: list[int], keep: int | None = None) -> None:
        """Show these rows (in order); keep the cursor on `keep` if it is still there."""
        self._keys = keys
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(keys) + 1)
        position = keys.index(keep) if keep is not None and keep in keys else 0
        self.cursor = min(position, max(len(keys) - 1, 0))
        self._scroll_to_cursor()
        # Again once the new size is laid out: until then a scroll past the old rows' end
        # stops there (a cleared filter left the kept row out of view).
        self.call_after_refresh(self._scroll_to_cursor)
        self.refresh()

    def invalidate(self) -> None:
        """Forget fetched rows (their content changed) and repaint."""
        self._cache.clear()
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_key))

    def cells(self, index: int) -> Cells | None:
        if not 0 <= index < len(self._keys):
            return None
        key = self._keys[index]
        if key not in self._cache:
            start = (index // PAGE) * PAGE
            page = self._keys[start : start + PAGE]
            fetched = self._fetch(page)
            for page_key in page:
                # A row deleted since the keys were read (a re-index, another terminal's
                # export) shows as gone, with every column there for the row's style to read.
                gone = ("(gone)",) + ("",) * (len(self.columns) - 1)
                self._cache[page_key] = fetched.get(page_key, gone)
            if len(self._cache) > PAGE * 20:
                self._cache = {k: self._cache[k] for k in page}
        return self._cache.get(key)

    def _widths(self, total: int) -> list[int]:
        """Column widths for `total` cells; optional columns give way to the flexible one."""
        shown = list(self.columns)
        while True:
            fixed = sum(c.width + 1 for c in shown if c.width)
            flexible = [c for c in shown if not c.width]
            share = max(total - fixed - len(flexible) + 1, 8) // max(len(flexible), 1)
            optional = [c for c in shown if c.optional]
            if share >= MIN_FLEX or not optional:
                break
            shown.remove(optional[0])
        return [(c.width or share) if c in shown else 0 for c in self.columns]

    def _line(self, cells: Sequence[str], width: int, style: Style) -> Strip:
        widths = self._widths(width)
        text = " ".join(_fit(cell, w) for cell, w in zip(cells, widths, strict=False) if w)
        # The cells keep their padding: the line is only cut to the width.
        return Strip([Segment(_fit(text, width, collapse=False), style)]).adjust_cell_length(
            width, style
        )

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("virtual-table--header")
            return self._line([c.label for c in self.columns], width, base + header)
        index = int(self.scroll_offset.y) + y - 1
        if not self._keys:
            if y == 1:  # across the whole width, not in the first column
                dim = self.get_component_rich_style("virtual-table--dim")
                return Strip([Segment(_fit(self.empty_text, width), base + dim)])
            return Strip.blank(width, base)
        cells = self.cells(index)
        if cells is None:
            return Strip.blank(width, base)
        style = base
        extra = self.row_style(self._keys[index], cells)
        if extra:
            style += self.get_component_rich_style(f"virtual-table--{extra}")
        if index == self.cursor:
            style += self.get_component_rich_style("virtual-table--cursor")
        return self._line(cells, width, style)

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_offset.y)
        visible = self._visible_rows()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        self._scroll_to_cursor()
        if int(self.scroll_offset.y) == top and old != new:
            # Only the two rows whose highlight changed are painted again.
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)
        else:
            self.refresh()
        self.post_message(self.Highlighted(self, self.current_key))

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self._keys) + 1)

    def _move(self, delta: int) -> None:
        if self._keys:
            self.cursor = max(0, min(len(self._keys) - 1, self.cursor + delta))

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(self._visible_rows())

    def action_page_up(self) -> None:
        self._move(-self._visible_rows())

    def action_first(self) -> None:
        self._move(-len(self._keys))

    def action_last(self) -> None:
        self._move(len(self._keys))

    def action_select(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y >= 1 and 0 <= index < len(self._keys):
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index

"""The curator's desk: source queues (left), the reader (centre), the handoff panel (right)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import MountError, Widget
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from kbtui.ops import curation, desk
from kbtui.ops.desk import BUCKET_LABELS, BUCKETS, SORTS, QueueFilter
from kbtui.ui.markup import clip, escape
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.handoff import HandoffPanel
from kbtui.ui.widgets.lists import KeyList
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp

PRIORITY_MARK = {"high": "H", "medium": "M", "low": "L"}
FIRST_PAGE = 120
"""Queue rows read before the first paint: more than any terminal shows."""


class PaneSlot(Widget):
    """Holds a pane's place until the screen fills it, just after the first paint.

    The reader and the handoff panel are empty until a source loads: the first frame shows
    the queue without paying for them, and nothing shifts when they arrive. (A pane shown
    before it is mounted shows its document once it is.)
    """

    DEFAULT_CSS = "PaneSlot { display: block; }"

    def __init__(self, pane: Widget, *, id: str) -> None:
        super().__init__(id=id)
        self._pane = pane

    def fill(self) -> None:
        """Mount the pane in this slot's place (soon: the slot goes once it is there)."""
        self.call_later(self._fill)

    async def _fill(self) -> None:
        parent = self.parent
        if not self.is_attached or not isinstance(parent, Widget):
            return
        try:
            await parent.mount(self._pane, after=self)
            await self.remove()
        except MountError:
            return  # the app is closing


class FooterSlot(PaneSlot):
    """The footer's line until its keys mount, just after the first paint."""

    DEFAULT_CSS = """
    FooterSlot { dock: bottom; height: 1; background: $footer-background; }
    """


class DeskScreen(Screen[None]):
    """Find the next source, read it beside its handoff, move it through its lifecycle."""

    TITLE = "Desk"
    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(
                str(n),
                f"bucket('{bucket}')",
                f"{BUCKET_LABELS[bucket]} queue",
                show=False,
                id=f"desk.bucket_{bucket}",
            )
            for n, bucket in enumerate(BUCKETS, start=1)
        ],
        Binding("slash", "filter", "Filter", id="desk.filter"),
        Binding("S", "cycle_sort", "Sort", show=False, id="desk.sort"),
        Binding("s", "start", "Start", id="desk.start", tooltip="Set the source to processing"),
        Binding(
            "n",
            "null_result",
            "Null-result",
            id="desk.null_result",
            tooltip="Set null-result, with the note the KB requires",
        ),
        Binding(
            "U",
            "unprocess",
            "Unprocess",
            show=False,
            id="desk.unprocessed",
            tooltip="Put the source back to unprocessed",
        ),
        Binding("u", "undo", "Undo", id="desk.undo"),
        Binding(
            "o", "edit", "Edit", show=False, id="desk.edit", tooltip="Open the file in $EDITOR"
        ),
        Binding(
            "c",
            "draft",
            "Draft claim",
            id="desk.draft",
            tooltip="Draft a claim from this source (a candidate or blank)",
        ),
        Binding("d", "drafts", "Drafts", id="desk.drafts", tooltip="Reopen or delete drafts"),
        Binding("v", "claims", "Claims", id="desk.claims", tooltip="Browse all claims"),
        Binding(
            "D",
            "divergence",
            "Divergence",
            show=False,
            id="desk.divergence",
            tooltip="Draft a divergence from the claims this source's handoff names",
        ),
        Binding(
            "V",
            "divergences",
            "Divergences",
            show=False,
            id="desk.divergences",
            tooltip="Open and resolved divergences",
        ),
        Binding(
            "C",
            "challenges",
            "Challenges",
            show=False,
            id="desk.challenges",
            tooltip="Challenges of claims: open, accepted, rejected, refined, and drafts",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="desk.export",
            tooltip="Preview and write pending work to the markdown files",
        ),
    ]

    LOAD_DELAY = 0.08
    """Seconds the cursor rests before the reader loads: holding j stays smooth."""

    def __init__(self) -> None:
        super().__init__()
        self._load_timer: Timer | None = None
        self._pending_key: int | None = None
        self.reader = Reader(id="reader")
        self.handoff = HandoffPanel(id="handoff")
        self.bucket = "unprocessed"
        self.filter = QueueFilter()
        self.sort = "date"
        self._shown = False

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="desk"):
            with Vertical(id="queue-pane"):
                yield KeyList(id="buckets", enter="desk.show_queue")
                yield Static("", id="queue-info")
                table = VirtualTable(
                    [
                        Column("Title"),
                        Column("Date", 10, optional=True),
                        Column("P", 1),
                        Column("", 1),
                    ],
                    self._fetch_rows,
                    empty_text="No sources here.",
                    id="queue",
                )
                table.row_style = lambda key, cells: "pending" if cells[3] == "•" else None
                yield table
            yield PaneSlot(self.reader, id="reader-slot")
            yield PaneSlot(self.handoff, id="handoff-slot")
        # The panes and the footer's keys mount just after the first paint (their places
        # are kept meanwhile), so the queue shows sooner.
        yield FooterSlot(KbFooter(), id="footer-slot")

    def on_mount(self) -> None:
        self.query_one("#queue", VirtualTable).focus()
        # The first screenful paints at once; the whole queue (tens of thousands of ids at
        # 100k sources) is read just after, then indexing starts in its worker.
        self.refresh_queues(first_page=True)
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        for slot in self.query(PaneSlot):
            slot.fill()
        self.refresh_queues()
        self.kb.start_indexing()

    def _fetch_rows(self, ids: list[int]) -> dict[int, tuple[str, ...]]:
        rows = desk.queue_rows(self.kb.db, ids)
        return {
            key: (
                ("⚠ " if row.problems else "") + row.title,
                row.date,
                PRIORITY_MARK.get(row.priority, " "),
                "•" if row.pending else " ",
            )
            for key, row in rows.items()
        }

    def refresh_queues(self, keep_position: bool = False, first_page: bool = False) -> None:
        """Re-read counts and the current queue (after indexing, a filter or an action).

        `first_page` reads only the rows a screen can show (the rest follows).
        """
        counts = desk.queue_counts(self.kb.db, self.filter)
        buckets = self.query_one("#buckets", OptionList)
        highlighted = BUCKETS.index(self.bucket)
        buckets.clear_options()
        buckets.add_options(
            [
                Option(f"{n} {BUCKET_LABELS[b]:<13}{counts[b]:>7,}", id=b)
                for n, b in enumerate(BUCKETS, start=1)
            ]
        )
        buckets.highlighted = highlighted
        table = self.query_one("#queue", VirtualTable)
        previous_key, previous_index = table.current_key, table.cursor
        keys = desk.queue_ids(
            self.kb.db,
            self.bucket,
            self.filter,
            self.sort,
            descending=self.sort == "date",
            limit=FIRST_PAGE if first_page else None,
        )
        if keep_position and previous_key not in keys and keys:
            table.set_keys(keys, keys[min(previous_index, len(keys) - 1)])
        else:
            table.set_keys(keys, previous_key)
        info = f"[b]{BUCKET_LABELS[self.bucket]}[/b] · {counts[self.bucket]:,} · sort: {self.sort}"
        if not self.filter.is_empty():
            parts = [
                f"{k}={v}"
                for k, v in (
                    ("domain", self.filter.domain),
                    ("priority", self.filter.priority),
                    ("format", self.filter.format),
                    ("set", self.filter.linked_set),
                    ("text", self.filter.text),
                )
                if v
            ]
            info += f"\nfilter: {escape(', '.join(parts))}"
        self.query_one("#queue-info", Static).update(info)
        if not keys:
            self.show_document(None)

    def index_updated(self, changed: set[str] | None) -> None:
        """Counts, queue and the open source as the index now has them (`changed`: the paths
        the run changed, None when not known)."""
        self.refresh_queues()
        view = self.reader.view
        if (
            view is not None
            and self.reader.is_mounted
            and (changed is None or view.path in changed)
        ):
            self.show_document(view.id)

    def show_document(self, doc_id: int | None) -> desk.DocumentView | None:
        """Load a document into the reader and the handoff panel; return what was loaded."""
        view = (
            desk.load_document(self.kb.db, doc_id, body_limit=desk.READER_BODY_BYTES)
            if doc_id is not None
            else None
        )
        empty = "No source selected." if doc_id is None else "This file is no longer indexed."
        self.reader.show(view, empty)
        self.handoff.show(view)
        return view

    @on(VirtualTable.Highlighted, "#queue")
    def _source_highlighted(self, event: VirtualTable.Highlighted) -> None:
        if self._load_timer is not None:
            self._load_timer.stop()
            self._load_timer = None
        if self.LOAD_DELAY <= 0:
            self.show_document(event.key)
            return
        self._pending_key = event.key
        self._load_timer = self.set_timer(self.LOAD_DELAY, self._load_pending)

    def _load_pending(self) -> None:
        self._load_timer = None
        self.show_document(self._pending_key)

    @on(VirtualTable.Selected, "#queue")
    def _source_selected(self, event: VirtualTable.Selected) -> None:
        if self.reader.is_mounted:
            self.reader.focus()

    @on(OptionList.OptionSelected, "#buckets")
    def _bucket_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.action_bucket(event.option.id)

    @on(OptionList.OptionSelected, "#connections")
    def _connection_chosen(self, event: OptionList.OptionSelected) -> None:
        view = self.handoff.view
        if view is not None and event.option.id:
            self.kb.follow_link(view, event.option.id)

    def current_source(self) -> desk.DocumentView | None:
        """The source under the cursor (loaded now if the reader has not caught up yet)."""
        key = self.query_one("#queue", VirtualTable).current_key
        view = self.reader.view
        if key is not None and (view is None or view.id != key):
            if self._load_timer is not None:
                self._load_timer.stop()
                self._load_timer = None
            view = self.show_document(key)
        return view

    def action_bucket(self, bucket: str) -> None:
        self.bucket = bucket
        self.refresh_queues()
        self.query_one("#queue", VirtualTable).focus()

    def action_filter(self) -> None:
        from kbtui.ui.screens.dialogs import FilterDialog

        def apply(result: QueueFilter | None) -> None:
            if result is not None:
                self.filter = result
                self.refresh_queues()
                self.query_one("#queue", VirtualTable).focus()

        self.app.push_screen(FilterDialog(self.filter, desk.filter_options(self.kb.db)), apply)

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.refresh_queues()
        self.notify(f"Sorted by {self.sort}", timeout=2)

    def _transition(
        self, to_status: str, note: str | None = None, view: desk.DocumentView | None = None
    ) -> None:
        """Move the source under the cursor (or `view`, the one a dialog was opened on)."""
        view = view or self.current_source()
        if view is None or view.kind != "source":
            self.notify("Select a source first.", severity="warning")
            return
        try:
            action = curation.set_status(self.kb.db, view.path, to_status, note)
        except curation.CurationError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(
            f"{action.from_status or 'no status'} → {action.to_status} (pending export; u undoes)",
            title=clip(view.title, 60),
            timeout=4,
        )
        self.refresh_queues(keep_position=True)

    def action_start(self) -> None:
        self._transition("processing")

    def action_unprocess(self) -> None:
        self._transition("unprocessed")

    def action_null_result(self) -> None:
        from kbtui.ui.screens.dialogs import NullResultDialog

        view = self.current_source()
        if view is None or view.kind != "source":
            self.notify("Select a source first.", severity="warning")
            return
        try:  # refused now, not after the note is typed
            curation.check_transition(self.kb.db, view.path, "null-result")
        except curation.CurationError as exc:
            self.notify(str(exc), severity="warning")
            return

        def done(note: str | None) -> None:
            # The source the dialog named, even if the cursor moved meanwhile (a re-index
            # finishing while the note is typed can change what is under it).
            if note:
                self._transition("null-result", note, view)

        self.app.push_screen(NullResultDialog(view.title), done)

    def action_undo(self) -> None:
        action = curation.undo_last(self.kb.db)
        if action is None:
            self.notify("Nothing to undo.", timeout=2)
            return
        self.notify(
            f"Undid {action.from_status or 'no status'} → {action.to_status} on {action.path} "
            f"(it is {action.from_status or 'without a status'} again)",
            timeout=4,
        )
        self.refresh_queues(keep_position=True)

    def action_edit(self) -> None:
        view = self.current_source()
        if view is None:
            self.notify("Select a source first.", severity="warning")
            return
        self.kb.edit_file(view.path)

    def action_draft(self) -> None:
        view = self.current_source()
        if view is None or view.kind != "source":
            self.notify("Select a source first.", severity="warning")
            return
        self.kb.draft_claim(view)

    def action_drafts(self) -> None:
        self.kb.show_drafts()

    def action_divergence(self) -> None:
        from kbtui.ops import divergence
        from kbtui.ui.screens.divergences import PickClaims

        view = self.current_source()
        if view is None or view.kind != "source":
            self.notify("Select a source first.", severity="warning")
            return
        claims = {
            path: path.rsplit("/", 1)[-1].removesuffix(".md")
            for path in divergence.seed_claims(self.kb.db, view.path)
        }
        if len(claims) < 2:
            self.notify(
                "This source's handoff names fewer than 2 claims; mark claims in the "
                "claims view (v, space, D).",
                severity="warning",
            )
            return
        if not view.signals:
            self.notify(
                "No divergence signal in this handoff; offering its claims anyway.", timeout=3
            )

        def chosen(paths: list[str] | None) -> None:
            if paths:
                self.kb.draft_divergence(paths, view.path)

        self.app.push_screen(PickClaims(view.title, list(claims.items())), chosen)

    def action_divergences(self) -> None:
        self.kb.show_divergences()

    def action_challenges(self) -> None:
        self.kb.show_challenges()

    def action_export(self) -> None:
        self.kb.show_export()

    def action_claims(self) -> None:
        self.kb.show_claims()

    def on_screen_resume(self) -> None:
        # The first resume is the screen's first showing: on_mount has read the queues (and
        # reads them whole just after the first paint). Later ones return from another screen.
        if not self._shown:
            self._shown = True
            return
        self.refresh_queues()

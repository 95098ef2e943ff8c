"""The claims view: every claim by domain, confidence and text, opened like any link."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Input, Select, Static

from kbtui.formats.kinds import CLAIM_CONFIDENCES
from kbtui.ops import desk, divergence
from kbtui.ui.markup import escape
from kbtui.ui.screens.divergences import PickClaims
from kbtui.ui.widgets.footer import KbFooter
from kbtui.ui.widgets.reader import Reader
from kbtui.ui.widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from kbtui.ui.app import KbApp


class ClaimsScreen(Screen[None]):
    """Browse the whole KB's claims; enter opens one with its backlinks."""

    TITLE = "Claims"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back to desk", id="claims.back"),
        Binding("slash", "search", "Filter", id="claims.filter"),
        Binding(
            "space",
            "mark",
            "Mark",
            id="claims.mark",
            tooltip="Mark claims (2 to 5) for a divergence",
        ),
        Binding(
            "D",
            "divergence",
            "Divergence",
            id="claims.divergence",
            tooltip="Draft a divergence on the marked claims",
        ),
        Binding(
            "c",
            "challenge",
            "Challenge",
            id="claims.challenge",
            tooltip="Draft a challenge of the highlighted claim",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[int] = set()

    @property
    def kb(self) -> KbApp:
        return cast("KbApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal():
            with Vertical(id="claims-pane"):
                with Horizontal(id="claims-filters"):
                    yield Select(
                        [(escape(d), d) for d in desk.claim_domains(self.kb.db)],
                        prompt="Domain: any",
                        id="claims-domain",
                    )
                    yield Select(
                        [(c, c) for c in CLAIM_CONFIDENCES],
                        prompt="Confidence: any",
                        id="claims-confidence",
                    )
                yield Input(
                    placeholder="/ whole words in the claim; word* for a prefix (enter)",
                    id="claims-text",
                )
                yield Static("", id="claims-info")
                yield VirtualTable(
                    [
                        Column("", 1),
                        Column("Claim"),
                        Column("Domain", 16, optional=True),
                        Column("Conf.", 12, optional=True),
                    ],
                    self._fetch_rows,
                    empty_text="No claims match.",
                    id="claims",
                )
            yield Reader(id="reader")
        yield KbFooter()

    def on_mount(self) -> None:
        self.refresh_claims()
        self.query_one("#claims", VirtualTable).focus()

    def _fetch_rows(self, ids: list[int]) -> dict[int, tuple[str, ...]]:
        rows = desk.claim_rows(self.kb.db, ids)
        return {
            key: (
                "●" if key in self.marked else " ",
                ("⚠ " if r.problems else "") + r.title,
                r.domain,
                r.confidence,
            )
            for key, r in rows.items()
        }

    def _select(self, selector: str) -> str | None:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else None

    def refresh_claims(self) -> None:
        table = self.query_one("#claims", VirtualTable)
        keys = desk.claim_ids(
            self.kb.db,
            self._select("#claims-domain"),
            self._select("#claims-confidence"),
            self.query_one("#claims-text", Input).value,
        )
        table.set_keys(keys, table.current_key)
        # Marks stay through a new filter (find one claim, then another): their count shows.
        # A marked claim no longer in the index (deleted, then re-indexed) is unmarked.
        if self.marked:
            self.marked &= set(desk.claim_rows(self.kb.db, sorted(self.marked)))
        self._show_marks()

    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        self.refresh_claims()

    @on(Input.Submitted, "#claims-text")
    def _text_submitted(self, event: Input.Submitted) -> None:
        self.refresh_claims()
        self.query_one("#claims", VirtualTable).focus()

    @on(VirtualTable.Highlighted, "#claims")
    def _claim_highlighted(self, event: VirtualTable.Highlighted) -> None:
        view = (
            desk.load_document(self.kb.db, event.key, body_limit=desk.READER_BODY_BYTES)
            if event.key is not None
            else None
        )
        self.query_one(Reader).show(view, "No claim selected.")

    def on_screen_resume(self) -> None:
        # Back from the editor or a claim: the highlighted claim as it now is (a challenge
        # drafted of it shows).
        key = self.query_one("#claims", VirtualTable).current_key
        if key is not None:
            view = desk.load_document(self.kb.db, key, body_limit=desk.READER_BODY_BYTES)
            self.query_one(Reader).show(view, "No claim selected.")

    @on(VirtualTable.Selected, "#claims")
    def _claim_selected(self, event: VirtualTable.Selected) -> None:
        self.kb.open_document(event.key)

    def action_mark(self) -> None:
        table = self.query_one("#claims", VirtualTable)
        key = table.current_key
        if key is None:
            return
        self.marked.symmetric_difference_update({key})
        self._show_marks()

    def index_updated(self, changed: set[str] | None) -> None:
        """The claims as the index now has them (after `ctrl+r`, an edit or an export)."""
        if changed is None or changed:
            self.refresh_claims()

    def _show_marks(self) -> None:
        table = self.query_one("#claims", VirtualTable)
        table.invalidate()
        info = f"{table.row_count:,} claims"
        if self.marked:
            info += f" · {len(self.marked)} marked (D drafts a divergence)"
        self.query_one("#claims-info", Static).update(info)

    def action_divergence(self) -> None:
        if not self.marked:
            self._divergence_from_challenges()
            return
        if not 2 <= len(self.marked) <= 5:
            self.notify(
                f"Mark 2 to 5 claims with space ({len(self.marked)} marked).", severity="warning"
            )
            return
        paths = [row.path for row in desk.claim_rows(self.kb.db, sorted(self.marked)).values()]
        if self.kb.draft_divergence(paths):  # the marks stay when there can be no divergence
            self.marked.clear()
            self._show_marks()

    def _divergence_from_challenges(self) -> None:
        """No claim marked: offer the highlighted claim with its `challenged_by` entries."""
        key = self.query_one("#claims", VirtualTable).current_key
        row = desk.claim_rows(self.kb.db, [key]).get(key) if key is not None else None
        seeds = divergence.seed_claims(self.kb.db, row.path) if row else []
        if len(seeds) < 2:
            self.notify(
                "Mark 2 to 5 claims with space (this claim has no challenged_by).",
                severity="warning",
            )
            return

        def chosen(paths: list[str] | None) -> None:
            if paths:
                self.kb.draft_divergence(paths)

        titles = [(path, path.rsplit("/", 1)[-1].removesuffix(".md")) for path in seeds]
        self.app.push_screen(PickClaims(row.title if row else "", titles), chosen)

    def action_challenge(self) -> None:
        key = self.query_one("#claims", VirtualTable).current_key
        row = desk.claim_rows(self.kb.db, [key]).get(key) if key is not None else None
        if row is None:
            self.notify("Highlight a claim first.", severity="warning")
            return
        self.kb.draft_challenge(row.path)

    def action_search(self) -> None:
        self.query_one("#claims-text", Input).focus()

    def action_back(self) -> None:
        """From the filters, back to the list (the marks kept); from the list, to the desk."""
        table = self.query_one(VirtualTable)
        if self.focused is not table:
            table.focus()
            return
        self.app.pop_screen()

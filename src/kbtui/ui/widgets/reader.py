"""The reader: a document's key fields on one header, its problems, and its body as markdown."""

from __future__ import annotations

import asyncio
import re
from typing import ClassVar
from urllib.parse import quote

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widget import MountError
from textual.widgets import Static

from kbtui.ops.desk import DocumentView
from kbtui.ui.markup import escape

HEADER_FIELDS = ("author", "date", "domain", "format", "priority")
CLAIM_FIELDS = ("domain", "confidence", "created", "source")
LINK_SCHEME = "kb:"
_WIKI_RE = re.compile(r"\[\[([^\[\]\n]{1,1000}?)\]\]")


def wiki_to_markdown(body: str, view: DocumentView) -> str:
    """Turn `[[target|alias]]` into markdown links the reader can follow (unresolved marked)."""
    resolved = {link.target: link.resolved_path for link in view.links}

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, alias = inner.partition("|")
        target = target.split("#", 1)[0].strip()
        label = (alias or inner.split("|", 1)[0]).strip().replace("[", "(").replace("]", ")")
        mark = "" if resolved.get(target) else " ⚠"
        return f"[{label}{mark}]({LINK_SCHEME}{quote(target, safe='')})"

    return _WIKI_RE.sub(replace, body)


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


class Reader(VerticalScroll, can_focus=True):
    """Shows one document: header line, problems, then the body rendered as markdown."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Scroll down", show=False, id="reader.down"),
        Binding("k", "scroll_up", "Scroll up", show=False, id="reader.up"),
    ]

    DEFAULT_CSS = """
    Reader { height: 1fr; padding: 0 1; }
    Reader > #reader-title { text-style: bold; color: $text-primary; }
    Reader > #reader-meta { color: $text-muted; }
    Reader > #reader-problems { color: $text-warning; margin-bottom: 1; }
    Reader > Markdown { margin: 0; padding: 0; }
    """

    BODY_DELAY = 0.12
    """Seconds the cursor must rest before the body renders: moving stays instant."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: DocumentView | None = None
        self._body_timer: Timer | None = None
        self._pending_body = ""
        self._show_on_mount: str | None = None
        """The empty message of a `show` made before mounting: shown again on mount."""
        self.body_rendered = asyncio.Event()
        """Set once the current document's body has been parsed and mounted."""

    def compose(self) -> ComposeResult:
        yield Static("", id="reader-title", markup=False)
        yield Static("", id="reader-meta")
        yield Static("", id="reader-problems")

    def on_mount(self) -> None:
        if self._show_on_mount is not None:
            self.show(self.view, self._show_on_mount)

    def show(self, view: DocumentView | None, empty: str = "Select a source to read it.") -> None:
        """Show `view` (None shows the empty message); long bodies render off the UI path.

        The same document shown again (coming back from a dialog, a re-index that did not
        change it) keeps its place: its body is not rendered again, nor scrolled to the top.
        """
        previous = self.view
        self.view = view
        if not self.is_mounted:  # its own widgets may not be there yet: shown on mount
            self._show_on_mount = empty
            return
        if self._show_on_mount is None and view is not None and view == previous:
            return
        self._show_on_mount = None
        same_file = view is not None and previous is not None and view.path == previous.path
        title = self.query_one("#reader-title", Static)
        meta = self.query_one("#reader-meta", Static)
        problems = self.query_one("#reader-problems", Static)
        bodies = self.query("Markdown")
        self.body_rendered.clear()
        if view is None:
            title.update(empty)
            meta.update("")
            problems.update("")
            problems.display = False
            for body in bodies:
                body.update("")  # type: ignore[attr-defined]
            self.body_rendered.set()
            return
        title.update(view.title)
        names = HEADER_FIELDS if view.kind == "source" else CLAIM_FIELDS
        parts = [f"[b]{view.kind}[/b]"]
        if view.status is not None:
            status = escape(view.status) + (" [reverse] pending [/reverse]" if view.pending else "")
            parts.append(f"status: [b]{status}[/b]")
            if view.pending and view.pending_note:
                parts.append(f"note: [i]{escape(view.pending_note[:200])}[/i]")
        for name in names:
            value = _value(view.fields.get(name))
            if value:
                parts.append(f"{name}: {escape(value[:80])}")
        if view.drafts:
            saved = sum(1 for d in view.drafts if d["state"] == "saved")
            parts.append(f"[b]drafted: {len(view.drafts)}[/b] ({saved} saved, pending export)")
        parts.append(f"[dim]{escape(view.path)}[/dim]")
        meta.update(" · ".join(parts))
        shown = [p for p in view.problems if p["severity"] != "info"]
        problems.display = bool(shown)
        lines = [
            f"⚠ {p['code']}{':' + str(p['line']) if p['line'] else ''} {p['message']}"
            for p in shown[:12]
        ]
        if len(shown) > 12:
            lines.append(f"… and {len(shown) - 12} more")
        problems.update(Text("\n".join(lines)))
        text = view.body
        if (
            view.kind != "source"
            and view.fields.get("type") is None
            and view.body.startswith("---")
        ):
            text = "```\n" + view.body[:20_000] + "\n```"
        pending = wiki_to_markdown(text, view)
        if same_file and pending == self._pending_body and self._body_timer is None:
            self.body_rendered.set()  # its status or drafts changed: the body stays
            return
        self._pending_body = pending
        if self._body_timer is not None:
            self._body_timer.stop()
        for body in bodies:
            body.update("")  # type: ignore[attr-defined]
        self._body_timer = self.set_timer(self.BODY_DELAY, self._render_body)
        if not same_file:
            self.scroll_home(animate=False)

    async def _render_body(self) -> None:
        """Render the pending body; Textual parses it in a thread and mounts it in batches.

        The Markdown widget (and its parser) is created on first use, off the start-up path.
        """
        from textual.widgets import Markdown

        self._body_timer = None
        try:
            markdowns = self.query(Markdown)
            if markdowns:
                markdown = markdowns.first()
            else:
                markdown = Markdown("", open_links=False)
                await self.mount(markdown)
            await markdown.update(self._pending_body)
        except MountError:
            return  # the app closed (or the reader went) while the body was mounting
        if self._body_timer is None:
            self.body_rendered.set()

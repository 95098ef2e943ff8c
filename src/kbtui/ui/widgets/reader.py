"""The reader: a document's key fields on one header, its problems, and its body as markdown.

A body longer than `desk.READER_BODY_BYTES` is shown up to there, with a line saying how much
of the file that is and how to read the rest.
"""

from __future__ import annotations

import asyncio
import re
from functools import partial
from typing import ClassVar
from urllib.parse import quote

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import MountError
from textual.widgets import Static

from kbtui.ops.desk import READER_BODY_BYTES, DocumentView
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


def shown_body(view: DocumentView) -> tuple[str, bool]:
    """The part of the view's body the reader shows (its beginning, ended at a line break,
    when it is longer than READER_BODY_BYTES), and whether that is only a part."""
    if view.body_cut:
        return view.body, True
    # A view loaded whole (a claim followed by a link): cut by characters, about as much.
    if len(view.body) <= READER_BODY_BYTES:
        return view.body, False
    text = view.body[:READER_BODY_BYTES]
    line_end = text.rfind("\n")
    return (text[: line_end + 1] if line_end >= READER_BODY_BYTES // 2 else text), True


def _size(count: int) -> str:
    if count < 1_000_000:
        return f"{max(1, round(count / 1000))} KB"
    return f"{count / 1_000_000:.1f} MB"


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def challenge_lines(view: DocumentView) -> Text:
    """A claim's open challenges, one a line, with their type; drafts said as such."""
    if not view.challenges:
        return Text("")
    files = [c for c in view.challenges if c["path"]]
    drafts = len(view.challenges) - len(files)
    heading = f"Open challenges: {len(files)}" + (f" (and {drafts} drafted)" if drafts else "")
    lines = [heading]
    for challenge in view.challenges:
        kind = f" ({challenge['challenge_type']})" if challenge["challenge_type"] else ""
        mark = f"draft {challenge['draft']}: " if not challenge["path"] else ""
        lines.append(f"  ◆ {mark}{challenge['title']}{kind}")
    return Text("\n".join(lines))


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
    Reader > #reader-note { color: $text-accent; margin-bottom: 1; }
    Reader > #reader-challenges { color: $text-warning; margin-bottom: 1; }
    Reader > Markdown { margin: 0; padding: 0; }
    """

    BODY_DELAY = 0.12
    """Seconds the cursor must rest before the body renders: moving stays instant."""

    class BodyReady(Message):
        """The body of the document shown, as markdown, made ready in a worker."""

        def __init__(self, shown: int, markdown: str) -> None:
            super().__init__()
            self.shown = shown
            self.markdown = markdown

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: DocumentView | None = None
        self._body_timer: Timer | None = None
        self._pending_body = ""
        self._show_on_mount: str | None = None
        """The empty message of a `show` made before mounting: shown again on mount."""
        self.body_rendered = asyncio.Event()
        """Set once the current document's body has been parsed and mounted."""
        self._shown = 0
        """Counts the documents shown: a body made ready for an earlier one is dropped."""
        self._same_file = False
        self._rendered_body: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="reader-title", markup=False)
        yield Static("", id="reader-meta")
        yield Static("", id="reader-problems")
        challenges = Static("", id="reader-challenges")
        challenges.display = False  # shown for a claim with open challenges
        yield challenges
        note = Static("", id="reader-note", markup=False)
        note.display = False  # shown for a body cut short
        yield note

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
        note = self.query_one("#reader-note", Static)
        challenges = self.query_one("#reader-challenges", Static)
        self.body_rendered.clear()
        self._shown += 1
        if self._body_timer is not None:
            self._body_timer.stop()
            self._body_timer = None
        if view is None:
            title.update(empty)
            meta.update("")
            problems.update("")
            problems.display = False
            challenges.display = False
            note.display = False
            self._clear_body()
            self._rendered_body = None
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
        challenges.display = bool(view.challenges)
        challenges.update(challenge_lines(view))
        text, cut = shown_body(view)
        note.display = cut
        if cut:
            note.update(
                f"Showing the first {_size(len(text.encode('utf-8')))} of "
                f"{_size(max(view.size, view.body_bytes))}: {self._edit_hint()}."
            )
        self._same_file = same_file
        if not same_file:
            self._clear_body()
            self._rendered_body = None
            self.scroll_home(animate=False)
        # Turning the text into markdown takes time in proportion to its size: done in a
        # thread, whose result comes back as a message.
        self.run_worker(
            partial(self._prepare_body, view, text, self._shown),
            thread=True,
            exclusive=True,
            group="reader-body",
            exit_on_error=False,
        )

    def _clear_body(self) -> None:
        """Empty the Markdown body, if one was made yet."""
        if not self.query("Markdown"):
            return
        # Imported here, as where it is made: the Markdown widget stays off the start-up path.
        from textual.widgets import Markdown

        for body in self.query(Markdown):
            body.update("")

    def _edit_hint(self) -> str:
        """How to read the whole file: the key of this screen that opens it in $EDITOR."""
        for node, binding, _enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action == "edit" and node is self.screen:
                return f"{self.app.get_key_display(binding)} opens the whole file in $EDITOR"
        return "open it in $EDITOR to read the rest"

    def _prepare_body(self, view: DocumentView, text: str, shown: int) -> None:
        """In a worker thread: the markdown of the text shown, posted back to the reader."""
        if view.kind != "source" and view.fields.get("type") is None and text.startswith("---"):
            text = "```\n" + text[:20_000] + "\n```"
        self.post_message(self.BodyReady(shown, wiki_to_markdown(text, view)))

    def on_reader_body_ready(self, message: BodyReady) -> None:
        message.stop()
        if message.shown != self._shown:
            return  # another document was shown since
        if self._same_file and message.markdown == self._rendered_body:
            self.body_rendered.set()  # its status or drafts changed: the body stays
            return
        if self._same_file:
            self._clear_body()
        self._pending_body = message.markdown
        self._body_timer = self.set_timer(self.BODY_DELAY, self._render_body)

    async def _render_body(self) -> None:
        """Render the pending body; Textual parses it in a thread and mounts it in batches.

        The Markdown widget (and its parser) is created on first use, off the start-up path.
        """
        from textual.widgets import Markdown

        self._body_timer = None
        shown, body = self._shown, self._pending_body
        try:
            markdowns = self.query(Markdown)
            if markdowns:
                markdown = markdowns.first()
            else:
                markdown = Markdown("", open_links=False)
                await self.mount(markdown)
            await markdown.update(body)
        except MountError:
            return  # the app closed (or the reader went) while the body was mounting
        if shown == self._shown and self._body_timer is None:
            self._rendered_body = body
            self.body_rendered.set()

"""The handoff panel: Agent Notes and Curator Notes as labelled fields, candidates, connections."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from kbtui.ops.desk import Backlink, DocumentView, LinkView
from kbtui.ui.markup import escape
from kbtui.ui.widgets.lists import KeyList

_BOLD_RE = re.compile(r"\*\*([^*\n]+?)\*\*")
DRAFT_STATES = {"draft": "drafted", "saved": "saved for export"}


def connection_links(view: DocumentView) -> list[LinkView]:
    """The links worth following from a handoff: PRIMARY CONNECTION first, then KB connections."""
    primary = [link for link in view.links if link.origin == "primary_connection"]
    starts = sorted(h["line"] for h in view.handoff)
    spans = []
    for item in view.handoff:
        if item["label"].lower() == "kb connections":
            later = [line for line in starts if line > item["line"]]
            spans.append((item["line"], later[0] - 1 if later else item["line"] + 200))
    connections = [
        link
        for link in view.links
        if link.origin == "body"
        and link.line is not None
        and any(start <= link.line <= end for start, end in spans)
    ]
    seen: set[str] = set()
    ordered = []
    for link in primary + connections:
        if link.target not in seen:
            seen.add(link.target)
            ordered.append(link)
    return ordered


def link_option(link: LinkView, prefix: str = "") -> Option:
    label = link.alias or link.target
    mark = "[$text-success]✓[/]" if link.resolved_path else "[$text-error]✗ unresolved[/]"
    return Option(f"{prefix}{mark} {escape(label)}", id=link.target)


def backlink_option(backlink: Backlink) -> Option:
    return Option(f"[dim]{backlink.kind:10}[/] {escape(backlink.title)}", id=backlink.path)


def _inline(value: str) -> str:
    """Handoff text for a one-paragraph Static: escaped, `**bold**` kept as bold."""
    text = escape(" ".join(value.split()))
    return _BOLD_RE.sub(r"[b]\1[/b]", text)


def _section_text(view: DocumentView, section: str, name: str) -> str:
    items = [
        h
        for h in view.handoff
        if h["section"] == section and h["label"].lower() != "kb connections"
    ]
    if not items:
        return ""
    lines = [f"[b u]{name}[/]"]
    lines += [f"[b]{escape(h['label'])}:[/b] {_inline(_cut(h['value']))}" for h in items]
    return "\n".join(lines)


def _cut(value: str, limit: int = 1200) -> str:
    """At most `limit` characters of a field's text (cut before its markup is made: a cut
    in the markup left an open `[b]` that ran into the next fields)."""
    return value if len(value) <= limit else value[:limit].rstrip() + "…"


class HandoffPanel(VerticalScroll):
    """What the archiving agent left for the extractor, with its connections to follow."""

    DEFAULT_CSS = """
    HandoffPanel { padding: 0 1; }
    HandoffPanel .section { text-style: bold; color: $text-accent; margin-top: 1; }
    HandoffPanel #curator-fields, HandoffPanel #agent-fields { height: auto; margin-top: 1; }
    HandoffPanel #handoff-candidates { height: auto; }
    HandoffPanel #handoff-signals { color: $text-warning; height: auto; }
    HandoffPanel OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: DocumentView | None = None
        self._show_on_mount = False

    def compose(self) -> ComposeResult:
        yield Static("", id="curator-fields")
        yield Static("", id="handoff-signals")
        yield Static("Claim candidates", classes="section", id="candidates-heading")
        yield Static("", id="handoff-candidates")
        yield Static("Connections (enter to follow)", classes="section", id="connections-heading")
        yield KeyList(id="connections", enter="handoff.open")
        yield Static("", id="agent-fields")

    def on_mount(self) -> None:
        if self._show_on_mount:
            self.show(self.view)

    def show(self, view: DocumentView | None) -> None:
        self.view = view
        self._show_on_mount = not self.is_mounted  # its own widgets may not be there yet
        if self._show_on_mount:
            return
        curator = self.query_one("#curator-fields", Static)
        agent = self.query_one("#agent-fields", Static)
        candidates = self.query_one("#handoff-candidates", Static)
        signals = self.query_one("#handoff-signals", Static)
        connections = self.query_one("#connections", OptionList)
        connections.clear_options()
        # Another source's notes start at their top, not where the last one was scrolled to.
        self.scroll_home(animate=False)
        for part in ("#candidates-heading", "#connections-heading", "#connections"):
            self.query_one(part).display = view is not None
        if view is None:
            curator.update("[dim]No source selected.[/dim]")
            agent.update("")
            candidates.update("")
            signals.update("")
            signals.display = False
            return
        curator.update(_section_text(view, "curator_notes", "Curator Notes"))
        agent.update(_section_text(view, "agent_notes", "Agent Notes"))
        if not view.handoff:
            curator.update("[i]No handoff: this source has no Agent Notes or Curator Notes.[/i]")
        if view.candidates:
            # A candidate some draft was started from is ticked (☑), with where it stands.
            drafted = {
                d["hint"]: DRAFT_STATES.get(d["state"], d["state"])
                for d in view.drafts
                if d.get("hint")
            }
            candidates.update(
                "\n".join(
                    f"[b]{c['ordinal']}.[/b] "
                    + (
                        f"☑ {escape(c['text'])} [dim]({drafted[c['ordinal']]})[/dim]"
                        if c["ordinal"] in drafted
                        else f"☐ {escape(c['text'])}"
                    )
                    for c in view.candidates
                )
            )
        else:
            candidates.update("[dim]No claim candidates found in the extraction hints.[/dim]")
        if view.signals:
            words = sorted({s["word"] for s in view.signals})
            excerpt = view.signals[0]["excerpt"]
            signals.update(
                f"⚡ Divergence signal ({', '.join(words)}): [i]{escape(excerpt[:200])}[/i]"
            )
            signals.display = True
        else:
            signals.update("")
            signals.display = False
        links = connection_links(view)
        primary = {link.target for link in links if link.origin == "primary_connection"}
        connections.add_options(
            [
                link_option(link, "[b]PRIMARY[/b] " if link.target in primary else "")
                for link in links
            ]
        )
        if links:
            connections.highlighted = 0
        self.query_one("#connections-heading", Static).update(
            f"Connections ({len(links)}; enter to follow)" if links else "No connections"
        )

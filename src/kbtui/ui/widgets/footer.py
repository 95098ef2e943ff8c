"""The footer: the keys that apply now, with help and the palette always in view."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.widgets import Footer, Static

HELP_ACTION = "help"
HELP_ACTIONS = (HELP_ACTION, f"app.{HELP_ACTION}")
"""The app's help, bound by the app, or by a dialog (whose keys end the app's)."""


class FooterAction(Static):
    """A key and its label at the footer's right end; clicking it runs the action too."""

    DEFAULT_CSS = """
    FooterAction {
        width: auto;
        height: 1;
        padding: 0 1 0 0;
        border-left: vkey $foreground 20%;
        color: $footer-description-foreground;
        background: $footer-item-background;
    }
    """

    def __init__(self, key: str, label: str, action: str) -> None:
        super().__init__(
            Content.assemble((key, "bold $footer-key-foreground"), f" {label}"), markup=False
        )
        self.action = action

    async def _on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action(self.action)


class KbFooter(Footer):
    """A compact footer whose right end always shows the help and palette keys.

    A screen has more keys than a terminal is wide: the ones that do not fit are cut at the
    right, which must never hide the keys that list them all. (The app's help binding is
    left out of the flow for that reason.)
    """

    DEFAULT_CSS = """
    KbFooter > .footer-right { dock: right; width: auto; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, compact=True, show_command_palette=False)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if not self._bindings_ready:
            return
        right = []
        bindings = self.screen.active_bindings
        for node, binding, _enabled, _tooltip in bindings.values():
            if binding.action in HELP_ACTIONS and (node is self.app or node is self.screen):
                right.append(FooterAction(self.app.get_key_display(binding), "help", "help"))
                break
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if self.app.ENABLE_COMMAND_PALETTE and palette is not None:
            key = self.app.get_key_display(palette[1])
            right.append(FooterAction(key, "palette", "command_palette"))
        if right:
            yield HorizontalGroup(*right, classes="footer-right")

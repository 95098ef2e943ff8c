"""The command palette: every action bound on the current screen, found by its description."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kbtui.ui.screens.help import WIDGET_PREFIXES, binding_rows


class ScreenActions(Provider):
    """Offers the actions that fit where the palette was opened (from the live bindings)."""

    def _actions(self) -> list[tuple[str, str, object, str]]:
        screen = self.screen
        found: dict[tuple[str, str], tuple[str, str, object, str]] = {}
        rows = binding_rows(screen)
        keys = {row[1]: row[0] for row in rows} | {row[2]: row[0] for row in rows if row[2]}
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled:
                continue
            # Not Textual's own keys (moving a text cursor, focus) nor moving in a list: the
            # palette offers actions, each with its key.
            if not binding.id or (
                binding.id.startswith(WIDGET_PREFIXES) and binding.id != "table.select"
            ):
                continue
            key = keys.get(binding.id or "") or keys.get(binding.description, binding.key)
            # The same action bound to two keys is offered once; two actions never hide
            # each other, whatever their descriptions.
            found.setdefault(
                (binding.action, binding.description),
                (
                    binding.description,
                    binding.action,
                    active.node,
                    f"{key} · {binding.tooltip}" if binding.tooltip else f"key: {key}",
                ),
            )
        return list(found.values())

    async def _run(self, action: str, node: object) -> None:
        await self.app.run_action(action, node)  # type: ignore[arg-type]  # a DOMNode, typed object

    async def discover(self) -> Hits:
        for description, action, node, help_text in self._actions():
            yield DiscoveryHit(description, partial(self._run, action, node), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, action, node, help_text in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(description),
                    partial(self._run, action, node),
                    help=help_text,
                )

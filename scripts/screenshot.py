"""Save the README's screenshot of the main screen on the demo KB: docs/main-screen.svg.

Usage: python scripts/screenshot.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "main-screen.svg"


async def main() -> None:
    from kbtui.ops.session import open_session
    from kbtui.ui.app import KbApp
    from kbtui.ui.widgets.reader import Reader

    with tempfile.TemporaryDirectory() as scratch:
        kb = Path(scratch) / "demo-kb"
        shutil.copytree(ROOT / "seeds", kb, ignore=shutil.ignore_patterns("kb.sqlite*"))
        os.environ.setdefault("KBTUI_CONFIG", str(Path(scratch) / "none.toml"))
        session = open_session(kb, None)
        session.reindex()
        app = KbApp(session, index_on_start=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(Reader.BODY_DELAY + 0.3)
            TARGET.parent.mkdir(exist_ok=True)
            svg = app.export_screenshot(title="kbtui: the curator's desk on the demo KB")
            TARGET.write_text(svg, encoding="utf-8")
        session.close()
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())

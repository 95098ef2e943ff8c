"""The layers stay visible: nothing below the UI imports Textual; formats do no I/O."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "kbtui"
LAYERS = ["formats", "store", "ops"]
ORDER = {"formats": 0, "store": 1, "ops": 2, "cli": 3, "ui": 3}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_textual() -> None:
    code = (
        "import sys, kbtui.cli, kbtui.ops.session, kbtui.ops.queries; "
        "print('textual' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_app_start_up_path_leaves_parsing_modules_for_later() -> None:
    """The desk paints before anything parses a file: importing pydantic and the YAML
    modules on its start-up path would add a fifth of a second to every launch."""
    code = (
        "import sys, kbtui.ops.session, kbtui.ui.app, kbtui.ui.screens.desk; "
        "print(sorted(m for m in ('pydantic', 'yaml', 'kbtui.formats.models') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_each_layer_imports_only_layers_below() -> None:
    for layer in LAYERS:
        for path in (PACKAGE / layer).glob("*.py"):
            for module in imported_modules(path):
                if module.startswith("textual"):
                    raise AssertionError(f"{path.name} imports {module}")
                if module.startswith("kbtui."):
                    other = module.split(".")[1]
                    assert ORDER.get(other, 0) <= ORDER[layer], f"{layer}/{path.name} -> {module}"


def test_formats_do_no_io() -> None:
    forbidden = {"os", "sqlite3", "sqlite_utils", "shutil", "subprocess", "pathlib"}
    for path in (PACKAGE / "formats").glob("*.py"):
        assert not imported_modules(path) & forbidden, path.name


def test_the_ui_leaves_files_and_sql_to_the_operations() -> None:
    """The UI calls operations: no SQL, no store, no files of its own (its $EDITOR runs on a
    scratch copy the operations make)."""
    forbidden = {"sqlite3", "sqlite_utils", "tempfile", "shutil", "kbtui.store"}
    for path in sorted((PACKAGE / "ui").rglob("*.py")):
        imported = imported_modules(path)
        assert not {m for m in imported if m in forbidden or m.startswith("kbtui.store")}, path
        text = path.read_text(encoding="utf-8")
        for needle in (".conn.", ".execute(", ".write_text(", ".write_bytes(", "open_db("):
            assert needle not in text, f"{path.name} uses {needle}"

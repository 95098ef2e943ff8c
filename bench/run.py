"""Benchmarks: print figures and their ratios to a floor. Never run by the tests.

Usage:
    python bench/run.py [--kbs corpus,10k,100k,export] [--skip-ui] [--work DIR]

For each KB (the shared corpus, and generated KBs of 10k and 100k sources):
- the floor: read every markdown file and parse its frontmatter with libyaml, same process;
- cold index time, no-change re-index time, peak memory (each in a fresh child process);
- search latency: median over a fixed query set;
- the app: time from launch to the first painted queue, against an empty Textual app started
  the same way, and (100k) the time per down-press over 100 presses in the queue;
- export: 100 new claims plus 100 source updates (and 100 status changes), written atomically.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "teleo-codex"
SIZES = {"10k": 10_000, "100k": 100_000}
REPEATS = {"corpus": 7, "10k": 3}
"""Floor and index runs per KB (the median pair is kept); one at 100k, which takes minutes.
The corpus's pairs take a second each, and its floor alone varies by a third from run to run."""
PAINT_PAIRS = 5
QUERIES = {
    "corpus": [
        "futarchy",
        "markov blanket",
        "GLP-1 obesity",
        "prediction markets -voting",
        "attractor state",
        "collective intelligence",
        "launch*",
        "health care costs",
        "alignment",
        "superorganism",
    ],
    "generated": [
        "grid storage",
        "transmission",
        "battery",
        "tension",
        "public funding",
        "orbital debris",
        "regulatory capture",
        "cheap data",
        "load balancing",
        "insurance pools",
    ],
}


def child(command: list[str]) -> dict[str, Any]:
    """Run this script in a fresh process for one measurement; return its JSON line."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__)), *command],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench child failed: {command}\n{result.stderr[-2000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def median_pair(
    runs: int,
    base: list[str],
    measured: list[str],
    ratio: Callable[[dict[str, Any], dict[str, Any]], float],
) -> tuple[dict[str, Any], dict[str, Any], list[float]]:
    """Run the `base` and `measured` children in turn `runs` times, so that a machine whose
    speed drifts skews both alike; the pair with the median `ratio` is kept, and every
    pair's ratio returned (lowest first) to show how much they spread."""
    pairs = []
    for _ in range(runs):
        first, second = child(base), child(measured)
        pairs.append((ratio(first, second), first, second))
    pairs.sort(key=lambda pair: pair[0])
    _, first, second = pairs[len(pairs) // 2]
    return first, second, [pair[0] for pair in pairs]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def warm(kb: Path) -> None:
    """Read every markdown file once, untimed, so that the floor and the index both start
    from the page cache (some machines evict it eagerly; disk speed is not what we measure)."""
    for folder, dirs, names in os.walk(kb):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if name.endswith(".md"):
                with contextlib.suppress(OSError), open(os.path.join(folder, name), "rb") as f:
                    f.read()


def measure_floor(kb: Path) -> dict[str, Any]:
    """Read every .md file and parse its frontmatter with libyaml: what any indexer must do."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    warm(kb)
    started = time.perf_counter()
    files = 0
    for folder, dirs, names in os.walk(kb):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if not name.endswith(".md"):
                continue
            with open(os.path.join(folder, name), "rb") as handle:
                text = handle.read().decode("utf-8", errors="replace")
            files += 1
            if text.startswith("---\n"):
                end = text.find("\n---", 4)
                if end > 0:
                    with contextlib.suppress(yaml.YAMLError, ValueError):
                        yaml.load(text[4:end], Loader=loader)
    return {"seconds": time.perf_counter() - started, "files": files, "peak_mb": peak_mb()}


def measure_index(kb: Path, db: Path) -> dict[str, Any]:
    from kbtui.ops.indexer import index_kb
    from kbtui.store.db import open_db

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    database = open_db(db)
    warm(kb)
    started = time.perf_counter()
    report = index_kb(database, kb)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = index_kb(database, kb)
    no_change = time.perf_counter() - started
    assert not again.changed
    return {
        "cold": cold,
        "no_change": no_change,
        "documents": report.documents,
        "peak_mb": peak_mb(),
    }


def measure_search(db: Path, queries: list[str]) -> dict[str, Any]:
    from kbtui.ops.queries import search
    from kbtui.store.db import open_db

    database = open_db(db)
    timings = []
    for _ in range(5):
        for query in queries:
            started = time.perf_counter()
            search(database, query)
            timings.append(time.perf_counter() - started)
    return {"median_ms": statistics.median(timings) * 1000, "max_ms": max(timings) * 1000}


async def _first_paint(kind: str, kb: str, db: str, started: float) -> dict[str, Any]:
    """Seconds from process start (imports included) to the first refresh showing the queue."""
    import asyncio

    from textual.app import App
    from textual.widgets import Static

    painted = asyncio.get_running_loop().create_future()

    def record() -> None:
        if not painted.done():
            painted.set_result(time.perf_counter() - started)

    if kind == "empty":

        class Empty(App[None]):
            def compose(self):  # type: ignore[no-untyped-def]
                yield Static("empty")

            def on_mount(self) -> None:
                self.call_after_refresh(record)

        app: App[None] = Empty()
    else:
        from kbtui.ops.session import open_session
        from kbtui.ui.app import KbApp
        from kbtui.ui.screens.desk import DeskScreen

        original = DeskScreen.on_mount

        def on_mount(self: DeskScreen) -> None:
            # Registered first, so it runs right after the refresh that paints the queue,
            # before the desk's own after-paint work (the full queue, indexing).
            self.call_after_refresh(record)
            original(self)

        DeskScreen.on_mount = on_mount  # type: ignore[method-assign]
        app = KbApp(open_session(kb, db))
    async with app.run_test(size=(120, 40)) as pilot:
        result: dict[str, Any] = {"first_paint": await painted}
        if os.environ.get("BENCH_PRESSES"):
            await app.workers.wait_for_complete()
            await pilot.pause()
            presses = int(os.environ["BENCH_PRESSES"])
            began = time.perf_counter()
            for _ in range(presses):
                await pilot.press("down")
            result["per_press_ms"] = (time.perf_counter() - began) / presses * 1000
    return result


def measure_export(work: Path) -> dict[str, Any]:
    """Export 100 new claims (with their sources' provenance) and 100 status changes."""
    sys.path.insert(0, str(HERE))
    from kbtui.ops import curation, drafting, export
    from kbtui.ops.indexer import index_kb
    from kbtui.ops.session import open_session

    from gen_kb import generate_kb

    kb = work / "kb-export"
    shutil.rmtree(kb, ignore_errors=True)
    generate_kb(kb, 1000, seed=3)
    session = open_session(kb, None)
    session.reindex()
    sources = [
        row[0]
        for row in session.db.conn.execute(
            "SELECT path FROM documents WHERE kind = 'source' AND status = 'unprocessed' "
            "ORDER BY path LIMIT 200"
        )
    ]
    for number, path in enumerate(sources[:100]):
        draft = drafting.new_claim_draft(session.db, path, who="bench")
        title = f"benchmark claim number {number} shows that exports stay fast at scale"
        drafting.update_draft(
            session.db,
            draft.id,
            title=title,
            confidence="likely",
            description=f"Draft {number} written by the export benchmark.",
            body=draft.body.replace("<the claim, as a proposition>", title),
        )
        session.db.conn.execute("UPDATE drafts SET state = 'saved' WHERE id = ?", (draft.id,))
    for path in sources[100:]:
        curation.set_status(session.db, path, "processing", who="bench")
    started = time.perf_counter()
    plan = export.plan_export(session.db, kb, "bench")
    export.apply_export(session.db, kb, plan)
    written = time.perf_counter() - started
    index_kb(session.db, kb)
    total = time.perf_counter() - started
    return {
        "files": sum(1 for c in plan.changes if c.written),
        "seconds": written,
        "with_reindex": total,
    }


def ensure_kb(name: str, work: Path) -> Path:
    if name == "corpus":
        if not CORPUS.is_dir():
            raise SystemExit(f"the shared corpus is absent: {CORPUS}")
        return CORPUS
    target = work / f"kb-{name}"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        sys.path.insert(0, str(HERE))
        from gen_kb import generate_kb

        started = time.perf_counter()
        generate_kb(target, SIZES[name], seed=7)
        (target / ".complete").write_text("ok\n")
        print(f"  generated {name} in {time.perf_counter() - started:.1f} s", flush=True)
    return target


def bench_kb(name: str, work: Path, skip_ui: bool) -> dict[str, Any]:
    kb = ensure_kb(name, work)
    db = work / f"{name}.sqlite"
    floor, index, ratios = median_pair(
        REPEATS.get(name, 1),
        ["--child", "floor", str(kb)],
        ["--child", "index", str(kb), str(db)],
        lambda base, measured: float(measured["cold"]) / float(base["seconds"]),
    )
    queries = QUERIES["corpus" if name == "corpus" else "generated"]
    search = child(["--child", "search", str(db), json.dumps(queries)])
    figures: dict[str, Any] = {
        "kb": name,
        "documents": index["documents"],
        "floor_s": floor["seconds"],
        "cold_s": index["cold"],
        "no_change_s": index["no_change"],
        "peak_mb": index["peak_mb"],
        "search_median_ms": search["median_ms"],
        "cold_ratios": ratios,
    }
    if not skip_ui and name in ("corpus", "100k"):
        empty, app, paint_ratios = median_pair(
            PAINT_PAIRS,
            ["--child", "paint", "empty", str(kb), str(db)],
            ["--child", "paint", "app", str(kb), str(db)],
            lambda base, measured: float(measured["first_paint"]) / float(base["first_paint"]),
        )
        figures["empty_app_paint_s"] = empty["first_paint"]
        figures["app_paint_s"] = app["first_paint"]
        figures["paint_ratios"] = paint_ratios
        if name == "100k":
            os.environ["BENCH_PRESSES"] = "100"
            figures["per_press_ms"] = child(["--child", "paint", "app", str(kb), str(db)])[
                "per_press_ms"
            ]
            figures["empty_per_press_ms"] = child(["--child", "paint", "empty", str(kb), str(db)])[
                "per_press_ms"
            ]
            del os.environ["BENCH_PRESSES"]
    return figures


def _spread(ratios: list[float]) -> str:
    """The ratios of every pair, for a figure kept as the median of several pairs."""
    if len(ratios) < 2:
        return ""
    shown = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    return f"{'':26}(the median of {len(ratios)} pairs; their ratios: {shown})"


def report(figures: dict[str, Any]) -> None:
    floor = figures["floor_s"]
    print(f"\n== {figures['kb']}: {figures['documents']:,} documents")
    print(f"  floor (read + libyaml)  {floor:8.3f} s")
    print(
        f"  cold index              {figures['cold_s']:8.3f} s   {figures['cold_s'] / floor:6.1f}x "
        "floor (target <= 3x on the corpus)"
    )
    if spread := _spread(figures["cold_ratios"]):
        print(spread)
    print(
        f"  no-change re-index      {figures['no_change_s']:8.3f} s   "
        f"{figures['no_change_s'] / figures['cold_s']:6.1%} of cold (target <= 10%)"
    )
    print(f"  peak memory (index)     {figures['peak_mb']:8.0f} MB  (target <= 500 MB at 100k)")
    print(
        f"  search median           {figures['search_median_ms']:8.2f} ms  (target <= 20 ms "
        "at 100k)"
    )
    if "app_paint_s" in figures:
        ratio = figures["app_paint_s"] / figures["empty_app_paint_s"]
        print(
            f"  first paint: app {figures['app_paint_s']:.3f} s, empty app "
            f"{figures['empty_app_paint_s']:.3f} s   {ratio:5.2f}x (target <= 1.5x)"
        )
        if spread := _spread(figures["paint_ratios"]):
            print(spread)
    if "per_press_ms" in figures:
        net = figures["per_press_ms"] - figures["empty_per_press_ms"]
        print(
            f"  down-press in the queue {figures['per_press_ms']:8.1f} ms through Pilot; the "
            f"same press in an empty app {figures['empty_per_press_ms']:.1f} ms; the app's own "
            f"cost {net:.1f} ms (target <= 50 ms)"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        started = time.perf_counter()
        what, args = sys.argv[2], sys.argv[3:]
        sys.path.insert(0, str(ROOT / "src"))
        if what == "floor":
            result = measure_floor(Path(args[0]))
        elif what == "index":
            result = measure_index(Path(args[0]), Path(args[1]))
        elif what == "search":
            result = measure_search(Path(args[0]), json.loads(args[1]))
        elif what == "export":
            result = measure_export(Path(args[0]))
        else:
            import asyncio

            result = asyncio.run(_first_paint(args[0], args[1], args[2], started))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--kbs", default="corpus,10k,100k,export")
    parser.add_argument("--skip-ui", action="store_true")
    parser.add_argument(
        "--work", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "kbtui-bench")
    )
    options = parser.parse_args()
    work = Path(options.work)
    work.mkdir(parents=True, exist_ok=True)
    # An installed kbtui starts from byte-compiled modules, as Textual does (pip compiles both
    # on install); a checkout gets them on its first run, unless PYTHONDONTWRITEBYTECODE is set,
    # when every start would compile kbtui from source. Compile it once here, so that the app
    # and the empty app start alike.
    compileall.compile_dir(str(ROOT / "src" / "kbtui"), quiet=1)
    results = {}
    for name in options.kbs.split(","):
        if name == "export":
            figures = child(["--child", "export", str(work)])
            print(
                f"\n== export: {figures['files']} files (100 new claims, their 100 sources, "
                f"100 status changes)\n  plan + atomic writes {figures['seconds']:.3f} s "
                f"(target <= 1 s); with the re-index after it {figures['with_reindex']:.3f} s"
            )
            continue
        print(f"benchmarking {name}…", flush=True)
        results[name] = bench_kb(name, work, options.skip_ui)
        report(results[name])
    if "10k" in results and "100k" in results:
        ratio = results["100k"]["cold_s"] / results["10k"]["cold_s"]
        floors = results["100k"]["floor_s"] / results["10k"]["floor_s"]
        print(f"\n100k/10k cold index ratio {ratio:.1f} (target <= 12: linear, not quadratic)")
        print(
            f"  the floor's own 100k/10k ratio {floors:.1f}: the same files only read and parsed "
            "(above 10, the 100k files are slower to read, or this machine slowed between them)"
        )
        print(f"100k cold index {results['100k']['cold_s']:.1f} s (target <= 60 s)")


if __name__ == "__main__":
    main()

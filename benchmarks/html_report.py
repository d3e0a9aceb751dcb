"""Size and load time of the HTML report in headless Chromium (issue 11).

Run it with the interpreter that has backupguard and playwright installed::

    python benchmarks/html_report.py doc.json [doc.json...]      # render each, then load it
    python benchmarks/html_report.py --html report.html            # load an HTML file as it is
    python benchmarks/html_report.py --runs 5 doc.json

For each report: the file size, the time ``backupguard.reports.render`` took, and, loaded from
file:// in Debian's chromium (``/usr/bin/chromium``) at 1,400 x 900, the median over ``--runs``
fresh tabs of

* ``dcl``: navigation start to the end of DOMContentLoaded (the inline script ran by then);
* ``ready``: navigation start to the page's ``data-ready`` attribute on <html> (the tables
  rendered from the embedded data); pages without one count as ready at DOMContentLoaded;
* ``load``: navigation start to the end of the load event.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

TIMING = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const ready = document.documentElement.getAttribute('data-ready');
  return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, ready: ready === null ? null : parseFloat(ready)};
}"""


def measure(path: Path, runs: int) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, list[float]] = {"dcl": [], "ready": [], "load": []}
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1400, "height": 900})
        try:
            for _ in range(runs):
                page = context.new_page()
                page.goto(path.as_uri(), wait_until="load", timeout=600_000)
                page.wait_for_function("() => document.readyState === 'complete'", timeout=600_000)
                t = page.evaluate(TIMING)
                figures["dcl"].append(t["dcl"])
                figures["load"].append(t["load"])
                figures["ready"].append(t["ready"] if t["ready"] is not None else t["dcl"])
                page.close()
        finally:
            context.close()
    return {k: statistics.median(v) / 1000 for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("--html", action="store_true", help="the inputs are HTML reports, not JSON documents")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    for source in options.inputs:
        render_s = float("nan")
        if options.html:
            html_path = source
        else:
            from backupguard.reports import render

            doc = json.loads(source.read_text(encoding="utf-8"))
            start = time.perf_counter()
            html = render("html", doc)
            render_s = time.perf_counter() - start
            html_path = Path(tempfile.mkdtemp()) / (source.stem + ".html")
            html_path.write_text(html, encoding="utf-8")
        size = html_path.stat().st_size
        t = measure(html_path, options.runs)
        print(f"{source}: {size / 1e6:.2f} MB, render {render_s:.2f} s, "
              f"DOMContentLoaded {t['dcl']:.2f} s, ready {t['ready']:.2f} s, load {t['load']:.2f} s")


if __name__ == "__main__":
    main()

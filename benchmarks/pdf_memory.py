"""Memory of one process rendering receipt PDFs one after another (WeasyPrint).

Each mode runs in a fresh process: `render_receipt_pdf` renders N receipts (different numbers
and hashes), the resident set size (RSS, /proc/self/statm) is read after a full garbage
collection every 50 renders. `--compare` runs, side by side, the current code (`current`) and
the code as it was before its FontConfiguration was shared (`fresh-font-config`: a new one,
hence a new Fontconfig configuration and Pango font map, per render), and writes
benchmarks/results/pdf_memory.json. Run: `.venv/bin/python benchmarks/pdf_memory.py --compare`.
"""

import argparse
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from django_bench import ROOT, setup_django

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / MIB


def receipt(n: int):
    from guichet.dossiers.receipt import ReceiptData

    return ReceiptData(
        receipt_number=f"DEFFINUM-W2-{n:06d}",
        received_at=dt.datetime(2021, 12, 30, 10, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
        sha256=f"{n:064x}", call_name="Deffinum", wave_name="Vague 2",
        title=f"Campus hybride {n}", lead_name="Organisme chef de file",
        members=[(f"Membre {i}", f"{n:09d}{i:05d}") for i in range(7)],
        eligible_base=Decimal("600000.00") + n, aid=Decimal("420000.00"), eligible=n % 3 != 0,
        failed_rules=[] if n % 3 else ["Le taux d'aide dépasse le plafond."])


def render_with_fresh_font_config(data) -> bytes:
    """guichet/core/pdf.py before the fix: WeasyPrint makes a FontConfiguration per render."""
    import weasyprint
    from django.template.loader import render_to_string
    from django.utils import translation

    from guichet.core.clock import format_paris_instant
    from guichet.dossiers.receipt import HASH_LABEL, TEMPLATE
    from guichet.rules.money import format_eur_fr

    context = {"receipt": data, "received_at_paris": format_paris_instant(data.received_at),
               "eligible_base": format_eur_fr(data.eligible_base),
               "aid": format_eur_fr(data.aid), "hash_label": HASH_LABEL}
    with translation.override("fr"):
        html = render_to_string(TEMPLATE, context)
    fetcher = weasyprint.URLFetcher(allowed_protocols=())
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()


def run(mode: str, renders: int) -> dict:
    from guichet.dossiers.receipt import render_receipt_pdf

    render = render_receipt_pdf if mode == "current" else render_with_fresh_font_config
    render(receipt(0))  # imports, template compilation, fonts: not growth
    gc.collect()
    samples = [(0, round(rss_mib(), 1))]
    start = time.perf_counter()
    for n in range(1, renders + 1):
        pdf = render(receipt(n))
        assert pdf.startswith(b"%PDF")
        if n % 50 == 0:
            gc.collect()
            samples.append((n, round(rss_mib(), 1)))
    elapsed = time.perf_counter() - start
    half = renders // 2
    at_half = dict(samples)[half - half % 50]
    return {"mode": mode, "renders": renders, "rss_mib": samples,
            "growth_mib_per_render": round((samples[-1][1] - samples[0][1]) / renders, 4),
            "growth_mib_per_render_second_half": round(
                (samples[-1][1] - at_half) / (renders - half + half % 50), 4),
            "ms_per_render": round(elapsed / renders * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--mode", choices=("current", "fresh-font-config"), default="current")
    parser.add_argument("--compare", action="store_true")
    options = parser.parse_args()
    if options.compare:
        # Both at once (each its own process): memory does not depend on the other's CPU.
        runs = {mode: subprocess.Popen([sys.executable, __file__, "--mode", mode, "--renders",
                                        str(options.renders)], stdout=subprocess.PIPE)
                for mode in ("fresh-font-config", "current")}
        results = {}
        for mode, process in runs.items():
            output, _ = process.communicate()
            assert process.returncode == 0, mode
            results[mode] = json.loads(output)
            print(json.dumps(results[mode]), flush=True)
        out = ROOT / "benchmarks" / "results" / "pdf_memory.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        return
    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir, migrate=False)
        print(json.dumps(run(options.mode, options.renders)))


if __name__ == "__main__":
    main()

"""Hostile financial annexes against the import page: time and peak memory per file.

Each file of issue 8 (item 4) is posted to the budget step (`action=annex`) of a draft dossier,
through Django's whole stack in-process (test client: middleware, upload handlers, form, view,
service), as the lead. Each file runs in a fresh subprocess: Django set up on a copy of a
prepared SQLite database, the lead signed in, one valid annex imported (so that every module of
the path is loaded), then the baseline is taken. The figures:

- `seconds`: wall time of the hostile request; `cpu_seconds`: the CPU time it took (user and
  system), which a machine shared with other work does not inflate;
- `peak_rss_added_mb`: peak RSS of the process (`resource.getrusage`) after the request, minus
  the peak before it (the baseline, right after the valid import: nothing bigger ran before);
- `refusal`: the message on the page; `budget_unchanged`: the budget lines are the same after.

The request body is streamed from disk (or generated for the 120 MB upload), never held by the
client, so that the memory measured is the server's. Run: `.venv/bin/python
benchmarks/hostile_annex.py` (about a minute); `--only NAME` for one file, `--output FILE` to
write elsewhere than `benchmarks/results/hostile_annex.json`.
"""

import argparse
import datetime as dt
import gc
import html
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from django_bench import ROOT, setup_django

TIME_TARGET_SECONDS = 2.0
MEMORY_TARGET_MB = 100
UPLOAD_BYTES = 120 * 1024 * 1024
BOUNDARY = "hostileannexboundary"


def cases() -> dict:
    """name -> (description, parts) ; built lazily in the parent process."""
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from tests import hostile_files as hostile

    return {
        # The attacks of the issue.
        "whitespace_bomb": ("1 GiB of blanks in one cell, deflated to about 1 MB",
                            lambda: hostile.whitespace_bomb(1 << 30)),
        "shared_strings_2_7M": ("2.7 million shared strings",
                                lambda: hostile.shared_strings(2_700_000)),
        "blank_rows_1M": ("a million blank rows", lambda: hostile.blank_rows(1_000_000)),
        "upload_120MB": ("a 120 MB upload", None),
        "deep_nesting_1M": ("a million nested elements in the sheet data",
                            lambda: hostile.deep_nesting(1_000_000)),
        "huge_styles_1M": ("a style sheet of a million cell formats",
                           lambda: hostile.huge_styles(1_000_000)),
        "many_parts_40k": ("40 000 parts in the archive", lambda: hostile.many_parts(40_000)),
        # Smaller ones, whose declared sizes and ratios pass: the element scan stops them.
        "shared_strings_300k_distinct": (
            "300 000 distinct shared strings (6.5 MB inflated)",
            lambda: hostile.shared_strings(300_000, distinct=True)),
        "blank_rows_100k": ("100 000 blank rows (6.5 MB inflated)",
                            lambda: hostile.blank_rows(100_000)),
        "deep_nesting_100k": ("100 000 nested elements (0.7 MB inflated)",
                              lambda: hostile.deep_nesting(100_000)),
        "huge_styles_25k": ("a style sheet of 25 000 cell formats (0.5 MB inflated)",
                            lambda: hostile.huge_styles(25_000)),
        # The most a sheet may hold: read, then refused cell by cell.
        "wide_rows_5000x19": ("5 000 rows of 19 invalid cells (just within the element budget)",
                              lambda: hostile.wide_rows(5000, 19)),
        # What an applicant sends.
        "valid_annex_5000_rows": ("a valid annex of 5 000 expense lines (reference: accepted)",
                                  None),
    }


# --- child: one request, measured -----------------------------------------------------------


class MultipartBody:
    """A multipart/form-data body read in chunks: `action=annex` and the file."""

    def __init__(self, file_name: str, size: int, chunks):
        self._head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n"
                      f"annex\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
                      f"filename=\"{file_name}\"\r\nContent-Type: application/vnd.openxmlformats-"
                      f"officedocument.spreadsheetml.sheet\r\n\r\n").encode()
        self._tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(self._head) + size + len(self._tail)
        self._pieces = iter([[self._head], chunks, [self._tail]])
        self._current = iter(())
        self._buffer = b""

    def _next_piece(self) -> bytes:
        while True:
            for piece in self._current:
                return piece
            try:
                self._current = iter(next(self._pieces))
            except StopIteration:
                return b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            piece = self._next_piece()
            if not piece:
                break
            self._buffer += piece
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _file_chunks(path: Path):
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            yield chunk


def _random_chunks(size: int):
    block = os.urandom(1 << 20)
    for _ in range(size // len(block)):
        yield block
    yield block[:size % len(block)]


def _refusal(page: str) -> str:
    found = re.findall(r'data-testid="annex-errors">(.*?)</div>', page, re.S)
    found += re.findall(r'class="fr-error-text"[^>]*>(.*?)</', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", item) for item in found)
    return html.unescape(" ".join(text.split()))


def measure(name: str, file_path: str, data_dir: str) -> dict:
    setup_django(data_dir, migrate=False)
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from django.test import Client

    from guichet.dossiers.models import ExpenseLine

    context = json.loads((Path(data_dir) / "context.json").read_text())
    client = Client()
    client.force_login(_user(context["email"]))
    url = f"/dossiers/{context['dossier']}/etape/budget/"
    assert client.get(url).status_code == 200
    template = client.get(f"/dossiers/{context['dossier']}/annexe.xlsx").content
    warm_up = _post(client, url, "annexe.xlsx", len(template), [template])
    assert warm_up.status_code == 302, "the valid annex is imported"
    lines_before = list(ExpenseLine.objects.filter(dossier=context["dossier"])
                        .order_by("pk").values_list("pk", "label", "amount"))
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF)
    baseline_kb = before.ru_maxrss
    if name == "upload_120MB":
        size, chunks = UPLOAD_BYTES, _random_chunks(UPLOAD_BYTES)
    else:
        size, chunks = Path(file_path).stat().st_size, _file_chunks(Path(file_path))
    start = time.perf_counter()
    response = _post(client, url, f"{name}.xlsx", size, chunks)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = after.ru_maxrss
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    page = response.content.decode() if response.status_code == 200 else ""
    lines_after = list(ExpenseLine.objects.filter(dossier=context["dossier"])
                       .order_by("pk").values_list("pk", "label", "amount"))
    return {"bytes": size, "status": response.status_code, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "baseline_rss_mb": round(baseline_kb / 1024, 1),
            "peak_rss_added_mb": round((peak_kb - baseline_kb) / 1024, 1),
            "refusal": _refusal(page), "budget_unchanged": lines_after == lines_before}


def _user(email: str):
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from guichet.accounts.models import User

    return User.objects.get(email=email)


def _post(client, url: str, file_name: str, size: int, chunks):
    body = MultipartBody(file_name, size, chunks)
    return client.request(**{
        "REQUEST_METHOD": "POST", "PATH_INFO": url, "wsgi.input": body,
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.length)})


# --- child: the database every measurement starts from ----------------------------------------


def prepare(data_dir: str) -> None:
    setup_django(data_dir)
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from guichet.calls.services import load_call
    from tests.factories import lead_and_member, make_dossier

    load_call(ROOT / "calls" / "deffinum.toml", demo_today=dt.date.today())
    document = json.loads((ROOT / "tests" / "data" / "contract-example.json").read_text())
    document.pop("submitted_at")
    dossier = make_dossier(document)
    lead, _member = lead_and_member(dossier)
    (Path(data_dir) / "context.json").write_text(
        json.dumps({"dossier": dossier.pk, "email": lead.email}))


def valid_annex(target: Path, data_dir: str) -> None:
    """A valid annex of 5 000 lines, for the dossier's members (written by the template)."""
    setup_django(data_dir, migrate=False)
    # Imported here: a benchmark chooses its settings and sets Django up first.
    from guichet.dossiers import budget
    from guichet.dossiers.annex import schema, template
    from guichet.dossiers.models import Dossier

    context = json.loads((Path(data_dir) / "context.json").read_text())
    dossier = Dossier.objects.get(pk=context["dossier"])
    members = budget.annex_members(dossier)
    categories = budget.annex_categories(dossier)
    content = schema.AnnexContent(
        expenses=[schema.AnnexExpense(member=members[n % len(members)].siret,
                                      category=categories[n % len(categories)].id,
                                      label=f"Dépense {n} — formation des formateurs",
                                      amount=Decimal("120.50"), eligible=True)
                  for n in range(5000)],
        financing=[schema.AnnexFinancing(source="aid", member=None, amount=Decimal(602500))])
    target.write_bytes(template.build_template(members, categories, content))


# --- parent ------------------------------------------------------------------------------------


def _child(*arguments: str) -> str:
    completed = subprocess.run([sys.executable, __file__, *arguments], capture_output=True,
                               text=True, cwd=ROOT, timeout=600)
    if completed.returncode:
        raise SystemExit(f"{arguments[0]} failed:\n{completed.stderr[-3000:]}")
    return completed.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", help="one file (repeatable)")
    parser.add_argument("--output", type=Path,
                        default=ROOT / "benchmarks" / "results" / "hostile_annex.json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        action, *arguments = options.child
        if action == "prepare":
            prepare(*arguments)
        elif action == "valid":
            valid_annex(Path(arguments[0]), arguments[1])
        else:
            print(json.dumps(measure(action, *arguments)))
        return

    sys.path.insert(0, str(ROOT))
    # Imported here: a benchmark chooses its settings and sets Django up in main(), before any
    # Django or guichet module loads.
    from tests import hostile_files as hostile

    chosen = {name: case for name, case in cases().items()
              if not options.only or name in options.only}
    results = {}
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        template_dir = work_dir / "template"
        template_dir.mkdir()
        _child("--child", "prepare", str(template_dir))
        for name, (description, parts) in chosen.items():
            path = work_dir / f"{name}.xlsx"
            if parts is not None:
                hostile.rebuild(parts(), target=path)
            elif name == "valid_annex_5000_rows":
                _child("--child", "valid", str(path), str(template_dir))
            run_dir = work_dir / f"run-{name}"
            shutil.copytree(template_dir, run_dir)
            figures = json.loads(_child("--child", name, str(path), str(run_dir)))
            results[name] = {"description": description, **figures}
            print(f"{name:30} {figures['seconds']:7.2f} s (CPU {figures['cpu_seconds']:6.2f} s)"
                  f" +{figures['peak_rss_added_mb']:7.1f} MB  HTTP {figures['status']}"
                  f"  {figures['refusal'][:80]}", flush=True)
            shutil.rmtree(run_dir)
    report = {
        "method": ("POST to the budget step through Django's test client, in-process (no "
                   "network); one fresh subprocess per file; peak RSS from "
                   "resource.getrusage minus the baseline after a valid import; body streamed"),
        "targets": {"seconds": TIME_TARGET_SECONDS, "peak_rss_added_mb": MEMORY_TARGET_MB},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
        "files": results,
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

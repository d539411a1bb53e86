from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from guichet.audit.services import (
    AnchorFormatError,
    anchor_problem,
    parse_anchors,
    take_anchor,
    verify_chain,
)


class Command(BaseCommand):
    help = ("Audit log tools: `verify` recomputes the hash chain and names the first broken "
            "link (with --anchor FILE, also checks the log against anchors kept outside the "
            "database); `anchor` prints the chain head as one JSON line, to keep elsewhere.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "anchor"])
        parser.add_argument(
            "--anchor", metavar="FILE", type=Path,
            help="verify: a file of anchors printed by `guichet audit anchor`, one per line; "
                 "fails if events were removed or rewritten behind any of them")

    def handle(self, *args, action, anchor, **options):
        if action == "anchor":
            if anchor is not None:
                raise CommandError("--anchor goes with `verify`")
            self.stdout.write(take_anchor().to_json())
            return
        anchors = self._read_anchors(anchor) if anchor is not None else []
        report = verify_chain()
        problems = [] if report.intact else [
            f"audit chain broken at event #{report.broken_at}: {report.reason} "
            f"({report.events} events before it are intact)"]
        problems += [problem for problem in map(anchor_problem, anchors) if problem]
        if problems:
            raise CommandError("\n".join(problems))
        self.stdout.write(f"audit chain intact: {report.events} events")
        for held in anchors:
            self.stdout.write(f"anchor holds: {held.events} events up to {held.hash[:16]}… "
                              f"(taken {held.at.isoformat()})")

    @staticmethod
    def _read_anchors(path: Path):
        try:
            return parse_anchors(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"anchor file {path}: cannot be read ({error})") from error
        except AnchorFormatError as error:
            raise CommandError(f"anchor file {path}: {error}") from error

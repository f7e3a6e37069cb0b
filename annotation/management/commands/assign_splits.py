from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.errors import ServiceError
from annotation.models import Project
from annotation.selectors.splits import SPLITS
from annotation.services.splits import check_fractions, deny_list_parse, split_assign

CATEGORIES = ("person", "animal", "object")


def _read_list(path: str | None, option: str) -> list[str]:
    if not path:
        return []
    try:
        return deny_list_parse(Path(path).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise CommandError(f"{option}: cannot read {path}: {reason}") from None


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


class Command(BaseCommand):
    help = (
        "Assign train/val/test to every video without a split, by video group (clips of one "
        "source video stay together), balancing val and test by subject category x captions "
        "per masklet. Videos that have a split never move. Records a SplitRun (next version) "
        "and prints the counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument(
            "--val", type=float, required=True, help="fraction of videos, e.g. 0.02"
        )
        parser.add_argument("--test", type=float, required=True, help="fraction, e.g. 0.05")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--deny",
            metavar="FILE",
            help="videos kept out of val/test (they go to train): one video name (with or "
            "without extension), source video id or split group per line; # starts a comment",
        )
        parser.add_argument(
            "--hold-out",
            metavar="FILE",
            help="videos kept out of train (they go to test), e.g. another benchmark's test "
            "videos; same format as --deny",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            check_fractions(opts["val"], opts["test"])
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        project = Project.objects.filter(name=opts["project"]).first()
        if project is None:
            raise CommandError(f"project {opts['project']!r} does not exist")
        deny = _read_list(opts["deny"], "--deny")
        hold_out = _read_list(opts["hold_out"], "--hold-out")
        try:
            outcome = split_assign(
                project=project,
                val_fraction=opts["val"],
                test_fraction=opts["test"],
                seed=opts["seed"],
                deny=deny,
                hold_out=hold_out,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        run = outcome.run
        table = run.counts["splits"]
        header = (
            f"{'split':<10} {'videos':>7} {'groups':>7} {'new':>6} {'masklets':>9} "
            f"{'captions':>9} " + " ".join(f"{c:>7}" for c in CATEGORIES)
        )
        lines = [header, "-" * len(header)]
        for name in (*SPLITS, "unassigned"):
            row = table[name]
            if name == "unassigned" and not row["videos"]:
                continue
            lines.append(
                f"{name:<10} {row['videos']:>7} {row['groups']:>7} "
                f"{outcome.assigned.get(name, 0):>6} {row['masklets']:>9} {row['captions']:>9} "
                + " ".join(f"{row['by_category'].get(c, 0):>7}" for c in CATEGORIES)
            )
        cells = sorted({cell for name in SPLITS for cell in table[name]["by_cell"]})
        if cells:
            lines += ["", f"{'balance (masklets)':<20} {'all':>6} {'val':>6} {'test':>6}"]
            whole = {n: table[n]["masklets"] for n in SPLITS}
            everything = sum(whole.values())
            for cell in cells:
                counts = {n: table[n]["by_cell"].get(cell, 0) for n in SPLITS}
                lines.append(
                    f"{cell:<20} {_percent(sum(counts.values()), everything):>6} "
                    f"{_percent(counts['val'], whole['val']):>6} "
                    f"{_percent(counts['test'], whole['test']):>6}"
                )
        lines.append("")
        lines.append(
            f"split version {run.version} recorded (seed {run.seed}, val {run.val_fraction:g}, "
            f"test {run.test_fraction:g}, {len(deny)} deny / {len(hold_out)} hold-out entries)"
        )
        self.stdout.write("\n".join(lines))
        if outcome.unmatched:
            shown = ", ".join(outcome.unmatched[:5])
            self.stderr.write(
                f"note: {len(outcome.unmatched)} list entries match no video of this project "
                f"(e.g. {shown})"
            )
        if outcome.frozen_denied:
            self.stderr.write(
                "warning: these listed groups already had a split, which never moves: "
                + ", ".join(outcome.frozen_denied[:10])
            )
        if outcome.conflicts:
            self.stderr.write(
                "warning: these groups already span several splits; their new videos were left "
                "unassigned: " + ", ".join(outcome.conflicts[:10])
            )

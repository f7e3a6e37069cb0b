from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.evaluation.metrics import NUM_SAMPLED_FRAMES
from annotation.models import ProjectKind
from annotation.selectors.exports import project_for_export
from annotation.services.evaluate import (
    EVAL_TASKS,
    PredictionsError,
    evaluate_predictions,
    judge_from_settings,
)

JUDGED = ("rdcap", "rcap")


class Command(BaseCommand):
    help = (
        "Score model predictions against a benchmark split, as PLM-VideoBench's evaluation does. "
        'FILE.jsonl holds one {"uid": <exported uid>, "prediction": "<model text>"} per line. '
        f"RTLoc/RDCap answers are frame numbers on the 0-{NUM_SAMPLED_FRAMES - 1} scale the "
        "model was shown. RDCap and RCap need an OpenAI-compatible LLM judge "
        "(--judge-url/--judge-model, or JUDGE_URL/JUDGE_MODEL; key in JUDGE_API_KEY); without "
        "one they are reported unavailable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--task", required=True, choices=EVAL_TASKS)
        parser.add_argument("--split", default="test", choices=("train", "val", "test"))
        parser.add_argument("--predictions", required=True, metavar="FILE.jsonl")
        parser.add_argument("--project", help="default: the only project of the task's kind")
        parser.add_argument("--judge-url", help="e.g. http://judge:8000/v1")
        parser.add_argument("--judge-model", help="e.g. meta-llama/Llama-3.3-70B-Instruct")
        parser.add_argument(
            "--lenient",
            action="store_true",
            help="also read free-form answers (numbers not comparable with published ones)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        task = opts["task"]
        kind = ProjectKind.FGQA if task == "fgqa" else ProjectKind.STC
        try:
            project = project_for_export(name=opts["project"], kind=kind)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if bool(opts["judge_url"]) != bool(opts["judge_model"]):
            raise CommandError("--judge-url and --judge-model go together")
        try:
            judge = judge_from_settings(base_url=opts["judge_url"], model=opts["judge_model"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            lines = Path(opts["predictions"]).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise CommandError(f"cannot read {opts['predictions']}: {reason}") from None
        try:
            report = evaluate_predictions(
                project=project,
                task=task,
                split=opts["split"],
                lines=lines,
                judge=judge if task in JUDGED else None,
                lenient=opts["lenient"],
            )
        except PredictionsError as exc:
            raise CommandError(f"{opts['predictions']}: {exc}") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.to_dict(), sort_keys=True))
            return
        result = report.result
        value = (
            f"{100 * result.value:.2f}"
            if result.value is not None
            else f"unavailable ({result.unavailable_reason})"
        )
        lines_out = [
            f"{report.task} on {report.project} {report.split}: {result.metric} = {value}",
            f"items {report.ground_truth}, predicted {report.predicted}, "
            f"missing {report.missing} (scored as wrong), unparseable {report.unparseable}",
        ]
        lines_out += [f"  {name}: {v:.4f}" for name, v in result.details.items()]
        lines_out += [f"  {name}: {v}" for name, v in result.counts.items()]
        self.stdout.write("\n".join(lines_out))

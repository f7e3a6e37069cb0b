"""The admin QA dashboard: every table as JSON, or one table as JSON or CSV (?format=csv).

Project admins and reviewers only (annotators 403, non-members 404).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from annotation.access import STAFF_ROLES, require_role
from annotation.errors import NotFoundError
from annotation.models import Project
from annotation.selectors.dashboard import TABLES, Filters, dashboard


class CsvRenderer(renderers.BaseRenderer):
    """A table ({"columns", "rows"}) as CSV; cells formatted as the JSON renderer writes them
    (ISO datetimes with Z, dates as YYYY-MM-DD, floats by repr), None as an empty cell."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):  # type: ignore[no-untyped-def]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if isinstance(data, dict) and "columns" in data and "rows" in data:
            writer.writerow(data["columns"])
            for row in data["rows"]:
                writer.writerow([_cell(row[c]) for c in data["columns"]])
        else:  # an error body
            writer.writerow(["detail"])
            writer.writerow([_cell((data or {}).get("detail", ""))])
        return out.getvalue().encode(self.charset)


_encoder = JSONEncoder()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return str(_encoder.default(value))


class _FilterSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so the fields cannot be class attributes
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "annotator": serializers.IntegerField(required=False, min_value=1),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


def _filters(request: Request, project_id: int) -> Filters:
    require_role(user=request.user, project=project_id, roles=STAFF_ROLES)
    project = get_object_or_404(Project, pk=project_id)
    data = _FilterSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return Filters(
        project=project,
        start=data.validated_data.get("from"),
        end=data.validated_data.get("to"),
        annotator=data.validated_data.get("annotator"),
    )


class DashboardApi(APIView):
    def get(self, request: Request, project_id: int) -> Response:
        return Response(dashboard(_filters(request, project_id)))


class DashboardTableApi(APIView):
    renderer_classes = [renderers.JSONRenderer, CsvRenderer]

    def get(self, request: Request, project_id: int, table: str) -> Response:
        filters = _filters(request, project_id)
        if table not in TABLES:
            raise NotFoundError(f"No dashboard table named {table!r}.")
        body = {
            "generated_at": filters.now,
            "filters": filters.as_dict(),
            **TABLES[table](filters).as_dict(),
        }
        response = Response(body)
        if (
            getattr(request, "accepted_renderer", None)
            and request.accepted_renderer.format == "csv"
        ):
            response["Content-Disposition"] = (
                f'attachment; filename="{table}-project{project_id}.csv"'
            )
        return response

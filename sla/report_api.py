"""`GET /api/reports/mk399/?year=YYYY`: the yearly per-service report, as JSON, CSV or XLSX.

The format follows DRF's content negotiation: `?format=csv`, `?format=xlsx`, or the Accept header.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Role
from agents.permissions import roles_allowed
from sla.counts import mk399_csv, mk399_report, mk399_xlsx
from sla.models import CompiledDay

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class YearSerializer(serializers.Serializer[dict[str, Any]]):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return mk399_csv(data["year"]).encode() if "rows" in data else b""


class XlsxRenderer(BaseRenderer):
    media_type = XLSX
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return mk399_xlsx(data["year"]) if "rows" in data else b""


class Mk399ReportView(APIView):
    """Per service: cases, cases per channel, delays (per rule), complaints (Cabinet Regulation No. 399)."""

    permission_classes = [roles_allowed(Role.TEAM_LEAD)]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CsvRenderer, XlsxRenderer]

    @extend_schema(parameters=[OpenApiParameter("year", int, required=True)], responses={200: None})
    def get(self, request: Request) -> Response:
        params = YearSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        year = params.validated_data["year"]
        rows = [asdict(row) for row in mk399_report(year)]
        response = Response({"year": year, "compiled_until": _compiled_until(), "rows": rows})
        if request.accepted_renderer.format in ("csv", "xlsx"):
            name = f"mk399-{year}.{request.accepted_renderer.format}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _compiled_until() -> str | None:
    """The last day the counts include (the nightly task compiles each day once it is over)."""
    last = CompiledDay.objects.order_by("-day").values_list("day", flat=True).first()
    return last.isoformat() if last else None

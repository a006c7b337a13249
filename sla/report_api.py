"""`GET /api/reports/mk399/?year=YYYY`: the yearly per-service report, as JSON, CSV or XLSX, and
`/api/reports/mk399/published/`: which years' reports are marked published.

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
from agents.permissions import acting_user, roles_allowed
from sla.counts import mk399_csv, mk399_report, mk399_xlsx
from sla.models import CompiledDay, Mk399Publication
from sla.selectors import breach_reasons_report
from sla.services import mk399_publish

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


class PublicationSerializer(serializers.ModelSerializer[Mk399Publication]):
    published_by = serializers.CharField(source="published_by.username", read_only=True)

    class Meta:
        model = Mk399Publication
        fields = ["year", "published_at", "published_by", "where"]


class PublishSerializer(serializers.Serializer[dict[str, Any]]):
    """Not the model serializer: its unique check would refuse a repeat, which the service absorbs."""

    year = serializers.IntegerField(min_value=2000, max_value=2100)
    where = serializers.CharField(max_length=500)


class Mk399PublicationView(APIView):
    """GET: the years marked published. POST `{"year", "where"}`: mark one (ends the March reminders)."""

    permission_classes = [roles_allowed(Role.TEAM_LEAD)]

    @extend_schema(responses=PublicationSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = Mk399Publication.objects.select_related("published_by")
        return Response(PublicationSerializer(rows, many=True).data)

    @extend_schema(request=PublishSerializer, responses=PublicationSerializer)
    def post(self, request: Request) -> Response:
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        publication = mk399_publish(
            year=body.validated_data["year"], by=acting_user(request.user), where=body.validated_data["where"]
        )
        return Response(PublicationSerializer(publication).data, status=201)


class ReasonsQuerySerializer(serializers.Serializer[dict[str, Any]]):
    since = serializers.DateField(source="first")
    until = serializers.DateField(source="last")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["first"] > attrs["last"]:
            raise serializers.ValidationError(
                "until: Beigu datums ir pirms sākuma / 'until' is before 'since'"
            )
        return attrs


class BreachReasonsReportView(APIView):
    """`GET /api/reports/breach-reasons/?since=YYYY-MM-DD&until=YYYY-MM-DD`: breaches by the reason team
    leads gave when acknowledging them, per rule (reclassified ones apart; unreviewed ones without one)."""

    permission_classes = [roles_allowed(Role.TEAM_LEAD)]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", str, required=True),
            OpenApiParameter("until", str, required=True),
        ],
        responses={200: None},
    )
    def get(self, request: Request) -> Response:
        params = ReasonsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = breach_reasons_report(**params.validated_data)
        return Response(
            {"since": params.validated_data["first"], "until": params.validated_data["last"], "rows": rows}
        )

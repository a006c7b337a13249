"""`GET /api/reports/service-level/`: PH-RING, EM-ACK, EM-REPLY, PORTAL-ANS and SUBM-ANS met on time, per
day, unit, agent or service, for team leads; JSON, or CSV with `?format=csv`.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Person, Role, Unit
from agents.permissions import roles_allowed
from contact_centre.models import Service
from sla.service_level import GROUPINGS, MAX_DAYS, RULES, rule_titles, service_level

DATE_ERRORS: dict[str, Any] = {
    "invalid": "Datums jānorāda formā GGGG-MM-DD / Give the date as YYYY-MM-DD",
    "required": "Norādiet datumu (GGGG-MM-DD) / Give a date (YYYY-MM-DD)",
}


def _unknown(lv: str, en: str) -> dict[str, Any]:
    """The messages of an id filter: `lv` is the Latvian genitive ("Nav tādas nodaļas")."""
    return {
        "does_not_exist": f"Nav {lv}: {{pk_value}} / No such {en}: {{pk_value}}",
        "incorrect_type": f"Norādiet numuru / Give the {en} by its id",
    }


class ServiceLevelQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """The query string. `from` is a Python keyword, so the date fields get their names in get_fields."""

    first = serializers.DateField(source="first", error_messages=DATE_ERRORS)
    last = serializers.DateField(source="last", error_messages=DATE_ERRORS)
    group_by = serializers.ChoiceField(
        choices=GROUPINGS,
        error_messages={
            "invalid_choice": 'Grupē pēc day, unit, agent vai service, ne "{input}" / '
            'group_by is day, unit, agent or service, not "{input}"',
            "required": "Norādiet group_by: day, unit, agent vai service / "
            "Give group_by: day, unit, agent or service",
        },
    )
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, error_messages=_unknown("tādas nodaļas", "unit")
    )
    agent = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, error_messages=_unknown("tāda darbinieka", "agent")
    )
    service = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(), required=False, error_messages=_unknown("tāda pakalpojuma", "service")
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"], fields["to"] = fields.pop("first"), fields.pop("last")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["first"] > attrs["last"]:
            raise serializers.ValidationError(
                {"to": "Beigu datums ir pirms sākuma datuma / 'to' is before 'from'"}
            )
        if (attrs["last"] - attrs["first"]).days + 1 > MAX_DAYS:
            raise serializers.ValidationError(
                {"to": f"Periods ir garāks par {MAX_DAYS} dienām / The period is longer than {MAX_DAYS} days"}
            )
        return attrs


class RuleLevelSerializer(serializers.Serializer[Any]):
    met = serializers.IntegerField()
    breached = serializers.IntegerField(help_text="Breached, and pending clocks already past their due time")
    pending = serializers.IntegerField(help_text="Not yet due")
    stopped = serializers.IntegerField(help_text="Neither met nor breached (a short abandon): not counted")
    percent_on_time = serializers.FloatField(allow_null=True, help_text="met / (met + breached), one decimal")


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "format": "date"}], "nullable": True})
class GroupKeyField(serializers.Field):
    """An ISO day, or a unit, person or service id (a number), or null for the group with none."""

    def to_representation(self, value: Any) -> Any:
        return value


class ServiceLevelRowSerializer(serializers.Serializer[Any]):
    key = GroupKeyField(help_text="ISO day, or the unit, person or service id; null: not set")
    # DRF's metaclass takes declared fields off the class, so this never shadows Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    rules = serializers.DictField(child=RuleLevelSerializer(), help_text="Per rule ID")


class ServiceLevelReportSerializer(serializers.Serializer[Any]):
    # `from` is a keyword here too; the dict the view builds has the keys as sent.
    group_by = serializers.ChoiceField(choices=GROUPINGS)
    rules = serializers.DictField(
        child=serializers.CharField(), help_text="Rule ID: title, Latvian / English"
    )
    rows = ServiceLevelRowSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(), "to": serializers.DateField(), **super().get_fields()}


RULE_COLUMNS = (
    ("met", "izpildīts / met"),
    ("breached", "nokavēts / breached"),
    ("pending", "rit / pending"),
    ("stopped", "apturēts / stopped"),
    ("percent_on_time", "% laikā / % on time"),
)


def service_level_csv(data: dict[str, Any]) -> str:
    """The report as CSV (UTF-8 with a BOM, so spreadsheet programs read the Latvian letters)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    if "rows" not in data:  # an error: its message, not an empty file
        writer.writerows([["Kļūda / Error"], [data.get("error", {}).get("message", "")]])
        return out.getvalue()
    writer.writerow(
        [
            "Grupa / Group",
            "Atslēga / Key",
            *(f"{rule_id} {title}" for rule_id in RULES for _, title in RULE_COLUMNS),
        ]
    )
    for row in data["rows"]:
        figures = [row["rules"][rule_id][name] for rule_id in RULES for name, _ in RULE_COLUMNS]
        writer.writerow([row["label"], row["key"], *("" if value is None else value for value in figures)])
    return out.getvalue()


class ServiceLevelCsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return service_level_csv(data).encode()


def _id_param(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, description=f"Only the clocks of this {what}")


def _pk(row: Model | None) -> int | None:
    return None if row is None else row.pk


class ServiceLevelView(APIView):
    """PH-RING (answered by the third ring), EM-ACK, EM-REPLY, PORTAL-ANS and SUBM-ANS met on time, per group
    and rule.

    Clocks that started on the Riga days `from`..`to` (at most 366 days). A pending clock past its due time
    counts as breached; stopped clocks (short abandons) are shown but left out of the percentage.
    """

    permission_classes = [roles_allowed(Role.TEAM_LEAD)]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, ServiceLevelCsvRenderer]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First Riga day"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last Riga day"),
            OpenApiParameter("group_by", str, required=True, enum=GROUPINGS),
            _id_param("unit", "unit"),
            _id_param("agent", "agent (the interaction's owner)"),
            _id_param("service", "service"),
        ],
        responses={200: ServiceLevelReportSerializer},
    )
    def get(self, request: Request) -> Response:
        params = ServiceLevelQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        rows = service_level(
            first=query["first"],
            last=query["last"],
            group_by=query["group_by"],
            unit_id=_pk(query.get("unit")),
            agent_id=_pk(query.get("agent")),
            service_id=_pk(query.get("service")),
        )
        report = {
            "from": query["first"],
            "to": query["last"],
            "group_by": query["group_by"],
            "rules": rule_titles(),
            "rows": rows,
        }
        response = Response(ServiceLevelReportSerializer(report).data)
        if request.accepted_renderer.format == "csv":
            name = f"service-level-{query['group_by']}-{query['first']}-{query['last']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

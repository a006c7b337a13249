"""API of the channels recorded by hand: registered letters, decisions on written matters, reclassification
and in-person visits. Every view names its roles; a matter is reachable only within the user's scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Role
from agents.permissions import acting_user, roles_allowed
from contact_centre.channel_services import Reclassification
from contact_centre.models import WRITTEN_BY_HAND_CHOICES, Channel, Interaction, NotClientMatter, Service
from intake.models import Scan, Visit, VisitOutcome
from intake.selectors import day_slots, visits_on
from intake.services import (
    ANSWER_CHANNELS,
    TOLD_BY,
    letter_register_with_scan,
    matter_answer,
    matter_forward,
    matter_reclassify,
    scan_path,
    submission_extend,
    visit_book,
    visit_outcome_set,
    visit_request_from,
    written_matter_from,
)
from sla.api import InteractionDetailSerializer
from sla.selectors import interaction_scope

WRITERS = roles_allowed(Role.EMAIL_HANDLER, Role.TEAM_LEAD)
VISIT_DESK = roles_allowed(Role.PHONE_AGENT, Role.TEAM_LEAD)


def _matter(request: Request, pk: int) -> Interaction:
    """The interaction `pk` if the user may see it (else 404, as for one that does not exist)."""
    scope = interaction_scope(acting_user(request.user))
    queryset = Interaction.objects.all() if scope is None else Interaction.objects.filter(scope)
    return get_object_or_404(queryset, pk=pk)


def _detail(interaction: Interaction, code: int = status.HTTP_200_OK) -> Response:
    fresh = Interaction.objects.prefetch_related("clocks__deadline", "events").get(pk=interaction.pk)
    return Response(InteractionDetailSerializer(fresh, context={"now": timezone.now()}).data, status=code)


# --- Letters (post, e-address) ------------------------------------------------------------------------


class LetterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=WRITTEN_BY_HAND_CHOICES)
    registration_number = serializers.CharField(max_length=100)
    arrived_at = serializers.DateTimeField()
    client_name = serializers.CharField(max_length=300)
    client_contact = serializers.CharField(max_length=320, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=998, required=False, allow_blank=True, default="")
    service = serializers.SlugRelatedField(
        slug_field="code", queryset=Service.objects.filter(active=True), required=False, allow_null=True
    )
    scan = serializers.FileField(required=False, allow_null=True)


class LetterView(APIView):
    """`POST /api/letters/`: register a paper letter or an e-address message (multipart for a scan).
    201 with the new matter; 200 with the first one when the registration number was registered already."""

    permission_classes = [WRITERS]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=LetterSerializer, responses=InteractionDetailSerializer)
    def post(self, request: Request) -> Response:
        body = LetterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        matter = written_matter_from(data)
        interaction, created = letter_register_with_scan(
            matter=matter, scan=data.get("scan"), by=acting_user(request.user), now=timezone.now()
        )
        return _detail(interaction, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ScanView(APIView):
    """`GET /api/interactions/{id}/scans/{scan_id}/`: a registered letter's scan, as a download."""

    permission_classes = [WRITERS]

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, pk: int, scan_id: int) -> FileResponse:
        interaction = _matter(request, pk)
        scan = get_object_or_404(Scan, pk=scan_id, interaction=interaction)
        response = FileResponse(
            scan_path(scan.sha256).open("rb"),
            as_attachment=True,
            filename=scan.name,
            content_type="application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Decisions on written matters ---------------------------------------------------------------------


class WrittenAnswerSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=ANSWER_CHANNELS)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ForwardSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=300)
    told_by = serializers.ChoiceField(choices=TOLD_BY)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ExtendSerializer(serializers.Serializer):
    until = serializers.DateField()
    reason = serializers.CharField(max_length=2000)
    told_by = serializers.ChoiceField(choices=TOLD_BY)


class _DecisionView(APIView):
    """A decision on a written matter: the body validated by `body_class`, then `decide` recorded."""

    permission_classes = [WRITERS]
    body_class: type[serializers.Serializer]
    decide: Callable[..., None]

    def post(self, request: Request, pk: int) -> Response:
        interaction = _matter(request, pk)
        body = self.body_class(data=request.data)
        body.is_valid(raise_exception=True)
        type(self).decide(
            interaction=interaction, by=acting_user(request.user), now=timezone.now(), **body.validated_data
        )
        return _detail(interaction)


@extend_schema_view(
    post=extend_schema(request=WrittenAnswerSerializer, responses=InteractionDetailSerializer)
)
class AnswerView(_DecisionView):
    """`POST /api/interactions/{id}/answer/`: the answer in substance went out by post, e-address or by
    hand (meets PORTAL-ANS, SUBM-ANS). Recording it twice changes nothing."""

    body_class = WrittenAnswerSerializer
    decide = matter_answer


@extend_schema_view(post=extend_schema(request=ForwardSerializer, responses=InteractionDetailSerializer))
class ForwardView(_DecisionView):
    """`POST /api/interactions/{id}/forward/`: passed on to the competent institution, the client told
    (PORTAL-FWD, SUBM-FWD); `told_by: email` sends the notice from here."""

    body_class = ForwardSerializer
    decide = matter_forward


@extend_schema_view(post=extend_schema(request=ExtendSerializer, responses=InteractionDetailSerializer))
class ExtendView(_DecisionView):
    """`POST /api/interactions/{id}/extend/`: extend a formal submission's answer time (SUBM-ANS) within
    the policy's limit, telling the applicant."""

    body_class = ExtendSerializer
    decide = submission_extend


class MatterReclassifySerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    service = serializers.SlugRelatedField(
        slug_field="code", queryset=Service.objects.filter(active=True), required=False
    )
    not_client_matter = serializers.ChoiceField(
        choices=[("", "—"), *NotClientMatter.choices], required=False, allow_blank=True
    )
    comment = serializers.CharField(max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"channel", "service", "not_client_matter"} & set(attrs):
            raise serializers.ValidationError(
                "Norādiet kanālu, pakalpojumu vai iemeslu / Give a channel, a service or a reason"
            )
        return attrs


class ReclassifyView(APIView):
    """`POST /api/interactions/{id}/reclassify/` (team leads): another channel or service, or not a client
    matter (spam, misdirected). Clocks are recomputed; the ledger keeps before and after."""

    permission_classes = [roles_allowed(Role.TEAM_LEAD)]

    @extend_schema(request=MatterReclassifySerializer, responses=InteractionDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        interaction = _matter(request, pk)
        body = MatterReclassifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        change = Reclassification(
            channel=data.get("channel"),
            service=data.get("service"),
            not_client_matter=data.get("not_client_matter"),
            comment=data["comment"],
        )
        matter_reclassify(
            interaction=interaction, change=change, by=acting_user(request.user), now=timezone.now()
        )
        return _detail(interaction)


# --- Visits (VISIT-BOOK) ------------------------------------------------------------------------------


class VisitSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="interaction.reference", read_only=True)
    interaction = serializers.IntegerField(source="interaction_id", read_only=True)
    client_name = serializers.CharField(source="interaction.client_name", read_only=True)
    client_phone = serializers.CharField(source="interaction.client_contact", read_only=True)
    service = serializers.CharField(source="interaction.service.code", read_only=True, default=None)

    class Meta:
        model = Visit
        fields = [
            "id", "reference", "interaction", "starts_at", "ends_at", "client_name", "client_phone",
            "client_email", "service", "reason_not_electronic", "outcome", "outcome_at", "booked_at",
        ]  # fmt: skip


class BookingSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    client_name = serializers.CharField(max_length=300)
    client_phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    client_email = serializers.EmailField(required=False, allow_blank=True, default="")
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.filter(active=True))
    reason_not_electronic = serializers.CharField(max_length=2000)
    call = serializers.PrimaryKeyRelatedField(
        queryset=Interaction.objects.filter(channel=Channel.PHONE), required=False, allow_null=True
    )
    booking_key = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class VisitListView(APIView):
    """`GET /api/visits/?date=YYYY-MM-DD`: the day's visits (default today). `POST`: book one."""

    permission_classes = [VISIT_DESK]

    @extend_schema(responses=VisitSerializer(many=True))
    def get(self, request: Request) -> Response:
        day = _day_param(request)
        return Response(VisitSerializer(visits_on(day), many=True).data)

    @extend_schema(request=BookingSerializer, responses=VisitSerializer)
    def post(self, request: Request) -> Response:
        body = BookingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        booking = visit_request_from(data, call=data.get("call"))
        visit = visit_book(request=booking, by=acting_user(request.user), now=timezone.now())
        return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED)


class SlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    free = serializers.IntegerField()


class DaySlotsSerializer(serializers.Serializer):
    date = serializers.DateField()
    earliest = serializers.DateField(help_text="The first day VISIT-BOOK allows for a booking made now")
    bookable = serializers.BooleanField()
    slots = SlotSerializer(many=True)


class SlotsView(APIView):
    """`GET /api/visits/slots/?date=YYYY-MM-DD`: the day's slots with free places, and the earliest date
    VISIT-BOOK allows for a booking made now."""

    permission_classes = [VISIT_DESK]

    @extend_schema(responses=DaySlotsSerializer)
    def get(self, request: Request) -> Response:
        return Response(day_slots(_day_param(request), now=timezone.now()))


class VisitOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[c for c in VisitOutcome.choices if c[0] != VisitOutcome.BOOKED]
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VisitOutcomeView(APIView):
    """`POST /api/visits/{id}/outcome/`: served, no_show or cancelled (a cancellation frees the slot)."""

    permission_classes = [VISIT_DESK]

    @extend_schema(request=VisitOutcomeSerializer, responses=VisitSerializer)
    def post(self, request: Request, pk: int) -> Response:
        visit = get_object_or_404(Visit, pk=pk)
        body = VisitOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        visit = visit_outcome_set(
            visit=visit, by=acting_user(request.user), now=timezone.now(), **body.validated_data
        )
        return Response(VisitSerializer(visit).data)


def _day_param(request: Request) -> date:
    value = request.query_params.get("date", "")
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise serializers.ValidationError(
            {"date": f"Datums formā GGGG-MM-DD / A date as YYYY-MM-DD: {error}"}
        ) from error

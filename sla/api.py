"""API of interactions as the SLA sees them (`/api/interactions/`) and of breaches (`/api/breaches/`).

Interactions are served here rather than in contact_centre because each one carries its deadlines
and per-rule verdicts, which only sla knows (the ledger knows no deadlines).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Role
from agents.permissions import acting_user, roles_allowed
from agents.selectors import user_roles
from contact_centre.models import Channel, Event, Interaction, InteractionState
from contact_centre.services import complaint_mark, complaint_outcome_record
from sla.counts import counts_after_review
from sla.models import Breach, BreachReason, BreachReview, Clock, ClockState
from sla.selectors import breach_list, breach_scope, interaction_list, interaction_scope
from sla.services import breach_acknowledge, breach_reason_get, breach_reclassify


class ClockMovedSerializer(serializers.Serializer):
    """How a calendar edit moved a running clock (null when it was not moved)."""

    change = serializers.CharField(source="recomputed_by.description")
    changed_at = serializers.DateTimeField(source="recomputed_by.changed_at")
    previous_due_at = serializers.DateTimeField()


class ClockSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule_id")
    verdict = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(read_only=True)
    moved = serializers.SerializerMethodField()

    class Meta:
        model = Clock
        fields = [
            "rule",
            "verdict",
            "started_at",
            "due_at",
            "met_at",
            "breached_at",
            "stopped_at",
            "stop_reason",
            "moved",
            "detail",
        ]

    def get_verdict(self, clock: Clock) -> str:
        return clock.verdict(self.context["now"])

    @extend_schema_field(ClockMovedSerializer(allow_null=True))
    def get_moved(self, clock: Clock) -> dict[str, Any] | None:
        return ClockMovedSerializer(clock.deadline).data if clock.was_moved else None


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["seq", "kind", "occurred_at", "recorded_at", "actor", "payload", "source_key", "hash"]


class InteractionSerializer(serializers.ModelSerializer):
    service: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner: serializers.StringRelatedField = serializers.StringRelatedField()
    deadlines = ClockSerializer(source="clocks", many=True, read_only=True)
    rules = serializers.SerializerMethodField(help_text="Per rule ID: met | pending | breached | stopped")

    class Meta:
        model = Interaction
        fields = [
            "id",
            "reference",
            "channel",
            "service",
            "client_name",
            "client_contact",
            "subject",
            "owner",
            "unit",
            "state",
            "is_complaint",
            "intake_rule",
            "not_client_matter",
            "opened_at",
            "closed_at",
            "deadlines",
            "rules",
        ]

    def get_rules(self, interaction: Interaction) -> dict[str, str]:
        # A rule broken once stays broken for the matter (a late holding reply does not undo a missed
        # reply); otherwise its latest clock speaks (a promised date's clock follows the first reply's).
        verdicts: dict[str, str] = {}
        for clock in sorted(interaction.clocks.all(), key=lambda c: c.opened_by_seq):
            if verdicts.get(clock.rule_id) != ClockState.BREACHED:
                verdicts[clock.rule_id] = clock.verdict(self.context["now"])
        return verdicts


class InteractionDetailSerializer(InteractionSerializer):
    events = EventSerializer(many=True, read_only=True)

    class Meta(InteractionSerializer.Meta):
        fields = [*InteractionSerializer.Meta.fields, "events"]


class TimestampedViewSetMixin:
    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["now"] = timezone.now()
        return context


class InteractionFilterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    state = serializers.ChoiceField(choices=InteractionState.choices, required=False)
    breached = serializers.BooleanField(required=False, allow_null=True, default=None)
    service = serializers.SlugField(required=False)
    opened_from = serializers.DateField(required=False)
    opened_to = serializers.DateField(required=False)


class ComplaintSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=4000)


@extend_schema_view(list=extend_schema(parameters=[InteractionFilterSerializer]))
class InteractionViewSet(TimestampedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [roles_allowed(*Role.values)]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return InteractionDetailSerializer if self.action == "retrieve" else InteractionSerializer

    def get_queryset(self) -> QuerySet[Interaction]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return Interaction.objects.none()
        filters = InteractionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = interaction_list(
            scope=interaction_scope(acting_user(self.request.user)),
            now=timezone.now(),
            **filters.validated_data,
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("events", queryset=Event.objects.order_by("seq")))
        return queryset

    @extend_schema(
        request=ComplaintSerializer,
        responses=InteractionSerializer,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def complaint(self, request: Request, pk: Any = None) -> Response:
        """Mark a matter as a complaint (COMPLAINT): the team leads are alerted at once and the outcome
        falls due by the close of the next working day. Marking twice changes nothing."""
        interaction = self.get_object()
        body = ComplaintSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaint_mark(
            interaction=interaction,
            by=acting_user(request.user),
            at=timezone.now(),
            note=body.validated_data["note"],
        )
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=OutcomeSerializer,
        responses=InteractionSerializer,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path="complaint-outcome")
    def complaint_outcome(self, request: Request, pk: Any = None) -> Response:
        """The client was told the outcome of their complaint (meets COMPLAINT)."""
        interaction = self.get_object()
        body = OutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        complaint_outcome_record(
            interaction=interaction,
            by=acting_user(request.user),
            at=timezone.now(),
            outcome=body.validated_data["outcome"],
        )
        return Response(self.get_serializer(self.get_object()).data)


class BreachSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule_id")
    interaction_reference = serializers.CharField(source="interaction.reference", read_only=True)
    unit: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner: serializers.StringRelatedField = serializers.StringRelatedField()
    reason: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reviews = serializers.SerializerMethodField()

    class Meta:
        model = Breach
        fields = [
            "id",
            "rule",
            "interaction",
            "withdrawn_at",
            "withdraw_reason",
            "interaction_reference",
            "due_at",
            "breached_at",
            "unit",
            "owner",
            "acknowledged_at",
            "acknowledged_by",
            "reason",
            "acknowledge_reason",
            "reviews",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_reviews(self, breach: Breach) -> list[dict[str, Any]]:
        """The audit trail: every acknowledgement and reclassification, in order."""
        return list(ReviewSerializer(breach.reviews.all(), many=True).data)


class BreachFilterSerializer(serializers.Serializer):
    rule = serializers.CharField(required=False)
    unit = serializers.SlugField(required=False)
    agent = serializers.IntegerField(required=False)
    breached_from = serializers.DateField(required=False)
    breached_to = serializers.DateField(required=False)
    withdrawn = serializers.BooleanField(
        required=False, default=False, help_text="include withdrawn breaches"
    )


class AcknowledgeSerializer(serializers.Serializer):
    reason = serializers.SlugField(help_text="A code from GET /api/breaches/reasons/")
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReclassifySerializer(serializers.Serializer):
    comment = serializers.CharField(min_length=3, max_length=2000)


class ReasonSerializer(serializers.ModelSerializer):
    acknowledged = serializers.IntegerField(read_only=True, help_text="breaches acknowledged with it")

    class Meta:
        model = BreachReason
        fields = ["code", "name_lv", "name_en", "acknowledged"]


class ReviewSerializer(serializers.ModelSerializer):
    reason: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)
    by: serializers.StringRelatedField = serializers.StringRelatedField()

    class Meta:
        model = BreachReview
        fields = ["action", "reason", "comment", "by", "at"]


@extend_schema_view(list=extend_schema(parameters=[BreachFilterSerializer]))
class BreachViewSet(viewsets.ReadOnlyModelViewSet):
    """Team leads see every breach; agents and handlers see the breaches of matters they own."""

    serializer_class = BreachSerializer
    permission_classes = [roles_allowed(Role.TEAM_LEAD, Role.PHONE_AGENT, Role.EMAIL_HANDLER)]

    def get_queryset(self) -> QuerySet[Breach]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request
            return Breach.objects.none()
        filters = BreachFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        rows = breach_list(scope=breach_scope(acting_user(self.request.user)), **filters.validated_data)
        return rows.select_related("reason").prefetch_related("reviews__reason", "reviews__by")

    @extend_schema(
        request=AcknowledgeSerializer,
        responses=BreachSerializer,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        """A team lead acknowledges a breach with a reason."""
        if not (request.user.is_staff or Role.TEAM_LEAD in user_roles(request.user)):
            raise PermissionDenied("Tikai komandas vadītājs / Team leads only")
        breach = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        breach = breach_acknowledge(
            breach=breach,
            by=acting_user(request.user),
            reason=breach_reason_get(body.validated_data["reason"]),
            comment=body.validated_data["comment"],
        )
        return Response(BreachSerializer(breach).data)

    @extend_schema(
        request=ReclassifySerializer,
        responses=BreachSerializer,
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def reclassify(self, request: Request, pk: Any = None) -> Response:
        """A team lead withdraws a breach that should not count, saying why (kept in `reviews`)."""
        if not (request.user.is_staff or Role.TEAM_LEAD in user_roles(request.user)):
            raise PermissionDenied("Tikai komandas vadītājs / Team leads only")
        breach = self.get_object()
        body = ReclassifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        breach = breach_reclassify(
            breach=breach, by=acting_user(request.user), comment=body.validated_data["comment"]
        )
        counts_after_review(breach.breached_at)
        return Response(BreachSerializer(breach).data)

    @extend_schema(
        responses=ReasonSerializer(many=True),
        parameters=[
            OpenApiParameter("breached_from", OpenApiTypes.DATE),
            OpenApiParameter("breached_to", OpenApiTypes.DATE),
        ],
    )
    @action(detail=False, methods=["get"])
    def reasons(self, request: Request) -> Response:
        """The reasons team leads choose from, each with how many breaches (in the period) it explains."""
        breaches = self.get_queryset().filter(reason__isnull=False)
        counts = dict(breaches.values_list("reason").annotate(n=Count("pk")).values_list("reason", "n"))
        reasons = BreachReason.objects.filter(active=True)
        rows = [
            {"code": r.code, "name_lv": r.name_lv, "name_en": r.name_en, "acknowledged": counts.get(r.pk, 0)}
            for r in reasons
        ]
        return Response(rows)

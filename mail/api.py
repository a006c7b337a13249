"""Mail API: replying from the product (`POST /api/interactions/{id}/reply`), and for team leads the
mailbox's state: checkpoints and last IDLE push, the quarantine, the outbox and delivery failures."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Role
from agents.permissions import acting_user, roles_allowed
from contact_centre.models import Event, EventKind, Interaction
from mail.ingest import quarantine_release
from mail.models import FolderCheckpoint, Mailbox, OutboundMail, OutboundState, QuarantinedMessage
from mail.replies import reply_queue
from sla.selectors import interaction_scope

TEAM_LEADS = roles_allowed(Role.TEAM_LEAD)


class ReplyRequestSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, max_length=100_000, trim_whitespace=False)
    promised_on = serializers.DateField(
        required=False, allow_null=True, help_text="A holding reply: the date the answer will come by"
    )
    template = serializers.SlugField(required=False, help_text="Template code; default: the reply template")
    complaint_outcome = serializers.BooleanField(
        default=False, help_text="The reply gives a complainant the outcome (meets COMPLAINT once sent)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["body"].strip() and not attrs.get("promised_on"):
            raise serializers.ValidationError({"body": "Atbildes teksts ir tukšs / The reply is empty"})
        return attrs


class OutboundSerializer(serializers.ModelSerializer):
    interaction_reference = serializers.CharField(
        source="interaction.reference", read_only=True, default=None
    )

    class Meta:
        model = OutboundMail
        fields = [
            "id",
            "kind",
            "interaction",
            "interaction_reference",
            "message_id",
            "to_address",
            "subject",
            "promised_on",
            "complaint_outcome",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
            "sent_at",
            "appended_to_sent_at",
        ]


class InteractionReplyView(APIView):
    """A handler replies (or sends a holding reply) from the product; it counts once it is sent."""

    permission_classes = [roles_allowed(Role.EMAIL_HANDLER, Role.TEAM_LEAD)]

    @extend_schema(request=ReplyRequestSerializer, responses={202: OutboundSerializer})
    def post(self, request: Request, pk: int) -> Response:
        user = acting_user(request.user)
        scope = interaction_scope(user)
        visible = Interaction.objects.filter(scope) if scope is not None else Interaction.objects.all()
        interaction = get_object_or_404(visible, pk=pk)
        body = ReplyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outbound = reply_queue(
            interaction=interaction,
            author=user,
            body=body.validated_data["body"],
            promised_on=body.validated_data.get("promised_on"),
            template_code=body.validated_data.get("template"),
            complaint_outcome=body.validated_data["complaint_outcome"],
        )
        return Response(OutboundSerializer(outbound).data, status=status.HTTP_202_ACCEPTED)


class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = FolderCheckpoint
        fields = [
            "folder",
            "role",
            "imap_uidvalidity",
            "last_uid",
            "uidvalidity_changes",
            "last_scan_at",
            "last_idle_event_at",
        ]


class MailboxSerializer(serializers.ModelSerializer):
    checkpoints = CheckpointSerializer(many=True, read_only=True)
    quarantined = serializers.IntegerField(read_only=True)
    outbound_queued = serializers.SerializerMethodField()
    outbound_failed = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = [
            "id",
            "address",
            "auto_acknowledge",
            "feedback_url",
            "connected_at",
            "heartbeat_at",
            "last_error",
            "last_error_at",
            "checkpoints",
            "quarantined",
            "outbound_queued",
            "outbound_failed",
        ]

    # One outbox per deployment, not per mailbox row: every mailbox shows it.
    def get_outbound_queued(self, mailbox: Mailbox) -> int:
        return OutboundMail.objects.filter(state=OutboundState.QUEUED).count()

    def get_outbound_failed(self, mailbox: Mailbox) -> int:
        return OutboundMail.objects.filter(state=OutboundState.FAILED).count()


class MailboxViewSet(viewsets.ReadOnlyModelViewSet):
    """The watched mailbox: checkpoints per folder, last IDLE push, heartbeat, counts (team leads)."""

    serializer_class = MailboxSerializer
    permission_classes = [TEAM_LEADS]

    def get_queryset(self) -> QuerySet[Mailbox]:
        unreleased = Q(quarantine__released_at__isnull=True)
        return Mailbox.objects.prefetch_related("checkpoints").annotate(
            quarantined=Count("quarantine", filter=unreleased)
        )


class QuarantineSerializer(serializers.ModelSerializer):
    size = serializers.SerializerMethodField()

    class Meta:
        model = QuarantinedMessage
        fields = [
            "id",
            "folder",
            "imap_uidvalidity",
            "imap_uid",
            "received_at",
            "reason",
            "size",
            "raw_sha256",
            "quarantined_at",
            "released_at",
        ]

    def get_size(self, row: QuarantinedMessage) -> int:
        return len(row.raw)  # a quarantined message's raw bytes are always there


class QuarantineViewSet(viewsets.ReadOnlyModelViewSet):
    """Messages that could not be recorded, with the reason (team leads). `release` records one again."""

    serializer_class = QuarantineSerializer
    permission_classes = [TEAM_LEADS]

    def get_queryset(self) -> QuerySet[QuarantinedMessage]:
        rows = QuarantinedMessage.objects.defer("raw")
        if self.request.query_params.get("released") not in ("1", "true"):
            rows = rows.filter(released_at__isnull=True)
        return rows

    @extend_schema(request=None, responses=QuarantineSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: Any = None) -> Response:
        """Try to record the message again (after a fix); it stays quarantined if it still fails."""
        row = get_object_or_404(QuarantinedMessage, pk=pk)
        outcome = quarantine_release(row)
        row.refresh_from_db()
        data = QuarantineSerializer(row).data | {"outcome": outcome}
        return Response(data)

    @extend_schema(responses={(200, "message/rfc822"): bytes})
    @action(detail=True, methods=["get"])
    def raw(self, request: Request, pk: Any = None) -> Response:
        """The message as it came, for a closer look (served as an attachment, never rendered)."""
        row = get_object_or_404(QuarantinedMessage, pk=pk)
        response = HttpResponse(bytes(row.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="quarantine-{row.pk}.eml"'
        return response  # type: ignore[return-value]


class OutboundFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=OutboundState.choices, required=False)


class OutboundViewSet(viewsets.ReadOnlyModelViewSet):
    """The outbox: what was sent, what waits for a retry (and why), what was refused (team leads)."""

    serializer_class = OutboundSerializer
    permission_classes = [TEAM_LEADS]

    @extend_schema(parameters=[OutboundFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[OutboundMail]:
        filters = OutboundFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        rows = OutboundMail.objects.select_related("interaction").defer("raw")
        if (scope := _matters_in_scope(self.request)) is not None:
            rows = rows.filter(Q(interaction__isnull=True) | Q(interaction__in=scope))
        if state := filters.validated_data.get("state"):
            rows = rows.filter(state=state)
        return rows


class DeliveryFailureSerializer(serializers.ModelSerializer):
    interaction_reference = serializers.CharField(source="interaction.reference", read_only=True)

    class Meta:
        model = Event
        fields = ["seq", "interaction", "interaction_reference", "occurred_at", "payload"]


class DeliveryFailureViewSet(viewsets.ReadOnlyModelViewSet):
    """Our messages that bounced or were refused, newest first (team leads)."""

    serializer_class = DeliveryFailureSerializer
    permission_classes = [TEAM_LEADS]
    lookup_field = "seq"

    def get_queryset(self) -> QuerySet[Event]:
        events = Event.objects.filter(kind=EventKind.EMAIL_DELIVERY_FAILED)
        if (scope := _matters_in_scope(self.request)) is not None:
            events = events.filter(interaction__in=scope)
        return events.select_related("interaction").order_by("-seq")


def _matters_in_scope(request: Request) -> QuerySet[Interaction] | None:
    """The interactions the user may see (a team lead: their units' and unrouted ones); None: all."""
    if not request.user.is_authenticated:  # schema generation has no user
        return Interaction.objects.none()
    scope = interaction_scope(acting_user(request.user))
    return None if scope is None else Interaction.objects.filter(scope)

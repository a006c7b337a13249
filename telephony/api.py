"""API of the line: messages taken for absent colleagues (PH-ABSENT) and callbacks (PH-CALLBACK).

- `POST /api/interactions/{id}/messages/`: a colleague who answered a call takes a message for someone.
- `GET /api/messages/`: the messages for me, as the absent agent or as their substitute.
- `POST /api/messages/{seq}/handled/`: the message was dealt with.
- `POST /api/interactions/{id}/callback/`: the caller who pressed 1 was called back.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.models import Person, Role
from agents.permissions import acting_user, roles_allowed
from agents.selectors import person_covered_by
from contact_centre.models import Channel, Event, Interaction
from contact_centre.selectors import messages_for, messages_handled
from contact_centre.services import callback_made, message_handle, message_take
from sla.selectors import interaction_scope

LINE_ROLES = (Role.PHONE_AGENT, Role.TEAM_LEAD)


class MessageInSerializer(serializers.Serializer[dict[str, Any]]):
    for_person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.all())
    text = serializers.CharField(max_length=4000)
    callback_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class MessageSerializer(serializers.ModelSerializer):
    interaction_reference = serializers.CharField(source="interaction.reference", read_only=True)
    caller = serializers.CharField(source="interaction.client_contact", read_only=True)
    for_person_id = serializers.IntegerField(source="payload.for_person_id", read_only=True)
    substitute_id = serializers.IntegerField(source="payload.substitute_id", read_only=True, allow_null=True)
    text = serializers.CharField(source="payload.text", read_only=True)
    callback_number = serializers.CharField(source="payload.callback_number", read_only=True)
    taken_by = serializers.CharField(source="actor.get_full_name", read_only=True, default="")
    handled = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = [
            "seq",
            "interaction",
            "interaction_reference",
            "caller",
            "occurred_at",
            "for_person_id",
            "substitute_id",
            "text",
            "callback_number",
            "taken_by",
            "handled",
        ]

    def get_handled(self, message: Event) -> bool:
        return message.seq in self.context.get("handled", set())


class NoteSerializer(serializers.Serializer[dict[str, Any]]):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def _phone_interaction(request: Request, pk: Any) -> Interaction:
    """A phone matter the user may see (404 otherwise, so existence is not disclosed)."""
    rows = Interaction.objects.filter(channel=Channel.PHONE)
    scope = interaction_scope(acting_user(request.user))
    if scope is not None:
        rows = rows.filter(scope)
    return get_object_or_404(rows, pk=pk)


class InteractionMessagesView(APIView):
    permission_classes = [roles_allowed(*LINE_ROLES)]

    @extend_schema(request=MessageInSerializer, responses={201: MessageSerializer})
    def post(self, request: Request, pk: Any) -> Response:
        interaction = _phone_interaction(request, pk)
        serializer = MessageInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        now = timezone.now()
        coverage = person_covered_by(data["for_person"], now)
        message = message_take(
            interaction=interaction,
            for_person=data["for_person"],
            substitute=coverage.covered_by if coverage.covered_by != data["for_person"] else None,
            text=data["text"],
            callback_number=data["callback_number"],
            taken_by=acting_user(request.user),
            at=now,
            request_key=request.headers.get("Idempotency-Key", "")[:200],
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class CallbackView(APIView):
    permission_classes = [roles_allowed(*LINE_ROLES)]

    @extend_schema(request=NoteSerializer, responses={200: None})
    def post(self, request: Request, pk: Any) -> Response:
        interaction = _phone_interaction(request, pk)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = callback_made(
            interaction=interaction,
            by=acting_user(request.user),
            at=timezone.now(),
            note=serializer.validated_data["note"],
        )
        return Response({"seq": event.seq, "occurred_at": event.occurred_at})


class MessageViewSet(viewsets.GenericViewSet[Event]):
    """Messages taken for me (`?all=true` includes those already dealt with)."""

    serializer_class = MessageSerializer
    permission_classes = [roles_allowed(*LINE_ROLES)]
    lookup_field = "seq"
    lookup_value_regex = r"\d+"
    queryset = Event.objects.none()  # for the schema; get_queryset scopes the rows to the user

    def get_queryset(self) -> QuerySet[Event]:
        person = Person.objects.filter(user=acting_user(self.request.user)).first()
        return Event.objects.none() if person is None else messages_for(person)

    def list(self, request: Request) -> Response:
        rows = self.get_queryset()
        handled = messages_handled(rows)
        if request.query_params.get("all") != "true":
            rows = rows.exclude(seq__in=handled)
        page = self.paginate_queryset(rows)
        serializer = MessageSerializer(page, many=True, context={"handled": handled})
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=NoteSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def handled(self, request: Request, seq: Any = None) -> Response:
        message = self.get_queryset().filter(seq=seq).first()
        if message is None:
            raise NotFound
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message_handle(
            message=message,
            by=acting_user(request.user),
            at=timezone.now(),
            note=serializer.validated_data["note"],
        )
        return Response(MessageSerializer(message, context={"handled": {message.seq}}).data)

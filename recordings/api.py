"""Recordings for quality officers and team leads: the list, replay grants, the audio with HTTP Range,
legal holds, and the audit log for admins (DATA, PH-REC)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.permissions import acting_user
from agents.selectors import user_roles
from contact_centre.models import Interaction
from recordings.governance import REPLAY_ROLES, legal_hold_set, replay_grant, replay_open
from recordings.models import Recording, RecordingAudit
from recordings.ranges import RangeNotSatisfiable, byte_range, file_chunks

PH_RING = "PH-RING"


class ReplayRolesOnly(BasePermission):
    """Quality officers and team leads, and nobody else: no staff bypass for client audio (DATA)."""

    message = "Ierakstus drīkst atskaņot tikai kvalitātes speciālisti un komandu vadītāji / Not your role"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user and request.user.is_authenticated and user_roles(request.user) & REPLAY_ROLES
        )


class RecordingSerializer(serializers.ModelSerializer[Recording]):
    reference = serializers.CharField(source="interaction.reference", read_only=True)
    agent_name = serializers.SerializerMethodField()
    ring_verdict = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "interaction",
            "reference",
            "agent",
            "agent_name",
            "started_at",
            "duration_ms",
            "format",
            "sample_rate",
            "channels",
            "size_bytes",
            "sha256",
            "loud_fraction",
            "legal_hold",
            "purged_at",
            "ring_verdict",
        ]

    def get_agent_name(self, recording: Recording) -> str:
        return (
            recording.agent.user.get_full_name() or recording.agent.user.username if recording.agent else ""
        )

    def get_ring_verdict(self, recording: Recording) -> str | None:
        """PH-RING of the call: `met` when answered by the third ring, else `breached`."""
        met: bool | None = getattr(recording, "ring_met", None)
        return None if met is None else ("met" if met else "breached")


class RecordingFilterSerializer(serializers.Serializer[dict[str, Any]]):
    agent = serializers.IntegerField(required=False)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    verdict = serializers.ChoiceField(choices=["met", "breached"], required=False)
    min_seconds = serializers.IntegerField(required=False, min_value=0)
    max_seconds = serializers.IntegerField(required=False, min_value=0)


def recordings_filtered(params: dict[str, Any]) -> QuerySet[Recording]:
    ring_met = Interaction.objects.filter(
        pk=OuterRef("interaction_id"), clocks__rule_id=PH_RING, clocks__state="met"
    )
    rows = Recording.objects.select_related("interaction", "agent__user").annotate(ring_met=Exists(ring_met))
    if "agent" in params:
        rows = rows.filter(agent_id=params["agent"])
    if "since" in params:
        rows = rows.filter(started_at__date__gte=params["since"])
    if "until" in params:
        rows = rows.filter(started_at__date__lte=params["until"])
    if "verdict" in params:
        rows = rows.filter(ring_met=params["verdict"] == "met")
    if "min_seconds" in params:
        rows = rows.filter(duration_ms__gte=params["min_seconds"] * 1000)
    if "max_seconds" in params:
        rows = rows.filter(duration_ms__lte=params["max_seconds"] * 1000)
    return rows


class GrantRequestSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=2000)
    download = serializers.BooleanField(default=False)


class GrantSerializer(serializers.ModelSerializer[RecordingAudit]):
    audio_url = serializers.SerializerMethodField()

    class Meta:
        model = RecordingAudit
        fields = ["id", "action", "at", "reason", "token", "expires_at", "audio_url"]

    def get_audio_url(self, grant: RecordingAudit) -> str:
        return f"/api/recordings/{grant.recording_id}/audio?grant={grant.token}"


class HoldSerializer(serializers.Serializer[dict[str, Any]]):
    hold = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000)


def _client_address(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class RecordingViewSet(viewsets.ReadOnlyModelViewSet[Recording]):
    """Recordings by agent, date, PH-RING verdict and duration; a play or download needs a reason first."""

    serializer_class = RecordingSerializer
    permission_classes = [ReplayRolesOnly]

    def get_queryset(self) -> QuerySet[Recording]:
        if getattr(self, "swagger_fake_view", False):
            return Recording.objects.none()
        filters = RecordingFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return recordings_filtered(filters.validated_data)

    @extend_schema(request=GrantRequestSerializer, responses={201: GrantSerializer})
    @action(detail=True, methods=["post"])
    def replays(self, request: Request, pk: Any = None) -> Response:
        """Grant a play (or a download) for a reason; the answer carries the audio URL to use."""
        body = GrantRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        grant = replay_grant(
            recording=self.get_object(),
            user=acting_user(request.user),
            reason=body.validated_data["reason"],
            download=body.validated_data["download"],
            client_address=_client_address(request),
        )
        return Response(GrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HoldSerializer, responses=RecordingSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request: Request, pk: Any = None) -> Response:
        """Set or release a legal hold (kept past retention), with a reason."""
        body = HoldSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        legal_hold_set(
            recording=self.get_object(),
            by=acting_user(request.user),
            hold=body.validated_data["hold"],
            reason=body.validated_data["reason"],
        )
        return Response(RecordingSerializer(self.get_queryset().get(pk=pk)).data)


class RecordingAudioView(APIView):
    """`GET /api/recordings/{id}/audio?grant=TOKEN`: the FLAC, with HTTP Range (seeking in the player).

    `?reason=…` instead of a grant grants and serves in one request (scripts); either way the request is
    counted on its logged grant.
    """

    permission_classes = [ReplayRolesOnly]

    @extend_schema(
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter("grant", str, description="The token from POST …/replays/"),
            OpenApiParameter("reason", str, description="Or: a reason, granting a play on the spot"),
        ],
        responses={(200, "audio/flac"): OpenApiTypes.BINARY, (206, "audio/flac"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        user = acting_user(request.user)
        recording = get_object_or_404(Recording, pk=pk)
        token = request.query_params.get("grant", "")
        if not token:
            reason = request.query_params.get("reason", "")
            token = (
                replay_grant(
                    recording=recording, user=user, reason=reason, client_address=_client_address(request)
                ).token
                or ""
            )
        size = recording.size_bytes  # taken when stored; the grant check below refuses a purged one
        try:
            wanted = byte_range(request.headers.get("Range"), size)
        except RangeNotSatisfiable:
            refused = HttpResponse(status=status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE)
            refused["Content-Range"] = f"bytes */{size}"
            return refused
        first, length = (wanted.first, wanted.length) if wanted else (0, size)
        grant = replay_open(recording=recording, user=user, token=token, length=length)
        response = StreamingHttpResponse(
            file_chunks(recording.file_path(), first, length),
            status=status.HTTP_206_PARTIAL_CONTENT if wanted else status.HTTP_200_OK,
            content_type="audio/flac",
        )
        response["Content-Length"] = str(length)
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = "private, no-store"  # client audio stays out of shared caches
        if wanted:
            response["Content-Range"] = f"bytes {wanted.first}-{wanted.last}/{size}"
        if grant.action == "download":
            reference = recording.interaction.reference or f"call-{recording.interaction_id}"
            response["Content-Disposition"] = f'attachment; filename="{reference}.flac"'
        return response


class AuditSerializer(serializers.ModelSerializer[RecordingAudit]):
    username = serializers.CharField(source="user.username", default=None, read_only=True)

    class Meta:
        model = RecordingAudit
        fields = [
            "id",
            "recording",
            "action",
            "at",
            "username",
            "reason",
            "client_address",
            "requests",
            "bytes_served",
            "last_request_at",
            "detail",
        ]


class RecordingAuditViewSet(viewsets.ReadOnlyModelViewSet[RecordingAudit]):
    """The replay and retention audit log, for admins (`?recording=`, `?user=`)."""

    serializer_class = AuditSerializer
    permission_classes = [IsAdminUser]

    def get_queryset(self) -> QuerySet[RecordingAudit]:
        rows = RecordingAudit.objects.select_related("user")
        params = self.request.query_params
        if params.get("recording", "").isdigit():
            rows = rows.filter(recording_id=int(params["recording"]))
        if params.get("user", "").isdigit():
            rows = rows.filter(user_id=int(params["user"]))
        return rows

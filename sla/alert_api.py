"""The in-product side of alerts: `/api/notifications/` (mine, delivered), read marks, and a team lead's
choice to get alerts at once outside office hours (`/api/notifications/preferences/`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Role
from agents.permissions import acting_user, roles_allowed
from agents.selectors import user_roles
from sla.models import Alert, AlertPreference


class AlertSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="interaction.reference", read_only=True, default=None)

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "rule_id",
            "interaction",
            "reference",
            "percent",
            "due_at",
            "subject",
            "body",
            "deliver_at",
            "read_at",
            "email_state",
        ]


class PreferenceSerializer(serializers.Serializer[dict[str, Any]]):
    immediate = serializers.BooleanField()


@extend_schema(parameters=[OpenApiParameter("unread", bool, description="only alerts not read yet")])
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Alert]):
    """My alerts that have been delivered (those raised outside office hours appear at the next opening)."""

    serializer_class = AlertSerializer
    permission_classes = [roles_allowed(*Role.values)]
    queryset = Alert.objects.none()  # for the schema; get_queryset scopes the rows to the user

    def get_queryset(self) -> QuerySet[Alert]:
        rows = Alert.objects.filter(recipient=acting_user(self.request.user), deliver_at__lte=timezone.now())
        if self.request.query_params.get("unread") == "true":
            rows = rows.filter(read_at__isnull=True)
        return rows.select_related("interaction")

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: Any = None) -> Response:
        alert = self.get_object()
        if alert.read_at is None:  # idempotent: the first read time stays
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    @action(detail=False, methods=["get", "put"])
    def preferences(self, request: Request) -> Response:
        """Team leads may ask for alerts at once, even outside office hours."""
        user = acting_user(request.user)
        if request.method == "GET":
            immediate = AlertPreference.objects.filter(user=user, immediate=True).exists()
            return Response({"immediate": immediate})
        if not (user.is_staff or Role.TEAM_LEAD in user_roles(user)):
            raise PermissionDenied("Tikai komandu vadītājiem / Team leads only")
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        AlertPreference.objects.update_or_create(user=user, defaults=serializer.validated_data)
        return Response(serializer.validated_data)

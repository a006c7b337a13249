"""API for people, their absences and their availability on the line:
`/api/agents/`, `/api/agents/{id}/absences/`, `/api/agents/{id}/status/`."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Absence, AbsenceKind, AgentState, AgentStatus, Person, Role
from agents.permissions import acting_user, roles_allowed
from agents.selectors import user_roles
from agents.services import absence_create, agent_state_set, agent_status_get

ALL_ROLES = tuple(Role.values)


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)
    unit: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name", "unit", "position", "extension"]


class AbsenceSerializer(serializers.ModelSerializer):
    substitute = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=AbsenceKind.choices)

    class Meta:
        model = Absence
        fields = [
            "id",
            "person",
            "kind",
            "starts_at",
            "ends_at",
            "substitute",
            "forward_number",
            "note",
            "created_at",
        ]
        read_only_fields = ["id", "person", "created_at"]


class AgentStatusSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=AgentState.choices)
    in_call = serializers.SerializerMethodField()
    registered = serializers.SerializerMethodField()

    class Meta:
        model = AgentStatus
        fields = [
            "state",
            "state_since",
            "in_call",
            "in_call_since",
            "wrap_up_until",
            "last_offered_at",
            "registered",
            "registered_contact",
            "registered_until",
        ]
        read_only_fields = [name for name in fields if name != "state"]

    def get_in_call(self, status: AgentStatus) -> bool:
        return bool(status.in_call)

    def get_registered(self, status: AgentStatus) -> bool:
        """Whether the agent's phone is registered with the line's registrar right now."""
        until = status.registered_until
        return bool(status.registered_contact) and until is not None and until > timezone.now()


def _may_manage_absences(request: Request, person: Person) -> bool:
    """The person themselves, a lead of their unit, or a staff admin."""
    user = request.user
    if user.is_staff or person.user_id == user.pk:
        return True
    if Role.TEAM_LEAD not in user_roles(user) or person.unit is None:
        return False
    return person.unit.leads.filter(user=user).exists()


class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    """Colleagues (for choosing a substitute); absences of one person under `absences/`."""

    serializer_class = PersonSerializer
    permission_classes = [roles_allowed(*ALL_ROLES)]
    queryset = Person.objects.select_related("user", "unit").order_by("pk")

    @extend_schema(request=AbsenceSerializer, responses=AbsenceSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="absences")
    def absences(self, request: Request, pk: Any = None) -> Response:
        person = get_object_or_404(Person.objects.select_related("unit"), pk=pk)
        if not _may_manage_absences(request, person):
            raise PermissionDenied(
                "Tikai pats darbinieks vai viņa vadītājs / Only the person or their team lead"
            )
        if request.method == "GET":
            rows = person.absences.select_related("substitute__user").order_by("starts_at")
            return Response(AbsenceSerializer(rows, many=True).data)
        serializer = AbsenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        absence = absence_create(
            person=person, created_by=acting_user(request.user), **serializer.validated_data
        )
        return Response(AbsenceSerializer(absence).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AgentStatusSerializer, responses=AgentStatusSerializer)
    @action(detail=True, methods=["get", "put", "patch"], url_path="status")
    def availability(self, request: Request, pk: Any = None) -> Response:
        """An agent's availability (available, break, wrap-up, offline); set by the agent or their lead."""
        person = get_object_or_404(Person.objects.select_related("unit"), pk=pk)
        if not _may_manage_absences(request, person):
            raise PermissionDenied(
                "Tikai pats darbinieks vai viņa vadītājs / Only the person or their team lead"
            )
        now = timezone.now()
        if request.method == "GET":
            return Response(AgentStatusSerializer(agent_status_get(person, now)).data)
        serializer = AgentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = agent_state_set(person=person, state=serializer.validated_data["state"], at=now)
        return Response(AgentStatusSerializer(updated).data)

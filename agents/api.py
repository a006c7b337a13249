"""API for people and their absences: `/api/agents/`, `/api/agents/{id}/absences/`."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Absence, AbsenceKind, Person, Role
from agents.permissions import acting_user, roles_allowed
from agents.selectors import user_roles
from agents.services import absence_create

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

"""QA scorecards over the API: templates, scorecards (draft, submit, acknowledge, dispute, resolve) and
score trends per agent. Rights are checked by the services in recordings.scorecards; the list shows each
user what they may read."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents.models import Role
from agents.permissions import acting_user, roles_allowed
from recordings.models import (
    Recording,
    Scorecard,
    ScorecardAcknowledgement,
    ScorecardAnswer,
    ScorecardDispute,
    ScorecardItem,
    ScorecardQuerySet,
    ScorecardState,
    ScorecardTemplate,
)
from recordings.scorecards import (
    TREND_MAX_DAYS,
    AnswerInput,
    score_trends,
    scorecard_acknowledge,
    scorecard_answer,
    scorecard_create,
    scorecard_dispute,
    scorecard_dispute_resolve,
    scorecard_list,
    scorecard_submit,
    scorecards_visible,
    trend_agent,
)

# Agents read their own submitted scorecards and trends; the services refuse them everything else.
ScorecardRoles = roles_allowed(Role.QUALITY_OFFICER, Role.TEAM_LEAD, Role.PHONE_AGENT)
STATES = "draft | submitted | acknowledged | disputed | superseded"


class ScorecardItemSerializer(serializers.ModelSerializer[ScorecardItem]):
    kind = serializers.CharField(help_text="yes_no (answer 1 or 0) | scale (0..scale_max)")

    class Meta:
        model = ScorecardItem
        fields = ["id", "position", "code", "text_lv", "text_en", "rule_id", "weight", "kind", "scale_max"]


class ScorecardTemplateSerializer(serializers.ModelSerializer[ScorecardTemplate]):
    items = ScorecardItemSerializer(many=True, read_only=True)

    class Meta:
        model = ScorecardTemplate
        fields = ["id", "code", "name_lv", "name_en", "active", "version", "items"]


class AnswerSerializer(serializers.ModelSerializer[ScorecardAnswer]):
    """An answer with its item as answered (for a submitted scorecard: as it was when submitted)."""

    position = serializers.IntegerField(source="item_position")
    code = serializers.CharField(source="item_code")
    text_lv = serializers.CharField(source="item_text_lv")
    text_en = serializers.CharField(source="item_text_en")
    rule_id = serializers.CharField(source="item_rule_id")
    kind = serializers.CharField(source="item_kind")
    scale_max = serializers.IntegerField(source="item_scale_max")
    weight = serializers.IntegerField(source="item_weight")

    class Meta:
        model = ScorecardAnswer
        fields = [
            "item",
            "position",
            "code",
            "text_lv",
            "text_en",
            "rule_id",
            "kind",
            "scale_max",
            "weight",
            "value",
            "note",
        ]


class AcknowledgementSerializer(serializers.ModelSerializer[ScorecardAcknowledgement]):
    class Meta:
        model = ScorecardAcknowledgement
        fields = ["by", "at"]


class DisputeSerializer(serializers.ModelSerializer[ScorecardDispute]):
    state = serializers.CharField(help_text="open | upheld | rejected")
    resolved_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ScorecardDispute
        fields = [
            "raised_by",
            "raised_at",
            "comment",
            "state",
            "resolved_by",
            "resolved_by_name",
            "resolved_at",
            "resolution",
        ]

    def get_resolved_by_name(self, dispute: ScorecardDispute) -> str:
        lead = dispute.resolved_by
        return (lead.get_full_name() or lead.username) if lead else ""


class ScorecardSerializer(serializers.ModelSerializer[Scorecard]):
    agent = serializers.IntegerField(source="recording.agent_id", allow_null=True)
    agent_name = serializers.SerializerMethodField()
    template_code = serializers.CharField(source="template.code")
    officer_name = serializers.SerializerMethodField()
    score = serializers.FloatField(allow_null=True, help_text="Weighted total in per cent, once submitted")
    state = serializers.CharField(help_text=STATES)
    superseded_by = serializers.SerializerMethodField()
    answers = AnswerSerializer(many=True)
    acknowledgement = AcknowledgementSerializer(allow_null=True, default=None)
    dispute = DisputeSerializer(allow_null=True, default=None)

    class Meta:
        model = Scorecard
        fields = [
            "id",
            "recording",
            "agent",
            "agent_name",
            "template",
            "template_code",
            "template_version",
            "officer",
            "officer_name",
            "created_at",
            "submitted_at",
            "score",
            "comment",
            "state",
            "supersedes",
            "superseded_by",
            "answers",
            "acknowledgement",
            "dispute",
        ]
        read_only_fields = fields

    def get_agent_name(self, card: Scorecard) -> str:
        agent = card.recording.agent
        return (agent.user.get_full_name() or agent.user.username) if agent else ""

    def get_officer_name(self, card: Scorecard) -> str:
        return card.officer.get_full_name() or card.officer.username

    def get_superseded_by(self, card: Scorecard) -> int | None:
        successor: Scorecard | None = getattr(card, "successor", None)
        return successor.pk if successor else None


class ScorecardCreateSerializer(serializers.Serializer[dict[str, Any]]):
    recording = serializers.PrimaryKeyRelatedField(queryset=Recording.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=ScorecardTemplate.objects.all(), required=False, help_text="Default: the PH-GREET form"
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class AnswerInputSerializer(serializers.Serializer[dict[str, Any]]):
    item = serializers.IntegerField()
    value = serializers.IntegerField(min_value=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ScorecardPatchSerializer(serializers.Serializer[dict[str, Any]]):
    answers = AnswerInputSerializer(many=True, required=False, default=list)
    comment = serializers.CharField(required=False, allow_blank=True)


class DisputeRequestSerializer(serializers.Serializer[dict[str, Any]]):
    comment = serializers.CharField(max_length=4000)


class ResolveRequestSerializer(serializers.Serializer[dict[str, Any]]):
    upheld = serializers.BooleanField()
    comment = serializers.CharField(max_length=4000)


class ScorecardFilterSerializer(serializers.Serializer[dict[str, Any]]):
    recording = serializers.IntegerField(required=False)
    agent = serializers.IntegerField(required=False)
    state = serializers.ChoiceField(choices=ScorecardState.values, required=False)


class TrendQuerySerializer(serializers.Serializer[dict[str, Any]]):
    """`from` is a Python keyword, so the date fields get their names in get_fields."""

    first = serializers.DateField(source="first")
    last = serializers.DateField(source="last")
    period = serializers.ChoiceField(choices=["week", "month"], default="week")
    agent = serializers.IntegerField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"], fields["to"] = fields.pop("first"), fields.pop("last")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        days = (attrs["last"] - attrs["first"]).days + 1
        if not 0 < days <= TREND_MAX_DAYS:
            raise serializers.ValidationError(
                {"to": f"No 1 līdz {TREND_MAX_DAYS} dienām, ne pirms 'from' / 1 to {TREND_MAX_DAYS} days"}
            )
        return attrs


class TrendPointSerializer(serializers.Serializer[Any]):
    period_start = serializers.DateField(help_text="The week's Monday or the month's 1st (Riga)")
    scorecards = serializers.IntegerField()
    average_score = serializers.FloatField()


class AgentTrendSerializer(serializers.Serializer[Any]):
    agent = serializers.IntegerField(source="agent_id")
    name = serializers.CharField()
    points = TrendPointSerializer(many=True)


class TrendsSerializer(serializers.Serializer[Any]):
    period = serializers.CharField()
    agents = AgentTrendSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"from": serializers.DateField(), "to": serializers.DateField(), **super().get_fields()}


class ScorecardTemplateViewSet(viewsets.ReadOnlyModelViewSet[ScorecardTemplate]):
    """The scorecard forms with their items (`?all=true` with the inactive ones); edited in the admin."""

    serializer_class = ScorecardTemplateSerializer
    permission_classes = [ScorecardRoles]

    def get_queryset(self) -> Any:
        rows = ScorecardTemplate.objects.prefetch_related("items")
        if self.action == "list" and self.request.query_params.get("all") != "true":
            rows = rows.filter(active=True)
        return rows


class ScorecardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Scorecard]):
    """QA scorecards per recording: quality officers fill them in and submit them, the recording's agent
    acknowledges or disputes them, team leads resolve disputes."""

    serializer_class = ScorecardSerializer
    permission_classes = [ScorecardRoles]

    def get_queryset(self) -> ScorecardQuerySet:
        if getattr(self, "swagger_fake_view", False):
            return Scorecard.objects.none()
        user = acting_user(self.request.user)
        if self.action != "list":
            return scorecards_visible(user)
        filters = ScorecardFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        return scorecard_list(
            user=user,
            recording_id=params.get("recording"),
            agent_id=params.get("agent"),
            state=params.get("state"),
        )

    def _shown(self, card: Scorecard, code: int = status.HTTP_200_OK) -> Response:
        return Response(ScorecardSerializer(self.get_queryset().get(pk=card.pk)).data, status=code)

    @extend_schema(
        parameters=[OpenApiParameter("state", str, enum=ScorecardState.values)],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Filter `recording`, `agent` (the recording's agent) and `state`."""
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ScorecardCreateSerializer, responses={201: ScorecardSerializer})
    def create(self, request: Request) -> Response:
        """Open a draft for a recording (the same officer asking again gets their draft)."""
        body = ScorecardCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card = scorecard_create(officer=acting_user(request.user), **body.validated_data)
        return self._shown(card, status.HTTP_201_CREATED)

    @extend_schema(request=ScorecardPatchSerializer, responses=ScorecardSerializer)
    def partial_update(self, request: Request, pk: Any = None) -> Response:
        """Answers `[{"item", "value", "note"}]` and the comment, while a draft."""
        body = ScorecardPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers = [
            AnswerInput(row["item"], row["value"], row["note"]) for row in body.validated_data["answers"]
        ]
        card = scorecard_answer(
            scorecard=self.get_object(),
            officer=acting_user(request.user),
            answers=answers,
            comment=body.validated_data.get("comment"),
        )
        return self._shown(card)

    @extend_schema(request=None, responses=ScorecardSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: Any = None) -> Response:
        """Submit: the score is computed and the scorecard never changes again."""
        return self._shown(scorecard_submit(scorecard=self.get_object(), officer=acting_user(request.user)))

    @extend_schema(request=None, responses=ScorecardSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: Any = None) -> Response:
        """The recording's agent has seen the scorecard."""
        card = self.get_object()
        scorecard_acknowledge(scorecard=card, user=acting_user(request.user))
        return self._shown(card)

    @extend_schema(request=DisputeRequestSerializer, responses=ScorecardSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request: Request, pk: Any = None) -> Response:
        """The recording's agent disputes the scorecard, saying why."""
        body = DisputeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card = self.get_object()
        scorecard_dispute(
            scorecard=card, user=acting_user(request.user), comment=body.validated_data["comment"]
        )
        return self._shown(card)

    @extend_schema(request=ResolveRequestSerializer, responses=ScorecardSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: Any = None) -> Response:
        """A team lead upholds (a new draft supersedes it: `superseded_by`) or rejects the dispute."""
        body = ResolveRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card = self.get_object()
        scorecard_dispute_resolve(scorecard=card, by=acting_user(request.user), **body.validated_data)
        return self._shown(card)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First Riga day of calls"),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last Riga day of calls"),
            OpenApiParameter("period", str, enum=["week", "month"], description="Default: week"),
            OpenApiParameter("agent", OpenApiTypes.INT, description="One agent (a person id)"),
        ],
        responses=TrendsSerializer,
    )
    @action(detail=False, methods=["get"])
    def trends(self, request: Request) -> Response:
        """Average score per agent per week or month (agents: their own)."""
        params = TrendQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = params.validated_data
        agent_id = trend_agent(user=acting_user(request.user), agent_id=query.get("agent"))
        agents = score_trends(
            agent_id=agent_id, first=query["first"], last=query["last"], period=query["period"]
        )
        report = {"from": query["first"], "to": query["last"], "period": query["period"], "agents": agents}
        return Response(TrendsSerializer(report).data)

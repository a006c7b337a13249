"""Recording routes under /api/: the list and its actions, the audio, the audit log, quality scorecards."""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from recordings.api import RecordingAudioView, RecordingAuditViewSet, RecordingViewSet
from recordings.scorecard_api import ScorecardTemplateViewSet, ScorecardViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("recordings", RecordingViewSet, basename="recording")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("scorecard-templates", ScorecardTemplateViewSet, basename="scorecard-template")

urlpatterns = [
    re_path(r"^recordings/(?P<pk>\d+)/audio/?$", RecordingAudioView.as_view(), name="recording-audio"),
    # Before the router, whose recording detail route would take "audit" for an id.
    path("recordings/audit/", RecordingAuditViewSet.as_view({"get": "list"}), name="recording-audit"),
    path("", include(router.urls)),
]

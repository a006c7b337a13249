"""Routes of the channels recorded by hand (included under api/ by config.urls)."""

from __future__ import annotations

from django.urls import path

from intake.api import (
    AnswerView,
    ExtendView,
    ForwardView,
    LetterView,
    ReclassifyView,
    ScanView,
    SlotsView,
    VisitListView,
    VisitOutcomeView,
)

urlpatterns = [
    path("letters/", LetterView.as_view(), name="letters"),
    path("interactions/<int:pk>/scans/<int:scan_id>/", ScanView.as_view(), name="interaction-scan"),
    path("interactions/<int:pk>/answer/", AnswerView.as_view(), name="interaction-answer"),
    path("interactions/<int:pk>/forward/", ForwardView.as_view(), name="interaction-forward"),
    path("interactions/<int:pk>/extend/", ExtendView.as_view(), name="interaction-extend"),
    path("interactions/<int:pk>/reclassify/", ReclassifyView.as_view(), name="interaction-reclassify"),
    path("visits/", VisitListView.as_view(), name="visits"),
    path("visits/slots/", SlotsView.as_view(), name="visit-slots"),
    path("visits/<int:pk>/outcome/", VisitOutcomeView.as_view(), name="visit-outcome"),
]

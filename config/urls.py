"""URL routes: the admin, the REST API under /api/, its OpenAPI schema and browsable docs."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from agents.api import PersonViewSet
from mail.api import (
    DeliveryFailureViewSet,
    InteractionReplyView,
    MailboxViewSet,
    OutboundViewSet,
    QuarantineViewSet,
)
from sla.alert_api import NotificationViewSet
from sla.api import BreachViewSet, InteractionViewSet
from sla.report_api import BreachReasonsReportView, Mk399PublicationView, Mk399ReportView
from sla.service_level_api import ServiceLevelView
from telephony.api import CallbackView, InteractionMessagesView, MessageViewSet

router = DefaultRouter()
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("breaches", BreachViewSet, basename="breach")
router.register("agents", PersonViewSet, basename="agent")
router.register("mail/mailboxes", MailboxViewSet, basename="mailbox")
router.register("mail/quarantine", QuarantineViewSet, basename="quarantine")
router.register("mail/outbound", OutboundViewSet, basename="outbound")
router.register("mail/delivery-failures", DeliveryFailureViewSet, basename="delivery-failure")
router.register("messages", MessageViewSet, basename="message")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("admin/", admin.site.urls),
    # The contract names it without a trailing slash; both spellings work.
    re_path(
        r"^api/interactions/(?P<pk>\d+)/reply/?$", InteractionReplyView.as_view(), name="interaction-reply"
    ),
    path(
        "api/interactions/<int:pk>/messages/", InteractionMessagesView.as_view(), name="interaction-messages"
    ),
    path("api/interactions/<int:pk>/callback/", CallbackView.as_view(), name="interaction-callback"),
    path("api/reports/mk399/", Mk399ReportView.as_view(), name="report-mk399"),
    path("api/reports/mk399/published/", Mk399PublicationView.as_view(), name="report-mk399-published"),
    path("api/reports/service-level/", ServiceLevelView.as_view(), name="report-service-level"),
    path("api/reports/breach-reasons/", BreachReasonsReportView.as_view(), name="report-breach-reasons"),
    path("api/", include("recordings.urls")),
    path("api/", include("intake.urls")),
    path("api/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("workplace.urls")),
]

handler403 = "workplace.views.forbidden"

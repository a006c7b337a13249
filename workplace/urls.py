"""The workplace's pages (server-rendered; htmx fetches the live parts)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from workplace import agent, decisions, lead, letters, mailq, matters, quality, scorecard, views, visits

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="workplace/registration/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="workplace/registration/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="workplace/registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("agent/", agent.agent_home, name="agent-home"),
    path("agent/call/", agent.agent_call, name="agent-call"),
    path("agent/state/", agent.agent_state, name="agent-state"),
    path("agent/messages/<int:seq>/handled/", agent.agent_message_handled, name="agent-message-handled"),
    path("agent/absences/", agent.agent_absence_create, name="agent-absence-create"),
    path("agent/visits/", agent.agent_visit_book, name="agent-visit-book"),
    path("visits/", visits.visits_day, name="visits"),
    path("visits/slots/", visits.visit_slots, name="visit-slots"),
    path("visits/<int:pk>/outcome/", visits.visit_outcome, name="visit-outcome"),
    path("letters/new/", letters.letter_new, name="letter-new"),
    path("matters/<int:pk>/", matters.matter_view, name="matter"),
    path(
        "matters/<int:pk>/reclassify/", matters.matter_spoken_reclassify_view, name="matter-spoken-reclassify"
    ),
    path("mail/", mailq.mail_queue, name="mail-queue"),
    path("mail/rows/", mailq.mail_queue_rows, name="mail-queue-rows"),
    path("mail/<int:pk>/", mailq.mail_thread, name="mail-thread"),
    path("mail/<int:pk>/reply/", mailq.mail_reply, name="mail-reply"),
    path("mail/<int:pk>/reassign/", mailq.mail_reassign, name="mail-reassign"),
    path("mail/<int:pk>/complaint/", mailq.mail_complaint, name="mail-complaint"),
    path("mail/<int:pk>/answer/", decisions.matter_answer_view, name="matter-answer"),
    path("mail/<int:pk>/forward/", decisions.matter_forward_view, name="matter-forward"),
    path("mail/<int:pk>/extend/", decisions.matter_extend_view, name="matter-extend"),
    path("mail/<int:pk>/reclassify/", decisions.matter_reclassify_view, name="matter-reclassify"),
    path(
        "mail/<int:pk>/messages/<int:message_pk>/attachments/<int:index>/",
        mailq.mail_attachment,
        name="mail-attachment",
    ),
    path("lead/breaches/", lead.lead_breaches, name="lead-breaches"),
    path("lead/breaches/<int:pk>/acknowledge/", lead.lead_breach_acknowledge, name="lead-breach-acknowledge"),
    path("lead/levels/", lead.lead_levels, name="lead-levels"),
    path("lead/calendar/", lead.lead_calendar, name="lead-calendar"),
    path("lead/calendar/<int:pk>/delete/", lead.lead_calendar_delete, name="lead-calendar-delete"),
    path("lead/absences/", lead.lead_absences, name="lead-absences"),
    path("quality/", quality.quality_recordings, name="quality-recordings"),
    path("quality/<int:pk>/", quality.quality_player, name="quality-player"),
    path("quality/<int:pk>/peaks/", quality.quality_peaks, name="quality-peaks"),
    path("quality/<int:pk>/scorecard/", scorecard.scorecard_start, name="scorecard-start"),
    path("quality/scorecards/<int:pk>/", scorecard.scorecard_save, name="scorecard-save"),
    path("quality/scorecards/<int:pk>/resolve/", scorecard.scorecard_resolve_view, name="scorecard-resolve"),
    path("quality/trends/", scorecard.quality_trends, name="quality-trends"),
    path(
        "agent/scorecards/<int:pk>/acknowledge/",
        scorecard.scorecard_acknowledge_view,
        name="scorecard-acknowledge",
    ),
    path("agent/scorecards/<int:pk>/dispute/", scorecard.scorecard_dispute_view, name="scorecard-dispute"),
]

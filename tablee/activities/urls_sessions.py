"""Catalogue, sessions, series, calendars and targets."""

from django.urls import path

from tablee.activities import views_sessions as views

app_name = "activities"

urlpatterns = [
    # The programme: catalogue, calendar and sessions of every territory in scope, targets.
    path("programme/<uuid:programme>/formats/", views.format_list, name="format_list"),
    path("programme/<uuid:programme>/formats/nouveau/", views.format_create, name="format_create"),
    path(
        "programme/<uuid:programme>/formats/<uuid:pk>/modifier/",
        views.format_edit,
        name="format_edit",
    ),
    path(
        "programme/<uuid:programme>/agenda/",
        views.programme_calendar,
        name="programme_calendar",
    ),
    path(
        "programme/<uuid:programme>/seances/", views.programme_sessions, name="programme_sessions"
    ),
    path(
        "programme/<uuid:programme>/seances/export/",
        views.programme_sessions_export,
        name="programme_sessions_export",
    ),
    path("programme/<uuid:programme>/objectifs/", views.targets, name="targets"),
    # A territory.
    path("<uuid:pt>/agenda/", views.calendar, name="calendar"),
    path("<uuid:pt>/agenda/renouveler/", views.feed_renew, name="feed_renew"),
    path("<uuid:pt>/seances/", views.session_list, name="session_list"),
    path("<uuid:pt>/seances/export/", views.session_export, name="session_export"),
    path("<uuid:pt>/seances/nouvelle/", views.session_create, name="session_create"),
    path("<uuid:pt>/seances/<uuid:pk>/", views.session_detail, name="session_detail"),
    path("<uuid:pt>/seances/<uuid:pk>/modifier/", views.session_edit, name="session_edit"),
    path("<uuid:pt>/seances/<uuid:pk>/statut/", views.session_status, name="session_status"),
]

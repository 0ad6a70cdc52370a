"""Meetings, needs and testimonies of a programme territory's diagnostic."""

from django.urls import path

from tablee.diagnostic import views_records as views

app_name = "diagnostic_records"

urlpatterns = [
    path("<uuid:pt>/", views.index, name="index"),
    path("<uuid:pt>/structures/", views.structure_options, name="structure_options"),
    path("<uuid:pt>/rencontres/", views.meeting_list, name="meeting_list"),
    path("<uuid:pt>/rencontres/nouvelle/", views.meeting_create, name="meeting_create"),
    path("<uuid:pt>/rencontres/<uuid:pk>/", views.meeting_detail, name="meeting_detail"),
    path("<uuid:pt>/rencontres/<uuid:pk>/modifier/", views.meeting_edit, name="meeting_edit"),
    path(
        "<uuid:pt>/rencontres/<uuid:pk>/pieces-jointes/",
        views.attachment_add,
        name="attachment_add",
    ),
    path(
        "<uuid:pt>/rencontres/<uuid:pk>/pieces-jointes/<int:attachment_pk>/",
        views.attachment_download,
        name="attachment_download",
    ),
    path(
        "<uuid:pt>/rencontres/<uuid:pk>/pieces-jointes/<int:attachment_pk>/supprimer/",
        views.attachment_delete,
        name="attachment_delete",
    ),
    path("<uuid:pt>/besoins/", views.need_list, name="need_list"),
    path("<uuid:pt>/besoins/nouveau/", views.need_create, name="need_create"),
    path("<uuid:pt>/besoins/<uuid:pk>/modifier/", views.need_edit, name="need_edit"),
    path("<uuid:pt>/besoins/<uuid:pk>/supprimer/", views.need_delete, name="need_delete"),
    path("<uuid:pt>/paroles/", views.testimony_list, name="testimony_list"),
    path("<uuid:pt>/paroles/nouvelle/", views.testimony_create, name="testimony_create"),
    path("<uuid:pt>/paroles/<uuid:pk>/modifier/", views.testimony_edit, name="testimony_edit"),
    path("<uuid:pt>/paroles/<uuid:pk>/supprimer/", views.testimony_delete, name="testimony_delete"),
]

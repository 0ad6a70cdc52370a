"""Co-construction sessions and proposals of a programme territory."""

from django.urls import path

from tablee.plans import views_consultation as views

app_name = "consultation"

urlpatterns = [
    path("<uuid:pt>/", views.index, name="index"),
    path("<uuid:pt>/structures/", views.structure_options, name="structure_options"),
    path("<uuid:pt>/seances/nouvelle/", views.session_create, name="session_create"),
    path("<uuid:pt>/seances/<uuid:pk>/", views.session_detail, name="session_detail"),
    path("<uuid:pt>/seances/<uuid:pk>/modifier/", views.session_edit, name="session_edit"),
    path("<uuid:pt>/seances/<uuid:pk>/supprimer/", views.session_delete, name="session_delete"),
    path(
        "<uuid:pt>/seances/<uuid:pk>/lien-public/",
        views.session_public_link,
        name="session_public_link",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/professionnels/",
        views.named_participant_add,
        name="named_participant_add",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/professionnels/<int:participant_pk>/retirer/",
        views.named_participant_remove,
        name="named_participant_remove",
    ),
    path("<uuid:pt>/propositions/nouvelle/", views.proposal_create, name="proposal_create"),
    path("<uuid:pt>/propositions/<uuid:pk>/", views.proposal_detail, name="proposal_detail"),
    path("<uuid:pt>/propositions/<uuid:pk>/modifier/", views.proposal_edit, name="proposal_edit"),
    path("<uuid:pt>/propositions/<uuid:pk>/voix/", views.proposal_votes, name="proposal_votes"),
    path(
        "<uuid:pt>/propositions/<uuid:pk>/supprimer/",
        views.proposal_delete,
        name="proposal_delete",
    ),
]

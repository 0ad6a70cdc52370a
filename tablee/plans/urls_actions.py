"""The action plan of a programme territory: axes, actions, validation, steering."""

from django.urls import path

from tablee.plans import views_actions as views

app_name = "plans"

urlpatterns = [
    path("<uuid:pt>/", views.plan_detail, name="detail"),
    path("<uuid:pt>/creer/", views.plan_create, name="plan_create"),
    path("<uuid:pt>/modifier/", views.plan_edit, name="plan_edit"),
    path("<uuid:pt>/valider/", views.plan_validate, name="validate"),
    path("<uuid:pt>/historique/", views.plan_history, name="history"),
    path("<uuid:pt>/pilotage/", views.steering, name="steering"),
    path("<uuid:pt>/calendrier/", views.timeline, name="timeline"),
    path("<uuid:pt>/axes/nouveau/", views.axis_create, name="axis_create"),
    path("<uuid:pt>/axes/<int:axis>/modifier/", views.axis_edit, name="axis_edit"),
    path("<uuid:pt>/axes/<int:axis>/deplacer/", views.axis_move, name="axis_move"),
    path("<uuid:pt>/axes/<int:axis>/supprimer/", views.axis_delete, name="axis_delete"),
    path("<uuid:pt>/actions/nouvelle/", views.action_create, name="action_create"),
    path("<uuid:pt>/actions/<uuid:pk>/", views.action_detail, name="action_detail"),
    path("<uuid:pt>/actions/<uuid:pk>/modifier/", views.action_edit, name="action_edit"),
    path("<uuid:pt>/actions/<uuid:pk>/supprimer/", views.action_delete, name="action_delete"),
    path("<uuid:pt>/actions/<uuid:pk>/budget/", views.action_budget, name="action_budget"),
    path(
        "<uuid:pt>/actions/<uuid:pk>/budget/<int:line>/modifier/",
        views.budget_edit,
        name="budget_edit",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/budget/<int:line>/supprimer/",
        views.budget_delete,
        name="budget_delete",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/indicateurs/",
        views.action_indicators,
        name="action_indicators",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/indicateurs/<int:indicator>/modifier/",
        views.indicator_edit,
        name="indicator_edit",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/indicateurs/<int:indicator>/supprimer/",
        views.indicator_delete,
        name="indicator_delete",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/indicateurs/<int:indicator>/mesures/",
        views.measure_add,
        name="measure_add",
    ),
    path("<uuid:pt>/actions/<uuid:pk>/suivi/", views.update_add, name="update_add"),
    path("<uuid:pt>/actions/<uuid:pk>/documents/", views.document_add, name="document_add"),
    path(
        "<uuid:pt>/actions/<uuid:pk>/documents/<int:document>/",
        views.document_download,
        name="document_download",
    ),
    path(
        "<uuid:pt>/actions/<uuid:pk>/documents/<int:document>/supprimer/",
        views.document_delete,
        name="document_delete",
    ),
    path("<uuid:pt>/actions/<uuid:pk>/commentaires/", views.comment_add, name="comment_add"),
]

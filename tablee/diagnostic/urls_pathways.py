from django.urls import path

from tablee.diagnostic import views_pathways as views

app_name = "pathways"
urlpatterns = [
    path("<uuid:pt>/", views.pathway_list, name="list"),
    path("<uuid:pt>/nouveau/", views.pathway_create, name="create"),
    path("<uuid:pt>/<uuid:pathway>/", views.pathway_detail, name="detail"),
    path("<uuid:pt>/<uuid:pathway>/modifier/", views.pathway_edit, name="edit"),
    path("<uuid:pt>/<uuid:pathway>/supprimer/", views.pathway_delete, name="delete"),
    path("<uuid:pt>/<uuid:pathway>/etapes/ajouter/", views.step_add, name="step_add"),
    path("<uuid:pt>/<uuid:pathway>/etapes/<int:step>/modifier/", views.step_edit, name="step_edit"),
    path(
        "<uuid:pt>/<uuid:pathway>/etapes/<int:step>/retirer/",
        views.step_remove,
        name="step_remove",
    ),
    path("<uuid:pt>/<uuid:pathway>/etapes/<int:step>/deplacer/", views.step_move, name="step_move"),
]

from django.urls import path

from tablee.diagnostic import views_surveys as views

app_name = "surveys"
urlpatterns = [
    path("<uuid:pt>/", views.survey_list, name="list"),
    path("<uuid:pt>/nouveau/", views.survey_create, name="create"),
    path("<uuid:pt>/<uuid:survey>/", views.survey_detail, name="detail"),
    path("<uuid:pt>/<uuid:survey>/ouverture/", views.survey_set_open, name="set_open"),
    path("<uuid:pt>/<uuid:survey>/affiche/", views.survey_poster, name="poster"),
    path("<uuid:pt>/<uuid:survey>/saisie-papier/", views.survey_paper_entry, name="paper_entry"),
]

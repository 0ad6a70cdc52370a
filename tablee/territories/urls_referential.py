from django.urls import path

from tablee.territories import views_referential as views

app_name = "referential"
urlpatterns = [
    path("", views.index, name="index"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("departements/<str:code>/", views.departement_detail, name="departement_detail"),
    path("epci/<str:siren>/", views.epci_detail, name="epci_detail"),
    path("communes/<str:code>/", views.commune_detail, name="commune_detail"),
]

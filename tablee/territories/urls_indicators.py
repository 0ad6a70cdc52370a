from django.urls import path

from tablee.territories import views_indicators as views

app_name = "indicators"
urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("importer/", views.indicator_import, name="import"),
]

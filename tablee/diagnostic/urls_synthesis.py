from django.urls import path

from tablee.diagnostic import views_synthesis as views

app_name = "synthesis"
urlpatterns = [
    path("<uuid:pt>/", views.synthesis_detail, name="detail"),
    path("<uuid:pt>/pdf/", views.synthesis_pdf, name="pdf"),
    path("<uuid:pt>/comparer/", views.synthesis_compare, name="compare"),
]

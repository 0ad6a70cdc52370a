from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demonstration programme: fictional, clearly labelled data on six real Breton EPCI.

    It sits after every stage of the cycle because it fills them all."""

    name = "tablee.demo"
    verbose_name = "Démonstration"

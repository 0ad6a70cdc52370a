import datetime

import factory

from tablee.network.models import Link, LinkKind, LinkSource


class LinkFactory(factory.django.DjangoModelFactory):
    """Pass structure_a and structure_b (smaller id first) and the programme territory."""

    class Meta:
        model = Link

    kind = LinkKind.REFERRAL
    source = LinkSource.MANUAL
    started_on = datetime.date(2025, 1, 1)

"""The demonstration reports: loaded once, refreshed (never duplicated) when loaded again."""

import pytest

from tablee.demo.reports import FINAL_EVALUATION_TITLE, FUNDER_REPORT_TITLE, load_demo_reports
from tablee.reports.models import Report
from tablee.territories.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def test_demo_reports_are_idempotent():
    programme = ProgrammeFactory(is_demo=True)
    assert load_demo_reports(programme) == {"rapports": 2}
    funder = Report.objects.get(title=FUNDER_REPORT_TITLE)
    assert funder.kind == Report.Kind.FUNDER_REPORT
    assert (funder.period_start.isoformat(), funder.period_end.isoformat()) == (
        "2026-01-01",
        "2026-12-31",
    )
    assert "(fictif)" in funder.narratives["objective_nutrition"]
    assert funder.narratives["summary"].startswith("<p>En 2026")
    evaluation = Report.objects.get(title=FINAL_EVALUATION_TITLE)
    assert evaluation.kind == Report.Kind.FINAL_EVALUATION
    assert set(evaluation.narratives) == {"summary", "lessons", "recommendations"}

    assert load_demo_reports(programme) == {"rapports": 2}
    assert Report.objects.count() == 2

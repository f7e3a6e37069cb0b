"""Issue 5: the admin QA dashboard in a real Chromium on the complete demo data
(``seed_demo --complete``): charts drawn, numbers as the database says, CSV downloads,
reviewers may look, annotators may not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tracking.models import Masklet, MaskletStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_dashboard_on_the_complete_demo_data(ui, demo_complete):
    stc = demo_complete.stc
    accepted = Masklet.objects.filter(video__project=stc, status=MaskletStatus.ACCEPTED).count()
    assert accepted > 0

    admin = ui.page_as("admin")
    admin.goto(f"/projects/{stc.pk}/dashboard")
    expect(admin.get_by_test_id("dashboard-generated")).to_be_visible()
    funnel = admin.get_by_test_id("table-funnel")
    expect(funnel.locator("tr", has_text="Accepted").locator("td").last).to_have_text(str(accepted))
    for chart in ("chart-funnel", "chart-throughput", "chart-rejection-reasons"):
        expect(admin.get_by_test_id(chart).locator("svg .recharts-rectangle").first).to_be_visible()
    # The app scrolls inside its own panel: a tall window shows the whole dashboard at once.
    admin.set_viewport_size({"width": 1440, "height": 4200})
    ui.shot(admin, "dashboard-stc")

    csv = admin.request.get(admin.get_by_test_id("csv-funnel").get_attribute("href"))
    assert csv.status == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert f"accepted,{accepted}" in csv.text().lower().replace(" ", "_").replace("\r", "")

    admin.goto(f"/projects/{demo_complete.fgqa.pk}/dashboard")
    expect(admin.get_by_test_id("dashboard-generated")).to_be_visible()
    expect(admin.get_by_test_id("chart-fgqa-funnel").locator("svg")).to_be_visible()
    ui.shot(admin, "dashboard-fgqa")

    reviewer = ui.page_as("reviewer")
    reviewer.goto(f"/projects/{stc.pk}/dashboard")
    expect(reviewer.get_by_test_id("dashboard-generated")).to_be_visible()

    ui.allow_console(r"status of 403")
    annotator = ui.page_as("annotator1")
    annotator.goto(f"/projects/{stc.pk}/dashboard")
    expect(annotator.get_by_test_id("dashboard-forbidden")).to_be_visible()
    ui.shot(annotator, "dashboard-annotator-forbidden")

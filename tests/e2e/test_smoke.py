"""The shell: the login screen, a refused password, and the home screen after signing in."""

import pytest
from playwright.sync_api import expect

from annotation.models import ProjectKind, Role
from tests.factories import ProjectFactory, member

pytestmark = pytest.mark.e2e


def test_login_refuses_a_bad_password_then_signs_in_and_lists_my_projects(ui):
    project = ProjectFactory(name="Kitchen STC", kind=ProjectKind.STC)
    ProjectFactory(name="Not mine")
    member(project, Role.ANNOTATOR, "ann")

    page = ui.new_page()
    page.goto("/")
    expect(page).to_have_url(f"{ui.url}/login?next=%2F")
    expect(page.get_by_test_id("login-form")).to_be_visible()
    ui.shot(page, "login")

    # The browser logs the refused request itself.
    ui.allow_console(r"status of 40[03]")
    page.get_by_test_id("login-username").fill("ann")
    page.get_by_test_id("login-password").fill("wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("login-error")).not_to_be_empty()
    ui.shot(page, "login-refused")

    page.get_by_test_id("login-password").fill("correct-horse-1")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("current-user")).to_have_text("ann")
    cards = page.get_by_test_id("project-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-project", "Kitchen STC")
    expect(cards.first.get_by_test_id("start-working")).to_have_count(2)
    ui.shot(page, "home")

    page.reload()
    expect(page.get_by_test_id("current-user")).to_have_text("ann")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()

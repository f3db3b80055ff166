"""Signing in (wrong password, then right), htmx and our CSS load, our own 404 page."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_shows_the_reason_then_lands_on_the_overview(new_page, browser_users, shot):
    page = new_page()
    page.goto(page.base + "/")
    expect(page).to_have_url(page.base + "/accounts/login/?next=/")
    shot(page, "01-login")

    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("manager")

    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(page.base + "/")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    assert page.evaluate("typeof htmx") == "object", "htmx did not load from /static/"
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px", "no CSS"
    shot(page, "02-overview-empty")


def test_unknown_address_gets_our_404_page(new_page, browser_users, shot):
    page = new_page(browser_users["manager"])
    response = page.goto(page.base + "/projects/nope/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the overview")).to_be_visible()
    shot(page, "03-not-found")

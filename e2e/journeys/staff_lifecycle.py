"""staff-lifecycle: dual control for bank staff. Supervisor Ito records a request to add a clerk
and is shown the first half of the clerk's one-time code; supervisor Sato approves it with his
own PIN and is shown the second half. The clerk acquires a certificate in Chromium with both
halves and a PIN of her own, typed in full width (nobody else ever knew it), and logs on. Ito
then records her deactivation (she leaves), Sato approves it, and her certificate gets the
"revoked" explanation at once."""
from harness import Identity, acquire_in_browser, approve_first, log_on, screenshot, staff_identity


def run(playwright, server, workdir):
    ito = staff_identity(server, workdir, "Ito", "boss123", "supervisor", playwright)
    sato = staff_identity(server, workdir, "Sato", "sato123", "supervisor", playwright)

    browser, page = log_on(ito, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch/staff/new")
    page.fill("#name", "加藤 花子")
    page.select_option("#role", "clerk")
    assert page.query_selector("#pin") is None, "nobody types the new member's PIN"
    page.click("button[type=submit]")
    first_half = page.inner_text("#acquisition-code").strip()
    assert len(first_half) == 9, first_half
    screenshot(page, "staff-lifecycle-1-recorded-first-half")
    browser.close()

    browser, page = log_on(sato, playwright, server, "sato123")
    page.goto(server.logon_url + "/branch")
    assert "加藤 花子" in page.inner_text("#pending"), "the queue shows what approval changes"
    screenshot(page, "staff-lifecycle-2-pending")
    approve_first(page, "sato123")
    page.wait_for_selector("#acquisition-code")
    second_half = page.inner_text("#acquisition-code").strip()
    assert len(second_half) == 9 and second_half != first_half
    screenshot(page, "staff-lifecycle-3-approved-second-half")
    browser.close()

    clerk = Identity(workdir, "clerk", server)
    acquire_in_browser(clerk, playwright, server, workdir, "staff",
                       {"code": f"{first_half}-{second_half}", "pin": "ｋａｔｏ１２３４", "confirmationPIN": "ｋａｔｏ１２３４"},
                       "staff-lifecycle-4")
    browser, page = log_on(clerk, playwright, server, "kato1234")
    assert "加藤 花子" in page.content()
    screenshot(page, "staff-lifecycle-5-home")
    browser.close()

    browser, page = log_on(ito, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch/staff")
    row = page.locator("tr[data-staff]", has_text="加藤 花子")
    assert row.locator("[data-status=active]").count() == 1, page.content()[:3000]
    row.locator("button[data-action=deactivate]").click()
    page.wait_for_url("**/branch")
    screenshot(page, "staff-lifecycle-6-deactivation-recorded")
    browser.close()

    browser, page = log_on(sato, playwright, server, "sato123")
    page.goto(server.logon_url + "/branch")
    approve_first(page, "sato123")
    page.wait_for_url("**/branch")
    page.goto(server.logon_url + "/branch/staff")
    row = page.locator("tr[data-staff]", has_text="加藤 花子")
    assert row.locator("[data-status=deactivated]").count() == 1, page.content()[:3000]
    screenshot(page, "staff-lifecycle-7-deactivated")
    browser.close()

    browser = clerk.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon")
    assert page.get_attribute("#problem", "data-problem") == "revoked", page.content()[:3000]
    screenshot(page, "staff-lifecycle-8-certificate-revoked")
    browser.close()

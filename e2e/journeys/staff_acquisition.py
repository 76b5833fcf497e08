"""staff-acquisition: a supervisor bootstrapped by the CLI adds a clerk in the console; the clerk
acquires a certificate in Chromium with the one-time code and PIN (key made in the browser,
PKCS#12 built by the page), imports it with pk12util and logs on. The supervisor then sees the
clerk in the staff list and re-issues their certificate (lost PC): the clerk's old certificate
gets the "revoked" explanation."""
from harness import Identity, acquire_in_browser, log_on, screenshot, staff_identity


def run(playwright, server, workdir):
    supervisor = staff_identity(server, workdir, "Ito", "boss123", "supervisor")
    browser, page = log_on(supervisor, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch/staff/new")
    page.fill("#name", "加藤 花子")
    page.select_option("#role", "clerk")
    page.fill("#pin", "kato1234")
    page.click("button[type=submit]")
    code = page.inner_text("#acquisition-code").strip()
    screenshot(page, "staff-acquisition-1-added")
    browser.close()

    clerk = Identity(workdir, "clerk", server)
    acquire_in_browser(clerk, playwright, server, workdir, "staff", {"code": code, "pin": "ｋａｔｏ１２３４"}, "staff-acquisition-2")
    browser, page = log_on(clerk, playwright, server, "kato1234")
    assert "加藤 花子" in page.content()
    screenshot(page, "staff-acquisition-3-home")
    browser.close()

    browser, page = log_on(supervisor, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch/staff")
    row = page.locator("tr[data-staff]", has_text="加藤 花子")
    assert row.locator("[data-status=active]").count() == 1, page.content()[:3000]
    screenshot(page, "staff-acquisition-4-list")
    row.locator("button[data-action=reissue]").click()
    page.wait_for_selector("#acquisition-code")
    assert page.inner_text("#acquisition-code").strip() != code
    screenshot(page, "staff-acquisition-5-reissued")
    browser.close()

    browser = clerk.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon")
    assert page.get_attribute("#problem", "data-problem") == "revoked", page.content()[:3000]
    screenshot(page, "staff-acquisition-6-old-certificate-revoked")
    browser.close()

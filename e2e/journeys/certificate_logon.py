"""certificate-logon: a staff member's certificate (PKCS#12 imported with pk12util) is picked by
policy, the PIN (the operator's, so it is replaced at this first logon) is entered in full width,
the home page shows the certificate; a PC without a
certificate gets the explanation page instead of a TLS error."""
from harness import Identity, make_staff_pkcs12, screenshot


def run(playwright, server, workdir):
    p12 = make_staff_pkcs12(server, workdir, "Sato", "abc123")
    staff = Identity(workdir, "staff", server)
    staff.import_pkcs12(p12, "e2e-pass")
    browser = staff.launch(playwright, locale="ja-JP")
    page = browser.new_page()
    page.goto(server.logon_url + "/logon")
    page.fill("#pin", "ａｂｃ１２３")
    screenshot(page, "certificate-logon-pin")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/change-pin")
    page.fill("#pin", "ｓａｔｏ１ｐｉｎ")
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    assert page.locator("#serial").inner_text().strip() != ""
    screenshot(page, "certificate-logon-home")
    page.click("text=ログオフ")
    page.wait_for_selector("text=ログオフしました")
    screenshot(page, "certificate-logon-logged-off")
    browser.close()

    nobody = Identity(workdir, "nobody", server)
    browser = nobody.launch(playwright, locale="en-GB")
    page = browser.new_page()
    page.goto(server.logon_url + "/logon")
    assert page.locator("#problem").get_attribute("data-problem") == "none"
    screenshot(page, "certificate-logon-no-certificate")
    browser.close()

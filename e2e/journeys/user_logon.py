"""user-logon: the administrator registers a user; the user acquires a certificate on "their PC"
(another NSS database) and logs on with certificate and user PIN, changing the PINs set for them.
The user types the PIN in full width (１２３４ａｂ for the 1234ab the administrator set), as a
Japanese keyboard in full-width mode does, in acquisition and at logon; the PIN they choose is
full width too, and the next logon with it typed in half width works. Runs in Chromium and in
Firefox (user-logon-firefox: the administrator's first logon with the card, the user's
acquisition, the PKCS#12 read from the page, imported with pk12util, Firefox restarted, logon)."""
from harness import Identity, acquire_in_browser, administrator_first_logon, check_firefox_install_help, onboard_contract, screenshot

BROWSERS = ("chromium", "firefox")


def register_user(page, server, contract_confirmation, user_id, name, pin, confirmation):
    page.goto(server.logon_url + "/admin/users/new")
    page.fill("#userID", user_id)
    page.fill("#name", name)
    page.fill("#pin", pin)
    page.fill("#confirmation", confirmation)
    page.fill("#contractConfirmation", contract_confirmation)
    page.click("button[type=submit]")
    page.wait_for_selector("#registered-user-id")


def log_on_as_user(user, playwright, server, pin, shot, change_to=None):
    """Launches the user's browser and logs on with `pin` (setting `change_to` when asked);
    returns the serial the home page shows."""
    browser = user.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=user")
    page.fill("#pin", pin)
    page.click("button[type=submit]")
    if change_to:
        page.wait_for_url("**/logon/change-pin")
        page.fill("#pin", change_to[0])
        page.fill("#confirmation", change_to[1])
        page.click("button[type=submit]")
    page.wait_for_url("**/home")
    screenshot(page, shot)
    serial = page.inner_text("#serial").strip()
    browser.close()
    return serial


def run(playwright, server, workdir):
    contract = onboard_contract(playwright, server, workdir)
    _, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "user-logon-1-admin")
    register_user(page, server, "kakunin45", "taro01", "山田 花子", "1234ab", "kaku1234")
    screenshot(page, "user-logon-2-registered")
    browser.close()

    user = Identity(workdir, "user", server)
    acquire_in_browser(user, playwright, server, workdir, "user",
                       {"contractID": contract["contract_id"], "userID": "ｔａｒｏ０１", "pin": "１２３４ａｂ", "confirmationPIN": "ｋａｋｕ１２３４"},
                       "user-logon-3")
    if user.browser == "firefox":
        # Only Firefox keeps its own certificate store with its own screens to check against.
        check_firefox_install_help(user, "user-logon-3")
    browser = user.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=user")
    page.fill("#pin", "１２３４ａｂ")
    screenshot(page, "user-logon-4-full-width-pin")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/change-pin")
    page.fill("#pin", "ｍｉｎｅ１２３４")
    page.fill("#confirmation", "mine5678")
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    assert "山田 花子" in page.content()
    screenshot(page, "user-logon-5-home")
    browser.close()

    # The PIN chosen in full width is the same PIN typed in half width (both are NFKC-normalised).
    log_on_as_user(user, playwright, server, "mine1234", "user-logon-6-home-half-width")

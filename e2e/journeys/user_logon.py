"""user-logon: the administrator registers a user; the user acquires a certificate on "their PC"
(another NSS database) and logs on with certificate and user PIN, changing the PINs set for them."""
from harness import Identity, acquire_in_browser, administrator_first_logon, onboard_contract, screenshot


def register_user(page, server, contract_confirmation, user_id, name, pin, confirmation):
    page.goto(server.logon_url + "/admin/users/new")
    page.fill("#userID", user_id)
    page.fill("#name", name)
    page.fill("#pin", pin)
    page.fill("#confirmation", confirmation)
    page.fill("#contractConfirmation", contract_confirmation)
    page.click("button[type=submit]")
    page.wait_for_selector("#registered-user-id")


def run(playwright, server, workdir):
    contract = onboard_contract(playwright, server, workdir)
    _, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "user-logon-1-admin")
    register_user(page, server, "kakunin45", "taro01", "山田 花子", "riyou123", "kaku1234")
    screenshot(page, "user-logon-2-registered")
    browser.close()

    user = Identity(workdir, "user", server)
    acquire_in_browser(user, playwright, server, workdir, "user",
                       {"contractID": contract["contract_id"], "userID": "ｔａｒｏ０１", "pin": "riyou123", "confirmationPIN": "kaku1234"},
                       "user-logon-3")
    browser = user.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=user")
    page.fill("#pin", "riyou123")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/change-pin")
    page.fill("#pin", "mine1234")
    page.fill("#confirmation", "mine5678")
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    assert "山田 花子" in page.content()
    screenshot(page, "user-logon-4-home")
    browser.close()

"""locked: the administrator enters wrong PINs until the service locks; the locked page says so
and names the branch form, and the contract's users see the locked page too."""
from harness import Identity, acquire_in_browser, administrator_first_logon, onboard_contract, screenshot
from journeys.user_logon import register_user


def run(playwright, server, workdir):
    contract = onboard_contract(playwright, server, workdir)
    admin, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "locked-1-admin")
    register_user(page, server, "kakunin45", "hana02", "花子", "riyou123", "kaku1234")
    browser.close()
    user = Identity(workdir, "user", server)
    acquire_in_browser(user, playwright, server, workdir, "user",
                       {"contractID": contract["contract_id"], "userID": "hana02", "pin": "riyou123", "confirmationPIN": "kaku1234"}, "locked-2-user")

    browser = admin.launch(playwright, locale="ja-JP")
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=administrator")
    for attempt in range(6):
        page.fill("#pin", f"wrong{attempt}x")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        if page.query_selector("#problem"):
            break
    assert page.get_attribute("#problem", "data-problem") == "locked"
    assert "暗証番号閉塞解除依頼書" in page.content()
    screenshot(page, "locked-3-administrator")
    browser.close()

    browser = user.launch(playwright, locale="ja-JP")
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=user")
    assert page.get_attribute("#problem", "data-problem") == "locked"
    screenshot(page, "locked-4-user")
    browser.close()

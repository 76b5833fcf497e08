"""top-page: Chromium opens the top page in Japanese and in English (screenshots kept)."""
from harness import Identity, screenshot


def run(playwright, server, workdir):
    visitor = Identity(workdir, "visitor", server)
    browser = visitor.launch(playwright, locale="ja-JP")
    page = browser.new_page()
    page.goto(server.public_url + "/")
    assert page.locator("html").get_attribute("lang") == "ja"
    for entry in ("管理者ログオン", "利用者ログオン", "電子証明書取得"):
        assert page.get_by_text(entry).first.is_visible(), entry
    screenshot(page, "top-page-ja")
    page.click("#switch-language")
    page.wait_for_selector("html[lang=en]")
    assert page.get_by_text("Administrator logon").is_visible()
    screenshot(page, "top-page-en")
    page.goto(server.public_url + "/help")
    assert page.locator("code.fingerprint").inner_text().count(":") == 31
    screenshot(page, "help-en")
    browser.close()

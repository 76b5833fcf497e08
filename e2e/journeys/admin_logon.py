"""admin-logon: the branch onboards a contract; the administrator acquires a certificate in the
page (PKCS#12 downloaded, checked with openssl and imported with pk12util), then logs on with
certificate, initial PIN and card, and sets the PINs."""
from harness import administrator_first_logon, onboard_contract, screenshot


def run(playwright, server, workdir):
    contract = onboard_contract(playwright, server, workdir, shot="admin-logon-1-card")
    _, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "admin-logon-2")
    # The home page names the administrator's own certificate (32 hex digits) and offers the console.
    serial = (page.text_content("#serial") or "").strip()
    assert len(serial) == 32 and all(c in "0123456789abcdef" for c in serial), f"home page serial: {serial!r}"
    assert page.query_selector("#contract-management"), "the administrator's console link is missing"
    page.click("#contract-management")
    screenshot(page, "admin-logon-3-contract-management")
    browser.close()

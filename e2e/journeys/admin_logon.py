"""admin-logon: the branch onboards a contract; the administrator acquires a certificate in the
page (PKCS#12 downloaded, checked with openssl and imported with pk12util), then logs on with
certificate, initial PIN and card, and sets the PINs."""
from harness import administrator_first_logon, onboard_contract, screenshot


def run(playwright, server, workdir):
    contract = onboard_contract(playwright, server, workdir, shot="admin-logon-1-card")
    _, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "admin-logon-2")
    assert contract["contract_id"] in page.content() or page.query_selector("#serial")
    page.click("#contract-management")
    screenshot(page, "admin-logon-3-contract-management")
    browser.close()

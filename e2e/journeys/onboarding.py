"""onboarding: a clerk and a supervisor (two identities, two certificates, two NSS databases)
onboard a contract: the clerk types the provisional PINs the customer wrote on the application,
the supervisor approves with their own PIN and prints the customer card and covering letter, which
carry no PIN (split knowledge: neither of them holds both the PINs and the card)."""
from harness import OUT, PROVISIONAL_CONFIRMATION, PROVISIONAL_PIN, approve_first, log_on, screenshot, staff_identity


def run(playwright, server, workdir):
    supervisor = staff_identity(server, workdir, "Ito", "boss123", "supervisor", playwright)
    clerk = staff_identity(server, workdir, "Kato", "clerk123", "clerk", playwright)

    browser, page = log_on(clerk, playwright, server, "clerk123")
    page.click("#branch-console")
    screenshot(page, "onboarding-1-clerk-console")
    page.click("#new-contract")
    page.fill("#company", "山田商事株式会社")
    page.fill("#branch", "本店営業部")
    page.fill("#administrator", "山田 太郎")
    page.fill("#contractPIN", PROVISIONAL_PIN)
    page.fill("#confirmationPIN", PROVISIONAL_CONFIRMATION)
    screenshot(page, "onboarding-2-new-contract")
    page.click("button[type=submit]")
    page.wait_for_selector("#contract-id")
    contract_id = page.inner_text("#contract-id").strip()
    assert len(contract_id) == 11 and contract_id.isdigit(), contract_id
    assert page.get_attribute("#contract-status", "data-status") == "pending"
    screenshot(page, "onboarding-3-recorded")
    browser.close()

    browser, page = log_on(supervisor, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch")
    screenshot(page, "onboarding-4-supervisor-pending")
    assert page.locator("#pending .recorded-by").first.inner_text().strip(), "the queue shows who recorded it"
    approve_first(page, "boss123")
    page.wait_for_selector("#card-grid")
    assert page.inner_text("#card-contract-id").strip() == contract_id
    assert len(page.query_selector_all("#card-grid td")) >= 40
    assert page.query_selector("#initial-pin") is None and PROVISIONAL_PIN not in page.content()
    screenshot(page, "onboarding-5-card-and-letter")
    page.pdf(path=str(OUT / "onboarding-card.pdf"), format="A4")
    print(f"    pdf e2e/out/onboarding-card.pdf")
    page.goto(server.logon_url + f"/branch/contracts/{contract_id}")
    assert page.get_attribute("#contract-status", "data-status") == "active"
    assert page.query_selector("#card-grid") is None
    screenshot(page, "onboarding-6-active")
    browser.close()

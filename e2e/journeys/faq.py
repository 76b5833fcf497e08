"""faq: the whole FAQ story ("I can't log on" → re-issue → acquire again) in Chromium, with a
screenshot at each step. The user's certificate expires for real: the server is restarted with a
client-certificate lifetime of a few seconds for the user's acquisition (no clock override)."""
import subprocess
import time
import urllib.request

from harness import Identity, acquire_in_browser, administrator_first_logon, answer_card, onboard_contract, screenshot
from journeys.user_logon import log_on_as_user, register_user

ALSO_ON_POSTGRES = True  # the harness also runs it as faq-postgres
BROWSERS = ("chromium", "firefox")  # and as faq-firefox: the expired-certificate explanation in Firefox

LIFETIME = 25


def run(playwright, server, workdir):
    # 1. The branch onboards a contract (two staff).
    contract = onboard_contract(playwright, server, workdir, shot="faq-01-branch-card")
    # 2. The administrator acquires a certificate, logs on with PIN and card, and sets the PINs.
    admin, browser, page = administrator_first_logon(playwright, server, workdir, contract, "kanri123", "kakunin45", "faq-02-admin")
    # 3. The administrator registers a user.
    register_user(page, server, "kakunin45", "taro01", "山田 花子", "riyou123", "kaku1234")
    screenshot(page, "faq-03-user-registered")
    browser.close()

    # 4. The user acquires a certificate on "their PC" and logs on (short lifetime from here).
    server.restart(["--certificate-lifetime", str(LIFETIME)])
    user = Identity(workdir, "user", server)
    old_p12 = acquire_in_browser(user, playwright, server, workdir, "user",
                                 {"contractID": contract["contract_id"], "userID": "taro01", "pin": "riyou123", "confirmationPIN": "kaku1234"},
                                 "faq-04-user-acquire", password="old-p12-pass")
    old_serial = log_on_as_user(user, playwright, server, "riyou123", "faq-04-user-home", change_to=("mine1234", "mine5678"))
    acquired_at = time.time()

    # 5. The certificate expires: wait past its lifetime.
    time.sleep(max(0, LIFETIME + 2 - (time.time() - acquired_at)))
    server.restart([])

    # 6. The user's logon shows "expired on DATE".
    browser = user.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=user")
    assert page.get_attribute("#problem", "data-problem") == "expired", page.content()[:3000]
    assert "有効期限が切れました" in page.content()
    screenshot(page, "faq-06-user-expired")
    browser.close()

    # 7. The administrator logs on and re-issues; the page shows the user ID to pass on.
    browser = admin.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=administrator")
    page.fill("#pin", "kanri123")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/card")
    answer_card(page, contract["grid"])
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    page.click("#contract-management")
    screenshot(page, "faq-07-user-list")
    page.click("[data-user=taro01]")
    page.check("#action-reissue")
    page.fill("#contractConfirmation", "kakunin45")
    screenshot(page, "faq-07-reissue")
    page.click("button[type=submit]")
    assert page.inner_text("#registered-user-id").strip() == "taro01"
    screenshot(page, "faq-07-reissued")
    browser.close()

    # 8. The user acquires again on the same PC (the old entry is removed) and logs on.
    nickname = subprocess.run(["certutil", "-L", "-d", f"sql:{user.nssdb}"], capture_output=True, text=True).stdout
    name = next(line.rsplit(None, 1)[0] for line in nickname.splitlines() if line.strip().endswith("u,u,u"))
    subprocess.run(["certutil", "-F", "-d", f"sql:{user.nssdb}", "-n", name], check=True)
    acquire_in_browser(user, playwright, server, workdir, "user",
                       {"contractID": contract["contract_id"], "userID": "taro01", "pin": "mine1234", "confirmationPIN": "mine5678"},
                       "faq-08-user-acquire-again")
    new_serial = log_on_as_user(user, playwright, server, "mine1234", "faq-08-user-home-again")
    assert new_serial != old_serial

    # 9. The old certificate is refused, and shows as revoked in OCSP and in the CRL. Browsers no
    #    longer offer it (it has expired), so it is presented with curl, as a stolen copy would be.
    old_pem = workdir / "old.pem"
    subprocess.run(["openssl", "pkcs12", "-in", str(old_p12), "-clcerts", "-nokeys", "-passin", "pass:old-p12-pass", "-out", str(old_pem)], check=True)
    old_key = workdir / "old.key"
    subprocess.run(["openssl", "pkcs12", "-in", str(old_p12), "-nocerts", "-nodes", "-passin", "pass:old-p12-pass", "-out", str(old_key)], check=True)
    refused = subprocess.run(["curl", "-s", "--cacert", str(server.tls_ca_pem), "--cert", str(old_pem), "--key", str(old_key),
                              "-H", "Accept-Language: en", server.logon_url + "/logon?as=user"], capture_output=True, text=True).stdout
    assert 'data-problem="revoked"' in refused, refused[:2000]
    issuing = server.data / "ca" / "issuing-ca.cert.pem"
    chain = workdir / "chain.pem"
    chain.write_text((server.data / "ca" / "root-ca.cert.pem").read_text() + issuing.read_text())
    ocsp = subprocess.run(["openssl", "ocsp", "-issuer", str(issuing), "-cert", str(old_pem), "-CAfile", str(chain),
                           "-url", server.publication_url + "/ocsp"], capture_output=True, text=True)
    assert ": revoked" in ocsp.stdout and "Response verify OK" in ocsp.stdout + ocsp.stderr, ocsp.stdout + ocsp.stderr
    crl = workdir / "crl.der"
    crl.write_bytes(urllib.request.urlopen(server.publication_url + "/crl/issuing-ca.crl").read())
    text = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(crl), "-noout", "-text"], capture_output=True, text=True).stdout
    assert old_serial.upper().lstrip("0") in text.replace(":", "").upper(), text
    print(f"    old certificate {old_serial}: revoked in OCSP and CRL")

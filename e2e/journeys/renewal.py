"""renewal: with certificates valid 30 days (inside the 40-day renewal window), the home page
offers renewal; the page makes a new key and PKCS#12; after the first logon with the new
certificate the old one is revoked (superseded)."""
import subprocess

from harness import log_on, screenshot, staff_identity


def run(playwright, server, workdir):
    server.restart(["--certificate-lifetime", str(30 * 86400)])
    staff = staff_identity(server, workdir, "Ito", "boss123", "supervisor", playwright)
    browser, page = log_on(staff, playwright, server, "boss123")
    old_serial = page.inner_text("#serial").strip()
    assert page.query_selector("#renewal-notice"), "the renewal notice is shown"
    screenshot(page, "renewal-1-notice")
    page.click("#renew")
    page.fill("#pin", "boss123")
    page.fill("#p12password", "renew-pass-1")
    page.fill("#p12password2", "renew-pass-1")
    page.click("#acquire-submit")
    page.wait_for_selector("#done:not([hidden])", timeout=30000)
    screenshot(page, "renewal-2-done")
    with page.expect_download() as info:
        page.click("#download")
    p12 = workdir / "renewed.p12"
    info.value.save_as(str(p12))
    browser.close()

    # Replace the old certificate in this PC's store with the renewed one, then log on with it.
    subprocess.run(["certutil", "-F", "-d", f"sql:{staff.nssdb}", "-n", "Ito"], check=True)
    staff.import_pkcs12(p12, "renew-pass-1")
    browser, page = log_on(staff, playwright, server, "boss123")
    new_serial = page.inner_text("#serial").strip()
    assert new_serial != old_serial
    screenshot(page, "renewal-3-new-certificate")
    browser.close()
    status = subprocess.run([server.binary, "audit", "verify", *server.common], capture_output=True, text=True).stdout
    assert "intact" in status, status
    issuing = server.data / "ca" / "issuing-ca.cert.pem"
    ocsp = subprocess.run(["openssl", "ocsp", "-issuer", str(issuing), "-serial", "0x" + old_serial, "-CAfile", str(server.root_pem),
                           "-VAfile", str(issuing), "-url", server.publication_url + "/ocsp"], capture_output=True, text=True)
    assert ": revoked" in ocsp.stdout and "superseded" in ocsp.stdout.lower(), ocsp.stdout + ocsp.stderr
    print(f"    old certificate {old_serial} revoked (superseded) after the first logon with {new_serial}")

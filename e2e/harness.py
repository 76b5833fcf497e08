"""BizDirect browser-journey harness.

Starts a real `bizdirect serve` on 127.0.0.1 with a fresh data folder, and gives each journey
browsers with one NSS database per identity:
- Chromium (Debian's, driven by Playwright; never `playwright install`): one HOME per identity,
  the certificate chosen without a dialog by the managed policy AutoSelectCertificateForUrls;
- Firefox ESR (Debian's, driven over its own WebDriver BiDi, see firefox.py): one profile per
  identity, the certificate chosen by `security.default_personal_cert` = "Select Automatically";
- WebKitGTK (Debian's webkit2gtk-driver under Xvfb, see webkit.py): the acquisition page only,
  as its client-certificate logon cannot be scripted.
Client certificates are imported with pk12util, the TLS CA trusted with certutil. A journey runs
in the browsers its BROWSERS names (default: Chromium only), as NAME in Chromium and as
NAME-firefox or NAME-webkit elsewhere, where every customer identity uses that browser.
"""
import importlib
import json
import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import firefox
import webkit

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "e2e" / "out"
CHROMIUM = "/usr/bin/chromium"
POLICY_DIR = pathlib.Path("/etc/chromium/policies/managed")
POLICY_FILE = POLICY_DIR / "bizdirect-e2e.json"
def discover_journeys():
    """Every module in journeys/ with a run() is a journey (no list to forget); one that sets
    ALSO_ON_POSTGRES = True also runs as NAME-postgres, one per browser its BROWSERS names.
    Returns {run name: (module, browser, on PostgreSQL)}."""
    runs = {}
    for path in sorted((pathlib.Path(__file__).resolve().parent / "journeys").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module("journeys." + path.stem)
        if not callable(getattr(module, "run", None)):
            continue
        name = path.stem.replace("_", "-")
        browsers = getattr(module, "BROWSERS", ("chromium",))
        if "chromium" in browsers:
            runs[name] = (module, "chromium", False)
            if getattr(module, "ALSO_ON_POSTGRES", False):
                runs[name + "-postgres"] = (module, "chromium", True)
        runs.update({f"{name}-{browser}": (module, browser, False) for browser in browsers if browser != "chromium"})
    return runs


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A bizdirect server in its own data folder, stopped by close(); restart() keeps folder and ports."""

    def __init__(self, workdir, extra_args=(), ports=None):
        self.workdir, self.extra_args = workdir, tuple(extra_args)
        self.data = workdir / "data"
        self.public_port, self.logon_port, self.http_port = ports or (free_port(), free_port(), free_port())
        self.ops_port = free_port()
        self.binary = str(ROOT / ".build" / "debug" / "bizdirect")
        # Every command takes the same settings, so the CLI sees what the server sees.
        self.common = ["--data", str(self.data), *self.extra_args]
        self.log = open(workdir / "server.log", "a")
        self.process = subprocess.Popen(
            [self.binary, "serve", *self.common, "--public-port", str(self.public_port), "--logon-port", str(self.logon_port),
             "--http-port", str(self.http_port), "--ops-port", str(self.ops_port), "--host-name", "localhost", "--host-name", "127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.public_url = f"https://localhost:{self.public_port}"
        self.logon_url = f"https://localhost:{self.logon_port}"
        self.publication_url = f"http://localhost:{self.http_port}"
        self.wait_ready()

    def wait_ready(self):
        last = None
        for _ in range(200):
            if self.process.poll() is not None:
                raise RuntimeError("bizdirect exited early; see server.log")
            try:
                if self.tls_ca_pem.exists():
                    context = ssl.create_default_context(cafile=str(self.tls_ca_pem))
                    urllib.request.urlopen(self.public_url + "/", context=context, timeout=2)
                    return
            except Exception as error:
                last = error
            time.sleep(0.1)
        raise RuntimeError(f"bizdirect did not start in 20 s ({last!r})")

    @property
    def root_pem(self):
        """The client-certificate root (chains of client certificates, OCSP, CRL)."""
        return self.data / "ca" / "root-ca.cert.pem"

    @property
    def tls_ca_pem(self):
        """The name-constrained TLS CA the help page asks customers to trust for HTTPS."""
        return self.data / "ca" / "tls-ca.cert.pem"

    def cli(self, *args, env=None):
        """Runs a bizdirect command against this data folder."""
        merged = dict(os.environ, **(env or {}))
        return subprocess.run([self.binary, *args, *self.common], capture_output=True, text=True, env=merged, check=True).stdout

    def restart(self, extra_args):
        """The same data folder and ports, new settings (e.g. a short certificate lifetime)."""
        self.close()
        database = tuple(a for a in self.extra_args if a.startswith("postgres"))
        self.__init__(self.workdir, (("--database-url",) + database if database else ()) + tuple(extra_args),
                      ports=(self.public_port, self.logon_port, self.http_port))

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


# The browser customer identities use in the journey now running.
CURRENT = {"browser": "chromium"}


class Identity:
    """One person's PC: a HOME with its own NSS database trusting our TLS CA. Chromium reads
    HOME/.pki/nssdb; Firefox its profile's own database (WebKit none: its
    .pki/nssdb is only where pk12util proves the PKCS#12 imports). `browser` defaults to the journey's."""

    def __init__(self, workdir, name, server, browser=None):
        self.name, self.browser, self.server = name, browser or CURRENT["browser"], server
        self.home = workdir / f"home-{name}"
        self.nssdb = self.home / ("firefox-profile" if self.browser == "firefox" else ".pki/nssdb")
        self.nssdb.mkdir(parents=True)
        subprocess.run(["certutil", "-N", "-d", f"sql:{self.nssdb}", "--empty-password"], check=True)
        # Only the TLS CA is trusted, as the help page tells customers; the client-certificate
        # root is never imported as a trust anchor.
        subprocess.run(["certutil", "-A", "-d", f"sql:{self.nssdb}", "-n", "BizDirect TLS CA", "-t", "C,,",
                        "-i", str(server.tls_ca_pem)], check=True)

    def import_pkcs12(self, path, password):
        subprocess.run(["pk12util", "-i", str(path), "-d", f"sql:{self.nssdb}", "-W", password], check=True,
                       capture_output=True)

    def launch(self, playwright, locale="ja-JP"):
        """The identity's browser on its own certificates; relaunch to switch identities (and,
        in Firefox, after pk12util wrote the profile: NSS reads it at start)."""
        if self.browser == "firefox":
            language = f"{locale}, {locale.split('-')[0]}"
            browser = firefox.FirefoxBrowser(self.nssdb, self.home, language=language, log_path=self.home / "firefox.log")
        elif self.browser == "webkit":
            # WebKitGTK trusts the server's own certificate for its host (it reads no NSS database).
            leaf = self.home / "server.cert.pem"
            if not leaf.exists():
                leaf.write_text(ssl.get_server_certificate(("127.0.0.1", self.server.public_port)))
            browser = webkit.WebKitBrowser(self.home, trusted=[("localhost", leaf)], language=locale.split("-")[0])
        else:
            browser = self._launch_chromium(playwright, locale)
        OPEN_CONTEXTS.append(browser)
        return browser

    def _launch_chromium(self, playwright, locale):
        return playwright.chromium.launch_persistent_context(
            str(self.home / "profile"), executable_path=CHROMIUM, headless=True, locale=locale,
            env=dict(os.environ, HOME=str(self.home)), args=["--no-sandbox"], viewport={"width": 1100, "height": 800})


# The browsers a journey opened, so that a failing journey leaves a screenshot of every page it
# still had open (e2e/out/NAME-FAILED-N.png).
OPEN_CONTEXTS = []


def screenshot_failure(name):
    shots = 0
    for context in OPEN_CONTEXTS:
        try:
            for page in context.pages:
                shots += 1
                OUT.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(OUT / f"{name}-FAILED-{shots}.png"), full_page=True)
                print(f"    failure screenshot e2e/out/{name}-FAILED-{shots}.png ({page.url})")
        except Exception:
            pass    # that browser was already closed


def postgres_database(name):
    """A fresh database on the server named by BIZDIRECT_E2E_POSTGRES_URL, or None."""
    base = os.environ.get("BIZDIRECT_E2E_POSTGRES_URL")
    if not base:
        return None
    database = f"bizdirect_e2e_{name.replace('-', '_')}_{int(time.time())}"
    subprocess.run(["psql", base, "-c", f"CREATE DATABASE {database}"], check=True, capture_output=True)
    return base.rsplit("/", 1)[0] + "/" + database


def write_policy(logon_url):
    """Selects our client certificate on the logon site without a dialog."""
    POLICY_DIR.mkdir(parents=True, exist_ok=True)
    rule = {"pattern": logon_url, "filter": {"ISSUER": {"CN": "BizDirect Client Issuing CA"}}}
    POLICY_FILE.write_text(json.dumps({"AutoSelectCertificateForUrls": [json.dumps(rule)]}))


# The PIN an operator types for a bootstrapped staff member; it must be changed at the first logon.
OPERATOR_PIN = "oper8tor"

# The provisional PINs the test customer writes on the paper application.
PROVISIONAL_PIN, PROVISIONAL_CONFIRMATION = "kari1pin", "kari2pin"


def make_staff_pkcs12(server, workdir, name, pin=OPERATOR_PIN, role="supervisor"):
    """Bootstraps a staff member with the CLI from a key made here (the operator's PIN, to be
    changed at the first logon); returns the PKCS#12 path."""
    key, csr, cert, p12 = (workdir / f"{name}.{ext}" for ext in ("key", "csr", "crt", "p12"))
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(csr), "-subj", "/CN=ignored"], check=True, capture_output=True)
    server.cli("staff", "add", "--role", role, name, "--csr", str(csr), "--certificate-out", str(cert),
               env={"BIZDIRECT_STAFF_PIN": pin})
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-name", name,
                    "-out", str(p12), "-passout", "pass:e2e-pass"], check=True)
    return p12


def log_on(identity, playwright, server, pin, locale="ja-JP", change_from=None):
    """Relaunches Chromium as `identity` and logs on with its certificate and PIN. With
    `change_from`, logs on with that PIN (someone else's choice) and sets `pin` when asked."""
    browser = identity.launch(playwright, locale=locale)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon")
    page.fill("#pin", change_from or pin)
    page.click("button[type=submit]")
    if change_from:
        page.wait_for_url("**/logon/change-pin")
        page.fill("#pin", pin)
        page.click("button[type=submit]")
    page.wait_for_url("**/home")
    return browser, page


def answer_card(page, grid):
    """Types the digits of each card cell the page asks for (acquisition and logon alike)."""
    # One script for both browsers (Firefox's pages have no element handles); it does what
    # fill() does: set the value and send the input and change events.
    page.evaluate("""grid => { for (const input of document.querySelectorAll("[data-cell]")) {
        input.value = grid[input.dataset.cell];
        input.dispatchEvent(new Event("input", {bubbles: true}));
        input.dispatchEvent(new Event("change", {bubbles: true})); } }""", grid)


def acquire_in_browser(identity, playwright, server, workdir, kind, fields, shot, password="p12-secret-pass"):
    """Acquires a certificate in the page: the key and PKCS#10 are made by the browser, the
    PKCS#12 is built by the page and downloaded (Playwright's download event in Chromium; the
    file Firefox saves in its download folder, as BiDi has no download event; in WebKit the Blob
    behind the link, see webkit.py). Checks the CSR with openssl req -verify and the PKCS#12
    with openssl pkcs12 and pk12util (importing it into the identity's NSS database)."""
    browser = identity.launch(playwright)
    context_page = browser.new_page()
    if kind == "administrator":
        context_page.goto(server.public_url + "/acquire/administrator")
        context_page.fill("#contractID", fields.pop("contractID"))
        context_page.click("button[type=submit]")
        context_page.wait_for_selector("#acquire-form")
        answer_card(context_page, fields.pop("card"))
    else:
        context_page.goto(server.public_url + f"/acquire/{kind}")
    for name, value in fields.items():
        context_page.fill(f"#{name}", value)
    context_page.fill("#p12password", password)
    context_page.fill("#p12password2", password)
    screenshot(context_page, f"{shot}-form")
    context_page.click("#acquire-submit")
    context_page.wait_for_selector("#done:not([hidden])", timeout=30000)
    screenshot(context_page, f"{shot}-complete")
    p12 = workdir / f"{shot}.p12"
    if identity.browser == "chromium":
        with context_page.expect_download() as info:
            context_page.click("#download")
        info.value.save_as(str(p12))
    else:
        p12.write_bytes(context_page.download("#download"))
    csr = workdir / f"{identity.name}.csr"
    csr.write_text(context_page.text_content("#csr"))
    identity.firefox_help = context_page.inner_text("#install-firefox")
    browser.close()
    verified = subprocess.run(["openssl", "req", "-verify", "-noout", "-in", str(csr)], capture_output=True, text=True)
    assert verified.returncode == 0 and "verify OK" in (verified.stdout + verified.stderr), verified.stderr
    info_run = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-in", str(p12), "-passin", f"pass:{password}"],
                              capture_output=True, text=True)
    assert info_run.returncode == 0, info_run.stderr
    assert "PBES2" in info_run.stderr + info_run.stdout and "sha256" in (info_run.stderr + info_run.stdout).lower(), info_run.stderr
    identity.import_pkcs12(p12, password)
    listed = subprocess.run(["certutil", "-L", "-d", f"sql:{identity.nssdb}"], capture_output=True, text=True).stdout
    assert "u,u,u" in listed, listed
    return p12


def check_firefox_install_help(identity, shot):
    """Firefox only: walks Firefox's own settings screens (in Japanese, from Debian's
    firefox-esr-l10n-ja) to the certificate import button and checks that the result page's
    Firefox help names every label on the way, in the order the customer meets them, and that
    the certificate pk12util imported is listed under "Your Certificates"."""
    labels, rows = firefox.certificate_manager_labels(identity.nssdb, identity.home, "ja-JP, ja",
                                                      lambda page, name: screenshot(page, f"{shot}-{name}"))
    assert labels["privacy"] != "Privacy and security", "Firefox shows English settings: install firefox-esr-l10n-ja"
    position = 0
    for key in ("privacy", "connection", "advanced", "certificates", "manage", "yours", "import"):
        found = identity.firefox_help.find(labels[key], position)
        assert found >= 0, f"the Firefox help does not name {labels[key]!r} ({key}) after position {position}: {identity.firefox_help}"
        position = found + len(labels[key])
    assert rows, "Firefox's Your Certificates tab is empty after pk12util imported the certificate"
    print(f"    Firefox help matches Firefox's screens: {' → '.join(labels.values())}; Your Certificates: {rows}")


def staff_identity(server, workdir, name, pin, role, playwright=None):
    """A staff member bootstrapped with the CLI, their certificate in their own NSS database.
    With `playwright`, they log on once and replace the operator's PIN with `pin`."""
    # Staff always use Chromium: the branch console runs on the bank's own PCs, and the journeys
    # that run in Firefox are the customer's (issue 15); the Playwright locator API stays here.
    identity = Identity(workdir, f"{role}-{name.lower()}", server, browser="chromium")
    identity.import_pkcs12(make_staff_pkcs12(server, workdir, name, role=role), "e2e-pass")
    if playwright:
        browser, _ = log_on(identity, playwright, server, pin, change_from=OPERATOR_PIN)
        browser.close()
    return identity


def approve_first(page, pin):
    """Approves the oldest pending request on the branch home page, confirming with `pin`."""
    row = page.locator("#pending tr[data-request-row]").first
    row.locator("input[name=pin]").fill(pin)
    row.locator("button[value=approve]").click()


def onboard_contract(playwright, server, workdir, shot=None):
    """Clerk records, supervisor approves; returns what the printed card and letter carry."""
    supervisor = staff_identity(server, workdir, "Ito", "boss123", "supervisor", playwright)
    clerk = staff_identity(server, workdir, "Kato", "clerk123", "clerk", playwright)
    browser, page = log_on(clerk, playwright, server, "clerk123")
    page.goto(server.logon_url + "/branch/contracts/new")
    page.fill("#company", "山田商事株式会社")
    page.fill("#branch", "本店営業部")
    page.fill("#administrator", "山田 太郎")
    page.fill("#contractPIN", PROVISIONAL_PIN)
    page.fill("#confirmationPIN", PROVISIONAL_CONFIRMATION)
    page.click("button[type=submit]")
    page.wait_for_selector("#contract-id")
    browser.close()
    browser, page = log_on(supervisor, playwright, server, "boss123")
    page.goto(server.logon_url + "/branch")
    approve_first(page, "boss123")
    page.wait_for_selector("#card-grid")
    # The approver prints the card; the PINs are the customer's own, never on this page.
    assert PROVISIONAL_PIN not in page.content() and page.query_selector("#initial-pin") is None
    if shot:
        screenshot(page, shot)
    columns = [th.inner_text().strip() for th in page.query_selector_all("#card-grid tr:first-child th")][1:]
    grid = {}
    for row in page.query_selector_all("#card-grid tr")[1:]:
        label = row.query_selector("th").inner_text().strip()
        for column, cell in zip(columns, row.query_selector_all("td")):
            grid[f"{label}{column}"] = cell.inner_text().strip()
    contract = {"contract_id": page.inner_text("#card-contract-id").strip(), "pin": PROVISIONAL_PIN,
                "confirmation": PROVISIONAL_CONFIRMATION, "grid": grid}
    browser.close()
    return contract


def administrator_first_logon(playwright, server, workdir, contract, new_pin, new_confirmation, shot):
    """The administrator acquires a certificate in the page, logs on with PIN and card, sets PINs."""
    admin = Identity(workdir, "administrator", server)
    acquire_in_browser(admin, playwright, server, workdir, "administrator",
                       {"contractID": contract["contract_id"], "pin": contract["pin"], "confirmationPIN": contract["confirmation"],
                        "card": contract["grid"]}, f"{shot}-acquire")
    browser = admin.launch(playwright)
    page = browser.new_page()
    page.goto(server.logon_url + "/logon?as=administrator")
    page.fill("#pin", contract["pin"])
    screenshot(page, f"{shot}-pin")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/card")
    answer_card(page, contract["grid"])
    screenshot(page, f"{shot}-card")
    page.click("button[type=submit]")
    page.wait_for_url("**/logon/change-pin")
    page.fill("#pin", new_pin)
    page.fill("#confirmation", new_confirmation)
    screenshot(page, f"{shot}-change-pin")
    page.click("button[type=submit]")
    page.wait_for_url("**/home")
    screenshot(page, f"{shot}-home")
    return admin, browser, page


def screenshot(page, name):
    """e2e/out/NAME.png; in another browser e2e/out/BROWSER-NAME.png, beside Chromium's."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / (f"{name}.png" if CURRENT["browser"] == "chromium" else f"{CURRENT['browser']}-{name}.png")
    page.screenshot(path=str(path), full_page=True)
    print(f"    screenshot {path.relative_to(ROOT)}")


def main(argv):
    from playwright.sync_api import sync_playwright
    journeys = discover_journeys()
    names = argv or journeys
    unknown = [n for n in names if n not in journeys]
    if unknown:
        print(f"unknown journey: {', '.join(unknown)} (known: {', '.join(journeys)})")
        return 2
    passed = failed = 0
    for name in names:
        module, CURRENT["browser"], on_postgres = journeys[name]
        workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"bizdirect-e2e-{name}-"))
        extra = ()
        if on_postgres:
            url = postgres_database(name)
            if url is None:
                print(f"journey {name}: SKIPPED (set BIZDIRECT_E2E_POSTGRES_URL to run it on PostgreSQL; CI does)")
                continue
            extra = ("--database-url", url)
        server = Server(workdir, extra)
        write_policy(server.logon_url)
        print(f"journey {name}")
        OPEN_CONTEXTS.clear()
        try:
            with sync_playwright() as playwright:
                try:
                    module.run(playwright, server, workdir)
                except Exception:
                    screenshot_failure(name)
                    raise
            passed += 1
            print(f"  ok {name}")
        except Exception:
            failed += 1
            traceback.print_exc()
            print(f"  FAILED {name} (server log: {workdir / 'server.log'})")
        finally:
            for browser in OPEN_CONTEXTS:
                if isinstance(browser, (firefox.FirefoxBrowser, webkit.WebKitBrowser)):
                    browser.close()    # Playwright closes its own; these processes are ours
            server.close()
            POLICY_FILE.unlink(missing_ok=True)
            if not failed:
                shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    # Run the `harness` module the journeys import, not this __main__ copy, so that both see one
    # CURRENT browser and one OPEN_CONTEXTS list (failure screenshots).
    import harness
    sys.exit(harness.main(sys.argv[1:]))

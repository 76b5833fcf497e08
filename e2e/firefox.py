"""Firefox ESR driven over its built-in WebDriver BiDi (a websocket; no geckodriver, no download).

`FirefoxBrowser(identity)` starts Debian's `firefox-esr --headless` on the identity's own profile
(its NSS database holds the TLS CA and the identity's client certificates) and gives pages with
the few Playwright-style methods the journeys use (goto, fill, click, wait_for_url, ...), so that
one journey runs unchanged in Chromium and in Firefox. Every wait is bounded.
"""
import base64
import json
import os
import pathlib
import re
import subprocess
import time

from websockets.sync.client import connect

from scriptpage import ScriptError, ScriptPage

FIREFOX = "/usr/bin/firefox-esr"

# The profile's preferences. security.default_personal_cert picks the client certificate without
# a dialog (the counterpart of Chromium's AutoSelectCertificateForUrls policy); OCSP fetching is
# off because the TLS server certificate's OCSP is not what the journeys test (the RA checks the
# client certificate itself); the rest keeps a fresh profile from opening first-run pages.
PREFERENCES = {
    "security.default_personal_cert": "Select Automatically",
    "security.remember_cert_checkbox_default_setting": True,
    "security.OCSP.enabled": 0,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.startup.homepage": "about:blank",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    # Downloads go to HOME/Downloads without a dialog (see FirefoxPage.download).
    "browser.download.useDownloadDir": True,
    "browser.download.folderList": 2,
    "browser.download.always_ask_before_handling_new_types": False,
    "browser.download.start_downloads_in_tmp_dir": False,
}


def write_preferences(profile, language, extra=None):
    """user.js, rewritten at every start (Firefox copies it into prefs.js, so every value a start
    may change is written every time)."""
    preferences = dict(PREFERENCES, **{"intl.accept_languages": language,
                                       "browser.download.dir": str(downloads_folder(profile))}, **(extra or {}))
    (profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n"
                                             for k, v in preferences.items()))


def downloads_folder(profile):
    return profile.parent / "Downloads"


class BidiError(ScriptError):
    """A BiDi command failed."""


class FirefoxBrowser:
    """One Firefox process on one profile; close() ends it (so that pk12util may write the profile)."""

    def __init__(self, profile, home, language="ja-JP, ja", log_path=None, settings_page=None):
        """With `settings_page` (e.g. "privacy"), Firefox starts on about:preferences#PAGE with
        scripts allowed in its own (parent-process) pages, to read the screens customers see."""
        self.profile = profile
        extra = {"browser.startup.page": 1, "browser.startup.homepage": f"about:preferences#{settings_page}",
                 "intl.locale.requested": language.split(",")[0].split("-")[0]} if settings_page else {}
        write_preferences(profile, language, extra)
        self.log_path = log_path or profile.parent / "firefox.log"
        self.log = open(self.log_path, "a")
        start = self.log.tell()
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", str(profile), "--remote-debugging-port", "0",
             *(["--remote-allow-system-access"] if settings_page else []), "--width", "1100", "--height", "800"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ, HOME=str(home), MOZ_CRASHREPORTER_DISABLE="1"))
        self.socket = connect(self._endpoint(start) + "/session", max_size=64 * 1024 * 1024, open_timeout=20)
        self.next_id = 0
        self.command("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
        contexts = self.command("browsingContext.getTree", {})["contexts"]
        self.pages = [FirefoxPage(self, contexts[0]["context"])]

    def _endpoint(self, start):
        """Firefox prints "WebDriver BiDi listening on ws://127.0.0.1:PORT" once it listens."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BidiError(f"firefox-esr exited ({self.process.returncode}); see {self.log_path}")
            with open(self.log_path, errors="replace") as log:
                log.seek(start)
                found = re.search(r"WebDriver BiDi listening on (ws://[0-9.:\[\]a-z]+)", log.read())
            if found:
                return found.group(1)
            time.sleep(0.1)
        raise BidiError(f"firefox-esr did not open WebDriver BiDi in 30 s; see {self.log_path}")

    def command(self, method, params, timeout=60):
        """Sends one BiDi command and returns its result (events in between are ignored)."""
        self.next_id += 1
        ident = self.next_id
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BidiError(f"{method}: no answer in {timeout} s")
            message = json.loads(self.socket.recv(timeout=remaining))
            if message.get("id") != ident:
                continue
            if message.get("type") == "error":
                raise BidiError(f"{method}: {message.get('error')}: {message.get('message')}")
            return message["result"]

    def new_page(self):
        """The window Firefox opened (the journeys never need two)."""
        return self.pages[0]

    def close(self):
        if self.process.poll() is None:
            try:
                self.command("browser.close", {}, timeout=10)
            except Exception:
                pass    # the socket closes as Firefox exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        try:
            self.socket.close()
        except Exception:
            pass
        self.log.close()


class FirefoxPage(ScriptPage):
    """A ScriptPage over BiDi scripts in one browsing context."""

    def __init__(self, browser, context):
        self.browser, self.context = browser, context

    def evaluate(self, expression, argument=None):
        """Evaluates a JavaScript expression; with `argument`, calls the function expression with
        that one JSON value (as Playwright's page.evaluate does). Awaits promises."""
        if argument is not None:
            expression = f"({expression})({json.dumps(argument)})"
        result = self.browser.command("script.evaluate", {
            "expression": f"(async () => JSON.stringify(await ({expression}) ?? null))()",
            "target": {"context": self.context}, "awaitPromise": True, "resultOwnership": "none"})
        if result.get("type") == "exception":
            raise BidiError(f"script failed: {result['exceptionDetails'].get('text')}")
        return json.loads(result["result"]["value"])

    def goto(self, url):
        self.browser.command("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def download(self, selector, timeout=30):
        """Clicks a download link and returns the bytes Firefox saved. (The page's blob: link
        cannot be fetched by a script instead: the page's CSP, default-src 'self', forbids it.)"""
        folder = downloads_folder(self.browser.profile)
        folder.mkdir(exist_ok=True)
        before = set(folder.iterdir())
        self.click(selector)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in set(folder.iterdir()) - before if not p.name.endswith(".part")]
            # Firefox writes NAME.part and renames it when complete.
            if done and not any(p.name.endswith(".part") for p in folder.iterdir()):
                return done[0].read_bytes()
            time.sleep(0.1)
        raise BidiError(f"no download from {selector} in {timeout} s")

    def screenshot(self, path, full_page=True):
        data = self.browser.command("browsingContext.captureScreenshot",
                                    {"context": self.context, "origin": "document" if full_page else "viewport"})["data"]
        pathlib.Path(path).write_bytes(base64.b64decode(data))


# Finds an element by id through the settings page's open shadow roots.
_DEEP_FIND = """(id => { const walk = root => { for (const e of root.querySelectorAll("*")) {
    if (e.id === id) return e; if (e.shadowRoot) { const found = walk(e.shadowRoot); if (found) return found; } }
    return null; }; return walk(document); })"""


def certificate_manager_labels(profile, home, language, shot):
    """Walks Firefox's own screens from Settings to the certificate import button, as the
    installation help tells a customer to, screenshotting each (shot(page, name)), and returns
    the labels on the way as Firefox shows them (access keys dropped). Also returns the rows of
    the "Your Certificates" tab, to show the imported certificate is there."""
    browser = FirefoxBrowser(profile, home, language=language, settings_page="privacy")
    try:
        page = browser.new_page()
        page._poll(f"!!{_DEEP_FIND}('connectionLinkButton')", "the settings page")
        labels = {"privacy": page.evaluate("document.l10n.formatMessages([{id: 'pane-privacy-title3'}])"
                                           ".then(m => m[0].attributes.find(a => a.name === 'title').value)"),
                  "connection": page.evaluate("document.l10n.formatMessages([{id: 'preferences-connection-link-section'}])"
                                              ".then(m => m[0].attributes.find(a => a.name === 'label').value)"),
                  "advanced": page.evaluate(f"{_DEEP_FIND}('connectionLinkButton').label")}
        page.evaluate(f"(() => {{ const e = {_DEEP_FIND}('connectionLinkButton'); e.scrollIntoView({{block: 'center'}}); return true; }})()")
        shot(page, "settings-1-privacy")
        page.evaluate(f"(() => {{ {_DEEP_FIND}('connectionLinkButton').click(); return true; }})()")
        page._poll(f"!!{_DEEP_FIND}('viewCertificatesButton')", "the connection security page")
        labels["certificates"] = page.evaluate("document.l10n.formatMessages([{id: 'certs-description3'}])"
                                               ".then(m => m[0].attributes.find(a => a.name === 'label').value)")
        labels["manage"] = page.evaluate(f"{_DEEP_FIND}('viewCertificatesButton').label")
        page.evaluate(f"(() => {{ const e = {_DEEP_FIND}('viewCertificatesButton'); e.scrollIntoView({{block: 'center'}}); return true; }})()")
        shot(page, "settings-2-connection-security")
        page.evaluate(f"(() => {{ {_DEEP_FIND}('viewCertificatesButton').click(); return true; }})()")
        dialog = "gSubDialog._topDialog?._frame?.contentDocument"
        page._poll(f"{dialog}?.readyState === 'complete' && !!{dialog}.getElementById('mine_tab')?.label", "the certificate manager")
        page.evaluate(f"(() => {{ {dialog}.getElementById('mine_tab').click(); return true; }})()")
        time.sleep(0.5)    # the tab panel and its tree are drawn after the click
        labels["yours"] = page.evaluate(f"{dialog}.getElementById('mine_tab').label")
        labels["import"] = page.evaluate(f"{dialog}.getElementById('mine_restoreButton').label")
        rows = page.evaluate(f"""(() => {{ const tree = {dialog}.getElementById('user-tree');
            const view = tree.view; const out = [];
            for (let i = 0; i < view.rowCount; i++) out.push(view.getCellText(i, tree.columns.getFirstColumn()));
            return out; }})()""")
        shot(page, "settings-3-certificate-manager")
        return labels, rows
    finally:
        browser.close()

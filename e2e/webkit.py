"""WebKitGTK (Safari's engine) driven through Debian's webkit2gtk-driver (WebKitWebDriver, the
classic W3C WebDriver over HTTP on 127.0.0.1), its MiniBrowser drawn on a private Xvfb display.

What can and cannot be scripted here (see docs and the closing note of issue 15):
- The acquisition page runs fully: WebCrypto makes the key, the page builds the CSR and the
  PKCS#12. The server's TLS certificate is trusted for its host with the driver's
  `webkitgtk:browserOptions.certificates` capability (WebKitGTK reads no NSS database).
- Client-certificate logon is not scriptable: WebKitGTK hands a server's certificate request to
  the embedding application (the `authenticate` signal, scheme CLIENT_CERTIFICATE_REQUESTED), and
  neither MiniBrowser nor WebKitWebDriver has a way to give it a certificate or to answer it; the
  handshake waits and the navigation times out (journeys/acquisition.py records this).
"""
import base64
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.error
import urllib.request

from scriptpage import ScriptError, ScriptPage

DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"

# WebKitGTK WebDriver has no download API and the page's CSP (default-src 'self') forbids a
# script to fetch the page's blob: link, so the driver keeps the Blob the page hands to
# URL.createObjectURL (the PKCS#12) and reads it back with Blob.arrayBuffer().
_KEEP_BLOBS = """(() => { if (!window.__keptBlobs) { window.__keptBlobs = [];
    const make = URL.createObjectURL; URL.createObjectURL = blob => { window.__keptBlobs.push(blob); return make.call(URL, blob); }; }
    return true; })()"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebKitBrowser:
    """Xvfb, WebKitWebDriver and one MiniBrowser session; close() ends all three."""

    def __init__(self, home, trusted, language="ja"):
        """`trusted`: (host, PEM file of the server's TLS certificate) pairs WebKit accepts."""
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.log = open(home / "webkit.log", "a")
        read, write = os.pipe()
        self.xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1100x900x24", "-nolisten", "tcp"],
                                     pass_fds=(write,), stdout=self.log, stderr=subprocess.STDOUT)
        os.close(write)
        with os.fdopen(read) as pipe:
            display = pipe.readline().strip()
        if not display:
            raise ScriptError("Xvfb did not start")
        self.port = _free_port()
        environment = dict(os.environ, DISPLAY=f":{display}", HOME=str(home), LANG="ja_JP.UTF-8", LANGUAGE=language)
        self.driver = subprocess.Popen([DRIVER, f"--port={self.port}", "--host=local"], env=environment,
                                       stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline or self.driver.poll() is not None:
                    self.close()
                    raise ScriptError(f"WebKitWebDriver did not start; see {home / 'webkit.log'}")
                time.sleep(0.1)
        options = {"binary": MINIBROWSER, "args": ["--automation"],
                   "certificates": [{"host": host, "certificateFile": str(pem)} for host, pem in trusted]}
        session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "MiniBrowser",
                                                                                  "webkitgtk:browserOptions": options}}})
        self.session = session["sessionId"]
        self.version = session["capabilities"].get("browserVersion")
        self.pages = [WebKitPage(self)]

    def call(self, method, path, body=None, timeout=60):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())["value"]
        except urllib.error.HTTPError as error:
            value = json.loads(error.read()).get("value", {})
            raise ScriptError(f"{method} {path}: {value.get('error')}: {value.get('message')}") from None

    def set_page_load_timeout(self, seconds):
        self.call("POST", f"/session/{self.session}/timeouts", {"pageLoad": int(seconds * 1000)})

    def new_page(self):
        """The one window WebKitWebDriver opens (the journeys never need two)."""
        return self.pages[0]

    def close(self):
        if getattr(self, "session", None):
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=20)
            except Exception:
                pass
            self.session = None
        for process in (getattr(self, "driver", None), self.xvfb):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.log.close()


class WebKitPage(ScriptPage):
    """A ScriptPage over classic WebDriver's Execute Async Script."""

    def __init__(self, browser):
        self.browser = browser

    def evaluate(self, expression, argument=None):
        if argument is not None:
            expression = f"({expression})({json.dumps(argument)})"
        script = ("const done = arguments[arguments.length - 1];"
                  f"(async () => JSON.stringify(await ({expression}) ?? null))()"
                  ".then(value => done({value}), error => done({error: String(error)}));")
        result = self.browser.call("POST", f"/session/{self.browser.session}/execute/async", {"script": script, "args": []})
        if not isinstance(result, dict) or "error" in result:
            raise ScriptError(f"script failed: {result}")
        return json.loads(result["value"])

    def goto(self, url):
        self.browser.call("POST", f"/session/{self.browser.session}/url", {"url": url})

    def click(self, selector):
        self.evaluate(_KEEP_BLOBS)
        super().click(selector)

    def download(self, selector, timeout=30):
        """The bytes of the Blob behind the download link (see _KEEP_BLOBS)."""
        self.wait_for_selector(selector)
        encoded = self.evaluate("""(async () => { const blob = window.__keptBlobs?.at(-1); if (!blob) return null;
            const bytes = new Uint8Array(await blob.arrayBuffer()); let text = "";
            for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return btoa(text); })()""")
        if not encoded:
            raise ScriptError("the page made no download")
        return base64.b64decode(encoded)

    def screenshot(self, path, full_page=True):
        """The window (classic WebDriver has no full-page screenshot)."""
        data = self.browser.call("GET", f"/session/{self.browser.session}/screenshot")
        pathlib.Path(path).write_bytes(base64.b64decode(data))

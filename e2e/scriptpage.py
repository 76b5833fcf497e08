"""Pages driven by scripts: the Playwright page methods the journeys use (fill, click,
wait_for_url, ...), written once over two primitives a driver provides, evaluate(expression) and
goto(url). firefox.py (WebDriver BiDi) and webkit.py (classic WebDriver) supply them. Every wait
is bounded."""
import json
import re
import time


class ScriptError(RuntimeError):
    """A script failed in the page, or the browser did not answer."""


class ScriptPage:
    """Playwright-style page methods over evaluate(); a subclass provides evaluate, goto and
    screenshot."""

    TIMEOUT = 30

    def _poll(self, expression, what, timeout=None):
        """Evaluates `expression` until it is truthy; a navigation in between is retried."""
        deadline = time.monotonic() + (timeout or self.TIMEOUT)
        last = None
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
                if value:
                    return value
            except ScriptError as error:
                last = error    # the document was being replaced
            time.sleep(0.1)
        raise ScriptError(f"timed out waiting for {what} (last error: {last}); at {self.url}")

    @property
    def url(self):
        try:
            return self.evaluate("location.href")
        except Exception:
            return "?"

    def wait_for_url(self, pattern, timeout=None):
        """Playwright's glob over the whole URL: `**` matches any text, `*` any text without "/"."""
        regex = "^" + ".*".join("[^/]*".join(re.escape(part) for part in piece.split("*"))
                                for piece in pattern.split("**")) + "$"
        self._poll(f"new RegExp({json.dumps(regex)}).test(location.href)"
                   " && document.readyState === 'complete'", f"URL {pattern}",
                   timeout=timeout and timeout / 1000)

    def wait_for_selector(self, selector, timeout=None):
        """Until the element exists and is visible (Playwright's default state)."""
        self._poll(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
                   "return !!e && e.getClientRects().length > 0 && document.readyState === 'complete'; })()",
                   f"selector {selector}", timeout=timeout and timeout / 1000)

    def _on(self, selector, body):
        self.wait_for_selector(selector)
        return self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); {body} }})()")

    def fill(self, selector, value):
        self._on(selector, f"e.focus(); e.value = {json.dumps(value)}; "
                           "e.dispatchEvent(new Event('input', {bubbles: true})); "
                           "e.dispatchEvent(new Event('change', {bubbles: true})); return true;")

    def check(self, selector):
        self._on(selector, "if (!e.checked) e.click(); return e.checked;")

    def click(self, selector):
        # A script click activates links and submit buttons as a real click does (the button is
        # the form's submitter); the click runs after this returns so a navigation cannot race it.
        self._on(selector, "setTimeout(() => e.click(), 0); return true;")

    def content(self):
        return self.evaluate("document.documentElement.outerHTML")

    def text_content(self, selector):
        return self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? null")

    def inner_text(self, selector):
        self.wait_for_selector(selector)
        return self.evaluate(f"document.querySelector({json.dumps(selector)}).innerText")

    def get_attribute(self, selector, name):
        return self.evaluate(f"document.querySelector({json.dumps(selector)})?.getAttribute({json.dumps(name)}) ?? null")

    def query_selector(self, selector):
        """True when the element exists, else None (the journeys only test for presence)."""
        return True if self.evaluate(f"!!document.querySelector({json.dumps(selector)})") else None

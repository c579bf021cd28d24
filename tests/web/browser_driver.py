#!/usr/bin/python3
"""Drives headless Chromium through scepd's web pages, without npm or a
websocket library: Chromium's DevTools protocol over --remote-debugging-pipe
(NUL-terminated JSON on file descriptors 3 and 4).

Usage: browser_driver.py BASE_URL SETTINGS_FILE RUN_DIR ARTIFACT_DIR
Prints one line per step; exits 0 when every step saw what it expected, 1
with the reason otherwise (a missing element, a JavaScript error, a console
error, a page that did not change as it should). Every wait is bounded.
"""
import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 20  # seconds for any one wait


class Failure(Exception):
    pass


class Browser:
    def __init__(self, profile):
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium reads commands from fd 3 and writes to fd 4. Move both
            # out of the way first in case either already is 3 or 4.
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        chromium = os.environ.get("SCEPD_CHROMIUM", "/usr/bin/chromium")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--user-data-dir=" + profile,
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--disable-background-networking", "--disable-sync", "--disable-dev-shm-usage",
             "--window-size=1100,1400", "about:blank"],
            pass_fds=(3, 4, to_chrome_r, from_chrome_w), preexec_fn=child_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.out = to_chrome_w
        self.inp = from_chrome_r
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.errors = []
        self.session = None

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise Failure("no answer from Chromium in time")
            ready, _, _ = select.select([self.inp], [], [], left)
            if ready:
                chunk = os.read(self.inp, 65536)
                if not chunk:
                    raise Failure("Chromium closed the pipe (exited?)")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event):
        method = event["method"]
        params = event.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append("JavaScript exception: %s" %
                               params["exceptionDetails"].get("text"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append("console error: %s" % params.get("args"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append("browser error: %s (%s)" % (params["entry"].get("text"),
                                                           params["entry"].get("url")))
        self.events.append(event)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.out, json.dumps(message).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise Failure("%s: %s" % (method, answer["error"]))
                return answer.get("result", {})

    def wait_event(self, method):
        deadline = time.time() + TIMEOUT
        for i, event in enumerate(self.events):
            if event["method"] == method:
                del self.events[i]
                return event
        while True:
            event = self._read_message(deadline)
            if event.get("method") == method:
                self.events.remove(event)
                return event

    def attach(self):
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(domain + ".enable")

    def load(self, action):
        """Runs action (which navigates) and waits for the new page's load."""
        self.events = [e for e in self.events if e["method"] != "Page.loadEventFired"]
        action()
        self.wait_event("Page.loadEventFired")
        self.check_errors()

    def goto(self, url):
        self.load(lambda: self.call("Page.navigate", {"url": url}))

    def js(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise Failure("evaluating %s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def element_text(self, element_id):
        value = self.js("(function(){var e=document.getElementById(%s);"
                        "return e===null?null:e.textContent;})()" % json.dumps(element_id))
        if value is None:
            raise Failure("missing element #%s on %s" % (element_id, self.js("location.href")))
        return value

    def has(self, element_id):
        return self.js("document.getElementById(%s)!==null" % json.dumps(element_id))

    def set_value(self, element_id, value):
        self.element_text(element_id)  # exists
        self.js("document.getElementById(%s).value=%s" % (json.dumps(element_id), json.dumps(value)))

    def click(self, element_id):
        self.element_text(element_id)
        self.load(lambda: self.js("document.getElementById(%s).click()" % json.dumps(element_id)))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))

    def check_errors(self):
        # Drain what has arrived without waiting.
        while True:
            ready, _, _ = select.select([self.inp], [], [], 0.05)
            if not ready:
                break
            chunk = os.read(self.inp, 65536)
            if not chunk:
                break
            self.buf += chunk
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self._note(message)
        if self.errors:
            raise Failure("; ".join(self.errors))


def read(path):
    with open(path) as f:
        return f.read()


def status_member(path, key):
    m = re.search(r'"%s": ("?)([^",\n]*)\1' % re.escape(key), read(path))
    return m.group(2) if m else None


def wait_until(what, predicate):
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise Failure("timed out waiting until " + what)


def scenario(b, base, settings, run_dir, artifacts):
    config_url = base + "?page=config"
    status_url = base + "?page=status"

    b.goto(config_url)
    for element in ("config-form", "f-enabled", "f-url", "f-renew_days", "f-await_result",
                    "f-max_await_result", "f-legacy_ciphers", "f-key_size", "f-subject",
                    "f-alt_name", "f-template", "f-digital_signature", "f-key_encipherment",
                    "f-server_auth", "f-client_auth", "f-success_script", "f-failure_script",
                    "f-challenge_password", "f-ca_fingerprint", "f-protocol", "f-key_type",
                    "f-ec_curve", "f-tls_ca_file", "f-ca_identifier", "group-scep", "group-est",
                    "f-est_label", "f-est_username", "f-est_password", "group-cmp",
                    "f-cmp_reference", "f-cmp_secret", "f-cmp_cert", "f-cmp_key", "f-recipient",
                    "apply"):
        b.element_text(element)
    for secret in ("challenge_password", "est_password", "cmp_secret"):
        if b.js("document.getElementById('f-%s').value" % secret) != "":
            raise Failure("a secret reached the browser: " + secret)
    if b.js("document.getElementById('f-protocol').value") != "scep":
        raise Failure("the protocol shown is not scep")
    subject = b.js("document.getElementById('f-subject').value")
    print("config page loaded; subject", subject)
    b.screenshot(os.path.join(artifacts, "config.png"))

    before = read(settings)
    b.set_value("f-renew_days", "45")
    b.set_value("f-subject", "CN=no-leading-slash")
    b.click("apply")
    error = b.element_text("error-subject")
    print("field error shown:", error)
    if read(settings) != before:
        raise Failure("a refused Apply changed the settings file")
    b.screenshot(os.path.join(artifacts, "config-error.png"))

    # CMP chosen without its credentials: the checker's error beside the
    # protocol field (and SCEP's challenge refused beside its own).
    b.set_value("f-subject", subject)
    b.set_value("f-protocol", "cmp")
    b.click("apply")
    print("protocol error shown:", b.element_text("error-protocol"))
    b.element_text("error-challenge_password")
    if read(settings) != before:
        raise Failure("a refused Apply changed the settings file")
    b.screenshot(os.path.join(artifacts, "config-protocol-error.png"))
    b.set_value("f-protocol", "scep")

    window_before = status_member(os.path.join(run_dir, "status.json"), "renewal_window_epoch")
    b.set_value("f-subject", subject)
    b.set_value("f-renew_days", "45")
    b.click("apply")
    result = b.element_text("reload-result")
    print("apply:", b.element_text("apply-result").strip())
    if "accepted" not in result:
        raise Failure("the daemon did not accept the reload: " + result)
    if "renew_days = 45\n" not in read(settings):
        raise Failure("renew_days = 45 not in the settings file:\n" + read(settings))
    not_after = int(status_member(os.path.join(run_dir, "status.json"), "not_after_epoch"))
    wait_until("the daemon's renewal window moves to 45 days",
               lambda: status_member(os.path.join(run_dir, "status.json"),
                                     "renewal_window_epoch") == str(not_after - 45 * 86400))
    print("daemon renewal window moved from", window_before, "to", not_after - 45 * 86400)
    b.screenshot(os.path.join(artifacts, "config-applied.png"))

    b.goto(status_url)
    lines = b.element_text("status-lines")
    serial = b.element_text("serial").strip()
    print("status:", " / ".join(lines.strip().split("\n")), "serial", serial)
    if "Certificate enrolled " + serial not in lines:
        raise Failure("status page does not show the certificate enrolled: " + lines)
    for element in ("subject", "issuer", "validity", "names", "fingerprint", "days-left",
                    "next-check", "ca-chain", "renew-now", "check-now"):
        b.element_text(element)
    if b.element_text("protocol").strip() != "scep":
        raise Failure("the status page does not say protocol scep: " + b.element_text("protocol"))
    if not re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", b.element_text("fingerprint")):
        raise Failure("no SHA-256 fingerprint: " + b.element_text("fingerprint"))
    b.screenshot(os.path.join(artifacts, "status.png"))

    b.click("renew-now")
    b.element_text("done")
    deadline = time.time() + 45
    renewed = serial
    while time.time() < deadline:
        b.goto(status_url)
        if b.has("serial"):
            renewed = b.element_text("serial").strip()
            if renewed != serial and "Certificate enrolled " + renewed in b.element_text("status-lines"):
                break
        time.sleep(0.5)
    if renewed == serial:
        raise Failure("Renew now did not change the serial " + serial)
    print("renewed: serial", serial, "->", renewed)
    b.screenshot(os.path.join(artifacts, "status-renewed.png"))

    b.click("check-now")
    if "Check requested" not in b.element_text("done"):
        raise Failure("Check now was not confirmed: " + b.element_text("done"))
    print("check now:", b.element_text("done").strip())
    b.check_errors()


def main():
    base, settings, run_dir, artifacts = sys.argv[1:5]
    os.makedirs(artifacts, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="scepd-chromium-")
    b = Browser(profile)
    try:
        b.attach()
        scenario(b, base, settings, run_dir, artifacts)
        print("OK")
        return 0
    except (Failure, StopIteration, OSError, ValueError) as e:
        print("FAILED:", e)
        try:
            b.screenshot(os.path.join(artifacts, "failure.png"))
        except Exception:
            pass
        return 1
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""The HTML report in a real headless Chromium, driven over the DevTools protocol.

Opens the page from a file:// URL, then checks that the table and the SVG
render, that the filter box and the status toggles narrow the table (typed and
clicked as a user would), that the page made no network request and that its
Content-Security-Policy admits its own inline style and script (by hash) and
nothing else, that hostile variable names stay text (no dialog ever opens), and
takes a screenshot whose colours tell the story.

Chromium is installed by ``make test`` (scripts/ensure-chromium.sh). These tests
are never skipped: without Chromium they fail.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
import websocket
from PIL import Image

import gradflow
from gradflow.render.files import to_html
from gradflow.render.theme import CUT_COLOUR, FLOW_COLOUR

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / ".pytest_cache" / "gradflow-browser"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--window-size=1280,1600", "--remote-debugging-port=0"]


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is not installed; run scripts/ensure-chromium.sh (make test does)")


class Browser:
    """A headless Chromium and one page, over the DevTools protocol."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="gradflow-chromium-")
        self.proc = subprocess.Popen([chromium_binary(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + 60
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port, browser_path = port_file.read_text().split("\n")[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{browser_path}", timeout=60,
                                              suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    # -- protocol --------------------------------------------------------------
    def call(self, method: str, session: bool = False, **params):
        msg_id = next(self.ids)
        msg = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.time() + timeout
        for event in self.events:
            if event["method"] == method:
                return event
        while time.time() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.time()))
            event = json.loads(self.ws.recv())
            if "method" in event:
                self.events.append(event)
                if event["method"] == method:
                    return event
        raise TimeoutError(method)

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # -- a user's actions --------------------------------------------------------
    def open(self, path: Path) -> None:
        self.events.clear()
        self.call("Page.navigate", session=True, url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        self.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def type_into(self, selector: str, text: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", session=True, text=text)

    def clear(self, selector: str) -> None:
        self.js(f"document.querySelector({json.dumps(selector)}).select()")
        self.call("Input.dispatchKeyEvent", session=True, type="keyDown", key="Backspace", code="Backspace",
                  windowsVirtualKeyCode=8)
        self.call("Input.dispatchKeyEvent", session=True, type="keyUp", key="Backspace", code="Backspace",
                  windowsVirtualKeyCode=8)

    def click(self, selector: str) -> None:
        box = self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1], button="left",
                      clickCount=1)

    def screenshot(self) -> bytes:
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=False)
        return base64.b64decode(data["data"])

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        canonical = gradflow.inspect_file("examples/stop_gradient.py")
        argmax = gradflow.inspect_file("examples/mistakes_argmax.py")
    finally:
        os.chdir(cwd)
    hostile_file = out / "hostile.py"
    hostile_file.write_text(textwrap.dedent('''\
        import tensorflow as tf
        a = tf.Variable([1.0, 2.0], name="<script>alert(1)</script>")
        b = tf.Variable([3.0, 4.0], name='" onload="alert(2)')
        c = tf.Variable([1.0], name="<img src=x onerror=alert(3)>")

        @tf.function
        def loss():
            return tf.reduce_sum(a * 2.0) + tf.reduce_sum(tf.stop_gradient(b)) + tf.reduce_sum(c)
        '''))
    hostile = gradflow.inspect_file(str(hostile_file))
    paths = {"canonical": out / "canonical.html", "hostile": out / "hostile.html", "argmax": out / "argmax.html"}
    paths["canonical"].write_text(to_html(canonical), encoding="utf-8")
    paths["argmax"].write_text(to_html(argmax), encoding="utf-8")
    paths["hostile"].write_text(to_html(hostile), encoding="utf-8")
    return paths


def visible_rows(browser):
    return browser.js("Array.from(document.querySelectorAll('#gf-variables tbody tr'))"
                      ".filter(r => r.offsetParent !== null).map(r => r.cells[0].textContent)")


class TestCanonicalPage:
    def test_table_and_svg_render(self, browser, pages):
        browser.open(pages["canonical"])
        assert visible_rows(browser) == ["w1", "w2", "w3"]
        svg = browser.js("(() => { const s = document.querySelector('#gf-graph svg'); const b = s.getBBox();"
                         " return [b.width, b.height, s.querySelectorAll('g.node').length]; })()")
        assert svg[0] > 100 and svg[1] > 100 and svg[2] >= 10
        # The stylesheet applied (its CSP hash matches): pills are rounded.
        assert browser.js("getComputedStyle(document.querySelector('.gf-pill')).borderRadius") == "10px"
        assert browser.js("document.getElementById('gf-count').textContent") == "3 of 3 variables shown"
        # Tooltips: each variable node has a <title> naming it.
        titles = browser.js("Array.from(document.querySelectorAll('#gf-graph g.node > title'))"
                            ".map(t => t.textContent)")
        assert any(t.startswith("variable w1") and "status: flows" in t for t in titles)

    def test_filter_box_narrows_the_table(self, browser, pages):
        browser.open(pages["canonical"])
        browser.type_into("#gf-filter", "w2")
        assert visible_rows(browser) == ["w2"]
        assert browser.js("document.getElementById('gf-count').textContent") == "1 of 3 variables shown"
        # The graph dims the variables filtered out.
        dimmed = browser.js("Array.from(document.querySelectorAll('#gf-graph .gf-dim > title'))"
                            ".map(t => t.textContent.split('\\n')[0])")
        assert sorted(dimmed) == ["variable w1", "variable w3"]
        browser.clear("#gf-filter")
        assert visible_rows(browser) == ["w1", "w2", "w3"]
        browser.type_into("#gf-filter", "stop_gradient")  # the reason matches too
        assert visible_rows(browser) == ["w2", "w3"]
        browser.clear("#gf-filter")

    def test_status_toggles_narrow_the_table(self, browser, pages):
        browser.open(pages["canonical"])
        browser.click("input[data-status='blocked']")
        assert visible_rows(browser) == ["w1"]
        browser.click("input[data-status='flows']")
        assert visible_rows(browser) == []
        browser.click("input[data-status='blocked']")
        assert visible_rows(browser) == ["w2", "w3"]

    def test_no_network_request(self, browser, pages):
        browser.open(pages["canonical"])
        page_url = pages["canonical"].resolve().as_uri()
        assert browser.requests() == [page_url]
        # The policy forbids any fetch the page might try, and reports it.
        csp = browser.js("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]').content")
        assert "default-src 'none'" in csp
        blocked = browser.js("""new Promise(resolve => {
            document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
            const img = document.createElement('img'); img.src = 'http://127.0.0.1:9/x.png';
            document.body.appendChild(img);
            setTimeout(() => resolve('no violation'), 3000); })""")
        assert blocked.startswith("img-src")
        failed = browser.wait_for("Network.loadingFailed")["params"]
        assert failed.get("blockedReason") == "csp"  # Chromium never sent it

    def test_screenshot(self, browser, pages):
        browser.open(pages["canonical"])
        browser.js("document.getElementById('gf-graph').scrollIntoView()")
        png = browser.screenshot()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "canonical.png").write_bytes(png)
        image = Image.open(io.BytesIO(png)).convert("RGB")
        assert image.size[0] >= 1000
        colours = image.getcolors(maxcolors=1 << 20)

        def near(hex_colour):
            target = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
            return sum(n for n, rgb in colours if sum(abs(a - b) for a, b in zip(rgb, target)) < 30)

        # w1's green box and green path, the red blocked boxes and the StopGradient octagon.
        assert near(FLOW_COLOUR) > 2000
        assert near(CUT_COLOUR) > 2000


class TestHostilePage:
    def test_names_are_text_and_nothing_runs(self, browser, pages):
        browser.open(pages["hostile"])
        names = visible_rows(browser)
        assert "<script>alert(1)</script>" in names
        assert '" onload="alert(2)' in names
        assert "<img src=x onerror=alert(3)>" in names
        assert browser.js("document.querySelectorAll('img').length") == 0
        assert browser.js("document.querySelectorAll('script').length") == 1
        assert browser.js("Array.from(document.querySelectorAll('*')).filter(e => e.hasAttribute('onload')"
                          " || e.hasAttribute('onerror')).length") == 0
        svg_text = browser.js("document.querySelector('#gf-graph svg').textContent")
        assert "<script>alert(1)</script>" in svg_text
        assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]
        assert browser.requests() == [pages["hostile"].resolve().as_uri()]


class TestInteractions:
    def test_filter_matches_only_the_rows_own_text(self, browser, pages):
        browser.open(pages["canonical"])
        # w1's path runs past the StopGradient of w2 and w3; its row must not match that op's name.
        browser.type_into("#gf-filter", "blocked")
        assert visible_rows(browser) == ["w2", "w3"]
        browser.clear("#gf-filter")

    def test_columns_sort(self, browser, pages):
        browser.open(pages["canonical"])
        browser.click("#gf-variables th:nth-child(7)")  # status: worst first
        assert visible_rows(browser) == ["w2", "w3", "w1"]
        browser.click("#gf-variables th:nth-child(7)")
        assert visible_rows(browser) == ["w1", "w2", "w3"]
        browser.click("#gf-variables th:nth-child(1)")
        assert visible_rows(browser) == ["w1", "w2", "w3"]
        browser.click("#gf-variables th:nth-child(1)")
        assert visible_rows(browser) == ["w3", "w2", "w1"]

    def test_click_a_row_highlights_its_node(self, browser, pages):
        browser.open(pages["canonical"])
        browser.click("#gf-variables tbody tr:nth-child(2) td")
        highlighted = browser.js("Array.from(document.querySelectorAll('#gf-graph .gf-hl > title'))"
                                 ".map(t => t.textContent.split('\\n')[0])")
        assert highlighted == ["variable w2"]

    def test_problems_come_first_with_fixes(self, browser, pages):
        browser.open(pages["canonical"])
        verdict = browser.js("document.querySelector('.gf-verdict').textContent")
        assert verdict == "✓ 1 of 3 trainable variables learn; 2 frozen on purpose"
        text = browser.js("document.querySelector('header').textContent")
        assert "cut you wrote: tf.stop_gradient at examples/stop_gradient.py:14" in text
        fixes = "Array.from(document.querySelectorAll('#gf-variables .gf-fix')).map(e => e.textContent)"
        assert browser.js(fixes) == []  # frozen on purpose: no fix
        browser.open(pages["argmax"])
        found = browser.js(fixes)
        assert found and all(f.startswith("fix: use softmax / a soft surrogate") for f in found)

    @pytest.mark.parametrize("scheme", ["light", "dark"])
    def test_screenshot_in_both_colour_schemes(self, browser, pages, scheme):
        browser.call("Emulation.setEmulatedMedia", session=True,
                     features=[{"name": "prefers-color-scheme", "value": scheme}])
        try:
            browser.open(pages["canonical"])
            background = browser.js("getComputedStyle(document.body).backgroundColor")
            png = browser.screenshot()
        finally:
            browser.call("Emulation.setEmulatedMedia", session=True, features=[])
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"canonical-{scheme}.png").write_bytes(png)
        image = Image.open(io.BytesIO(png)).convert("L")
        corner = image.getpixel((4, 4))  # the page itself; the graph keeps its white paper
        if scheme == "dark":
            assert background == "rgb(18, 18, 18)" and corner < 40
        else:
            assert background in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)") and corner > 215

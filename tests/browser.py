"""A headless Chromium driven over the Chrome DevTools protocol, for the admin view's
browser test. Uses Debian's ``chromium`` (no browser download) and the ``websockets``
package uvicorn already brings; nothing else."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import websockets


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One page of a headless Chromium: navigate, evaluate, click, read."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            answer = json.loads(await asyncio.wait_for(self.socket.recv(), timeout=30))
            if answer.get("id") == ident:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def settle(self, previous_url: str | None = None) -> str:
        """Wait until a new page (when ``previous_url`` is given) has loaded; its URL."""
        for _ in range(200):
            state = await self.evaluate("[document.readyState, location.href]")
            if state and state[0] == "complete" and state[1] != previous_url:
                return state[1]
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the page did not load (still at {previous_url})")

    async def goto(self, url: str) -> str:
        await self.send("Page.navigate", url=url)
        await asyncio.sleep(0.05)
        return await self.settle()

    async def submit(self, form_selector: str, values: dict[str, str]) -> str:
        """Fill a form's fields as a user would and press its submit button."""
        before = await self.evaluate("location.href + '#' + performance.timeOrigin")
        script = (
            "(() => {"
            f"const form = document.querySelector({json.dumps(form_selector)});"
            f"for (const [name, value] of Object.entries({json.dumps(values)})) {{"
            "  const input = form.elements[name]; input.value = value;"
            "  input.dispatchEvent(new Event('input', {bubbles: true})); }"
            "form.querySelector('button[type=submit]').click(); })()"
        )
        await self.evaluate(script)
        for _ in range(200):  # a new document has a new time origin
            await asyncio.sleep(0.05)
            with contextlib.suppress(RuntimeError):
                now = await self.evaluate(
                    "document.readyState === 'complete' && "
                    "location.href + '#' + performance.timeOrigin"
                )
                if now and now != before:
                    return await self.evaluate("location.href")
        raise TimeoutError(f"submitting {form_selector} loaded no page")

    async def text(self, selector: str = "body") -> str:
        return await self.evaluate(
            f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''"
        )

    async def screenshot(self) -> bytes:
        """The page as a PNG."""
        data = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(data["data"])


@contextlib.asynccontextmanager
async def chromium(executable: str) -> AsyncIterator[Browser]:
    profile = tempfile.mkdtemp(prefix="killick-chromium-")
    process = await asyncio.create_subprocess_exec(
        executable,
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": profile},
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        async with httpx.AsyncClient() as http:
            targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        page = next(t for t in targets if t["type"] == "page")
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            browser = Browser(socket)
            await browser.send("Page.enable")
            yield browser
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        shutil.rmtree(profile, ignore_errors=True)

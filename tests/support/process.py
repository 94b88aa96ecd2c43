"""Wait for a server process to be ready, as an operator's health check would."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

__all__ = ["wait_ready"]


def wait_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, *, timeout: float = 60
) -> None:
    """Poll ``{url}/readyz`` until it answers 200; fail with the log if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the server at {url} never became ready:\n{log.read_text()[-3000:]}")

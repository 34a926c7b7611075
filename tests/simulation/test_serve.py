"""``serve_forever`` as the CLI runs it: a separate process that prints its URLs and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

import requests

SCRIPT = """
from datetime import UTC, datetime
from simulation.serve import serve_forever
serve_forever(seed=3, scale=0.3, port={port}, anchor=datetime(2026, 3, 2, tzinfo=UTC))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_forever_prints_urls_serves_and_stops_on_ctrl_c() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(port=port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        output = "".join(lines)
        assert re.search(rf"github\s+http://127\.0\.0\.1:{port}/github", output), output
        assert f"http://127.0.0.1:{port}/_sim/advance" in output
        with requests.Session() as http:
            http.trust_env = False
            response = http.get(
                f"http://127.0.0.1:{port}/github/repos/acme/payments-api/pulls",
                headers={"Authorization": "Bearer dev"},
                timeout=10,
            )
            assert response.status_code == 200 and response.json()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

"""A bounded load test on loopback: wrk when installed, else a thread pool of plain HTTP clients.

Both stop after ``seconds`` (wrk) or ``seconds`` / ``max_requests`` (threads), whichever comes first, and
report requests per second, latency percentiles and errors (socket errors, timeouts and non-2xx answers).
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

from .server import HOST, Gunicorn

# wrk prints its own summary; this script adds the percentiles wrk leaves out (p95) and the error counts as JSON.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON{"requests":%d,"seconds":%f,"p50":%f,"p95":%f,"p99":%f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass
class Load:
    path: str
    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_test(
    server: Gunicorn, path: str, *, seconds: int = 10, connections: int = 8, max_requests: int = 200_000
) -> Load:
    if shutil.which("wrk"):
        return _wrk(server, path, seconds=seconds, connections=connections)
    return _threads(server, path, seconds=seconds, connections=connections, max_requests=max_requests)


def _wrk(server: Gunicorn, path: str, *, seconds: int, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        command = [
            "wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
            "-s", script.name, f"{server.base_url}{path}",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("JSON"))
    data = json.loads(line[4:])
    errors = sum(data[key] for key in ("connect", "read", "write", "status", "timeout"))
    return Load(path, "wrk", data["requests"], data["seconds"], data["p50"], data["p95"], data["p99"], errors)


def _threads(server: Gunicorn, path: str, *, seconds: int, connections: int, max_requests: int) -> Load:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
        while time.monotonic() < deadline:
            with lock:
                if len(latencies) + errors[0] >= max_requests:
                    return
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(HOST, server.port, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return Load(path, "threads", len(latencies) + errors[0], took, cuts[49], cuts[94], cuts[98], errors[0])

"""The service under gunicorn on a loopback port, and a client that streams from it while sampling its memory."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
APPLICATION_NAME = "casualties-benchmark-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn`` with the project's deployment settings, bound to loopback only, for the length of a ``with``."""

    def __init__(self, *, workers: int = 2, threads: int = 4):
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        # The server's database sessions carry this name, so the harness can cancel what they leave running.
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
            "PGAPPNAME": APPLICATION_NAME,
            "DATABASE_LIMITS": "web",
        }
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--config", str(ROOT / "config" / "gunicorn.conf.py"),
            "--bind", f"{HOST}:{self.port}",
            "--workers", str(self.workers), "--threads", str(self.threads),
            "--access-logfile", "/dev/null", "--error-logfile", "-", "--log-level", "warning",
            "--timeout", "600",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status, _ = self.get("/healthz")
                if status == 200 and len(self.workers_processes()) == self.workers:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @staticmethod
    def cancel_queries(raw) -> int:
        """Cancel what this server's sessions still run (a request the client gave up on keeps its query)."""
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND state = 'active' AND pid <> pg_backend_pid()",
                [APPLICATION_NAME],
            )
            return cursor.fetchone()[0]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def workers_processes(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=600)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


@dataclass
class Streamed:
    status: int
    seconds: float
    bytes: int
    rows: int
    rss_before_mb: float
    rss_peak_mb: float
    headers_seconds: float = 0.0  # until the status line and headers arrived
    first_byte_seconds: float | None = None  # until the first byte of the body
    first_row_seconds: float | None = None  # until the end of the first line after the header line

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb


class RssSampler(threading.Thread):
    """Samples the resident memory of every gunicorn worker until stopped; keeps each one's peak."""

    def __init__(self, server: Gunicorn, interval: float = 0.05):
        super().__init__(daemon=True)
        self.processes = server.workers_processes()
        self.before = {p.pid: p.memory_info().rss for p in self.processes}
        self.peak = dict(self.before)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for process in self.processes:
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                self.peak[process.pid] = max(self.peak[process.pid], rss)
            time.sleep(self.interval)

    def stop(self) -> tuple[float, float]:
        """(RSS before, peak RSS) in MB of the worker that grew most."""
        self.stopping.set()
        self.join()
        pid = max(self.peak, key=lambda p: self.peak[p] - self.before[p])
        return self.before[pid] / 2**20, self.peak[pid] / 2**20


def stream(server: Gunicorn, path: str, *, chunk: int = 64 * 1024, timeout: float = 600) -> Streamed:
    """GET ``path`` and read the body in chunks, counting bytes and lines, while sampling the workers' memory."""
    sampler = RssSampler(server)
    sampler.start()
    conn = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    started = time.perf_counter()
    total = lines = 0
    headers = 0.0
    first_byte = first_row = None
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        headers = time.perf_counter() - started
        # read1: whatever has arrived (up to ``chunk``), so the first bytes are seen when they come.
        while block := response.read1(chunk):
            total += len(block)
            lines += block.count(b"\n")
            if first_byte is None:
                first_byte = time.perf_counter() - started
            if first_row is None and lines >= 2:
                first_row = time.perf_counter() - started
        status = response.status
    finally:
        conn.close()
        seconds = time.perf_counter() - started
        before, peak = sampler.stop()
    return Streamed(status, seconds, total, lines, before, peak, headers, first_byte, first_row)

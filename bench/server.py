"""The real server under test: `redbutton serve` in its own process, and its memory from /proc."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

BIN = Path(sys.executable).parent
LOG_DIR = Path(__file__).resolve().parent / "out"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One `redbutton serve` process on a database; a context manager that stops it."""

    def __init__(self, database_url: str, *, extra_env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.host = "127.0.0.1"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "Server":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until it answers /readyz."""
        env = {
            **os.environ,
            "REDBUTTON_ENVIRONMENT": "production",
            "REDBUTTON_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghijkl",
            "REDBUTTON_DATABASE_URL": self.database_url,
            # The benchmark measures capacity; the per-link rate limit is a separate defence
            # that would otherwise answer 429 to a whole company submitting in one hour.
            "REDBUTTON_SUBMIT_RATE_LIMIT": "100000000",
            **self.extra_env,
        }
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = (LOG_DIR / "server.log").open("ab")
        self.process = subprocess.Popen(
            [str(BIN / "redbutton"), "serve", "--host", self.host, "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early: see {LOG_DIR / 'server.log'}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the server did not become ready within 60 s")

    def stop(self) -> None:
        """Stop the server (it may be started again, on the same port)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _status_kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"{field} not in /proc/{self.pid}/status")

    def rss_mb(self) -> float:
        """Resident memory now."""
        return self._status_kb("VmRSS") / 1024

    def reset_peak(self) -> None:
        """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def peak_mb(self) -> float:
        """Peak resident memory since start or the last reset_peak()."""
        return self._status_kb("VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

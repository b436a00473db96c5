"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

The client shares two cores with the server, so it must cost far less per request than the
server does: a raw asyncio client does, where a full-featured client would become the
bottleneck and flatter the slower endpoint. It keeps no cookies, so every submission arrives
as a new person without the round cookie.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What a load run measured."""

    requests: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def errors(self, ok: set[int]) -> int:
        """Responses with a status outside `ok`, plus broken connections."""
        return self.failures + sum(n for status, n in self.statuses.items() if status not in ok)

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between ranks; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def request_bytes(
    method: str, path: str, *, host: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """One HTTP/1.1 request, ready to write."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            parts.append(chunk[:-2])
        body = b"".join(parts)
    else:
        body = await reader.read()
    return status, headers, body


async def fetch(
    host: str, port: int, raw: bytes, *, timeout: float = 60.0
) -> tuple[int, dict[str, str], bytes]:
    """Send one request on a fresh connection and read the response."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(_read_response(reader), timeout)
    finally:
        writer.close()


async def _hammer(
    host: str, port: int, make: Callable[[int], bytes], concurrency: int, seconds: float
) -> LoadResult:
    result = LoadResult(requests=0, seconds=seconds)
    deadline = time.perf_counter() + seconds
    counter = iter(range(1 << 62))

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while time.perf_counter() < deadline:
            raw = make(next(counter))
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                writer.write(raw)
                await writer.drain()
                status, headers, _ = await asyncio.wait_for(_read_response(reader), 30)
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[status] += 1
                result.requests += 1
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    reader = writer = None
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.failures += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - started
    return result


def hammer(
    host: str, port: int, make: Callable[[int], bytes], *, concurrency: int, seconds: float
) -> LoadResult:
    """Send requests built by `make(n)` from `concurrency` connections for `seconds`."""
    return asyncio.run(_hammer(host, port, make, concurrency, seconds))

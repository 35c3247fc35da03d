"""The backend process: ``python -m k8smodel.lab._backend SPEC.json``.

Serves ``pods`` tiny HTTP servers on 127.0.0.1 (ports chosen by the kernel and printed as
``PORTS p0 p1 ...`` on stdout). Each pod is a FIFO queue in front of ``concurrency`` servers;
request ``j`` that reaches pod ``i`` is served for ``service_s[i, j]`` seconds (an
``asyncio.sleep``, so a pod costs no CPU while it "works"). The response names the pod and
carries the time the request spent in the pod (``X-Sojourn-Us``), waiting (``X-Wait-Us``) and
in service (``X-Service-Us``), all measured by the pod's own clock.

The process ends on SIGTERM, when its stdin closes (the parent died) or after
``lifetime_s`` seconds, whichever comes first: it never outlives a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading

import numpy as np


class _Pod:
    def __init__(self, index: int, service_s: np.ndarray, concurrency: int):
        self.index = index
        self.service_s = service_s
        self.count = 0
        self.queue: asyncio.Queue = asyncio.Queue()
        self.workers = [asyncio.create_task(self._work()) for _ in range(concurrency)]

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            future, service_s = await self.queue.get()
            begin = loop.time()
            await asyncio.sleep(service_s)
            if not future.done():
                future.set_result((begin, loop.time()))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        arrived = loop.time()
        service_s = float(self.service_s[self.count % len(self.service_s)])
        self.count += 1
        future = loop.create_future()
        self.queue.put_nowait((future, service_s))
        begin, end = await future
        body = f"pod {self.index}\n".encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            f"X-Pod: {self.index}\r\n"
            f"X-Sojourn-Us: {round((end - arrived) * 1e6)}\r\n"
            f"X-Wait-Us: {round((begin - arrived) * 1e6)}\r\n"
            f"X-Service-Us: {round((end - begin) * 1e6)}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Content-Type: text/plain\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def _main(spec: dict) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    def watch_stdin() -> None:
        with contextlib.suppress(Exception):
            sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    service = np.load(spec["service_file"])
    pods = [_Pod(i, service[i], int(spec["concurrency"])) for i in range(service.shape[0])]
    servers = [await asyncio.start_server(pod.handle, "127.0.0.1", 0, backlog=4096) for pod in pods]
    ports = [s.sockets[0].getsockname()[1] for s in servers]
    print("PORTS " + " ".join(map(str, ports)), flush=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=float(spec["lifetime_s"]))
    for server in servers:
        server.close()


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        asyncio.run(_main(json.load(fh)))

"""webex_native vs Cisco's webexpythonsdk 2.0.6, both against the same in-process sandbox, in
one run (a benchmark, never a test: nothing here asserts a time).

    python -m venv target/pybench && target/pybench/bin/pip install ./py webexpythonsdk==2.0.6
    target/pybench/bin/python bench/python/bench_vs_webexpythonsdk.py

1. 1,000 sequential messages.create          (goal: >= 3x faster)
2. listing 10,000 messages, median of 5     (goal: >= 5x faster; a bare HTTP read of the same
                                               pages, no parsing at all, is only 4.6-5.1x faster
                                               than webexpythonsdk here: no client can list
                                               faster than the server serves the pages, so
                                               the SDK time above that read is shown too)
3. 200 creates in flight with AsyncWebex vs webexpythonsdk doing them one by one, median of 15
                                              (goal: >= 20x; the same burst from bare Rust
                                               reqwest with the protocol's headers, no SDK and
                                               no Python, takes 7.8-8.1 ms on this machine,
                                               webexpythonsdk's time / 21-23: see
                                               `cargo run --release -p webex-bench --bin
                                               rest_roundtrip`)

Everything runs twice: over plain http:// (as the tests do) and over https:// (`Sandbox(tls=True)`:
the real cloud is only reachable over TLS; its CA is given to webex_native as
`http.caCertificates` and to requests as REQUESTS_CA_BUNDLE). Over TLS the server offers HTTP/2
by ALPN and each client takes what it speaks: webex_native HTTP/2 (many calls on one
connection), webexpythonsdk (requests) HTTP/1.1.

Two references measured in the same run keep the figures honest:
- listing: a bare keep-alive HTTP client reading the same pages (no JSON parsing) gives the
  server's own share, which no SDK can beat; the SDK time above it is compared too. The goal's
  listing only counts the messages; the same listing reading each message's text is shown too.
- in flight: on loopback with a zero-latency server on 2 cores, concurrency can only win CPU
  parallelism. The real cloud answers after a network round trip, so the burst is measured
  again with the sandbox answering every create after a simulated 20 ms round trip (a delay
  fault on POST /v1/messages, for both SDKs alike).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import re
import ssl
import statistics
import tempfile
import urllib.parse
import sys
import time
from typing import Any, Callable, List, Tuple

import webex_native
from webex_native import AsyncWebex, Sandbox, Webex

try:
    from webexpythonsdk import WebexAPI
except ImportError:  # pragma: no cover
    sys.exit("needs webexpythonsdk==2.0.6: pip install webexpythonsdk==2.0.6")

SEQUENTIAL = 1_000
LISTED = 10_000
IN_FLIGHT = 200
PAGE = 1_000
LISTING_RUNS = 5
BURSTS = 15
ROUND_TRIP_MS = 20


def timed(fn: Callable[[], Any]) -> Tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name: str, ours: float, theirs: float, goal: float) -> Tuple[str, float, float]:
    ratio = theirs / ours
    verdict = "met" if ratio >= goal else f"MISSED by {goal / ratio:.2f}x"
    print(f"{name:<44} webex_native {ours:8.3f} s   webexpythonsdk {theirs:8.3f} s   "
          f"ratio {ratio:6.1f}x   goal >= {goal:g}x: {verdict}", flush=True)
    return name, ratio, goal


def bare_listing(url: str, token: str, ca: str | None) -> int:
    """Every page of a listing over one keep-alive connection, following Link headers, without
    parsing the bodies: the server's and the wire's share of a listing."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    conn = (http.client.HTTPSConnection(host, parts.port, context=ssl.create_default_context(cadata=ca))
            if ca else http.client.HTTPConnection(host, parts.port))
    target: str | None = parts.path + "?" + parts.query
    pages = 0
    while target:
        conn.request("GET", target, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        pages += 1
        link = re.search(r'<([^>]+)>;\s*rel="next"', response.getheader("Link") or "")
        target = None
        if link:
            nxt = urllib.parse.urlsplit(link.group(1))
            target = nxt.path + "?" + nxt.query
    conn.close()
    return pages


def main() -> None:
    results = run(tls=False) + run(tls=True)
    missed = [r for r in results if r[1] < r[2]]
    print("\nall goals met" if not missed else f"\ngoals missed: {', '.join(r[0] for r in missed)}", flush=True)


def run(tls: bool) -> List[Tuple[str, float, float]]:
    results = []
    with Sandbox(tls=tls) as sb, tempfile.TemporaryDirectory() as tmp:
        if sb.ca_certificate:
            bundle = os.path.join(tmp, "sandbox-ca.pem")
            with open(bundle, "w") as f:
                f.write(sb.ca_certificate)
            os.environ["REQUESTS_CA_BUNDLE"] = bundle
        config = sb.config(logger={"level": "error"})
        api = WebexAPI(access_token=sb.token(), base_url=sb.hydra_url + "/")
        over = "https" if tls else "http"
        with Webex(config) as webex:
            print(f"\n== over {over}:// == webex_native {webex_native.__version__} vs webexpythonsdk 2.0.6 "
                  f"on {sb.base_url}", flush=True)
            room_ours = webex.rooms.create(title="bench ours").id
            room_theirs = api.rooms.create(title="bench theirs").id
            # Warm both (connections, catalog).
            webex.messages.create(roomId=room_ours, text="warm-up")
            api.messages.create(roomId=room_theirs, text="warm-up")

            # 1. sequential creates
            ours, _ = timed(lambda: [webex.messages.create(roomId=room_ours, text=f"m{i}") for i in range(SEQUENTIAL)])
            theirs, _ = timed(lambda: [api.messages.create(roomId=room_theirs, text=f"m{i}") for i in range(SEQUENTIAL)])
            results.append(report(f"{SEQUENTIAL:,} sequential messages.create ({over})", ours, theirs, 3))

            # 2. listing: one room holding LISTED messages, read by both
            big = webex.rooms.create(title="bench listing").id

            async def seed() -> None:
                async with AsyncWebex(config) as client:
                    for start in range(0, LISTED, 500):
                        await asyncio.gather(*[
                            client.messages.create(roomId=big, text=f"list {i}")
                            for i in range(start, min(start + 500, LISTED))
                        ])

            asyncio.run(seed())
            # Each listing runs LISTING_RUNS times, the three interleaved, and the medians are
            # compared: the first pass of a process pays one-off costs (allocator growth, page
            # faults) that a long-running app pays once, not per listing.
            query = urllib.parse.urlencode({"roomId": big, "max": PAGE})
            runs: List[Tuple[float, float, float, float, float]] = []
            for _ in range(LISTING_RUNS):
                ours, n_ours = timed(lambda: sum(1 for _ in webex.messages.list(roomId=big, max=PAGE)))
                theirs, n_theirs = timed(lambda: sum(1 for _ in api.messages.list(roomId=big, max=PAGE)))
                assert n_ours == n_theirs == LISTED, (n_ours, n_theirs)
                bare, pages = timed(lambda: bare_listing(f"{sb.hydra_url}/messages?{query}", sb.token(), sb.ca_certificate))
                ours_read, _ = timed(lambda: sum(len(m.text) for m in webex.messages.list(roomId=big, max=PAGE)))
                theirs_read, _ = timed(lambda: sum(len(m.text) for m in api.messages.list(roomId=big, max=PAGE)))
                runs.append((ours, theirs, bare, ours_read, theirs_read))
            ours, theirs, bare, ours_read, theirs_read = (statistics.median(r[i] for r in runs) for i in range(5))
            print(f"{'  first pass (cold)':<44} webex_native {runs[0][0]:8.3f} s   webexpythonsdk {runs[0][1]:8.3f} s")
            results.append(report(f"listing {LISTED:,} messages ({over}), median of {LISTING_RUNS}", ours,
                                  theirs, 5))
            print(f"{'  reference: bare HTTP read of the pages':<44} {bare:8.3f} s for {pages} pages "
                  f"(server + wire, {bare / ours:.0%} of ours)")
            if ours > bare and theirs > bare:
                print(f"{'  SDK time above the bare read':<44} webex_native {ours - bare:8.3f} s   "
                      f"webexpythonsdk {theirs - bare:8.3f} s   ratio {(theirs - bare) / (ours - bare):6.1f}x")
            print(f"{'  same, reading each message.text':<44} webex_native {ours_read:8.3f} s   "
                  f"webexpythonsdk {theirs_read:8.3f} s   ratio {theirs_read / ours_read:6.1f}x")

        # 3. in flight: each side BURSTS times in a row after its warm-up, medians compared (one
        # burst of 200 on loopback lasts ~12 ms, where a scheduler hiccup is a large share).
        async def burst(client: AsyncWebex) -> float:
            start = time.perf_counter()
            await asyncio.gather(*[client.messages.create(roomId=room_ours, text=f"b{i}") for i in range(IN_FLIGHT)])
            return time.perf_counter() - start

        def in_flight() -> Tuple[float, float]:
            async def ours_all() -> List[float]:
                async with AsyncWebex(config) as client:
                    # Warm-up as for webexpythonsdk, but for concurrency: open the connection pool.
                    await asyncio.gather(*[client.people.me() for _ in range(IN_FLIGHT)])
                    return [await burst(client) for _ in range(BURSTS)]

            ours_walls = asyncio.run(ours_all())
            theirs_walls = [
                timed(lambda: [api.messages.create(roomId=room_theirs, text=f"b{i}") for i in range(IN_FLIGHT)])[0]
                for _ in range(BURSTS)
            ]
            return statistics.median(ours_walls), statistics.median(theirs_walls)

        ours, theirs = in_flight()
        results.append(report(f"{IN_FLIGHT} creates in flight vs sequential ({over})", ours, theirs, 20))

        # 3b. the same with a network round trip, as against the real cloud
        sb.inject_fault("/v1/messages", method="POST", delay_ms=ROUND_TRIP_MS, count=0)
        ours, theirs = in_flight()
        sb.clear_faults()
        results.append(report(f"  same, {ROUND_TRIP_MS} ms simulated round trip", ours, theirs, 20))
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    return results


if __name__ == "__main__":
    main()

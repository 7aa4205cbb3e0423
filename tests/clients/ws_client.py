"""A WebSocket client other than the one the Rust tests use: Python's `websockets`.

Usage: python3 ws_client.py SCENARIO BASE_URL [ARG]

Prints one JSON object per line on stdout, flushed, so the Rust test driving it can
publish or stop the server at the right moment ("ready") and check what happened.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus


def say(**fields):
    print(json.dumps(fields), flush=True)


async def frames_until_closed(ws):
    """Prints every frame until the server closes; reports the close code it sent."""
    try:
        async for text in ws:
            say(frame=json.loads(text))
    except ConnectionClosed:
        pass
    say(close=ws.close_code, reason=ws.close_reason)


async def session(base, _arg):
    # Subscribe at connect, then the frame protocol: a malformed frame, a subscribe,
    # a publish, and messages published over HTTP by the test.
    async with connect(base + "/ws?channel=demo") as ws:
        say(frame=json.loads(await ws.recv()))  # subscribed
        await ws.send("this is not JSON")
        say(frame=json.loads(await ws.recv()))  # error, and the connection stays
        await ws.send(json.dumps({"type": "subscribe", "channel": "other"}))
        say(frame=json.loads(await ws.recv()))  # subscribed
        await ws.send(json.dumps({"type": "publish", "channel": "demo", "data": {"via": "python"}}))
        say(event="ready")
        messages = 0
        while messages < 3:  # our own publish and the test's two
            frame = json.loads(await ws.recv())
            say(frame=frame)
            messages += frame["type"] == "message"
    say(close=ws.close_code)


async def resume(base, since):
    # Replays what came after `since` and ends with the first message, which must
    # be the one right after it.
    async with connect(f"{base}/ws?channel=demo&since={since}") as ws:
        while True:
            frame = json.loads(await ws.recv())
            say(frame=frame)
            if frame["type"] == "message":
                break


async def oversized(base, _arg):
    async with connect(base + "/ws?channel=demo", max_size=None) as ws:
        await ws.recv()  # subscribed
        await ws.send("x" * (70 * 1024))
        await frames_until_closed(ws)


async def invalid_utf8(base, _arg):
    async with connect(base + "/ws?channel=demo") as ws:
        await ws.recv()  # subscribed
        # text=True sends the bytes in a text frame without checking them.
        await ws.send(b'{"type":"subscribe","channel":"\xff\xfe"}', text=True)
        await frames_until_closed(ws)


async def shutdown(base, _arg):
    async with connect(base + "/ws?channel=demo") as ws:
        await ws.recv()  # subscribed
        say(event="ready")
        await frames_until_closed(ws)


async def origin(base, value):
    try:
        async with connect(base + "/ws?channel=demo", origin=value) as ws:
            say(status=101, frame=json.loads(await ws.recv()))
    except InvalidStatus as e:
        say(status=e.response.status_code)


SCENARIOS = {
    "session": session,
    "resume": resume,
    "oversized": oversized,
    "invalid-utf8": invalid_utf8,
    "shutdown": shutdown,
    "origin": origin,
}

if __name__ == "__main__":
    scenario, base = sys.argv[1], sys.argv[2].replace("http://", "ws://", 1)
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    asyncio.run(asyncio.wait_for(SCENARIOS[scenario](base, arg), timeout=30))

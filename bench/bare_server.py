"""(a) The floor: an aiohttp handler that parses the activity and answers one reply.

    python -m bench.bare_server --port PORT

No Bot Framework at all: whatever a bot does on top of this is the cost of a turn.
"""

from __future__ import annotations

import argparse
import json

from aiohttp import web


async def messages(request: web.Request) -> web.Response:
    """Parse the activity and answer an expectReplies body with one message."""
    activity = json.loads(await request.read())
    reply = {
        "type": "message",
        "text": "ok",
        "conversation": activity["conversation"],
        "replyToId": activity.get("id"),
    }
    return web.json_response({"activities": [reply]})


async def readyz(_request: web.Request) -> web.Response:
    """Answer 200: there is nothing to wait for."""
    return web.json_response({"status": "ready"})


def main() -> None:
    """Serve on 127.0.0.1 and the given port."""
    parser = argparse.ArgumentParser(prog="python -m bench.bare_server")
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/readyz", readyz)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()

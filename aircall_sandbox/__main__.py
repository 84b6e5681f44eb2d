"""``python -m aircall_sandbox``: run a fake Aircall API until SIGTERM/SIGINT.

Prints one JSON line on stdout once every server listens (``api_url``,
``storage_url``, ``control_url``, credentials, ...), so a parent process can
start it with free ports and learn where it is.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from types import FrameType

from .generator import generate_world
from .server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m aircall_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="API address")
    parser.add_argument("--port", type=int, default=0, help="API port (0: a free one)")
    parser.add_argument("--storage-host", default="127.0.0.2", help="storage address")
    parser.add_argument("--storage-port", type=int, default=0, help="storage port (0: free)")
    parser.add_argument("--redirect-host", default="127.0.0.3", help="storage alias address")
    parser.add_argument("--redirect-port", type=int, default=0, help="alias port (0: free)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument(
        "--large-recordings",
        type=int,
        default=-1,
        help="number of 150-300 MB recordings (-1: 3 from 200 calls, 1 from 20)",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=120, help="API requests per window (0: unlimited)"
    )
    parser.add_argument("--rate-window", type=float, default=60.0, help="window in seconds")
    parser.add_argument(
        "--rate-limit-bucket",
        type=int,
        default=0,
        metavar="BURST",
        help="enforce --rate-limit per --rate-window as a token bucket refilled evenly and "
        "holding at most BURST requests (0: a fixed window, the default)",
    )
    parser.add_argument("--url-ttl", type=int, default=600, help="recording URL lifetime (s)")
    parser.add_argument(
        "--media-url",
        default=None,
        help="sign recording and voicemail URLs for this base URL instead of the sandbox's "
        "storage host (e.g. a web server serving the same files, query strings ignored)",
    )
    parser.add_argument(
        "--ai",
        choices=("pro", "on", "off", "unverified"),
        default="pro",
        help="Aircall AI for the company: pro (with the AI Assist Pro licence: all nine "
        "/v1/calls/{id}/<insight> endpoints answer), on (the four AI Assist Pro ones answer "
        "403), off (403: add-on not enabled) or unverified (403: company not verified)",
    )
    parser.add_argument(
        "--ai-not-ready",
        type=int,
        choices=(404, 400),
        default=404,
        help="the status of an insight that is not there yet: 404, or 400 as in Aircall's "
        "reference",
    )
    parser.add_argument("--api-id", default="demo-id")
    parser.add_argument("--api-token", default="demo-token")
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started the sandbox dies (used by testing.Sandbox)",
    )
    parser.add_argument(
        "--storage-accepts-auth",
        action="store_true",
        help="let downloads that carry an Authorization header through (S3 refuses them)",
    )
    args = parser.parse_args(argv)
    if args.users < 1 or args.calls < 0 or args.days < 1:
        parser.error("--users must be >= 1, --calls >= 0, --days >= 1")
    if args.rate_limit_bucket < 0:
        parser.error("--rate-limit-bucket must be >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Build the world, start the servers, print the ready line, wait for a signal."""
    args = parse_args(argv)
    world = generate_world(
        args.seed, args.users, args.calls, args.days, large_recordings=args.large_recordings
    )
    server = SandboxServer(
        world,
        api_host=args.host,
        api_port=args.port,
        storage_host=args.storage_host,
        storage_port=args.storage_port,
        redirect_host=args.redirect_host,
        redirect_port=args.redirect_port,
        api_id=args.api_id,
        api_token=args.api_token,
        rate_limit=args.rate_limit,
        url_ttl=args.url_ttl,
        storage_rejects_auth=not args.storage_accepts_auth,
        media_url=args.media_url.rstrip("/") if args.media_url else None,
        ai_mode=args.ai,
        ai_not_ready=args.ai_not_ready,
    )
    server.app.limiter.configure(args.rate_limit, args.rate_window, args.rate_limit_bucket)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    sys.stdout.write(json.dumps(server.info()) + "\n")
    sys.stdout.flush()
    parent = os.getppid()
    while not stop.wait(0.5):  # a timed wait lets the signal handler run promptly
        if args.exit_with_parent and os.getppid() != parent:
            break  # orphaned: the test run that owned us is gone
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

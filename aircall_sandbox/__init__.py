"""A fake Aircall API (API host + storage host) for tests, demos and benchmarks.

Run it with ``python -m aircall_sandbox``; drive it from tests with
``aircall_sandbox.testing.Sandbox``. Only the standard library is used here
(``testing`` alone uses ``requests``), so the sandbox runs anywhere Python does.
"""

from .account import SandboxWorld
from .generator import generate_world
from .model import SandboxCall, SandboxUser
from .recordings import recording_chunks, recording_sha256

__all__ = [
    "SandboxCall",
    "SandboxUser",
    "SandboxWorld",
    "generate_world",
    "recording_chunks",
    "recording_sha256",
]

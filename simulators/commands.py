"""Line commands for the simulators: typed on stdin or sent over TCP, one command a line."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

type CommandHandler = Callable[[str], Awaitable[str]]
"""Runs one command line and returns the answer to show."""


async def serve_commands(handle: CommandHandler, host: str, port: int) -> asyncio.Server:
    """Answer every line received on ``host:port`` with the handler's answer."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                writer.write(f"{await handle(line.decode(errors='replace'))}\n".encode())
                await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, host, port)


async def read_commands(handle: CommandHandler) -> None:
    """Run the commands typed or piped on stdin, printing the answers, until stdin ends."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except ValueError:  # a regular file or nothing at all: no commands to read
        return
    while line := await reader.readline():
        print(await handle(line.decode(errors="replace")), flush=True)

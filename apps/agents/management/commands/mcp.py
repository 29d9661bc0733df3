"""`manage.py mcp`: the MCP server over stdio, for agents that start their tools as processes.

The API key comes from the environment (ATELIER_API_KEY), never from the command line, so it
does not show in a process list or a shell history. The process acts for that key's workspace
until it exits; the key is checked once at start (a revoked key stops working on restart)."""
from __future__ import annotations

import os

import anyio
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError

KEY_VARIABLE = "ATELIER_API_KEY"


class Command(BaseCommand):
    help = f"Serve the MCP tools over stdio for the API key in ${KEY_VARIABLE}."

    def handle(self, *args, **options):
        from mcp.server.stdio import stdio_server

        from apps.agents.server import current_principal, server
        from apps.api.services import api_key_principal

        secret = os.environ.get(KEY_VARIABLE, "").strip()
        if not secret:
            raise CommandError(f"Set {KEY_VARIABLE} to an API key (create one on the API keys page).")
        try:
            principal = api_key_principal(secret=secret)
        except ApplicationError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None

        async def serve():
            current_principal.set(principal)
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())

        anyio.run(serve)

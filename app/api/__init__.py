"""The HTTP API behind `passage serve`: the same assistant and library as the chat, over FastAPI.

server.py builds the app and runs uvicorn; routes.py has /ask, /documents and /health;
openai_compat.py the OpenAI-compatible /v1 routes; documents.py adds uploads all-or-nothing;
errors.py turns every exception into `{"error": "one line"}`; security.py checks the API key;
streaming.py writes Server-Sent Events; schemas.py holds the request and reply models.
"""
from .server import create_app, serve

__all__ = ["create_app", "serve"]

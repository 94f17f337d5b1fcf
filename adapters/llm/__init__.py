"""Language models behind ``core.ports.LanguageModel``: any OpenAI-compatible endpoint."""

from adapters.llm.openai_compat import OpenAICompatModel

__all__ = ["OpenAICompatModel"]

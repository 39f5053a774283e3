"""Text in many languages: detecting a language, Simplified and Traditional Chinese, which version a reader gets,
splitting words, the prose of a pasted ticket, highlighted snippets."""

"""Text in many languages: detecting a language, splitting words, the prose of a pasted ticket, highlighted snippets."""

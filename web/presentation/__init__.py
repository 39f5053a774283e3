"""What a page looks like in the reader's language: UI language, error pages, charts, report wording."""

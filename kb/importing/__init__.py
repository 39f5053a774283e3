"""Bringing existing docs in: Docusaurus, MkDocs, Hugo sites and exported HTML as polykb articles (`kb import`)."""

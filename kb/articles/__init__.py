"""Articles as writers keep them: the model and its front matter, Markdown blocks, sections, links, labels, rendering, files on disk."""

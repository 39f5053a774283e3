"""One linear chain of revisions: each new one's down_revision is the previous head."""

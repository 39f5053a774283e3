"""Contact requests that search could not deflect, and the outbox that hands them to a helpdesk."""

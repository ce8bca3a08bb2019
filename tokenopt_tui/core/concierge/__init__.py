"""The concierge: from the store's real usage, the skills that are missing (recurring
requests no skill matched, requests found wanting) and the skills nobody uses."""

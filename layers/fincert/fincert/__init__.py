"""fincert: the shared layer of fincert-cloud (domain, adapters, crypto, API models)."""
